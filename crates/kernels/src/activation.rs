//! Activations: forward over a layer's output in place, and the backward that
//! turns the output gradient into the pre-activation gradient using only the
//! output (so no pre-activation buffer is kept).

use crate::mathf;
use crate::simd::F32x4;

code_enum! {
    /// Activation codes (ts/runtime/codes.ts: ACTIVATION).
    pub enum Activation {
        Linear = 0,
        Tanh = 1,
        Sigmoid = 2,
        Relu = 3,
        /// max(x, αx) with 0 ≤ α < 1, so the sign of the output tells the branch.
        LeakyRelu = 4,
        /// ln(1 + e^x): smooth, positive, its derivative σ(x) = 1 − e^−y read from the output.
        Softplus = 5,
    }
}

/// Applies `f` to four lanes at a time; the tail goes through the same
/// function on a zero-padded copy, so every element sees identical arithmetic.
#[inline(always)]
fn map4<V: F32x4, F: Fn(V) -> V>(y: &mut [f32], f: F) {
    let mut chunks = y.chunks_exact_mut(4);
    for c in &mut chunks {
        unsafe { f(V::load(c.as_ptr())).store(c.as_mut_ptr()) };
    }
    let tail = chunks.into_remainder();
    if !tail.is_empty() {
        let mut t = [0f32; 4];
        t[..tail.len()].copy_from_slice(tail);
        unsafe { f(V::load(t.as_ptr())).store(t.as_mut_ptr()) };
        let n = tail.len();
        tail.copy_from_slice(&t[..n]);
    }
}

/// dy ← g(y, dy) four lanes at a time, tail as in [`map4`].
#[inline(always)]
fn zip4<V: F32x4, F: Fn(V, V) -> V>(y: &[f32], dy: &mut [f32], f: F) {
    let n = dy.len();
    assert!(y.len() >= n);
    let full = n - n % 4;
    let mut i = 0;
    while i < full {
        unsafe { f(V::load(y.as_ptr().add(i)), V::load(dy.as_ptr().add(i))).store(dy.as_mut_ptr().add(i)) };
        i += 4;
    }
    if full < n {
        let (mut ty, mut tg) = ([0f32; 4], [0f32; 4]);
        ty[..n - full].copy_from_slice(&y[full..n]);
        tg[..n - full].copy_from_slice(&dy[full..n]);
        unsafe { f(V::load(ty.as_ptr()), V::load(tg.as_ptr())).store(tg.as_mut_ptr()) };
        dy[full..n].copy_from_slice(&tg[..n - full]);
    }
}

/// y ← f(y) elementwise. Never inlined: one copy serves every layer kind (the module's size).
#[inline(never)]
pub fn forward<V: F32x4>(act: Activation, alpha: f32, y: &mut [f32]) {
    let zero = V::splat(0.0);
    match act {
        Activation::Linear => {}
        Activation::Tanh => map4::<V, _>(y, mathf::tanh_v),
        Activation::Sigmoid => map4::<V, _>(y, mathf::sigmoid_v),
        Activation::Relu => map4::<V, _>(y, |v| zero.lt(v).select(v, zero)),
        Activation::LeakyRelu => {
            let a = V::splat(alpha);
            map4::<V, _>(y, |v| zero.lt(v).select(v, v.mul(a)))
        }
        Activation::Softplus => map4::<V, _>(y, mathf::softplus_v),
    }
}

/// dy ← dy ⊙ f′, with f′ written in terms of the output y = f(x):
/// tanh′ = 1 − y², σ′ = y(1 − y), relu′ = [y > 0], leaky′ = [y > 0] + α[y ≤ 0], softplus′ = 1 − e^−y.
#[inline(never)]
pub fn backward<V: F32x4>(act: Activation, alpha: f32, y: &[f32], dy: &mut [f32]) {
    debug_assert!(y.len() >= dy.len());
    let (zero, one) = (V::splat(0.0), V::splat(1.0));
    match act {
        Activation::Linear => {}
        Activation::Tanh => zip4::<V, _>(y, dy, |y, g| g.mul(one.sub(y.mul(y)))),
        Activation::Sigmoid => zip4::<V, _>(y, dy, |y, g| g.mul(y.mul(one.sub(y)))),
        Activation::Relu => zip4::<V, _>(y, dy, |y, g| zero.lt(y).select(g, zero)),
        Activation::LeakyRelu => {
            let a = V::splat(alpha);
            zip4::<V, _>(y, dy, |y, g| zero.lt(y).select(g, g.mul(a)))
        }
        Activation::Softplus => zip4::<V, _>(y, dy, |y, g| g.mul(mathf::softplus_grad_v(y))),
    }
}
