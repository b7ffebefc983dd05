//! Packing: copy a block of a strided matrix into the panel order a microkernel reads.

/// Pack rows `0..mc` × depth `0..kc` of A (element (i, p) at `a[i*rsa + p*csa]`)
/// into panels of `mr` rows: panel q holds, for each p, rows q*mr .. q*mr+mr.
/// Rows past `mc` are zero so edge tiles need no masking in the kernel.
///
/// # Safety
/// Every addressed element of A must be readable; `out` must hold
/// `ceil(mc / mr) * mr * kc` floats.
pub unsafe fn pack_a(mc: usize, kc: usize, a: *const f32, rsa: usize, csa: usize, mr: usize, out: *mut f32) {
    let mut dst = out;
    let mut i0 = 0;
    while i0 < mc {
        let rows = if mc - i0 < mr { mc - i0 } else { mr };
        if csa == 1 {
            // Row-major A: read each row contiguously, write with stride mr.
            for r in 0..rows {
                let src = a.add((i0 + r) * rsa);
                for p in 0..kc {
                    *dst.add(p * mr + r) = *src.add(p);
                }
            }
        } else {
            // A transposed in memory (rsa == 1 in dW = Xᵀ·dY): rows of a panel are contiguous.
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
pub unsafe fn pack_b(kc: usize, nc: usize, b: *const f32, rsb: usize, csb: usize, nr: usize, out: *mut f32) {
    let mut dst = out;
    let mut j0 = 0;
    while j0 < nc {
        let cols = if nc - j0 < nr { nc - j0 } else { nr };
        if csb == 1 {
            for p in 0..kc {
                let src = b.add(p * rsb + j0);
                let d = dst.add(p * nr);
                for j in 0..cols {
                    *d.add(j) = *src.add(j);
                }
                for j in cols..nr {
                    *d.add(j) = 0.0;
                }
            }
        } else {
            // Bᵀ stored row-major (dX = dY·Wᵀ): each column of B is a contiguous row of W.
            for j in 0..cols {
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
