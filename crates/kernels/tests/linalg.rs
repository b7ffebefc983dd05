//! PCA's linear algebra: the split covariance and the tile-skipping syrk
//! against naive f64 sums, the dense eigen-solver and Lanczos on matrices with
//! a known spectrum.

use latentkit_kernels::gemm::params::{PACK_A_LEN, PACK_B_LEN};
use latentkit_kernels::gemm::Scratch;
use latentkit_kernels::linalg::{column_stats, covariance_assemble, lanczos_top_eigen, sparse_rows_accumulate, symmetric_eigen, syrk_upper, gather_shifted};
use latentkit_kernels::rng::Xoshiro128ss;
use latentkit_kernels::simd::Native;

fn scratch_buffers() -> (Vec<f32>, Vec<f32>) {
    (vec![0f32; PACK_A_LEN], vec![0f32; PACK_B_LEN])
}

#[test]
fn syrk_upper_matches_naive_over_tile_and_block_edges() {
    let (mut pa, mut pb) = scratch_buffers();
    let mut sc = Scratch::new(&mut pa, &mut pb);
    let mut r = Xoshiro128ss::from_seed(3);
    for &(n, d) in &[(1, 1), (7, 5), (9, 3), (300, 130), (50, 257), (600, 520), (3, 9)] {
        let x: Vec<f32> = (0..n * d).map(|_| (r.below(9) as f32) - 4.0).collect();
        let mut c = vec![f32::NAN; d * d];
        // Two chunks of rows, the second accumulated onto the first.
        let half = n / 2;
        syrk_upper::<Native>(&x[..half * d], half, d, &mut c, false, &mut sc);
        syrk_upper::<Native>(&x[half * d..], n - half, d, &mut c, true, &mut sc);
        for i in 0..d {
            for j in i..d {
                let want: f64 = (0..n).map(|p| x[p * d + i] as f64 * x[p * d + j] as f64).sum();
                assert!(c[i * d + j] as f64 == want, "n={n} d={d}: C[{i}, {j}] = {}, want {want}", c[i * d + j]);
            }
        }
    }
}

/// The split covariance of x[n×d] through the kernels, in the order ts/linalg.ts calls them.
fn split_covariance(x: &[f32], n: usize, d: usize, sparse_cols: &[u32], chunk: usize) -> Vec<f32> {
    let (mut pa, mut pb) = scratch_buffers();
    let mut sc = Scratch::new(&mut pa, &mut pb);
    let mut sum = vec![0f64; d];
    let mut nnz = vec![0u32; d];
    column_stats(x, n, d, &mut sum, &mut nnz);
    let mean: Vec<f64> = sum.iter().map(|s| s / n as f64).collect();
    let dense: Vec<u32> = (0..d as u32).filter(|j| !sparse_cols.contains(j)).collect();
    let shift: Vec<f32> = (0..d).map(|j| if sparse_cols.contains(&(j as u32)) { 0.0 } else { mean[j] as f32 }).collect();
    let (nd, ns) = (dense.len(), sparse_cols.len());
    let mut panel = vec![f32::NAN; chunk * nd];
    let mut md = vec![f32::NAN; nd * nd];
    let mut ms = vec![0f32; ns * d];
    let mut row = vec![0f32; d];
    let mut r0 = 0;
    while r0 < n {
        let rows = chunk.min(n - r0);
        let xs = &x[r0 * d..(r0 + rows) * d];
        gather_shifted(xs, rows, d, &dense, &shift, &mut panel);
        syrk_upper::<Native>(&panel, rows, nd, &mut md, r0 > 0, &mut sc);
        sparse_rows_accumulate::<Native>(xs, rows, d, sparse_cols, &shift, &mut row, &mut ms);
        r0 += rows;
    }
    let delta: Vec<f64> = (0..d).map(|j| mean[j] - shift[j] as f64).collect();
    let mut c = vec![f32::NAN; d * d];
    covariance_assemble(&md, &dense, &ms, sparse_cols, &delta, n, d, &mut c);
    c
}

