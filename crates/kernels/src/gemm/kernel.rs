//! Register-tiled microkernels: an MR × 8 tile of C from packed panels.

use super::params::NR;
use crate::simd::{F32x4, Scalar};

/// How a tile of C starts before the products are added.
#[derive(Copy, Clone, Debug)]
pub enum Start {
    /// C ← A·B; C is not read.
    Overwrite,
    /// C ← A·B + C.
    Accumulate,
    /// C ← A·B + 1·biasᵀ; the pointer is the bias of the tile's first column. C is not read.
    Bias(*const f32),
}

/// C[0..mr, 0..nr] ← Σ_p A[p] ⊗ B[p] combined with `start`.
///
/// `a` holds kc groups of MR floats (one per row of the tile), `b` kc groups of
/// NR floats, both zero-padded past `mr` / `nr`. C is row-major with row stride
/// `rsc`; only its first `mr` rows and `nr` columns are touched. The sum runs
/// over p in order and `start` is added last, so every instantiation of this
/// kernel rounds identically, save the fast tier's, whose multiply-adds may fuse
/// (the same order, one rounding fewer per step).
///
/// # Safety
/// `a` must hold `kc * MR` floats, `b` `kc * NR`, and C and the bias (if any)
/// must be valid for the `mr × nr` tile.
#[inline(always)]
pub unsafe fn sgemm_mrx8<V: F32x4, const MR: usize>(
    kc: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    rsc: usize,
    mr: usize,
    nr: usize,
    start: Start,
) {
    debug_assert!(mr >= 1 && mr <= MR && nr >= 1 && nr <= NR);
    let zero = V::splat(0.0);
    let mut acc = [[zero; 2]; MR];
    let mut pa = a;
    let mut pb = b;
    for _ in 0..kc {
        let b0 = V::load(pb);
        let b1 = V::load(pb.add(4));
        // mul then add (wasm SIMD has no FMA), but for the fast tier's relaxed_madd.
        for r in 0..MR {
            let ar = V::load_splat(pa.add(r));
            acc[r][0] = acc[r][0].mul_add(ar, b0);
            acc[r][1] = acc[r][1].mul_add(ar, b1);
        }
        pa = pa.add(MR);
        pb = pb.add(NR);
    }
    if mr == MR && nr == NR {
        for r in 0..MR {
            let row = c.add(r * rsc);
            let (s0, s1) = match start {
                Start::Overwrite => (acc[r][0], acc[r][1]),
                Start::Accumulate => (V::load(row).add(acc[r][0]), V::load(row.add(4)).add(acc[r][1])),
                Start::Bias(bias) => (acc[r][0].add(V::load(bias)), acc[r][1].add(V::load(bias.add(4)))),
            };
            s0.store(row);
            s1.store(row.add(4));
        }
    } else {
        // Edge tile: spill to a scratch tile, then copy the live part.
        let mut tile = [[0f32; NR]; MR];
        for r in 0..MR {
            acc[r][0].store(tile[r].as_mut_ptr());
            acc[r][1].store(tile[r].as_mut_ptr().add(4));
        }
        for r in 0..mr {
            let row = c.add(r * rsc);
            for j in 0..nr {
                let v = tile[r][j];
                *row.add(j) = match start {
                    Start::Overwrite => v,
                    Start::Accumulate => *row.add(j) + v,
                    Start::Bias(bias) => v + *bias.add(j),
                };
            }
        }
    }
}

/// A register-tiled micro-kernel as the drivers see it (after matrixmultiply's `GemmKernel`):
/// its tile height, the vector type its packing uses, and the one function that computes a
/// tile. The drivers ([`super::sgemm`], the covariance's syrk) call `tile` and nothing else,
/// so the kernel named here is the kernel that runs and that `tests/gemm.rs` sweeps.
pub trait Microkernel {
    /// Rows of C per tile (NR = 8 columns for every kernel here).
    const MR: usize;
    type V: F32x4;
    /// [`sgemm_mrx8`] at this kernel's MR.
    ///
    /// # Safety
    /// As [`sgemm_mrx8`].
    unsafe fn tile(kc: usize, a: *const f32, b: *const f32, c: *mut f32, rsc: usize, mr: usize, nr: usize, start: Start);
}

/// A 4 × 8 [`Microkernel`] over the vector type `$v`: [`sgemm_mrx8`] at MR = 4.
macro_rules! microkernel_4x8 {
    ($(#[$meta:meta])* $name:ident, $v:ty) => {
        $(#[$meta])*
        pub struct $name;
        $(#[$meta])*
        impl Microkernel for $name {
            const MR: usize = 4;
            type V = $v;
            #[inline(always)]
            unsafe fn tile(kc: usize, a: *const f32, b: *const f32, c: *mut f32, rsc: usize, mr: usize, nr: usize, start: Start) {
                sgemm_mrx8::<$v, 4>(kc, a, b, c, rsc, mr, nr, start)
            }
        }
    };
}

microkernel_4x8!(
    /// The scalar twin, over plain arrays: for targets without SIMD and as the reference.
    Sgemm4x8Scalar, Scalar
);
microkernel_4x8!(
    /// The exact tier's kernel on wasm: 8 v128 accumulators, B rows as two v128 loads, A
    /// broadcast with `v128.load32_splat`, each product rounded before it is added.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128", not(target_feature = "relaxed-simd")))]
    Sgemm4x8Simd128, crate::simd::Simd128
);
microkernel_4x8!(
    /// The fast tier's kernel (a build with `+relaxed-simd`): the same tile with
    /// `f32x4.relaxed_madd`, one fused multiply-add per lane on CPUs with FMA.
    #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
    Sgemm4x8RelaxedSimd128, crate::simd::Simd128
);
microkernel_4x8!(
    /// The same kernel with SSE2, the native build's: `cargo test` exercises vector code.
    #[cfg(target_arch = "x86_64")]
    Sgemm4x8Sse2, crate::simd::Sse2
);

/// `K::tile` as one out-of-line function per kernel, which the syrk driver calls: a call per
/// tile costs nothing next to its kc·MR·8 multiply–adds, and one copy keeps the module small.
///
/// # Safety
/// As [`sgemm_mrx8`].
#[inline(never)]
pub unsafe fn sgemm_tile<K: Microkernel>(kc: usize, a: *const f32, b: *const f32, c: *mut f32, rsc: usize, mr: usize, nr: usize, start: Start) {
    K::tile(kc, a, b, c, rsc, mr, nr, start)
}
