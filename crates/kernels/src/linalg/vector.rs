//! Level-1 vector kernels shared by the covariance and Lanczos.

use crate::simd::F32x4;

/// Σ a[i]·b[i] over the shorter length, in two 4-lane accumulators.
#[inline]
pub fn dot<V: F32x4>(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let n8 = n - n % 8;
    let (mut s0, mut s1) = (V::splat(0.0), V::splat(0.0));
    let mut i = 0;
    unsafe {
        while i < n8 {
            s0 = s0.add(V::load(a.as_ptr().add(i)).mul(V::load(b.as_ptr().add(i))));
            s1 = s1.add(V::load(a.as_ptr().add(i + 4)).mul(V::load(b.as_ptr().add(i + 4))));
            i += 8;
        }
    }
    let mut lanes = [0f32; 4];
    unsafe { s0.add(s1).store(lanes.as_mut_ptr()) };
    let mut s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for t in n8..n {
        s += a[t] * b[t];
    }
    s
}

/// y[0..n] += a · x[0..n].
#[inline]
pub fn axpy<V: F32x4>(a: f32, x: &[f32], y: &mut [f32]) {
    let n = x.len().min(y.len());
    let n4 = n - n % 4;
    let va = V::splat(a);
    let mut i = 0;
    unsafe {
        while i < n4 {
            V::load(y.as_ptr().add(i)).add(va.mul(V::load(x.as_ptr().add(i)))).store(y.as_mut_ptr().add(i));
            i += 4;
        }
    }
    for t in n4..n {
        y[t] += a * x[t];
    }
}
