//! Linear algebra for PCA: column means, the covariance matrix by a blocked
//! symmetric rank-k update on the GEMM driver, and the top eigenpairs of a
//! symmetric matrix by subspace iteration with Rayleigh–Ritz, whose heavy
//! products are all f32 GEMMs and whose small p×p problems run in f64.

use crate::gemm::{gemm_nn, sgemm, Scratch, Start};
use crate::rng::Xoshiro128ss;
use crate::simd::F32x4;

/// mean[j] = Σ_i x[i, j] / n, summed in f64.
pub fn column_means(x: &[f32], n: usize, d: usize, mean: &mut [f32]) {
    debug_assert!(x.len() >= n * d && mean.len() >= d && n > 0);
    let mut acc = vec![0f64; d];
    for row in x[..n * d].chunks_exact(d) {
        for (a, &v) in acc.iter_mut().zip(row) {
            *a += v as f64;
        }
    }
    for (m, a) in mean.iter_mut().zip(&acc) {
        *m = (*a / n as f64) as f32;
    }
}

/// x[i, j] −= mean[j].
pub fn center_columns(x: &mut [f32], n: usize, d: usize, mean: &[f32]) {
    for row in x[..n * d].chunks_exact_mut(d) {
        for (v, &m) in row.iter_mut().zip(mean) {
            *v -= m;
        }
    }
}

/// Upper block triangle of C[d×d] ← xᵀx (or += with `accumulate`) for
/// row-major x[n×d], by GEMM on 128×128 blocks; blocks below the diagonal are
/// not touched (see [`symmetrize_scale`]). Accumulating lets a caller stream
/// the rows of a large x through in chunks.
pub fn syrk_tn<V: F32x4, const MR: usize>(x: &[f32], n: usize, d: usize, c: &mut [f32], accumulate: bool, s: &mut Scratch) {
    debug_assert!(x.len() >= n * d && c.len() >= d * d);
    const B: usize = 128;
    let start = if accumulate { Start::Accumulate } else { Start::Overwrite };
    let mut bi = 0;
    while bi < d {
        let mb = B.min(d - bi);
        let mut bj = bi;
        while bj < d {
            let nb = B.min(d - bj);
            unsafe {
                sgemm::<V, MR>(mb, n, nb, x.as_ptr().add(bi), 1, d, x.as_ptr().add(bj), d, 1, c.as_mut_ptr().add(bi * d + bj), d, start, s);
            }
            bj += B;
        }
        bi += B;
    }
}

/// C ← scale · C with the upper triangle copied over the lower.
pub fn symmetrize_scale(c: &mut [f32], d: usize, scale: f32) {
    for i in 0..d {
        for j in i..d {
            let v = c[i * d + j] * scale;
            c[i * d + j] = v;
            c[j * d + i] = v;
        }
    }
}

/// Eigen-decomposition of a symmetric p×p matrix `a` (f64, row-major, destroyed)
/// by cyclic Jacobi rotations: on return `vals` holds the eigenvalues in
/// descending order and the columns of `vecs` (p×p) the matching eigenvectors.
pub fn jacobi_eigh(a: &mut [f64], p: usize, vals: &mut [f64], vecs: &mut [f64]) {
    debug_assert!(a.len() >= p * p && vecs.len() >= p * p && vals.len() >= p);
    for i in 0..p {
        for j in 0..p {
            vecs[i * p + j] = if i == j { 1.0 } else { 0.0 };
        }
    }
    for _sweep in 0..100 {
        let mut off = 0.0;
        let mut diag = 0.0;
        for i in 0..p {
            diag += a[i * p + i] * a[i * p + i];
            for j in i + 1..p {
                off += a[i * p + j] * a[i * p + j];
            }
        }
        if off <= 1e-30 * diag || off == 0.0 {
            break;
        }
        for i in 0..p {
            for j in i + 1..p {
                let aij = a[i * p + j];
                if aij == 0.0 {
                    continue;
                }
                // Rotation that zeroes a[i][j]: tan θ = t chosen as the smaller root.
                let theta = (a[j * p + j] - a[i * p + i]) / (2.0 * aij);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..p {
                    let aki = a[k * p + i];
                    let akj = a[k * p + j];
                    a[k * p + i] = c * aki - s * akj;
                    a[k * p + j] = s * aki + c * akj;
                }
                for k in 0..p {
                    let aik = a[i * p + k];
                    let ajk = a[j * p + k];
                    a[i * p + k] = c * aik - s * ajk;
                    a[j * p + k] = s * aik + c * ajk;
                }
                for k in 0..p {
                    let vki = vecs[k * p + i];
                    let vkj = vecs[k * p + j];
                    vecs[k * p + i] = c * vki - s * vkj;
                    vecs[k * p + j] = s * vki + c * vkj;
                }
            }
        }
    }
    // Sort descending, permuting the eigenvector columns alongside.
    let mut order: Vec<usize> = (0..p).collect();
    order.sort_by(|&x, &y| a[y * p + y].partial_cmp(&a[x * p + x]).unwrap_or(core::cmp::Ordering::Equal));
    let old = vecs[..p * p].to_vec();
    for (new_col, &src) in order.iter().enumerate() {
        vals[new_col] = a[src * p + src];
        for k in 0..p {
            vecs[k * p + new_col] = old[k * p + src];
        }
    }
}