#[test]
fn split_covariance_matches_the_centred_f64_covariance() {
    let mut r = Xoshiro128ss::from_seed(11);
    let (n, d) = (700, 37);
    // Columns 0..12 are 90% zeros (the rest 1..8, offset by 100 in column 5 to
    // exercise the unshifted sum); the others are dense with a large offset.
    let x: Vec<f32> = (0..n * d)
        .map(|i| {
            let j = i % d;
            if j < 12 {
                if r.below(10) == 0 { (1 + r.below(8)) as f32 + if j == 5 { 100.0 } else { 0.0 } } else { 0.0 }
            } else {
                1000.0 + r.next_f32() * 4.0
            }
        })
        .collect();
    let sparse: Vec<u32> = (0..12).collect();
    for (cols, chunk) in [(&sparse[..], 128), (&sparse[..0], 700), (&sparse[..5], 64)] {
        let c = split_covariance(&x, n, d, cols, chunk);
        let mean: Vec<f64> = (0..d).map(|j| (0..n).map(|i| x[i * d + j] as f64).sum::<f64>() / n as f64).collect();
        for a in 0..d {
            for b in 0..d {
                let want = (0..n).map(|i| (x[i * d + a] as f64 - mean[a]) * (x[i * d + b] as f64 - mean[b])).sum::<f64>() / (n - 1) as f64;
                let scale = ((0..n).map(|i| (x[i * d + a] as f64 - mean[a]).powi(2)).sum::<f64>() * (0..n).map(|i| (x[i * d + b] as f64 - mean[b]).powi(2)).sum::<f64>()).sqrt() / (n - 1) as f64;
                let got = c[a * d + b] as f64;
                assert!((got - want).abs() <= 1e-5 * scale, "sparse {:?} chunk {chunk}: C[{a}, {b}] = {got}, want {want} (scale {scale})", cols.len());
                assert!(c[a * d + b] == c[b * d + a], "C[{a}, {b}] = {} but C[{b}, {a}] = {}", c[a * d + b], c[b * d + a]);
            }
        }
    }
}

/// Q·diag(λ)·Qᵀ with Q a product of Givens rotations.
fn known_spectrum(d: usize, lambdas: &[f64], seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut q = vec![0f64; d * d];
    for i in 0..d {
        q[i * d + i] = 1.0;
    }
    let mut r = Xoshiro128ss::from_seed(seed);
    for _ in 0..4 * d {
        let i = r.below(d as u32) as usize;
        let j = r.below(d as u32) as usize;
        if i == j {
            continue;
        }
        let t = r.next_f32() as f64 * 6.283;
        let (c, s) = (t.cos(), t.sin());
        for k in 0..d {
            let (a, b) = (q[k * d + i], q[k * d + j]);
            q[k * d + i] = c * a - s * b;
            q[k * d + j] = s * a + c * b;
        }
    }
    let mut m = vec![0f64; d * d];
    for i in 0..d {
        for j in 0..d {
            m[i * d + j] = (0..d).map(|k| q[i * d + k] * lambdas[k] * q[j * d + k]).sum();
        }
    }
    (m, q)
}

#[test]
fn symmetric_eigen_recovers_a_known_spectrum() {
    for (d, seed) in [(1, 1), (2, 2), (12, 5), (40, 6)] {
        let lambdas: Vec<f64> = (0..d).map(|i| 10.0 / (1.0 + i as f64) - 3.0).collect();
        let (mut m, _) = known_spectrum(d, &lambdas, seed);
        let m0 = m.clone();
        let mut vals = vec![0f64; d];
        let mut vecs = vec![0f64; d * d];
        symmetric_eigen(&mut m, d, &mut vals, &mut vecs);
        for i in 0..d {
            assert!((vals[i] - lambdas[i]).abs() < 1e-12, "d={d} eigenvalue {i}: {} vs {}", vals[i], lambdas[i]);
            for row in 0..d {
                let mv: f64 = (0..d).map(|k| m0[row * d + k] * vecs[k * d + i]).sum();
                assert!((mv - vals[i] * vecs[row * d + i]).abs() < 1e-10, "d={d}: residual of pair {i} at row {row}: {mv} vs {}", vals[i] * vecs[row * d + i]);
            }
            for j in 0..d {
                let dot: f64 = (0..d).map(|k| vecs[k * d + i] * vecs[k * d + j]).sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-12, "d={d}: v{i}·v{j} = {dot}");
            }
        }
    }
}

fn lanczos(c: &[f32], d: usize, k: usize, tol: f64, max_steps: usize) -> (Vec<f32>, Vec<f32>, usize, bool) {
    let (mut pa, mut pb) = scratch_buffers();
    let mut sc = Scratch::new(&mut pa, &mut pb);
    let mut vals = vec![0f32; k];
    let mut vecs = vec![0f32; d * k];
    let mut rng = Xoshiro128ss::from_seed(1);
    let r = lanczos_top_eigen::<Native>(c, d, k, &mut rng, tol, max_steps, &mut vals, &mut vecs, &mut sc).expect("memory");
    (vals, vecs, r.steps, r.converged)
}

