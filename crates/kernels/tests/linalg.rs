//! PCA's linear algebra: covariance by syrk against a naive f64 sum, Jacobi on
//! a matrix with a known spectrum, subspace iteration against Jacobi.

use latentkit_kernels::gemm::params::{MR, PACK_A_LEN, PACK_B_LEN};
use latentkit_kernels::gemm::Scratch;
use latentkit_kernels::linalg::{eigen_workspace_len, jacobi_eigh, symmetric_top_eigen, symmetrize_scale, syrk_tn};
use latentkit_kernels::rng::Xoshiro128ss;
use latentkit_kernels::simd::Native;

#[test]
fn syrk_matches_naive_over_block_edges() {
    let mut pa = vec![0f32; PACK_A_LEN];
    let mut pb = vec![0f32; PACK_B_LEN];
    let mut sc = Scratch::new(&mut pa, &mut pb);
    let mut r = Xoshiro128ss::from_seed(3);
    for &(n, d) in &[(1, 1), (7, 5), (300, 130), (50, 257)] {
        let x: Vec<f32> = (0..n * d).map(|_| (r.below(9) as f32) - 4.0).collect();
        let mut c = vec![f32::NAN; d * d];
        // Two chunks of rows, the second accumulated onto the first.
        let half = n / 2;
        syrk_tn::<Native, MR>(&x[..half * d], half, d, &mut c, false, &mut sc);
        syrk_tn::<Native, MR>(&x[half * d..], n - half, d, &mut c, true, &mut sc);
        symmetrize_scale(&mut c, d, 1.0);
        for i in 0..d {
            for j in 0..d {
                let want: f64 = (0..n).map(|p| x[p * d + i] as f64 * x[p * d + j] as f64).sum();
                assert!(c[i * d + j] as f64 == want, "n={n} d={d}: C[{i}, {j}] = {}, want {want}", c[i * d + j]);
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
fn jacobi_recovers_a_known_spectrum() {
    let d = 12;
    let lambdas: Vec<f64> = (0..d).map(|i| 10.0 / (1.0 + i as f64)).collect();
    let (mut m, _) = known_spectrum(d, &lambdas, 5);
    let m0 = m.clone();
    let mut vals = vec![0f64; d];
    let mut vecs = vec![0f64; d * d];
    jacobi_eigh(&mut m, d, &mut vals, &mut vecs);
    for i in 0..d {
        assert!((vals[i] - lambdas[i]).abs() < 1e-12, "eigenvalue {i}: {} vs {}", vals[i], lambdas[i]);
        // M v = λ v
        for row in 0..d {
            let mv: f64 = (0..d).map(|k| m0[row * d + k] * vecs[k * d + i]).sum();
            assert!((mv - vals[i] * vecs[row * d + i]).abs() < 1e-10, "residual of pair {i} at row {row}");
        }
    }
}

#[test]
fn subspace_iteration_finds_the_top_eigenpairs() {
    let d = 64;
    let k = 5;
    let lambdas: Vec<f64> = (0..d).map(|i| 3.0 * 0.8f64.powi(i as i32)).collect();
    let (m, q) = known_spectrum(d, &lambdas, 9);
    let c: Vec<f32> = m.iter().map(|&v| v as f32).collect();
    let mut pa = vec![0f32; PACK_A_LEN];
    let mut pb = vec![0f32; PACK_B_LEN];
    let mut sc = Scratch::new(&mut pa, &mut pb);
    let p = 12;
    let mut work = vec![0f32; eigen_workspace_len(d, p)];
    let mut vals = vec![0f32; k];
    let mut vecs = vec![0f32; d * k];
    let mut rng = Xoshiro128ss::from_seed(1);
    let iters = symmetric_top_eigen::<Native>(&c, d, k, p, &mut rng, 1e-6, 500, &mut vals, &mut vecs, &mut work, &mut sc);
    assert!(iters < 500, "did not converge in {iters} iterations");
    for i in 0..k {
        assert!(((vals[i] as f64) - lambdas[i]).abs() < 1e-5 * lambdas[0], "eigenvalue {i}: {} vs {}", vals[i], lambdas[i]);
        let dot: f64 = (0..d).map(|row| vecs[row * k + i] as f64 * q[row * d + i]).sum();
        assert!((dot.abs() - 1.0).abs() < 1e-4, "eigenvector {i}: |cos| = {}", dot.abs());
    }
}
