//! Packed, register-tiled single-precision GEMM and the three layouts a dense layer needs.

pub mod kernel;
pub mod pack;
pub mod params;

use crate::simd::F32x4;
pub use kernel::Start;
use kernel::Microkernel;
use params::{KC, MC_PANELS, NC, NR, PACK_A_LEN, PACK_B_LEN};

code_enum! {
    /// The three products of a dense layer (ts/runtime/codes.ts: GEMM_LAYOUT).
    pub enum Layout {
        /// C = A·B.
        Nn = 0,
        /// C = A·Bᵀ.
        Nt = 1,
        /// C = Aᵀ·B.
        Tn = 2,
    }
}

code_enum! {
    /// How one column part of a GEMM that threads share gets A's panels (ts/runtime/codes.ts:
    /// PACK_A). Every part multiplies the same A by its own columns of B, so a thread packs A
    /// once per job, not once per part.
    pub enum PackA {
        /// Block by block as the driver goes: a call that is the whole product.
        Blocks = 0,
        /// All of A into the thread's whole-A space first: its first part of a job.
        Whole = 1,
        /// A as this thread's previous part of the same job packed it in the whole-A space (the
        /// same A, shape and strides: a part of the same call over other columns).
        Reuse = 2,
    }
}

/// Packing space for the driver; allocate once and reuse (a training step must not allocate).
pub struct Scratch<'a> {
    pub a: &'a mut [f32],
    pub b: &'a mut [f32],
    /// Room for all of A packed, kept between a thread's parts of one job (see [`PackA`]).
    pub whole_a: &'a mut [f32],
    /// What the next [`sgemm`] on this scratch does with A.
    pub pack_a: PackA,
}

impl<'a> Scratch<'a> {
    /// Space that packs A block by block.
    pub fn new(a: &'a mut [f32], b: &'a mut [f32]) -> Self {
        debug_assert!(a.len() >= PACK_A_LEN && b.len() >= PACK_B_LEN);
        Scratch { a, b, whole_a: &mut [], pack_a: PackA::Blocks }
    }

    /// Space with room for all of A (usually [`params::WHOLE_A_LEN`] floats), used as `pack_a` says.
    /// An A that does not fit is packed block by block in every part.
    pub fn with_whole_a(a: &'a mut [f32], b: &'a mut [f32], whole_a: &'a mut [f32], pack_a: PackA) -> Self {
        Scratch { whole_a, pack_a, ..Scratch::new(a, b) }
    }

    /// The same space for a product whose A differs from part to part: packed block by block.
    pub fn blocks(&mut self) -> Scratch<'_> {
        Scratch { a: &mut *self.a, b: &mut *self.b, whole_a: &mut *self.whole_a, pack_a: PackA::Blocks }
    }
}

