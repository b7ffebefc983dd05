//! The covariance matrix of a [n × d] data set, streamed in chunks of rows.
//!
//! Covariance is shift-invariant: with any per-column shift s and δ = μ − s,
//! Σᵢ (xᵢ − μ)(xᵢ − μ)ᵀ = M − n·δδᵀ where M = Σᵢ (xᵢ − s)(xᵢ − s)ᵀ.
//! Columns are split in two. *Dense* columns are shifted by their mean and
//! go through a packed syrk on the GEMM microkernel. *Sparse* columns (mostly
//! exact zeros, as the border pixels of images) are shifted by 0, so each of
//! their nonzeros adds one full row of M by a vector axpy and their zeros cost
//! nothing. For a column with a fraction f ≥ ½ of zeros, μ² ≤ (1 − f)·E[x²], so
//! the unshifted sum loses at most one bit to the final subtraction.

use crate::gemm::kernel::{sgemm_tile, Microkernel, Start};
use crate::gemm::pack::{pack_a, pack_b};
use crate::gemm::params::{KC, MC_PANELS, NC, NR};
use crate::gemm::Scratch;
use super::vector::axpy;
use crate::simd::F32x4;

/// Upper triangle of C[d×d] ← xᵀx (+ C with `accumulate`) for row-major x[n×d].
/// Only MR×8 tiles that reach the diagonal or above are computed; entries of
/// those tiles below the diagonal get values too and are meant to be
/// overwritten from the upper triangle.
pub fn syrk_upper<V: F32x4>(x: &[f32], n: usize, d: usize, c: &mut [f32], accumulate: bool, s: &mut Scratch) {
    syrk_upper_columns::<V>(x, n, d, c, accumulate, 0..d, s);
}

/// [`syrk_upper`] for the columns `cols` of C only (threads split C into column strips). With
/// `cols.start` a multiple of NR every tile is the one the full call computes, bit for bit.
pub fn syrk_upper_columns<V: F32x4>(x: &[f32], n: usize, d: usize, c: &mut [f32], accumulate: bool, cols: core::ops::Range<usize>, s: &mut Scratch) {
    assert!(x.len() >= n * d && c.len() >= d * d);
    assert!(cols.start % NR == 0 && cols.start <= cols.end && cols.end <= d);
    if cols.start == cols.end {
        return;
    }
    if n == 0 {
        if !accumulate {
            for row in c[..d * d].chunks_exact_mut(d) {
                row[cols.clone()].iter_mut().for_each(|v| *v = 0.0);
            }
        }
        return;
    }
    let mr_tile = <V::Sgemm as Microkernel>::MR;
    let mc_max = mr_tile * MC_PANELS;
    let pa = s.a.as_mut_ptr();
    let pb = s.b.as_mut_ptr();
    let mut jc = cols.start;
    while jc < cols.end {
        let nc = NC.min(cols.end - jc);
        let row_end = jc + nc; // rows past the panel's last column are all below the diagonal
        let mut pc = 0;
        while pc < n {
            let kc = KC.min(n - pc);
            let start = if pc > 0 || accumulate { Start::Accumulate } else { Start::Overwrite };
            unsafe {
                pack_b::<V>(kc, nc, x.as_ptr().add(pc * d + jc), d, 1, NR, pb);
                let mut ic = 0;
                while ic < row_end {
                    let mc = mc_max.min(row_end - ic);
                    // A = xᵀ: element (i, p) at x[p·d + i].
                    pack_a::<V>(mc, kc, x.as_ptr().add(pc * d + ic), 1, d, mr_tile, pa);
                    let mut jr = 0;
                    while jr < nc {
                        let nr = NR.min(nc - jr);
                        let col0 = jc + jr;
                        let mut ir = 0;
                        // Tiles whose first row is past the strip's last column lie below the diagonal.
                        while ir < mc && ic + ir < col0 + nr {
                            let mr = mr_tile.min(mc - ir);
                            sgemm_tile::<V::Sgemm>(kc, pa.add(ir * kc), pb.add(jr * kc), c.as_mut_ptr().add((ic + ir) * d + col0), d, mr, nr, start);
                            ir += mr_tile;
                        }
                        jr += NR;
                    }
                    ic += mc;
                }
            }
            pc += kc;
        }
        jc += nc;
    }
}

