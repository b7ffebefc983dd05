//! Full eigen-decomposition of a small dense symmetric matrix (the Fréchet
//! distance's): Householder reduction to tridiagonal form, then implicit QL.

use super::tridiagonal::{descending, tridiagonal_ql};

/// Eigen-decomposition of the symmetric p×p matrix `a` (f64, row-major,
/// destroyed): `vals` gets the eigenvalues in descending order and the
/// columns of `vecs` (p×p) the matching orthonormal eigenvectors.
///
/// A = Q·T·Qᵀ with Q = H₀·H₁·…, each Hₖ = I − β·v·vᵀ zeroing column k below
/// the subdiagonal; then T = S·Θ·Sᵀ by QL with the rotations applied to Q,
/// so the eigenvectors are the columns of Q·S.
pub fn symmetric_eigen(a: &mut [f64], p: usize, vals: &mut [f64], vecs: &mut [f64]) {
    debug_assert!(a.len() >= p * p && vals.len() >= p && vecs.len() >= p * p);
    let q = &mut vecs[..p * p];
    q.iter_mut().enumerate().for_each(|(i, x)| *x = if i % (p + 1) == 0 { 1.0 } else { 0.0 });
    let mut diag = vec![0f64; p];
    let mut off = vec![0f64; p];
    let mut v = vec![0f64; p];
    let mut w = vec![0f64; p];
    for k in 0..p.saturating_sub(2) {
        // v = x − α·e₁ for x = a[k+1.., k], α = −sign(x₀)·‖x‖.
        let lo = k + 1;
        let norm = (lo..p).map(|i| a[i * p + k] * a[i * p + k]).sum::<f64>().sqrt();
        let x0 = a[lo * p + k];
        let alpha = if x0 > 0.0 { -norm } else { norm };
        off[k] = alpha;
        for i in lo..p {
            v[i] = a[i * p + k];
        }
        v[lo] -= alpha;
        let vtv: f64 = (lo..p).map(|i| v[i] * v[i]).sum();
        if vtv == 0.0 {
            off[k] = x0;
            continue;
        }
        let beta = 2.0 / vtv;
        // A₂₂ ← H·A₂₂·H = A₂₂ − v·wᵀ − w·vᵀ with p = β·A₂₂·v, w = p − (β/2)(vᵀp)·v.
        for i in lo..p {
            w[i] = beta * (lo..p).map(|j| a[i * p + j] * v[j]).sum::<f64>();
        }
        let half = 0.5 * beta * (lo..p).map(|i| v[i] * w[i]).sum::<f64>();
        for i in lo..p {
            w[i] -= half * v[i];
        }
        for i in lo..p {
            for j in lo..p {
                a[i * p + j] -= v[i] * w[j] + w[i] * v[j];
            }
        }
        // Q ← Q·H.
        for row in q.chunks_exact_mut(p) {
            let t = beta * (lo..p).map(|j| row[j] * v[j]).sum::<f64>();
            for j in lo..p {
                row[j] -= t * v[j];
            }
        }
    }
    for i in 0..p {
        diag[i] = a[i * p + i];
    }
    if p >= 2 {
        off[p - 2] = a[(p - 1) * p + p - 2];
    }
    tridiagonal_ql(&mut diag, &mut off, q, p);
    let order = descending(&diag);
    let unsorted = q.to_vec();
    for (col, &src) in order.iter().enumerate() {
        vals[col] = diag[src];
        for row in 0..p {
            vecs[row * p + col] = unsorted[row * p + src];
        }
    }
}
