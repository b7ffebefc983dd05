//! A four-lane f32 vector, the one primitive every SIMD kernel is written in.
//!
//! Each kernel is generic over [`F32x4`] and instantiated three times: with
//! [`Simd128`] on wasm32 (`+simd128`), with [`Sse2`] on x86_64 so the same code
//! is tested natively, and with [`Scalar`], the scalar twin. No implementation
//! fuses multiply and add (wasm SIMD has no FMA), so every instantiation rounds
//! exactly the same way and the twins agree bit for bit.

pub trait F32x4: Copy {
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
    fn max(self, o: Self) -> Self;
    fn min(self, o: Self) -> Self;
}

/// Plain arrays: the scalar twin of every SIMD kernel.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Scalar(pub [f32; 4]);

impl F32x4 for Scalar {
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
        // pmax/pmin are `b < a ? a : b`, one x86 instruction each, unlike max/min.
        #[inline(always)]
        fn max(self, o: Self) -> Self {
            Simd128(f32x4_pmax(self.0, o.0))
        }
        #[inline(always)]
        fn min(self, o: Self) -> Self {
            Simd128(f32x4_pmin(self.0, o.0))
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
    }
}

/// The vector type the production kernels use on this target.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub type Native = Simd128;
#[cfg(target_arch = "x86_64")]
pub type Native = Sse2;
#[cfg(not(any(all(target_arch = "wasm32", target_feature = "simd128"), target_arch = "x86_64")))]
pub type Native = Scalar;