/// sum[j] += Σᵣ x[r, j] in f64, and nonzeros[j] += the count of x[r, j] ≠ 0.
pub fn column_stats(x: &[f32], rows: usize, d: usize, sum: &mut [f64], nonzeros: &mut [u32]) {
    debug_assert!(x.len() >= rows * d && sum.len() >= d && nonzeros.len() >= d);
    for row in x[..rows * d].chunks_exact(d) {
        for ((s, c), &v) in sum[..d].iter_mut().zip(nonzeros[..d].iter_mut()).zip(row) {
            *s += v as f64;
            *c += (v != 0.0) as u32;
        }
    }
}

/// panel[r, c] ← x[r, cols[c]] − shift[cols[c]] for a row-major x[rows×d].
pub fn gather_shifted(x: &[f32], rows: usize, d: usize, cols: &[u32], shift: &[f32], panel: &mut [f32]) {
    let w = cols.len();
    debug_assert!(x.len() >= rows * d && panel.len() >= rows * w && shift.len() >= d);
    for r in 0..rows {
        let src = &x[r * d..r * d + d];
        let dst = &mut panel[r * w..r * w + w];
        for (o, &j) in dst.iter_mut().zip(cols) {
            *o = src[j as usize] - shift[j as usize];
        }
    }
}

/// For each row x[r] and each sparse column j = sparse[q] with x[r, j] ≠ 0:
/// rows[q, :] += x[r, j] · (x[r] − shift). The sparse columns' shifts must be 0.
/// `row_buf` holds d floats.
pub fn sparse_rows_accumulate<V: F32x4>(x: &[f32], n: usize, d: usize, sparse: &[u32], shift: &[f32], row_buf: &mut [f32], rows: &mut [f32]) {
    debug_assert!(x.len() >= n * d && rows.len() >= sparse.len() * d && row_buf.len() >= d);
    debug_assert!(sparse.iter().all(|&j| shift[j as usize] == 0.0));
    let y = &mut row_buf[..d];
    for r in 0..n {
        let src = &x[r * d..r * d + d];
        for ((o, &v), &m) in y.iter_mut().zip(src).zip(shift) {
            *o = v - m;
        }
        for (q, &j) in sparse.iter().enumerate() {
            let v = src[j as usize];
            if v != 0.0 {
                axpy::<V>(v, y, &mut rows[q * d..q * d + d]);
            }
        }
    }
}

/// Assembles C[d×d] = (M − n·δδᵀ) / (n − 1) in f64 from the dense block
/// `md` (upper triangle valid, |dense|² row-major) and the sparse rows
/// (`ms`, |sparse| × d), δ being mean − shift per column.
pub fn covariance_assemble(md: &[f32], dense: &[u32], ms: &[f32], sparse: &[u32], delta: &[f64], n: usize, d: usize, c: &mut [f32]) {
    let w = dense.len();
    debug_assert!(md.len() >= w * w && ms.len() >= sparse.len() * d && c.len() >= d * d && n >= 2);
    let nf = n as f64;
    let scale = 1.0 / (nf - 1.0);
    let entry = |m: f32, a: usize, b: usize| ((m as f64 - nf * delta[a] * delta[b]) * scale) as f32;
    for p in 0..w {
        let a = dense[p] as usize;
        for q in p..w {
            let b = dense[q] as usize;
            let v = entry(md[p * w + q], a, b);
            c[a * d + b] = v;
            c[b * d + a] = v;
        }
    }
    for (q, &j) in sparse.iter().enumerate() {
        let j = j as usize;
        for b in 0..d {
            let v = entry(ms[q * d + b], j, b);
            c[j * d + b] = v;
            c[b * d + j] = v;
        }
    }
}
