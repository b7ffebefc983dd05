//! Dense layers, losses, optimizers and the RNG against naive f64 references.

use latentkit_kernels::activation::Activation;
use latentkit_kernels::dense::{dense_backward, dense_forward};
use latentkit_kernels::gemm::params::{PACK_A_LEN, PACK_B_LEN};
use latentkit_kernels::gemm::Scratch;
use latentkit_kernels::loss;
use latentkit_kernels::optim;
use latentkit_kernels::rng::Xoshiro128ss;
use latentkit_kernels::simd::{Native, Scalar};

mod common;
use common::{act_f64, values};

fn close(got: f64, want: f64, rtol: f64, atol: f64, what: &str) {
    assert!((got - want).abs() <= atol + rtol * want.abs(), "{what}: got {got}, want {want}");
}


fn dact_f64(a: Activation, alpha: f64, z: f64) -> f64 {
    match a {
        Activation::Linear => 1.0,
        Activation::Tanh => 1.0 - z.tanh().powi(2),
        Activation::Sigmoid => { let s = 1.0 / (1.0 + (-z).exp()); s * (1.0 - s) }
        Activation::Relu => if z > 0.0 { 1.0 } else { 0.0 },
        Activation::LeakyRelu => if z > 0.0 { 1.0 } else { alpha },
        Activation::Softplus => 1.0 / (1.0 + (-z).exp()),
    }
}

#[test]
fn dense_forward_and_backward_match_naive() {
    let mut pa = vec![0f32; PACK_A_LEN];
    let mut pb = vec![0f32; PACK_B_LEN];
    let mut sc = Scratch::new(&mut pa, &mut pb);
    for act in [Activation::Linear, Activation::Tanh, Activation::Sigmoid, Activation::Relu, Activation::LeakyRelu, Activation::Softplus] {
        for &(m, k, n) in &[(1, 3, 2), (5, 7, 9), (33, 20, 17)] {
            let alpha = 0.2f32;
            let x = values(m * k, 1);
            let w = values(k * n, 2);
            let b = values(n, 3);
            let g_out = values(m * n, 4);
            let mut y = vec![0f32; m * n];
            dense_forward::<Native>(m, k, n, &x, &w, Some(&b), &mut y, act, alpha, false, &mut sc);
            let mut dy = g_out.clone();
            let mut dx = vec![0f32; m * k];
            let mut dw = vec![1f32; k * n]; // accumulates onto existing gradient
            let mut db = vec![1f32; n];
            dense_backward::<Native>(m, k, n, &x, &w, &y, &mut dy, Some(&mut dx), Some((&mut dw, Some(&mut db))), act, alpha, false, &mut sc);
            let mut dz = vec![0f64; m * n];
            for i in 0..m {
                for j in 0..n {
                    let mut z = b[j] as f64;
                    for p in 0..k {
                        z += x[i * k + p] as f64 * w[p * n + j] as f64;
                    }
                    close(y[i * n + j] as f64, act_f64(act, alpha as f64, z), 1e-5, 1e-6, &format!("{act:?} y[{i},{j}] {m}x{k}x{n}"));
                    dz[i * n + j] = g_out[i * n + j] as f64 * dact_f64(act, alpha as f64, z);
                }
            }
            for p in 0..k {
                for j in 0..n {
                    let want: f64 = 1.0 + (0..m).map(|i| x[i * k + p] as f64 * dz[i * n + j]).sum::<f64>();
                    close(dw[p * n + j] as f64, want, 1e-4, 1e-5, &format!("{act:?} dW[{p},{j}]"));
                }
            }
            for j in 0..n {
                let want: f64 = 1.0 + (0..m).map(|i| dz[i * n + j]).sum::<f64>();
                close(db[j] as f64, want, 1e-4, 1e-5, &format!("{act:?} db[{j}]"));
            }
            for i in 0..m {
                for p in 0..k {
                    let want: f64 = (0..n).map(|j| dz[i * n + j] * w[p * n + j] as f64).sum();
                    close(dx[i * k + p] as f64, want, 1e-4, 1e-5, &format!("{act:?} dX[{i},{p}]"));
                }
            }
            // The scalar twin of the whole layer agrees bit for bit.
            let mut y2 = vec![0f32; m * n];
            dense_forward::<Scalar>(m, k, n, &x, &w, Some(&b), &mut y2, act, alpha, false, &mut sc);
            assert!(y.iter().zip(&y2).all(|(a, b)| a.to_bits() == b.to_bits()), "{act:?} scalar twin differs");
        }
    }
}

