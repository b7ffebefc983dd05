//! A dense layer y = f(x·W + b), forward beside backward.
//!
//! Shapes (row-major): x m×k (a batch of m rows), W k×n, b n, y m×n. With
//! `transposed`, W is stored n×k and the layer computes y = f(x·Wᵀ + b): the
//! decoder of a tied-weight autoencoder reads its encoder's matrix that way.
//!
//! Each pass also comes as a column range (`*_columns`): threads that split a
//! layer by output columns each compute whole columns, every element by the same
//! operations in the same order as the full call, so the result does not depend
//! on how the columns were split. The full calls are the range that covers all.

use core::ops::Range;

use crate::activation::{self, Activation};
use crate::gemm::{sgemm, Scratch, Start};
use crate::simd::F32x4;

/// Applies `f` to columns `cols` of each of the m rows of an m×n matrix (whole
/// buffer at once when the range covers every column).
fn per_row<T>(m: usize, n: usize, cols: &Range<usize>, data: &mut [T], mut f: impl FnMut(usize, &mut [T])) {
    if cols.start == 0 && cols.end == n {
        f(0, &mut data[..m * n]);
    } else {
        for r in 0..m {
            f(r * n + cols.start, &mut data[r * n + cols.start..r * n + cols.end]);
        }
    }
}

/// Columns `cols` of y ← f(x·W + b) (or x·Wᵀ + b; no bias when `b` is None). The bias seeds
/// the GEMM epilogue, the activation runs over the fresh output.
pub fn dense_forward_columns<V: F32x4>(
    m: usize,
    k: usize,
    n: usize,
    x: &[f32],
    w: &[f32],
    b: Option<&[f32]>,
    y: &mut [f32],
    act: Activation,
    alpha: f32,
    transposed: bool,
    cols: Range<usize>,
    s: &mut Scratch,
) {
    assert!(x.len() >= m * k && w.len() >= k * n && b.map_or(true, |b| b.len() >= n) && y.len() >= m * n);
    assert!(cols.start <= cols.end && cols.end <= n);
    let (j0, nc) = (cols.start, cols.end - cols.start);
    // W(p, j) is w[p·n + j], or w[j·k + p] when transposed.
    let (wp, rsb, csb) = if transposed { (unsafe { w.as_ptr().add(j0 * k) }, 1, k) } else { (unsafe { w.as_ptr().add(j0) }, n, 1) };
    let start = match b {
        Some(b) => Start::Bias(unsafe { b.as_ptr().add(j0) }),
        None => Start::Overwrite,
    };
    unsafe {
        sgemm::<V::Sgemm>(m, k, nc, x.as_ptr(), k, 1, wp, rsb, csb, y.as_mut_ptr().add(j0), n, start, s);
    }
    per_row(m, n, &cols, y, |_, row| activation::forward::<V>(act, alpha, row));
}

/// y ← f(x·W + b) (or x·Wᵀ + b), every column.
pub fn dense_forward<V: F32x4>(
    m: usize,
    k: usize,
    n: usize,
    x: &[f32],
    w: &[f32],
    b: Option<&[f32]>,
    y: &mut [f32],
    act: Activation,
    alpha: f32,
    transposed: bool,
    s: &mut Scratch,
) {
    dense_forward_columns::<V>(m, k, n, x, w, b, y, act, alpha, transposed, 0..n, s);
}

/// First half of the backward pass, for output columns `cols`, given dy = ∂L/∂y:
/// dz = dy ⊙ f′(y) (written over dy), and unless `params` is None (a frozen layer)
/// dW += xᵀ·dz (dWᵀ when transposed) and, unless its db is None, db += Σ_rows dz, over those
/// columns.
pub fn dense_backward_params_columns<V: F32x4>(
    m: usize,
    k: usize,
    n: usize,
    x: &[f32],
    y: &[f32],
    dy: &mut [f32],
    params: Option<(&mut [f32], Option<&mut [f32]>)>,
    act: Activation,
    alpha: f32,
    transposed: bool,
    cols: Range<usize>,
    s: &mut Scratch,
) {
    // A linear layer's f′ is 1: y is neither needed nor read (it may be empty).
    assert!(x.len() >= m * k && dy.len() >= m * n && (act == Activation::Linear || y.len() >= m * n));
    assert!(cols.start <= cols.end && cols.end <= n);
    if act != Activation::Linear {
        per_row(m, n, &cols, dy, |at, row| {
            let len = row.len();
            activation::backward::<V>(act, alpha, &y[at..at + len], row)
        });
    }
    // (no let-else: the crate builds on Rust 1.63)
    let (dw, db) = match params {
        Some(p) => p,
        None => return,
    };
    assert!(dw.len() >= k * n && db.as_ref().map_or(true, |db| db.len() >= n));
    let (j0, nc) = (cols.start, cols.end - cols.start);
    let dz = dy.as_ptr();
    unsafe {
        if transposed {
            // dWᵀ[j0.., :] (n×k, rows j0..j1) += dz[:, j0..j1]ᵀ · x
            // A is this part's own columns of dz: no part can reuse another's.
            sgemm::<V::Sgemm>(nc, m, k, dz.add(j0), 1, n, x.as_ptr(), k, 1, dw.as_mut_ptr().add(j0 * k), k, Start::Accumulate, &mut s.blocks());
        } else {
            // dW[:, j0..j1] (k×n) += xᵀ · dz[:, j0..j1]
            sgemm::<V::Sgemm>(k, m, nc, x.as_ptr(), 1, k, dz.add(j0), n, 1, dw.as_mut_ptr().add(j0), n, Start::Accumulate, s);
        }
    }
    if let Some(db) = db {
        for row in dy[..m * n].chunks_exact(n) {
            for (g, &d) in db[cols.clone()].iter_mut().zip(&row[cols.clone()]) {
                *g += d;
            }
        }
    }
}

/// Second half of the backward pass, for input columns `cols` (of k):
/// dx[:, cols] ← dz·Wᵀ (dz·W when transposed), overwritten: it is the previous
/// layer's fresh dy. Needs every column of dz, so it runs after the first half.
pub fn dense_backward_input_columns<V: F32x4>(
    m: usize,
    k: usize,
    n: usize,
    dz: &[f32],
    w: &[f32],
    dx: &mut [f32],
    transposed: bool,
    cols: Range<usize>,
    s: &mut Scratch,
) {
    assert!(dz.len() >= m * n && w.len() >= k * n && dx.len() >= m * k);
    assert!(cols.start <= cols.end && cols.end <= k);
    let (i0, kc) = (cols.start, cols.end - cols.start);
    // Wᵀ(p, i) is w[i·n + p], or w[p·k + i] when W is stored transposed.
    let (wp, rsb, csb) = if transposed { (unsafe { w.as_ptr().add(i0) }, k, 1) } else { (unsafe { w.as_ptr().add(i0 * n) }, 1, n) };
    unsafe {
        sgemm::<V::Sgemm>(m, n, kc, dz.as_ptr(), n, 1, wp, rsb, csb, dx.as_mut_ptr().add(i0), k, Start::Overwrite, s);
    }
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
    params: Option<(&mut [f32], Option<&mut [f32]>)>,
    act: Activation,
    alpha: f32,
    transposed: bool,
    s: &mut Scratch,
) {
    dense_backward_params_columns::<V>(m, k, n, x, y, dy, params, act, alpha, transposed, 0..n, s);
    if let Some(dx) = dx {
        dense_backward_input_columns::<V>(m, k, n, dy, w, dx, transposed, 0..k, s);
    }
}
