//! The largest eigenpairs of a symmetric matrix by Lanczos with full
//! reorthogonalisation. Each step costs one matrix–vector product, so the top
//! 32 eigenpairs of a 784×784 covariance take about 70 products, where
//! subspace iteration on 48 vectors needed about 800.

use super::tridiagonal::{descending, tridiagonal_ql};
use super::vector::{axpy, dot};
use crate::gemm::kernel::Start;
use crate::gemm::{sgemm, Scratch};
use crate::optim::sum_squares;
use crate::rng::Xoshiro128ss;
use crate::simd::F32x4;

fn norm(x: &[f32]) -> f64 {
    sum_squares(x).sqrt()
}

/// w ← w − Q·(Qᵀw) against the `count` orthonormal rows of `basis`, twice
/// (classical Gram–Schmidt twice keeps orthogonality at working precision),
/// and a third time if the second pass still removed a large share. Returns
/// the sum of the coefficients along row `track` (the Lanczos α correction).
fn reorthogonalize<V: F32x4>(basis: &[f32], count: usize, d: usize, w: &mut [f32], h: &mut [f32], track: usize) -> f64 {
    let mut along = 0f64;
    let mut before = norm(w);
    for pass in 0..3 {
        for i in 0..count {
            h[i] = dot::<V>(&basis[i * d..i * d + d], w);
        }
        for i in 0..count {
            axpy::<V>(-h[i], &basis[i * d..i * d + d], w);
        }
        if track < count {
            along += h[track] as f64;
        }
        let after = norm(w);
        if pass >= 1 && after > 0.7 * before {
            break;
        }
        before = after;
    }
    along
}

/// Outcome of [`lanczos_top_eigen`].
pub struct Lanczos {
    /// Matrix–vector products used.
    pub steps: usize,
    /// Whether every wanted pair met the tolerance.
    pub converged: bool,
}

/// The `k` largest eigenpairs of the symmetric d×d matrix `c` (row-major).
///
/// Lanczos from a random start with full reorthogonalisation; every 4 steps
/// from max(2k + 1, 20) on, the Ritz pairs of the tridiagonal T are checked
/// and the run stops once every wanted pair's residual estimate |βⱼ·sⱼᵢ| (the
/// exact ‖C·u − θu‖ in exact arithmetic) is ≤ tol·|θ₁|, or after `max_steps`
/// (capped at d). If the Krylov space closes (β at rounding level) the run
/// continues from a fresh random vector orthogonal to the basis. Eigenvalues
/// go to `vals[..k]` in descending order, eigenvectors to the columns of
/// `vecs` (d×k, row-major). The basis grows a vector per step; returns None
/// if memory for it runs out.
#[allow(clippy::too_many_arguments)]
pub fn lanczos_top_eigen<V: F32x4>(
    c: &[f32],
    d: usize,
    k: usize,
    rng: &mut Xoshiro128ss,
    tol: f64,
    max_steps: usize,
    vals: &mut [f32],
    vecs: &mut [f32],
    s: &mut Scratch,
) -> Option<Lanczos> {
    assert!(k >= 1 && k <= d && c.len() >= d * d && vals.len() >= k && vecs.len() >= d * k);
    let max_steps = max_steps.max(k).min(d);
    let first_check = (2 * k + 1).max(20).min(max_steps);
    let mut basis: Vec<f32> = Vec::new();
    let mut w = vec![0f32; d];
    let mut h = vec![0f32; max_steps];

    // Appends a random unit vector orthogonal to the basis.
    let start = |basis: &mut Vec<f32>, rng: &mut Xoshiro128ss, h: &mut [f32]| -> Option<()> {
        let j = basis.len() / d;
        basis.try_reserve(d).ok()?;
        basis.resize((j + 1) * d, 0.0);
        let (done, v) = basis.split_at_mut(j * d);
        rng.fill_normal(v, 0.0, 1.0);
        reorthogonalize::<V>(done, j, d, v, h, usize::MAX);
        let nv = norm(v);
        let inv = if nv > 0.0 { (1.0 / nv) as f32 } else { 0.0 };
        v.iter_mut().for_each(|x| *x *= inv);
        Some(())
    };
    start(&mut basis, rng, &mut h)?;

    let mut alpha: Vec<f64> = Vec::with_capacity(max_steps);
    let mut beta: Vec<f64> = Vec::with_capacity(max_steps);
    let mut scale = 0f64;
    let mut converged = false;
    let mut diag = vec![0f64; max_steps];
    let mut off = vec![0f64; max_steps];
    loop {
        let j = alpha.len();
        {
            let v = &basis[j * d..j * d + d];
            for (i, y) in w.iter_mut().enumerate() {
                *y = dot::<V>(&c[i * d..i * d + d], v);
            }
        }
        let a = reorthogonalize::<V>(&basis, j + 1, d, &mut w, &mut h, j);
        let b = norm(&w);
        scale = scale.max(a.abs()).max(b);
        // A residual at rounding level means the Krylov space is invariant.
        let closed = b <= scale * (1.0 / (1u64 << 20) as f64);
        alpha.push(a);
        beta.push(if closed { 0.0 } else { b });
        let steps = j + 1;
        if steps >= first_check && ((steps - first_check) % 4 == 0 || steps == max_steps) {
            diag[..steps].copy_from_slice(&alpha);
            off[..steps].copy_from_slice(&beta);
            let mut last = vec![0f64; steps];
            last[steps - 1] = 1.0;
            if tridiagonal_ql(&mut diag[..steps], &mut off[..steps], &mut last, 1) {
                let order = descending(&diag[..steps]);
                let bound = tol * diag[order[0]].abs();
                converged = order[..k].iter().all(|&i| (beta[j] * last[i]).abs() <= bound);
            }
            if converged || steps == max_steps {
                break;
            }
        }
        if steps == max_steps {
            break;
        }
        if closed {
            start(&mut basis, rng, &mut h)?;
        } else {
            let inv = (1.0 / b) as f32;
            basis.try_reserve(d).ok()?;
            basis.extend(w.iter().map(|&x| x * inv));
        }
    }

    // Ritz pairs: T = S·Θ·Sᵀ, u = Vᵀ·s.
    let m = alpha.len();
    diag[..m].copy_from_slice(&alpha);
    off[..m].copy_from_slice(&beta);
    let mut z = vec![0f64; m * m];
    for i in 0..m {
        z[i * m + i] = 1.0;
    }
    if !tridiagonal_ql(&mut diag[..m], &mut off[..m], &mut z, m) {
        converged = false;
    }
    let order = descending(&diag[..m]);
    let mut ritz = vec![0f32; m * k];
    for (col, &src) in order[..k].iter().enumerate() {
        vals[col] = diag[src] as f32;
        for row in 0..m {
            ritz[row * k + col] = z[row * m + src] as f32;
        }
    }
    unsafe {
        // vecs[d×k] ← Vᵀ[d×m] · S[m×k], V's rows being the Lanczos vectors.
        sgemm::<V::Sgemm>(d, m, k, basis.as_ptr(), 1, d, ritz.as_ptr(), k, 1, vecs.as_mut_ptr(), k, Start::Overwrite, s);
    }
    Some(Lanczos { steps: m, converged })
}
