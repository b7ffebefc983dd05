//! A four-lane f32 vector, the one primitive every SIMD kernel is written in.
//!
//! Each kernel is generic over [`F32x4`] and instantiated three times: with
//! [`Simd128`] on wasm32 (`+simd128`), with [`Sse2`] on x86_64 so the same code
//! is tested natively, and with [`Scalar`], the scalar twin. No implementation
//! fuses multiply and add (wasm SIMD has no FMA), so every instantiation rounds
//! exactly the same way and the twins agree bit for bit. The one exception is the
//! fast tier's build (`+relaxed-simd`), where [`F32x4::mul_add`] on [`Simd128`] is
//! `f32x4.relaxed_madd`: fused where the CPU has FMA, so its bits hold on one machine only.

/// 1.5·2^23: adding it rounds an f32 of magnitude < 2^22 to an integer kept in the low mantissa bits.
pub const ROUND_MAGIC: f32 = 12_582_912.0;
/// 127 − bits(ROUND_MAGIC), wrapping: turns bits(n + ROUND_MAGIC) into the biased exponent of 2^n.
pub const EXP2_MAGIC_BIAS: u32 = 127u32.wrapping_sub(0x4B40_0000);

pub trait F32x4: Copy {
    /// The GEMM micro-kernel over this vector type (gemm/kernel.rs).
    type Sgemm: crate::gemm::kernel::Microkernel<V = Self>;
    fn splat(x: f32) -> Self;
    /// Four consecutive floats; no alignment needed.
    ///
    /// # Safety
    /// `p..p+4` must be readable.
    unsafe fn load(p: *const f32) -> Self;
    /// # Safety
    /// `p..p+4` must be writable.
    unsafe fn store(self, p: *mut f32);
    /// # Safety
    /// `p` must be readable.
    #[inline(always)]
    unsafe fn load_splat(p: *const f32) -> Self {
        Self::splat(*p)
    }
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    /// self + a·b, rounded after the product and after the sum, except in the fast tier's
    /// [`Simd128`], where the engine may fuse them into one rounding.
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        self.add(a.mul(b))
    }
    fn max(self, o: Self) -> Self;
    fn min(self, o: Self) -> Self;
    fn div(self, o: Self) -> Self;
    fn floor(self) -> Self;
    /// All-ones lanes where self < o, zero lanes elsewhere.
    fn lt(self, o: Self) -> Self;
    /// Lanes of `a` where `self` (a mask) is set, of `b` elsewhere.
    fn select(self, a: Self, b: Self) -> Self;
    fn and(self, o: Self) -> Self;
    fn or(self, o: Self) -> Self;
    /// 2^n for lanes holding t = n + 1.5·2^23 (n integral in [−126, 127]):
    /// n sits in t's low mantissa bits, so 2^n's bits are (bits(t) + 127 − bits(1.5·2^23)) << 23.
    fn exp2_magic(self) -> Self;
    /// Transposes the 4×4 matrix whose rows are r: returns its columns.
    fn transpose4(r: [Self; 4]) -> [Self; 4];
}

/// Plain arrays: the scalar twin of every SIMD kernel.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Scalar(pub [f32; 4]);

