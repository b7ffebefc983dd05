//! A dense layer y = f(x·W + b), forward beside backward.
//!
//! Shapes (row-major): x m×k (a batch of m rows), W k×n, b n, y m×n. With
//! `transposed`, W is stored n×k and the layer computes y = f(x·Wᵀ + b): the
//! decoder of a tied-weight autoencoder reads its encoder's matrix that way.

use crate::activation::{self, Activation};
use crate::gemm::{gemm_nn, gemm_nt, gemm_tn, Scratch, Start};
use crate::simd::F32x4;

/// y ← f(x·W + b) (or x·Wᵀ + b). The bias seeds the GEMM epilogue, the
/// activation runs over the fresh output.
pub fn dense_forward<V: F32x4>(
    m: usize,
    k: usize,
    n: usize,
    x: &[f32],
    w: &[f32],
    b: &[f32],
    y: &mut [f32],
    act: Activation,
    alpha: f32,
    transposed: bool,
    s: &mut Scratch,
) {
    debug_assert!(b.len() >= n);
    let start = Start::Bias(b.as_ptr());
    if transposed {
        gemm_nt::<V>(m, k, n, x, w, y, start, s);
    } else {
        gemm_nn::<V>(m, k, n, x, w, y, start, s);
    }
    activation::forward::<V>(act, alpha, &mut y[..m * n]);
}

/// Backward through y = f(x·W + b) given dy = ∂L/∂y:
/// dz = dy ⊙ f′(y) (written over dy), dW += xᵀ·dz (dWᵀ when transposed),
/// db += Σ_rows dz, and, when `dx` is given, dx ← dz·Wᵀ (overwritten: it is
/// the next layer's fresh dy). `params` of None (a frozen layer) skips dW and db.
pub fn dense_backward<V: F32x4>(
    m: usize,
    k: usize,
    n: usize,
    x: &[f32],
    w: &[f32],
    y: &[f32],
    dy: &mut [f32],
    dx: Option<&mut [f32]>,
    params: Option<(&mut [f32], &mut [f32])>,
    act: Activation,
    alpha: f32,
    transposed: bool,
    s: &mut Scratch,
) {
    debug_assert!(dy.len() >= m * n && y.len() >= m * n);
    let dz = &mut dy[..m * n];
    activation::backward::<V>(act, alpha, &y[..m * n], dz);
    if let Some((dw, db)) = params {
        debug_assert!(db.len() >= n);
        if transposed {
            gemm_tn::<V>(m, n, k, dz, x, dw, Start::Accumulate, s);
        } else {
            gemm_tn::<V>(m, k, n, x, dz, dw, Start::Accumulate, s);
        }
        for row in dz.chunks_exact(n) {
            for (g, &d) in db[..n].iter_mut().zip(row) {
                *g += d;
            }
        }
    }
    if let Some(dx) = dx {
        if transposed {
            gemm_nn::<V>(m, n, k, dz, w, dx, Start::Overwrite, s);
        } else {
            gemm_nt::<V>(m, n, k, dz, w, dx, Start::Overwrite, s);
        }
    }
}
