//! Packing: copy a block of a strided matrix into the panel order a microkernel
//! reads. Full panels move four floats at a time (4×4 transposes where the
//! source runs the other way); edges go element by element and are zero-padded.

use crate::simd::F32x4;

/// Pack rows `0..mc` × depth `0..kc` of A (element (i, p) at `a[i*rsa + p*csa]`)
/// into panels of `mr` rows: panel q holds, for each p, rows q*mr .. q*mr+mr.
/// Rows past `mc` are zero so edge tiles need no masking in the kernel.
/// Never inlined: the driver calls it from two places (block by block, and all of A for
/// [`super::PackA::Whole`]), and one copy keeps the bundle within its 80 KB budget.
///
/// # Safety
/// Every addressed element of A must be readable; `out` must hold
/// `ceil(mc / mr) * mr * kc` floats.
#[inline(never)]
pub unsafe fn pack_a<V: F32x4>(mc: usize, kc: usize, a: *const f32, rsa: usize, csa: usize, mr: usize, out: *mut f32) {
    let mut dst = out;
    let mut i0 = 0;
    while i0 < mc {
        let rows = if mc - i0 < mr { mc - i0 } else { mr };
        if csa == 1 {
            // Row-major A: 4 rows × 4 depths at a time through a transpose.
            let groups = rows / 4;
            let p4 = kc - kc % 4;
            for g in 0..groups {
                let src = a.add((i0 + 4 * g) * rsa);
                let mut p = 0;
                while p < p4 {
                    let t = V::transpose4([V::load(src.add(p)), V::load(src.add(rsa + p)), V::load(src.add(2 * rsa + p)), V::load(src.add(3 * rsa + p))]);
                    for (q, v) in t.iter().enumerate() {
                        v.store(dst.add((p + q) * mr + 4 * g));
                    }
                    p += 4;
                }
                for p in p4..kc {
                    for r in 0..4 {
                        *dst.add(p * mr + 4 * g + r) = *src.add(r * rsa + p);
                    }
                }
            }
            for r in 4 * groups..rows {
                let src = a.add((i0 + r) * rsa);
                for p in 0..kc {
                    *dst.add(p * mr + r) = *src.add(p);
                }
            }
        } else if rsa == 1 && rows == mr && mr % 4 == 0 {
            // A transposed in memory (dW = Xᵀ·dY): a panel's rows are contiguous.
            for p in 0..kc {
                let src = a.add(i0 + p * csa);
                for g in (0..mr).step_by(4) {
                    V::load(src.add(g)).store(dst.add(p * mr + g));
                }
            }
        } else {
            for p in 0..kc {
                let src = a.add(i0 * rsa + p * csa);
                for r in 0..rows {
                    *dst.add(p * mr + r) = *src.add(r * rsa);
                }
            }
        }
        for r in rows..mr {
            for p in 0..kc {
                *dst.add(p * mr + r) = 0.0;
            }
        }
        dst = dst.add(mr * kc);
        i0 += mr;
    }
}

/// Pack depth `0..kc` × columns `0..nc` of B (element (p, j) at `b[p*rsb + j*csb]`)
/// into panels of `nr` columns: panel q holds, for each p, columns q*nr .. q*nr+nr,
/// zero past `nc`.
///
/// # Safety
/// Every addressed element of B must be readable; `out` must hold
/// `ceil(nc / nr) * nr * kc` floats.
pub unsafe fn pack_b<V: F32x4>(kc: usize, nc: usize, b: *const f32, rsb: usize, csb: usize, nr: usize, out: *mut f32) {
    let mut dst = out;
    let mut j0 = 0;
    while j0 < nc {
        let cols = if nc - j0 < nr { nc - j0 } else { nr };
        if csb == 1 {
            for p in 0..kc {
                let src = b.add(p * rsb + j0);
                let d = dst.add(p * nr);
                if cols == nr && nr % 4 == 0 {
                    for g in (0..nr).step_by(4) {
                        V::load(src.add(g)).store(d.add(g));
                    }
                } else {
                    for j in 0..cols {
                        *d.add(j) = *src.add(j);
                    }
                    for j in cols..nr {
                        *d.add(j) = 0.0;
                    }
                }
            }
        } else {
            // Bᵀ stored row-major (dX = dY·Wᵀ): each column of B is a contiguous row of W.
            let groups = if rsb == 1 { cols / 4 } else { 0 };
            let p4 = kc - kc % 4;
            for g in 0..groups {
                let src = b.add((j0 + 4 * g) * csb);
                let mut p = 0;
                while p < p4 {
                    let t = V::transpose4([V::load(src.add(p)), V::load(src.add(csb + p)), V::load(src.add(2 * csb + p)), V::load(src.add(3 * csb + p))]);
                    for (q, v) in t.iter().enumerate() {
                        v.store(dst.add((p + q) * nr + 4 * g));
                    }
                    p += 4;
                }
                for p in p4..kc {
                    for c in 0..4 {
                        *dst.add(p * nr + 4 * g + c) = *src.add(c * csb + p);
                    }
                }
            }
            for j in 4 * groups..cols {
                let src = b.add((j0 + j) * csb);
                for p in 0..kc {
                    *dst.add(p * nr + j) = *src.add(p * rsb);
                }
            }
            for j in cols..nr {
                for p in 0..kc {
                    *dst.add(p * nr + j) = 0.0;
                }
            }
        }
        dst = dst.add(nr * kc);
        j0 += nr;
    }
}