/// A transposed layer (W stored n×k) equals the plain layer on the explicit transpose.
#[test]
fn transposed_dense_matches_explicit_transpose() {
    let mut pa = vec![0f32; PACK_A_LEN];
    let mut pb = vec![0f32; PACK_B_LEN];
    let mut sc = Scratch::new(&mut pa, &mut pb);
    let (m, k, n) = (13, 11, 9);
    let x = values(m * k, 7);
    let wt = values(n * k, 8); // n×k
    let mut w = vec![0f32; k * n];
    for i in 0..k {
        for j in 0..n {
            w[i * n + j] = wt[j * k + i];
        }
    }
    let b = values(n, 9);
    let (mut y1, mut y2) = (vec![0f32; m * n], vec![0f32; m * n]);
    dense_forward::<Native>(m, k, n, &x, &w, Some(&b), &mut y1, Activation::Tanh, 0.0, false, &mut sc);
    dense_forward::<Native>(m, k, n, &x, &wt, Some(&b), &mut y2, Activation::Tanh, 0.0, true, &mut sc);
    for i in 0..m * n {
        close(y2[i] as f64, y1[i] as f64, 1e-6, 1e-7, &format!("transposed y[{i}]"));
    }
    let g = values(m * n, 10);
    let (mut dy1, mut dy2) = (g.clone(), g.clone());
    let (mut dx1, mut dx2) = (vec![0f32; m * k], vec![0f32; m * k]);
    let (mut dw1, mut dwt) = (vec![0f32; k * n], vec![0f32; n * k]);
    let (mut db1, mut db2) = (vec![0f32; n], vec![0f32; n]);
    dense_backward::<Native>(m, k, n, &x, &w, &y1, &mut dy1, Some(&mut dx1), Some((&mut dw1, Some(&mut db1))), Activation::Tanh, 0.0, false, &mut sc);
    dense_backward::<Native>(m, k, n, &x, &wt, &y2, &mut dy2, Some(&mut dx2), Some((&mut dwt, Some(&mut db2))), Activation::Tanh, 0.0, true, &mut sc);
    for i in 0..m * k {
        close(dx2[i] as f64, dx1[i] as f64, 1e-5, 1e-6, &format!("transposed dx[{i}]"));
    }
    for i in 0..k {
        for j in 0..n {
            close(dwt[j * k + i] as f64, dw1[i * n + j] as f64, 1e-5, 1e-6, &format!("transposed dW[{j},{i}]"));
        }
    }
    for j in 0..n {
        close(db2[j] as f64, db1[j] as f64, 1e-6, 1e-7, &format!("transposed db[{j}]"));
    }
}

#[test]
fn losses_match_naive_and_stay_finite() {
    let p = [0.5f32, -1.0, 2.0, 0.25, 3.0, -2.0];
    let t = [0.0f32, -1.5, 1.0, 1.0, 0.0, 0.5];
    let mut g = [0f32; 6];
    let l = loss::mse::<Native>(&p, &t, &mut g, 1.0);
    let want: f64 = p.iter().zip(&t).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>() / 6.0;
    close(l, want, 1e-6, 0.0, "mse");
    let (mut g1, mut g2) = (vec![0f32; 1001], vec![0f32; 1001]);
    let (pl, tl) = (values(1001, 12), values(1001, 13));
    let (l1, l2) = (loss::mse::<Native>(&pl, &tl, &mut g1, 0.5), loss::mse::<Scalar>(&pl, &tl, &mut g2, 0.5));
    assert_eq!(l1.to_bits(), l2.to_bits(), "mse SIMD {l1} vs scalar twin {l2}");
    assert!(g1.iter().zip(&g2).all(|(a, b)| a.to_bits() == b.to_bits()), "mse gradient SIMD vs scalar twin");
    let naive: f64 = pl.iter().zip(&tl).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>() / 1001.0;
    close(l1, 0.5 * naive, 1e-6, 0.0, "mse over 1001 elements");
    // Lengths around the 4-lane and 16-element strides, a bad value at every index.
    for n in [0usize, 1, 3, 4, 5, 15, 16, 17, 31, 32, 33, 37, 63, 64, 65] {
        let mut probe = values(n, 14);
        assert_eq!(loss::first_nonfinite::<Native>(&probe), None, "all finite, n = {n}");
        assert_eq!(loss::first_nonfinite::<Scalar>(&probe), None, "scalar twin, all finite, n = {n}");
        for at in 0..n {
            let keep = probe[at];
            for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                probe[at] = bad;
                assert_eq!(loss::first_nonfinite::<Native>(&probe), Some(at), "{bad} at {at} of {n}");
                assert_eq!(loss::first_nonfinite::<Scalar>(&probe), Some(at), "scalar twin, {bad} at {at} of {n}");
            }
            probe[at] = keep;
        }
    }
    let mut probe = vec![f32::MAX; 64];
    probe[40] = f32::NAN;
    probe[50] = f32::INFINITY;
    assert_eq!(loss::first_nonfinite::<Native>(&probe), Some(40), "the first of two non-finite values, among the largest finite ones");
    for i in 0..6 {
        close(g[i] as f64, 2.0 * (p[i] - t[i]) as f64 / 6.0, 1e-6, 0.0, &format!("mse grad[{i}]"));
    }
    let tb = [0.0f32, 1.0, 1.0, 0.0, 0.3, 0.7];
    let l = loss::bce_logits(&p, Some(&tb), 0.0, &mut g, 1.0);
    let mut want = 0.0;
    for i in 0..6 {
        let z = p[i] as f64;
        let s = 1.0 / (1.0 + (-z).exp());
        want += -(tb[i] as f64 * s.ln() + (1.0 - tb[i] as f64) * (1.0 - s).ln());
        close(g[i] as f64, (s - tb[i] as f64) / 6.0, 1e-6, 1e-9, &format!("bce grad[{i}]"));
    }
    close(l, want / 6.0, 1e-6, 0.0, "bce");
    // Stable far out: |logit| up to 1e4 gives finite loss and gradient.
    let z = [1e4f32, -1e4, 1e4, -1e4];
    let tz = [1.0f32, 0.0, 0.0, 1.0];
    let mut gz = [0f32; 4];
    let l = loss::bce_logits(&z, Some(&tz), 0.0, &mut gz, 1.0);
    close(l, 2e4 / 4.0, 1e-9, 0.0, "bce at ±1e4");
    for (i, want) in [0.0, 0.0, 0.25, -0.25].iter().enumerate() {
        close(gz[i] as f64, *want, 0.0, 1e-30, &format!("bce grad at ±1e4 [{i}]"));
    }
    // Softmax cross-entropy on two rows of three classes.
    let zs = [1.0f32, 2.0, 3.0, 1000.0, -1000.0, 0.0];
    let ts = [0.0f32, 0.0, 1.0, 0.0, 1.0, 0.0];
    let mut gs = [0f32; 6];
    let l = loss::softmax_cross_entropy(&zs, &ts, 3, &mut gs, 1.0);
    let lse0 = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln();
    close(l, ((lse0 - 3.0) + 2000.0) / 2.0, 1e-6, 0.0, "softmax ce");
    assert!(gs.iter().all(|v| v.is_finite()));
    close(gs[4] as f64, -0.5, 1e-6, 0.0, "softmax ce grad of the -1000 logit");
}