impl F32x4 for Scalar {
    type Sgemm = crate::gemm::kernel::Sgemm4x8Scalar;
    #[inline(always)]
    fn splat(x: f32) -> Self {
        Scalar([x; 4])
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        Scalar([*p, *p.add(1), *p.add(2), *p.add(3)])
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        for i in 0..4 {
            *p.add(i) = self.0[i];
        }
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Scalar([self.0[0] + o.0[0], self.0[1] + o.0[1], self.0[2] + o.0[2], self.0[3] + o.0[3]])
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Scalar([self.0[0] - o.0[0], self.0[1] - o.0[1], self.0[2] - o.0[2], self.0[3] - o.0[3]])
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        Scalar([self.0[0] * o.0[0], self.0[1] * o.0[1], self.0[2] * o.0[2], self.0[3] * o.0[3]])
    }
    // pmax/pmin semantics, like the SIMD versions, so even ±0 and NaN agree.
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        let f = |a: f32, b: f32| if a < b { b } else { a };
        Scalar([f(self.0[0], o.0[0]), f(self.0[1], o.0[1]), f(self.0[2], o.0[2]), f(self.0[3], o.0[3])])
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        let f = |a: f32, b: f32| if b < a { b } else { a };
        Scalar([f(self.0[0], o.0[0]), f(self.0[1], o.0[1]), f(self.0[2], o.0[2]), f(self.0[3], o.0[3])])
    }
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        Scalar([self.0[0] / o.0[0], self.0[1] / o.0[1], self.0[2] / o.0[2], self.0[3] / o.0[3]])
    }
    #[inline(always)]
    fn floor(self) -> Self {
        Scalar([self.0[0].floor(), self.0[1].floor(), self.0[2].floor(), self.0[3].floor()])
    }
    #[inline(always)]
    fn lt(self, o: Self) -> Self {
        let f = |a: f32, b: f32| f32::from_bits(if a < b { u32::MAX } else { 0 });
        Scalar([f(self.0[0], o.0[0]), f(self.0[1], o.0[1]), f(self.0[2], o.0[2]), f(self.0[3], o.0[3])])
    }
    #[inline(always)]
    fn select(self, a: Self, b: Self) -> Self {
        let f = |m: f32, x: f32, y: f32| f32::from_bits((m.to_bits() & x.to_bits()) | (!m.to_bits() & y.to_bits()));
        Scalar([f(self.0[0], a.0[0], b.0[0]), f(self.0[1], a.0[1], b.0[1]), f(self.0[2], a.0[2], b.0[2]), f(self.0[3], a.0[3], b.0[3])])
    }
    #[inline(always)]
    fn and(self, o: Self) -> Self {
        let f = |a: f32, b: f32| f32::from_bits(a.to_bits() & b.to_bits());
        Scalar([f(self.0[0], o.0[0]), f(self.0[1], o.0[1]), f(self.0[2], o.0[2]), f(self.0[3], o.0[3])])
    }
    #[inline(always)]
    fn or(self, o: Self) -> Self {
        let f = |a: f32, b: f32| f32::from_bits(a.to_bits() | b.to_bits());
        Scalar([f(self.0[0], o.0[0]), f(self.0[1], o.0[1]), f(self.0[2], o.0[2]), f(self.0[3], o.0[3])])
    }
    #[inline(always)]
    fn exp2_magic(self) -> Self {
        let f = |t: f32| f32::from_bits(t.to_bits().wrapping_add(EXP2_MAGIC_BIAS) << 23);
        Scalar([f(self.0[0]), f(self.0[1]), f(self.0[2]), f(self.0[3])])
    }
    #[inline(always)]
    fn transpose4(r: [Self; 4]) -> [Self; 4] {
        let c = |j: usize| Scalar([r[0].0[j], r[1].0[j], r[2].0[j], r[3].0[j]]);
        [c(0), c(1), c(2), c(3)]
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub use wasm::Simd128;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use super::F32x4;
    use core::arch::wasm32::*;

    #[derive(Copy, Clone)]
    pub struct Simd128(pub v128);

    impl F32x4 for Simd128 {
        #[cfg(not(target_feature = "relaxed-simd"))]
        type Sgemm = crate::gemm::kernel::Sgemm4x8Simd128;
        #[cfg(target_feature = "relaxed-simd")]
        type Sgemm = crate::gemm::kernel::Sgemm4x8RelaxedSimd128;
        #[inline(always)]
        fn splat(x: f32) -> Self {
            Simd128(f32x4_splat(x))
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Simd128(v128_load(p as *const v128))
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            v128_store(p as *mut v128, self.0)
        }
        #[inline(always)]
        unsafe fn load_splat(p: *const f32) -> Self {
            Simd128(v128_load32_splat(p as *const u32))
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            Simd128(f32x4_add(self.0, o.0))
        }
        #[inline(always)]
        fn sub(self, o: Self) -> Self {
            Simd128(f32x4_sub(self.0, o.0))
        }
        #[inline(always)]
        fn mul(self, o: Self) -> Self {
            Simd128(f32x4_mul(self.0, o.0))
        }
        // The fast tier: one instruction, fused (vfmadd) on CPUs with FMA, else mul then add.
        #[cfg(target_feature = "relaxed-simd")]
        #[inline(always)]
        fn mul_add(self, a: Self, b: Self) -> Self {
            Simd128(f32x4_relaxed_madd(a.0, b.0, self.0))
        }
        // pmax/pmin are `b < a ? a : b`, one x86 instruction each, unlike max/min.
        #[inline(always)]
        fn max(self, o: Self) -> Self {
            Simd128(f32x4_pmax(self.0, o.0))
        }
        #[inline(always)]
        fn min(self, o: Self) -> Self {
            Simd128(f32x4_pmin(self.0, o.0))
        }
        #[inline(always)]
        fn div(self, o: Self) -> Self {
            Simd128(f32x4_div(self.0, o.0))
        }
        #[inline(always)]
        fn floor(self) -> Self {
            Simd128(f32x4_floor(self.0))
        }
        #[inline(always)]
        fn lt(self, o: Self) -> Self {
            Simd128(f32x4_lt(self.0, o.0))
        }
        #[inline(always)]
        fn select(self, a: Self, b: Self) -> Self {
            Simd128(v128_bitselect(a.0, b.0, self.0))
        }
        #[inline(always)]
        fn and(self, o: Self) -> Self {
            Simd128(v128_and(self.0, o.0))
        }
        #[inline(always)]
        fn or(self, o: Self) -> Self {
            Simd128(v128_or(self.0, o.0))
        }
        #[inline(always)]
        fn exp2_magic(self) -> Self {
            Simd128(i32x4_shl(i32x4_add(self.0, u32x4_splat(super::EXP2_MAGIC_BIAS)), 23))
        }
        #[inline(always)]
        fn transpose4(r: [Self; 4]) -> [Self; 4] {
            let t0 = i32x4_shuffle::<0, 4, 1, 5>(r[0].0, r[1].0);
            let t1 = i32x4_shuffle::<2, 6, 3, 7>(r[0].0, r[1].0);
            let t2 = i32x4_shuffle::<0, 4, 1, 5>(r[2].0, r[3].0);
            let t3 = i32x4_shuffle::<2, 6, 3, 7>(r[2].0, r[3].0);
            [
                Simd128(i32x4_shuffle::<0, 1, 4, 5>(t0, t2)),
                Simd128(i32x4_shuffle::<2, 3, 6, 7>(t0, t2)),
                Simd128(i32x4_shuffle::<0, 1, 4, 5>(t1, t3)),
                Simd128(i32x4_shuffle::<2, 3, 6, 7>(t1, t3)),
            ]
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub use sse::Sse2;

#[cfg(target_arch = "x86_64")]
mod sse {
    use super::F32x4;
    use core::arch::x86_64::*;

    /// x86_64 always has SSE2, so native tests run the SIMD code paths too.
    #[derive(Copy, Clone)]
    pub struct Sse2(pub __m128);

    impl F32x4 for Sse2 {
        type Sgemm = crate::gemm::kernel::Sgemm4x8Sse2;
        #[inline(always)]
        fn splat(x: f32) -> Self {
            unsafe { Sse2(_mm_set1_ps(x)) }
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Sse2(_mm_loadu_ps(p))
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            _mm_storeu_ps(p, self.0)
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            unsafe { Sse2(_mm_add_ps(self.0, o.0)) }
        }
        #[inline(always)]
        fn sub(self, o: Self) -> Self {
            unsafe { Sse2(_mm_sub_ps(self.0, o.0)) }
        }
        #[inline(always)]
        fn mul(self, o: Self) -> Self {
            unsafe { Sse2(_mm_mul_ps(self.0, o.0)) }
        }
        // maxps returns the second operand unless the first is greater: pmax semantics.
        #[inline(always)]
        fn max(self, o: Self) -> Self {
            unsafe { Sse2(_mm_max_ps(o.0, self.0)) }
        }
        #[inline(always)]
        fn min(self, o: Self) -> Self {
            unsafe { Sse2(_mm_min_ps(o.0, self.0)) }
        }
        #[inline(always)]
        fn div(self, o: Self) -> Self {
            unsafe { Sse2(_mm_div_ps(self.0, o.0)) }
        }
        // SSE2 has no roundps: go through the scalar floor (native tests only).
        #[inline(always)]
        fn floor(self) -> Self {
            let mut a = [0f32; 4];
            unsafe { _mm_storeu_ps(a.as_mut_ptr(), self.0) };
            let f = super::Scalar(a).floor().0;
            unsafe { Sse2(_mm_loadu_ps(f.as_ptr())) }
        }
        #[inline(always)]
        fn lt(self, o: Self) -> Self {
            unsafe { Sse2(_mm_cmplt_ps(self.0, o.0)) }
        }
        #[inline(always)]
        fn select(self, a: Self, b: Self) -> Self {
            unsafe { Sse2(_mm_or_ps(_mm_and_ps(self.0, a.0), _mm_andnot_ps(self.0, b.0))) }
        }
        #[inline(always)]
        fn and(self, o: Self) -> Self {
            unsafe { Sse2(_mm_and_ps(self.0, o.0)) }
        }
        #[inline(always)]
        fn or(self, o: Self) -> Self {
            unsafe { Sse2(_mm_or_ps(self.0, o.0)) }
        }
        #[inline(always)]
        fn exp2_magic(self) -> Self {
            unsafe { Sse2(_mm_castsi128_ps(_mm_slli_epi32(_mm_add_epi32(_mm_castps_si128(self.0), _mm_set1_epi32(super::EXP2_MAGIC_BIAS as i32)), 23))) }
        }
        #[inline(always)]
        fn transpose4(r: [Self; 4]) -> [Self; 4] {
            unsafe {
                let t0 = _mm_unpacklo_ps(r[0].0, r[1].0);
                let t1 = _mm_unpackhi_ps(r[0].0, r[1].0);
                let t2 = _mm_unpacklo_ps(r[2].0, r[3].0);
                let t3 = _mm_unpackhi_ps(r[2].0, r[3].0);
                [Sse2(_mm_movelh_ps(t0, t2)), Sse2(_mm_movehl_ps(t2, t0)), Sse2(_mm_movelh_ps(t1, t3)), Sse2(_mm_movehl_ps(t3, t1))]
            }
        }
    }
}

/// The vector type the production kernels use on this target.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub type Native = Simd128;
#[cfg(target_arch = "x86_64")]
pub type Native = Sse2;
#[cfg(not(any(all(target_arch = "wasm32", target_feature = "simd128"), target_arch = "x86_64")))]
pub type Native = Scalar;