/// Orthonormalises the columns of z (d×p, row-major) in place by Cholesky QR
/// applied twice (CholQR2): G = zᵀz, G = RᵀR, z ← z·R⁻¹. Columns that are
/// numerically dependent are replaced by zero columns.
fn cholesky_qr<V: F32x4>(z: &mut [f32], d: usize, p: usize, tmp: &mut [f32], g32: &mut [f32], s: &mut Scratch) {
    for _ in 0..2 {
        unsafe {
            sgemm::<V, { crate::gemm::params::MR }>(p, d, p, z.as_ptr(), 1, p, z.as_ptr(), p, 1, g32.as_mut_ptr(), p, Start::Overwrite, s);
        }
        // Cholesky of G in f64, then R⁻¹ (upper triangular) in f64.
        let mut r = vec![0f64; p * p];
        for j in 0..p {
            let mut dj = g32[j * p + j] as f64;
            for k in 0..j {
                dj -= r[k * p + j] * r[k * p + j];
            }
            let rjj = if dj > 1e-30 { dj.sqrt() } else { 0.0 };
            r[j * p + j] = rjj;
            for i in j + 1..p {
                let mut v = g32[j * p + i] as f64;
                for k in 0..j {
                    v -= r[k * p + j] * r[k * p + i];
                }
                r[j * p + i] = if rjj > 0.0 { v / rjj } else { 0.0 };
            }
        }
        let mut rinv = vec![0f64; p * p];
        for j in 0..p {
            if r[j * p + j] == 0.0 {
                continue;
            }
            rinv[j * p + j] = 1.0 / r[j * p + j];
            for i in (0..j).rev() {
                let mut v = 0.0;
                for k in i + 1..=j {
                    v += r[i * p + k] * rinv[k * p + j];
                }
                rinv[i * p + j] = if r[i * p + i] > 0.0 { -v / r[i * p + i] } else { 0.0 };
            }
        }
        for (dst, &v) in g32.iter_mut().zip(&rinv) {
            *dst = v as f32;
        }
        tmp[..d * p].copy_from_slice(&z[..d * p]);
        gemm_nn::<V>(d, p, p, tmp, g32, z, Start::Overwrite, s);
    }
}

/// Workspace for [`symmetric_top_eigen`]: four d×p f32 matrices and two p×p.
pub fn eigen_workspace_len(d: usize, p: usize) -> usize {
    4 * d * p + 2 * p * p
}

/// The `k` largest eigenpairs of the symmetric d×d matrix `c` by subspace
/// iteration on `p` ≥ k vectors with Rayleigh–Ritz every step. Stops when
/// every wanted Ritz pair has ‖C·u − θu‖ ≤ tol·θ₀, or after `max_iter`.
/// Writes eigenvalues (descending) to `vals[..k]` and eigenvectors as the
/// columns of `vecs` (d×k, row-major). Returns the iterations used.
pub fn symmetric_top_eigen<V: F32x4>(
    c: &[f32],
    d: usize,
    k: usize,
    p: usize,
    rng: &mut Xoshiro128ss,
    tol: f64,
    max_iter: usize,
    vals: &mut [f32],
    vecs: &mut [f32],
    work: &mut [f32],
    s: &mut Scratch,
) -> usize {
    debug_assert!(k >= 1 && k <= p && p <= d && work.len() >= eigen_workspace_len(d, p));
    let (q, rest) = work.split_at_mut(d * p);
    let (z, rest) = rest.split_at_mut(d * p);
    let (u, rest) = rest.split_at_mut(d * p);
    let (zw, rest) = rest.split_at_mut(d * p);
    let (h32, rest) = rest.split_at_mut(p * p);
    let g32 = &mut rest[..p * p];
    rng.fill_normal(q, 0.0, 1.0);
    cholesky_qr::<V>(q, d, p, z, g32, s);
    let mut h = vec![0f64; p * p];
    let mut theta = vec![0f64; p];
    let mut w = vec![0f64; p * p];
    let mut iters = 0;
    while iters < max_iter {
        iters += 1;
        gemm_nn::<V>(d, d, p, c, q, z, Start::Overwrite, s);
        unsafe {
            sgemm::<V, { crate::gemm::params::MR }>(p, d, p, q.as_ptr(), 1, p, z.as_ptr(), p, 1, h32.as_mut_ptr(), p, Start::Overwrite, s);
        }
        for i in 0..p {
            for j in 0..p {
                h[i * p + j] = 0.5 * (h32[i * p + j] as f64 + h32[j * p + i] as f64);
            }
        }
        jacobi_eigh(&mut h, p, &mut theta, &mut w);
        for (dst, &v) in g32.iter_mut().zip(&w) {
            *dst = v as f32;
        }
        gemm_nn::<V>(d, p, p, q, g32, u, Start::Overwrite, s);
        gemm_nn::<V>(d, p, p, z, g32, zw, Start::Overwrite, s);
        let mut worst = 0f64;
        for i in 0..k {
            let mut r2 = 0f64;
            for row in 0..d {
                let r = zw[row * p + i] as f64 - theta[i] * u[row * p + i] as f64;
                r2 += r * r;
            }
            worst = worst.max(r2.sqrt());
        }
        let converged = worst <= tol * theta[0].abs().max(1e-30);
        if converged || iters == max_iter {
            break;
        }
        q.copy_from_slice(zw);
        cholesky_qr::<V>(q, d, p, z, g32, s);
    }
    for i in 0..k {
        vals[i] = theta[i] as f32;
    }
    for row in 0..d {
        for i in 0..k {
            vecs[row * k + i] = u[row * p + i];
        }
    }
    iters
}