#[test]
fn optimizers_match_their_formulas() {
    let g = values(10, 5);
    let p0 = values(10, 6);
    let (lr, b1, b2, eps, wd) = (0.01f32, 0.9f64, 0.999f64, 1e-8f32, 0.01f32);
    let mut p = p0.clone();
    let (mut m, mut v) = (vec![0f32; 10], vec![0f32; 10]);
    let (mut mr, mut vr, mut pr) = (vec![0f64; 10], vec![0f64; 10], p0.iter().map(|&x| x as f64).collect::<Vec<_>>());
    for t in 1..=5u32 {
        optim::adam(&mut p, &g, &mut m, &mut v, lr, b1, b2, eps, wd, t);
        for i in 0..10 {
            let gi = g[i] as f64;
            mr[i] = 0.1 * gi + 0.9 * mr[i];
            vr[i] = 0.001 * gi * gi + 0.999 * vr[i];
            let mh = mr[i] / (1.0 - 0.9f64.powi(t as i32));
            let vh = vr[i] / (1.0 - 0.999f64.powi(t as i32));
            pr[i] -= 0.01 * (mh / (vh.sqrt() + 1e-8) + 0.01 * pr[i]);
        }
    }
    for i in 0..10 {
        close(p[i] as f64, pr[i], 1e-5, 1e-6, &format!("adamw p[{i}]"));
    }
    let mut p = p0.clone();
    let mut vel = vec![0f32; 10];
    let mut vr = vec![0f64; 10];
    let mut pr: Vec<f64> = p0.iter().map(|&x| x as f64).collect();
    for _ in 0..4 {
        optim::sgd(&mut p, &g, &mut vel, 0.1, 0.9, true);
        for i in 0..10 {
            vr[i] = g[i] as f64 + 0.9 * vr[i];
            pr[i] -= 0.1 * (g[i] as f64 + 0.9 * vr[i]);
        }
    }
    for i in 0..10 {
        close(p[i] as f64, pr[i], 1e-5, 1e-6, &format!("nesterov p[{i}]"));
    }
    let mut p = p0.clone();
    let mut nu = vec![0f32; 10];
    let mut nr = vec![0f64; 10];
    let mut pr: Vec<f64> = p0.iter().map(|&x| x as f64).collect();
    for _ in 0..4 {
        optim::rmsprop(&mut p, &g, &mut nu, 0.01, 0.9, 1e-8);
        for i in 0..10 {
            let gi = g[i] as f64;
            nr[i] = 0.1 * gi * gi + 0.9 * nr[i];
            pr[i] -= 0.01 * gi / (nr[i] + 1e-8).sqrt();
        }
    }
    for i in 0..10 {
        close(p[i] as f64, pr[i], 1e-5, 1e-6, &format!("rmsprop p[{i}]"));
    }
    assert_eq!(optim::powi64(0.5, 10), 0.5f64.powi(10));
}

/// Expected values from scripts/reference/xoshiro128ss.py, an independent implementation.
#[test]
fn xoshiro128ss_matches_reference_stream() {
    let cases: [(u64, [u32; 6]); 3] = [
        (0, [3737715805, 2584255861, 2876756834, 3286328325, 1553311962, 1625202774]),
        (42, [1776835114, 4165204688, 17111135, 2317295270, 2792088233, 2554630222]),
        (u64::MAX, [477689756, 2493998634, 555695776, 607808419, 61340979, 301466976]),
    ];
    for (seed, want) in cases {
        let mut r = Xoshiro128ss::from_seed(seed);
        let got: Vec<u32> = (0..6).map(|_| r.next_u32()).collect();
        assert_eq!(got, want, "seed {seed}");
    }
}