/// C[m×n] ← A[m×k]·B[k×n] combined with `start` (see [`Start`]).
///
/// A's element (i, p) is `a[i*rsa + p*csa]`, B's (p, j) is `b[p*rsb + j*csb]`;
/// C is row-major with row stride `rsc`. Loops as in matrixmultiply: LOOP 5
/// over NC columns of B, LOOP 4 over KC slices of depth (B packed), LOOP 3 over
/// MC rows of A (A packed), LOOP 2 over NR panels, LOOP 1 over MR panels.
/// With `scratch.pack_a` other than [`PackA::Blocks`] and room for it, A is packed whole
/// first (or was, by the same thread's previous part of the job) and LOOP 3 reads it there;
/// the products, and so the bits, are the same.
///
/// Never inlined: one copy per (vector type, MR) keeps the module small, and
/// V8 then optimises the hot loop once instead of once per caller.
///
/// # Safety
/// All addressed elements must be valid; C must not alias A, B or the bias.
#[inline(never)]
pub unsafe fn sgemm<K: Microkernel>(
    m: usize,
    k: usize,
    n: usize,
    a: *const f32,
    rsa: usize,
    csa: usize,
    b: *const f32,
    rsb: usize,
    csb: usize,
    c: *mut f32,
    rsc: usize,
    start: Start,
    scratch: &mut Scratch,
) {
    debug_assert!(K::MR <= params::MR_MAX);
    // All of A in panels of MR rows, slice after slice of KC depths: slice pc starts at
    // pc·m_pad floats, and the rows ic.. of a slice kc deep at ic·kc within it, which is where
    // pack_a puts them when it packs every row of the slice at once.
    let m_pad = (m + K::MR - 1) / K::MR * K::MR;
    let whole = scratch.pack_a != PackA::Blocks && m_pad * k <= scratch.whole_a.len();
    let wa = scratch.whole_a.as_mut_ptr();
    if whole && scratch.pack_a == PackA::Whole {
        let mut pc = 0;
        while pc < k {
            let kc = if k - pc < KC { k - pc } else { KC };
            pack::pack_a::<K::V>(m, kc, a.add(pc * csa), rsa, csa, K::MR, wa.add(pc * m_pad));
            pc += kc;
        }
    }
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        for i in 0..m {
            for j in 0..n {
                let cij = c.add(i * rsc + j);
                match start {
                    Start::Overwrite => *cij = 0.0,
                    Start::Accumulate => {}
                    Start::Bias(bias) => *cij = *bias.add(j),
                }
            }
        }
        return;
    }
    let mc_max = K::MR * MC_PANELS;
    let pa = scratch.a.as_mut_ptr();
    let pb = scratch.b.as_mut_ptr();
    let mut jc = 0;
    while jc < n {
        // LOOP 5
        let nc = if n - jc < NC { n - jc } else { NC };
        let mut pc = 0;
        while pc < k {
            // LOOP 4
            let kc = if k - pc < KC { k - pc } else { KC };
            pack::pack_b::<K::V>(kc, nc, b.add(pc * rsb + jc * csb), rsb, csb, NR, pb);
            let mut ic = 0;
            while ic < m {
                // LOOP 3
                let mc = if m - ic < mc_max { m - ic } else { mc_max };
                let pa = if whole {
                    wa.add(pc * m_pad + ic * kc)
                } else {
                    pack::pack_a::<K::V>(mc, kc, a.add(ic * rsa + pc * csa), rsa, csa, K::MR, pa);
                    pa
                };
                let mut jr = 0;
                while jr < nc {
                    // LOOP 2
                    let nr = if nc - jr < NR { nc - jr } else { NR };
                    let tile_start = if pc > 0 {
                        Start::Accumulate
                    } else {
                        match start {
                            Start::Bias(bias) => Start::Bias(bias.add(jc + jr)),
                            s => s,
                        }
                    };
                    let mut ir = 0;
                    while ir < mc {
                        // LOOP 1
                        let mr = if mc - ir < K::MR { mc - ir } else { K::MR };
                        K::tile(
                            kc,
                            pa.add(ir * kc),
                            pb.add(jr * kc),
                            c.add((ic + ir) * rsc + jc + jr),
                            rsc,
                            mr,
                            nr,
                            tile_start,
                        );
                        ir += K::MR;
                    }
                    jr += NR;
                }
                ic += mc;
            }
            pc += kc;
        }
        jc += nc;
    }
}

/// Forward layout: Y[m×n] ← X[m×k]·W[k×n] (+ bias row, or + Y when accumulating).
pub fn gemm_nn<V: F32x4>(m: usize, k: usize, n: usize, x: &[f32], w: &[f32], y: &mut [f32], start: Start, s: &mut Scratch) {
    assert!(x.len() >= m * k && w.len() >= k * n && y.len() >= m * n);
    unsafe { sgemm::<V::Sgemm>(m, k, n, x.as_ptr(), k, 1, w.as_ptr(), n, 1, y.as_mut_ptr(), n, start, s) }
}

/// Input-gradient layout: dX[m×k] ← dY[m×n]·Wᵀ combined with `start`, W being k×n.
pub fn gemm_nt<V: F32x4>(m: usize, n: usize, k: usize, dy: &[f32], w: &[f32], dx: &mut [f32], start: Start, s: &mut Scratch) {
    assert!(dy.len() >= m * n && w.len() >= k * n && dx.len() >= m * k);
    unsafe { sgemm::<V::Sgemm>(m, n, k, dy.as_ptr(), n, 1, w.as_ptr(), 1, n, dx.as_mut_ptr(), k, start, s) }
}

/// Weight-gradient layout: dW[k×n] ← Xᵀ·dY combined with `start`, X being m×k and dY m×n.
pub fn gemm_tn<V: F32x4>(m: usize, k: usize, n: usize, x: &[f32], dy: &[f32], dw: &mut [f32], start: Start, s: &mut Scratch) {
    assert!(x.len() >= m * k && dy.len() >= m * n && dw.len() >= k * n);
    unsafe { sgemm::<V::Sgemm>(k, m, n, x.as_ptr(), 1, k, dy.as_ptr(), n, 1, dw.as_mut_ptr(), n, start, s) }
}