#[test]
fn lanczos_finds_the_top_eigenpairs() {
    let d = 120;
    let k = 5;
    let lambdas: Vec<f64> = (0..d).map(|i| 3.0 * 0.9f64.powi(i as i32)).collect();
    let (m, q) = known_spectrum(d, &lambdas, 9);
    let c: Vec<f32> = m.iter().map(|&v| v as f32).collect();
    let (vals, vecs, steps, converged) = lanczos(&c, d, k, 1e-6, d);
    assert!(converged && steps < d, "converged {converged} in {steps} steps");
    for i in 0..k {
        assert!(((vals[i] as f64) - lambdas[i]).abs() < 1e-5 * lambdas[0], "eigenvalue {i}: {} vs {}", vals[i], lambdas[i]);
        let dot: f64 = (0..d).map(|row| vecs[row * k + i] as f64 * q[row * d + i]).sum();
        assert!((dot.abs() - 1.0).abs() < 1e-4, "eigenvector {i}: |cos| = {}", dot.abs());
        // The true residual, not just Lanczos' estimate.
        let r2: f64 = (0..d)
            .map(|row| {
                let cv: f64 = (0..d).map(|t| m[row * d + t] * vecs[t * k + i] as f64).sum();
                (cv - vals[i] as f64 * vecs[row * k + i] as f64).powi(2)
            })
            .sum();
        assert!(r2.sqrt() < 1e-5 * lambdas[0], "pair {i}: ‖Cu − θu‖ = {}", r2.sqrt());
    }
    // Cut short, it says so.
    let (_, _, steps, converged) = lanczos(&c, d, k, 1e-12, 8);
    assert!(!converged && steps == 8, "max_steps 8: converged {converged}, {steps} steps");
}

#[test]
fn lanczos_restarts_when_the_krylov_space_closes() {
    // Rank 3 with a repeated eigenvalue and the zero matrix: the Krylov space
    // closes early and the run continues from fresh vectors.
    let d = 30;
    let mut lambdas = vec![0f64; d];
    lambdas[0] = 4.0;
    lambdas[1] = 4.0;
    lambdas[2] = 1.0;
    let (m, _) = known_spectrum(d, &lambdas, 4);
    let c: Vec<f32> = m.iter().map(|&v| v as f32).collect();
    let (vals, vecs, _, converged) = lanczos(&c, d, 5, 1e-6, d);
    assert!(converged, "rank 3 did not converge");
    for (i, want) in [4.0, 4.0, 1.0, 0.0, 0.0].iter().enumerate() {
        assert!((vals[i] as f64 - want).abs() < 1e-5, "eigenvalue {i}: {} vs {want}", vals[i]);
    }
    for i in 0..5 {
        let norm: f64 = (0..d).map(|row| (vecs[row * 5 + i] as f64).powi(2)).sum();
        assert!((norm - 1.0).abs() < 1e-5, "eigenvector {i} has norm² {norm}");
    }
    let zero = vec![0f32; d * d];
    let (vals, _, _, converged) = lanczos(&zero, d, 3, 1e-6, d);
    assert!(converged && vals.iter().all(|&v| v == 0.0), "zero matrix: {vals:?}, converged {converged}");
}

#[test]
fn syrk_upper_by_column_strips_is_bit_identical_to_the_full_call() {
    use latentkit_kernels::linalg::syrk_upper_columns;
    let (mut pa, mut pb) = scratch_buffers();
    let mut sc = Scratch::new(&mut pa, &mut pb);
    let mut r = Xoshiro128ss::from_seed(5);
    for &(n, d) in &[(9, 3), (300, 130), (50, 257), (600, 520), (20, 1030)] {
        let x: Vec<f32> = (0..n * d).map(|_| r.next_f32() * 2.0 - 1.0).collect();
        let mut full = vec![f32::NAN; d * d];
        syrk_upper::<Native>(&x, n, d, &mut full, false, &mut sc);
        syrk_upper::<Native>(&x, n, d, &mut full, true, &mut sc);
        for cuts in [vec![8], vec![16, 48, 128], vec![8, 512, 520, 1024]] {
            let mut edges: Vec<usize> = std::iter::once(0).chain(cuts.iter().copied().filter(|&c| c < d)).chain(std::iter::once(d)).collect();
            edges.dedup();
            let mut parts = vec![f32::NAN; d * d];
            for w in edges.windows(2).rev() {
                syrk_upper_columns::<Native>(&x, n, d, &mut parts, false, w[0]..w[1], &mut sc);
                syrk_upper_columns::<Native>(&x, n, d, &mut parts, true, w[0]..w[1], &mut sc);
            }
            for i in 0..d {
                for j in i..d {
                    let (a, b) = (full[i * d + j], parts[i * d + j]);
                    assert!(a.to_bits() == b.to_bits(), "n={n} d={d} cuts {cuts:?}: C[{i}, {j}] full {a}, by strips {b}");
                }
            }
        }
    }
}