#[test]
fn normal_and_uniform_have_the_right_moments_and_shuffle_permutes() {
    let mut r = Xoshiro128ss::from_seed(7);
    let mut xs = vec![0f32; 200_001];
    r.fill_normal(&mut xs, 1.0, 2.0);
    let n = xs.len() as f64;
    let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = xs.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
    close(mean, 1.0, 0.0, 0.02, "normal mean");
    close(var, 4.0, 0.02, 0.0, "normal variance");
    r.fill_uniform(&mut xs, -3.0, 1.0);
    assert!(xs.iter().all(|&x| (-3.0..1.0).contains(&x)));
    let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / n;
    close(mean, -1.0, 0.0, 0.02, "uniform mean");
    let mut idx: Vec<u32> = (0..1000).collect();
    r.shuffle(&mut idx);
    let mut sorted = idx.clone();
    sorted.sort();
    assert_eq!(sorted, (0..1000).collect::<Vec<u32>>());
    assert_ne!(idx, sorted);
    let mut counts = [0u32; 3];
    for _ in 0..30_000 {
        counts[r.below(3) as usize] += 1;
    }
    assert!(counts.iter().all(|&c| (9_500..10_500).contains(&c)), "below(3) counts {counts:?}");
}

#[test]
fn bernoulli_draws_are_the_uniform_streams_comparisons_and_bad_probabilities_draw_nothing() {
    let p: Vec<f32> = (0..10_001).map(|i| [0.0, 1.0, 0.3, (i % 97) as f32 / 96.0][i % 4]).collect();
    let mut u = vec![0f32; p.len()];
    Xoshiro128ss::from_seed(8).fill_uniform(&mut u, 0.0, 1.0);
    let mut r = Xoshiro128ss::from_seed(8);
    let mut x = p.clone();
    assert_eq!(r.bernoulli_in_place(&mut x), None);
    for i in 0..p.len() {
        let want = if u[i] < p[i] { 1.0 } else { 0.0 };
        assert!(x[i] == want, "index {i} of {}: p {} u {} gave {} want {want}", p.len(), p[i], u[i], x[i]);
    }
    for bad in [f32::NAN, -1e-7, 1.0000001, f32::INFINITY] {
        let mut r = Xoshiro128ss::from_seed(8);
        let mut x = p.clone();
        x[5_000] = bad;
        assert_eq!(r.bernoulli_in_place(&mut x), Some(5_000), "p = {bad}");
        assert!(x[..5_000] == p[..5_000] && x[5_001..] == p[5_001..], "p = {bad}: the probabilities were changed");
        assert_eq!(r.next_u32(), Xoshiro128ss::from_seed(8).next_u32(), "p = {bad}: the stream moved");
    }
}

#[test]
fn dropout_keeps_the_expected_share_and_scales_survivors() {
    let mut r = Xoshiro128ss::from_seed(5);
    let mut y = vec![2f32; 100_000];
    let mut mask = vec![f32::NAN; 100_000];
    r.dropout(&mut y, &mut mask, 0.25);
    let kept = mask.iter().filter(|&&m| m != 0.0).count() as f64 / 100_000.0;
    close(kept, 0.75, 0.0, 0.01, "kept share");
    assert!(mask.iter().all(|&m| m == 0.0 || m == 1.0 / 0.75), "mask values");
    assert!(y.iter().zip(&mask).all(|(&v, &m)| v == 2.0 * m), "y = 2·mask");
}

/// Splits of 0..n into parts at the given cut points (each a column range).
fn ranges(n: usize, cuts: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut edges = vec![0];
    edges.extend(cuts.iter().copied().filter(|&c| c > 0 && c < n));
    edges.push(n);
    edges.sort_unstable();
    edges.dedup();
    edges.windows(2).map(|e| e[0]..e[1]).collect()
}

#[test]
fn column_split_dense_passes_are_bit_identical_to_the_full_calls() {
    use latentkit_kernels::dense::{dense_backward_input_columns, dense_backward_params_columns, dense_forward_columns};
    let mut pa = vec![0f32; PACK_A_LEN];
    let mut pb = vec![0f32; PACK_B_LEN];
    let mut sc = Scratch::new(&mut pa, &mut pb);
    let guard = 4; // NaN guard band after every output: a stray write shows up as a mismatch
    for transposed in [false, true] {
        for act in [Activation::Tanh, Activation::LeakyRelu, Activation::Sigmoid, Activation::Softplus] {
            // Sizes around the 4×8 tile, the KC = 256 depth block and the NC = 512 column block.
            for &(m, k, n) in &[(3, 5, 9), (17, 33, 70), (9, 300, 13), (5, 11, 530), (64, 257, 64)] {
                for cuts in [vec![1], vec![8], vec![n / 2], vec![3, 16, n - 1], vec![5, 9, 100, 513]] {
                    let x = values(m * k, 11);
                    let w = values(k * n, 12);
                    let b = values(n, 13);
                    let g = values(m * n, 14);
                    let nan = || f32::NAN;
                    // Full calls.
                    let mut y = vec![nan(); m * n + guard];
                    dense_forward::<Native>(m, k, n, &x, &w, Some(&b), &mut y, act, 0.2, transposed, &mut sc);
                    let (mut dy, mut dx) = (g.clone(), vec![nan(); m * k + guard]);
                    let (mut dw, mut db) = (vec![0.5f32; k * n + guard], vec![0.5f32; n + guard]);
                    dense_backward::<Native>(m, k, n, &x, &w, &y, &mut dy, Some(&mut dx), Some((&mut dw, Some(&mut db))), act, 0.2, transposed, &mut sc);
                    // The same by parts, in reverse order (threads finish in any order).
                    let mut y2 = vec![nan(); m * n + guard];
                    for r in ranges(n, &cuts).into_iter().rev() {
                        dense_forward_columns::<Native>(m, k, n, &x, &w, Some(&b), &mut y2, act, 0.2, transposed, r, &mut sc);
                    }
                    let (mut dy2, mut dx2) = (g.clone(), vec![nan(); m * k + guard]);
                    let (mut dw2, mut db2) = (vec![0.5f32; k * n + guard], vec![0.5f32; n + guard]);
                    for r in ranges(n, &cuts).into_iter().rev() {
                        dense_backward_params_columns::<Native>(m, k, n, &x, &y2, &mut dy2, Some((&mut dw2, Some(&mut db2))), act, 0.2, transposed, r, &mut sc);
                    }
                    for r in ranges(k, &cuts).into_iter().rev() {
                        dense_backward_input_columns::<Native>(m, k, n, &dy2, &w, &mut dx2, transposed, r, &mut sc);
                    }
                    for (name, full, parts) in [("y", &y, &y2), ("dz", &dy, &dy2), ("dx", &dx, &dx2), ("dW", &dw, &dw2), ("db", &db, &db2)] {
                        for (i, (a, c)) in full.iter().zip(parts.iter()).enumerate() {
                            assert!(a.to_bits() == c.to_bits(), "{name}[{i}] of m×k×n {m}×{k}×{n}, transposed {transposed}, {act:?}, cuts {cuts:?}: full {a}, by parts {c}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn likelihood_rows_by_parts_give_the_whole_batchs_bits() {
    use latentkit_kernels::gaussian::{self, Likelihood};
    let guard = 4; // NaN guard band after the gradient: a stray write shows up as a mismatch
    for kind in [Likelihood::Bernoulli, Likelihood::GaussianFixed, Likelihood::GaussianLearned] {
        // Feature counts around the 4-lane vectors and the 256-feature blocks of the Bernoulli sums.
        for &(rows, d) in &[(1, 3), (7, 4), (13, 255), (9, 257), (20, 784)] {
            let w = gaussian::output_width(kind, d);
            let x: Vec<f32> = values(rows * d, 31).iter().map(|v| if kind == Likelihood::Bernoulli { (*v > 0.0) as u8 as f32 } else { *v }).collect();
            let out: Vec<f32> = values(rows * w, 32).iter().map(|v| 4.0 * v).collect();
            let weight = 0.75f32;
            let mut g_whole = vec![f32::NAN; rows * w + guard];
            let whole = gaussian::nll::<Native>(kind, &x, &out, d, -0.3, Some(&mut g_whole[..rows * w]), weight);
            for cuts in [vec![1], vec![rows / 2], vec![2, 5, rows - 1]] {
                let mut g = vec![f32::NAN; rows * w + guard];
                let mut sums = vec![f64::NAN; rows];
                for r in ranges(rows, &cuts).into_iter().rev() {
                    let part = &mut g[r.start * w..r.end * w];
                    gaussian::nll_rows::<Native>(kind, &x[r.start * d..r.end * d], &out[r.start * w..r.end * w], d, -0.3, Some(part), weight, rows, None, &mut sums[r.clone()]);
                }
                let total = weight as f64 * sums.iter().fold(0.0f64, |a, &v| a + v) / rows as f64;
                assert_eq!(total.to_bits(), whole.to_bits(), "{kind:?} rows {rows} d {d} cuts {cuts:?}: {total} vs {whole}");
                for i in 0..rows * w + guard {
                    assert_eq!(g[i].to_bits(), g_whole[i].to_bits(), "{kind:?} rows {rows} d {d} cuts {cuts:?}: gradient [{i}] {} vs {}", g[i], g_whole[i]);
                }
            }
        }
    }
}

/// The f64 reference of the semi-supervised GAN's objective: mean over rows of softplus(∓lse).
fn gan_classes_f64(z: &[f64], cols: usize, real: bool, weight: f64) -> f64 {
    let rows = z.len() / cols;
    let softplus = |u: f64| u.max(0.0) + (-u.abs()).exp().ln_1p();
    z.chunks(cols)
        .map(|r| {
            let mx = r.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = mx + r.iter().map(|v| (v - mx).exp()).sum::<f64>().ln();
            softplus(if real { -lse } else { lse })
        })
        .sum::<f64>()
        * weight
        / rows as f64
}

#[test]
fn gan_classes_matches_its_f64_reference_and_central_differences_and_stays_finite_far_out() {
    let (rows, cols) = (7, 10);
    let z: Vec<f32> = values(rows * cols, 21).iter().map(|v| 4.0 * v).collect();
    for real in [true, false] {
        let mut g = vec![f32::NAN; rows * cols];
        let l = loss::gan_classes(&z, cols, real, &mut g, 0.5);
        let z64: Vec<f64> = z.iter().map(|&v| v as f64).collect();
        close(l, gan_classes_f64(&z64, cols, real, 0.5), 1e-6, 1e-7, &format!("loss, real {real}"));
        for i in 0..rows * cols {
            let h = 1e-5;
            let (mut up, mut down) = (z64.clone(), z64.clone());
            up[i] += h;
            down[i] -= h;
            let want = (gan_classes_f64(&up, cols, real, 0.5) - gan_classes_f64(&down, cols, real, 0.5)) / (2.0 * h);
            close(g[i] as f64, want, 1e-4, 1e-7, &format!("∂ℓ/∂z at row {}, class {} of [{rows}, {cols}], real {real}", i / cols, i % cols));
        }
    }
    // A confident real row costs ~0 and a confident fake row ~lse; neither overflows.
    let far = [1e4f32, -1e4, 0.0, -1e4, -1e4, -1e4];
    for real in [true, false] {
        let mut g = [f32::NAN; 6];
        let l = loss::gan_classes(&far, 3, real, &mut g, 1.0);
        assert!(l.is_finite() && g.iter().all(|v| v.is_finite()), "real {real}: loss {l}, grad {g:?}");
        // Row 0: lse ≈ 1e4; row 1: lse = −1e4 + ln 3.
        let want = if real { (1e4 - 3f64.ln()) / 2.0 } else { 1e4 / 2.0 };
        close(l, want, 1e-6, 0.0, &format!("far out, real {real}"));
        close(l, gan_classes_f64(&far.map(|v| v as f64), 3, real, 1.0), 1e-9, 0.0, &format!("far out against the reference, real {real}"));
    }
}

#[test]
fn feature_matching_and_column_means_match_their_f64_references_and_central_differences() {
    let (rows, cols) = (9, 6);
    let f = values(rows * cols, 22);
    let mut means = vec![f32::NAN; cols];
    loss::column_means(&f, cols, &mut means);
    for j in 0..cols {
        let want = (0..rows).map(|r| f[r * cols + j] as f64).sum::<f64>() / rows as f64;
        close(means[j] as f64, want, 1e-6, 1e-7, &format!("column mean {j} of [{rows}, {cols}]"));
    }
    let target = values(cols, 23);
    let reference = |f: &[f64]| -> f64 {
        (0..cols).map(|j| (target[j] as f64 - (0..rows).map(|r| f[r * cols + j]).sum::<f64>() / rows as f64).powi(2)).sum::<f64>() * 0.7 / cols as f64
    };
    let mut g = vec![f32::NAN; rows * cols];
    let l = loss::feature_matching(&f, cols, &target, &mut g, 0.7);
    let f64s: Vec<f64> = f.iter().map(|&v| v as f64).collect();
    close(l, reference(&f64s), 1e-6, 1e-8, "feature matching loss");
    for i in 0..rows * cols {
        let h = 1e-5;
        let (mut up, mut down) = (f64s.clone(), f64s.clone());
        up[i] += h;
        down[i] -= h;
        close(g[i] as f64, (reference(&up) - reference(&down)) / (2.0 * h), 1e-4, 1e-8, &format!("∂ℓ/∂f at row {}, column {} of [{rows}, {cols}]", i / cols, i % cols));
    }
}

#[test]
fn kl_rows_weighs_each_row_and_gives_kls_bits_with_equal_weights() {
    use latentkit_kernels::gaussian;
    let (rows, latent) = (5, 4);
    let stats: Vec<f32> = values(rows * 2 * latent, 31).iter().map(|v| 1.5 * v).collect();
    let eps = values(rows * latent, 32);
    let dz = values(rows * latent, 33);
    // Equal weights: kl's gradient and its sum, bit for bit.
    let mut d_kl = vec![f32::NAN; stats.len()];
    let total = gaussian::kl(&stats, &eps, &dz, Some(&mut d_kl), latent, 0.3);
    let mut d_rows = vec![f32::NAN; stats.len()];
    let mut sums = vec![f64::NAN; rows];
    gaussian::kl_rows(&stats, &eps, &dz, &mut d_rows, latent, &[0.3; 5], &mut sums);
    assert_eq!(d_rows.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), d_kl.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), "equal weights: kl's gradient");
    close(sums.iter().sum(), total, 1e-12, 0.0, "the rows' KLs add up to kl's");
    // Row weights: against f64 central differences of Σ_r w_r·KL_r (dz = 0: the KL part alone).
    let w = [0.1f32, 0.0, 2.0, 0.7, 1.3];
    let zero = vec![0f32; rows * latent];
    gaussian::kl_rows(&stats, &eps, &zero, &mut d_rows, latent, &w, &mut sums);
    let weighted = |s: &[f64]| -> f64 {
        (0..rows).map(|r| w[r] as f64 * (0..latent).map(|j| { let (m, lv) = (s[r * 2 * latent + j], s[r * 2 * latent + latent + j]); 0.5 * (m * m + lv.exp() - 1.0 - lv) }).sum::<f64>()).sum()
    };
    let s64: Vec<f64> = stats.iter().map(|&v| v as f64).collect();
    for r in 0..rows {
        let one: f64 = (0..latent).map(|j| { let (m, lv) = (s64[r * 2 * latent + j], s64[r * 2 * latent + latent + j]); 0.5 * (m * m + lv.exp() - 1.0 - lv) }).sum();
        close(sums[r], one, 1e-6, 1e-9, &format!("KL of row {r}"));
    }
    for i in 0..stats.len() {
        let h = 1e-5;
        let (mut up, mut down) = (s64.clone(), s64.clone());
        up[i] += h;
        down[i] -= h;
        close(d_rows[i] as f64, (weighted(&up) - weighted(&down)) / (2.0 * h), 1e-4, 1e-7, &format!("∂/∂stats at row {}, column {} of [{rows}, {}]", i / (2 * latent), i % (2 * latent), 2 * latent));
    }
}

#[test]
fn weighted_likelihood_rows_weigh_each_gradient_row_and_a_zero_weight_row_gets_zeros() {
    use latentkit_kernels::gaussian::{self, Likelihood};
    let guard = 4;
    for kind in [Likelihood::Bernoulli, Likelihood::GaussianFixed, Likelihood::GaussianLearned] {
        for &(rows, d) in &[(1, 3), (7, 4), (9, 257)] {
            let w = gaussian::output_width(kind, d);
            let x: Vec<f32> = values(rows * d, 41).iter().map(|v| if kind == Likelihood::Bernoulli { (*v > 0.0) as u8 as f32 } else { *v }).collect();
            let mut out: Vec<f32> = values(rows * w, 42).iter().map(|v| 4.0 * v).collect();
            // Every third row weighs 0, and its output is NaN: its gradient must be zeros.
            let q: Vec<f32> = (0..rows).map(|r| if r % 3 == 2 { 0.0 } else { 0.1 + r as f32 / 8.0 }).collect();
            for r in (0..rows).filter(|r| r % 3 == 2) {
                out[r * w] = f32::NAN;
            }
            let weight = 0.75f32;
            let mut plain_g = vec![f32::NAN; rows * w];
            let mut plain = vec![f64::NAN; rows];
            gaussian::nll_rows::<Native>(kind, &x, &out, d, -0.3, Some(&mut plain_g), weight, rows, None, &mut plain);
            for cuts in [vec![], vec![rows / 2], vec![2, 5, rows - 1]] {
                let mut g = vec![f32::NAN; rows * w + guard];
                let mut sums = vec![f64::NAN; rows];
                for r in ranges(rows, &cuts).into_iter().rev() {
                    let part = &mut g[r.start * w..r.end * w];
                    gaussian::nll_rows::<Native>(kind, &x[r.start * d..r.end * d], &out[r.start * w..r.end * w], d, -0.3, Some(part), weight, rows, Some(&q[r.clone()]), &mut sums[r.clone()]);
                }
                for r in 0..rows {
                    // The sums stay each row's own term: the caller weighs them.
                    assert_eq!(sums[r].to_bits(), plain[r].to_bits(), "{kind:?} rows {rows} d {d} cuts {cuts:?}: sum of row {r} (weight {}) {} vs {}", q[r], sums[r], plain[r]);
                    for j in 0..w {
                        let want = if q[r] == 0.0 { 0.0 } else { plain_g[r * w + j] * q[r] };
                        let got = g[r * w + j];
                        assert_eq!(got.to_bits(), want.to_bits(), "{kind:?} rows {rows} d {d} cuts {cuts:?}: gradient [{r}, {j}] (weight {}) {got} vs {want}", q[r]);
                    }
                }
                assert!(g[rows * w..].iter().all(|v| v.is_nan()), "{kind:?} rows {rows} d {d}: a write past the gradient");
            }
        }
    }
}

#[test]
fn a_learned_variance_row_whose_gradient_overflows_before_its_weight_is_taken_in_f64() {
    use latentkit_kernels::gaussian::{self, Likelihood};
    // As M2 met on Fashion-MNIST: q(y|x) subnormal, a log-variance of −204 and a mean 398 from x.
    // r·e^88 overflows f32; r·e^88·q does not.
    let (rows, d) = (3, 5);
    let x = values(rows * d, 43);
    let mut out: Vec<f32> = values(rows * 2 * d, 44);
    for j in 0..d {
        out[d + 2 * d + j] = -204.0; // row 1's log-variances
        out[2 * d + j] = x[d + j] - 398.0 * (1.0 + j as f32 / 10.0); // row 1's means
    }
    let q = [0.5f32, 2.8e-44 / 10.0, 0.25];
    let weight = 1.0f32;
    let mut g = vec![f32::NAN; rows * 2 * d];
    let mut sums = vec![f64::NAN; rows];
    gaussian::nll_rows::<Native>(Likelihood::GaussianLearned, &x, &out, d, 0.0, Some(&mut g), weight, rows, Some(&q), &mut sums);
    let mut plain = vec![f32::NAN; rows * 2 * d];
    gaussian::nll_rows::<Native>(Likelihood::GaussianLearned, &x, &out, d, 0.0, Some(&mut plain), weight, rows, None, &mut vec![0.0; rows]);
    assert!(plain[2 * d..4 * d].iter().any(|v| !v.is_finite()), "the unweighted row must overflow for this test to mean anything");
    for r in 0..rows {
        for j in 0..2 * d {
            let i = r * 2 * d + j;
            let want = if r == 1 {
                let (rr, lv) = (x[r * d + j % d] as f64 - out[r * 2 * d + j % d] as f64, out[r * 2 * d + d + j % d] as f64);
                let e = (-lv).min(88.0).exp();
                let s = q[r] as f64 / rows as f64;
                (if j < d { -rr * e * s } else { 0.5 * (1.0 - rr * rr * e) * s }) as f32
            } else {
                plain[i] * q[r]
            };
            assert!(g[i].is_finite(), "gradient [{r}, {j}] {} not finite", g[i]);
            assert_eq!(g[i].to_bits(), want.to_bits(), "gradient [{r}, {j}] of [{rows}, {}]: {} vs {want}", 2 * d, g[i]);
        }
    }
}

/// ln as mathf::ln64 computed it before its series took constant reciprocals and before it read the
/// exponent through 2^52's bits: the oracle for its bits.
fn ln64_dividing(x: f64) -> f64 {
    let bits = x.to_bits();
    let mut k = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        k += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let z = s * s;
    let mut sum = 0.0;
    let mut i = 25.0;
    while i > 1.0 {
        sum = z * (1.0 / i + sum);
        i -= 2.0;
    }
    2.0 * (s * (1.0 + sum)) + k as f64 * std::f64::consts::LN_2
}

#[test]
fn ln64_and_ln64_each_give_the_bits_of_the_integer_exponent_form() {
    use latentkit_kernels::mathf::{ln64, ln64_each};
    let sqrt2 = std::f64::consts::SQRT_2;
    let mut xs = vec![f64::MIN_POSITIVE, f64::MAX, 1.0, 2.0, 0.5, sqrt2, sqrt2 / 2.0, f64::EPSILON];
    for x in [sqrt2, sqrt2 / 2.0, 1.0, 2.0 * sqrt2] {
        let b = x.to_bits();
        xs.extend((1..=8u64).flat_map(|d| [f64::from_bits(b - d), f64::from_bits(b + d)]));
    }
    let mut r = Xoshiro128ss::from_seed(11);
    for _ in 0..100_000 {
        // Every exponent of a normal f64, a random mantissa.
        let bits = ((r.below(2046) as u64 + 1) << 52) | ((r.next_u32() as u64) << 20 | r.next_u32() as u64 >> 12);
        xs.push(f64::from_bits(bits));
        xs.push(((r.next_u32() >> 8) as f64 + 0.5) / 16_777_216.0);
    }
    for (i, &x) in xs.iter().enumerate() {
        let (got, want) = (ln64(x), ln64_dividing(x));
        assert_eq!(got.to_bits(), want.to_bits(), "value {i}: ln64({x:e}) = {got}, the integer exponent's form {want}");
    }
    // Odd lengths too: the vectorised loop's remainder.
    for len in [xs.len(), 1, 3, 33] {
        let mut got = vec![f64::NAN; len + 1];
        ln64_each(&xs[..len], &mut got[..len]);
        for (i, &x) in xs[..len].iter().enumerate() {
            let want = ln64_dividing(x);
            assert_eq!(got[i].to_bits(), want.to_bits(), "ln64_each of {len}: value {i}, ln({x:e}) = {}, the integer exponent's form {want}", got[i]);
        }
        assert!(got[len].is_nan(), "ln64_each of {len} wrote past its end");
    }
}

#[test]
fn normals_batched_give_the_bits_of_one_polar_pair_at_a_time() {
    use latentkit_kernels::mathf::ln64;
    let mut r = Xoshiro128ss::from_seed(5);
    for _ in 0..100_000 {
        let s = ((r.next_u32() >> 8) as f64 + 0.5) / 16_777_216.0;
        assert_eq!(ln64(s).to_bits(), ln64_dividing(s).to_bits(), "ln64({s})");
    }
    // The polar method one pair at a time, as the kernels drew before their batching.
    let pair = |r: &mut Xoshiro128ss| loop {
        let u = ((r.next_u32() >> 8) as f64 + 0.5) * (2.0 / 16_777_216.0) - 1.0;
        let v = ((r.next_u32() >> 8) as f64 + 0.5) * (2.0 / 16_777_216.0) - 1.0;
        let s = u * u + v * v;
        if s < 1.0 {
            let f = (-2.0 * ln64_dividing(s) / s).sqrt();
            return (u * f, v * f);
        }
    };
    for &n in &[0usize, 1, 2, 3, 63, 64, 65, 66, 129, 1000] {
        let (mut a, mut b) = (Xoshiro128ss::from_seed(n as u64 + 1), Xoshiro128ss::from_seed(n as u64 + 1));
        let base = values(n, 3);
        let mut got = base.clone();
        a.add_normal(&mut got, 0.5);
        let mut want = base.clone();
        let mut i = 0;
        while i < n {
            let (p, q) = pair(&mut b);
            want[i] += (0.5f64 * p) as f32;
            if i + 1 < n {
                want[i + 1] += (0.5f64 * q) as f32;
            }
            i += 2;
        }
        if let Some(i) = (0..n).find(|&i| got[i].to_bits() != want[i].to_bits()) {
            panic!("add_normal of {n}: value {i} is {}, one pair at a time {}", got[i], want[i]);
        }
        assert_eq!(a, b, "add_normal of {n}: the generator's state after it");
        let mut filled = vec![f32::NAN; n + 4];
        a.fill_normal(&mut filled[..n], 1.0, 2.0);
        let mut i = 0;
        while i < n {
            let (p, q) = pair(&mut b);
            let want = [(1.0f64 + 2.0f64 * p) as f32, (1.0f64 + 2.0f64 * q) as f32];
            for j in 0..2.min(n - i) {
                assert_eq!(filled[i + j].to_bits(), want[j].to_bits(), "fill_normal of {n}: value {}", i + j);
            }
            i += 2;
        }
        assert!(filled[n..].iter().all(|v| v.is_nan()), "fill_normal of {n} wrote past its end");
        assert_eq!(a, b, "fill_normal of {n}: the generator's state after it");
    }
}
