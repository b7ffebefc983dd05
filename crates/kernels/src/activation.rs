//! Activations: forward over a layer's output in place, and the backward that
//! turns the output gradient into the pre-activation gradient using only the
//! output (so no pre-activation buffer is kept).

use crate::mathf;

/// Activation codes; must match `ts/nn/activation.ts`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Activation {
    Linear = 0,
    Tanh = 1,
    Sigmoid = 2,
    Relu = 3,
    /// max(x, αx) with 0 ≤ α < 1, so the sign of the output tells the branch.
    LeakyRelu = 4,
}

impl Activation {
    pub fn from_code(code: u32) -> Option<Activation> {
        match code {
            0 => Some(Activation::Linear),
            1 => Some(Activation::Tanh),
            2 => Some(Activation::Sigmoid),
            3 => Some(Activation::Relu),
            4 => Some(Activation::LeakyRelu),
            _ => None,
        }
    }
}

/// y ← f(y) elementwise.
pub fn forward(act: Activation, alpha: f32, y: &mut [f32]) {
    match act {
        Activation::Linear => {}
        Activation::Tanh => y.iter_mut().for_each(|v| *v = mathf::tanh(*v)),
        Activation::Sigmoid => y.iter_mut().for_each(|v| *v = mathf::sigmoid(*v)),
        Activation::Relu => y.iter_mut().for_each(|v| *v = if *v > 0.0 { *v } else { 0.0 }),
        Activation::LeakyRelu => y.iter_mut().for_each(|v| *v = if *v > 0.0 { *v } else { *v * alpha }),
    }
}

/// dy ← dy ⊙ f′, with f′ written in terms of the output y = f(x):
/// tanh′ = 1 − y², σ′ = y(1 − y), relu′ = [y > 0], leaky′ = [y > 0] + α[y ≤ 0].
pub fn backward(act: Activation, alpha: f32, y: &[f32], dy: &mut [f32]) {
    debug_assert!(y.len() >= dy.len());
    let pairs = dy.iter_mut().zip(y.iter());
    match act {
        Activation::Linear => {}
        Activation::Tanh => pairs.for_each(|(g, &y)| *g *= 1.0 - y * y),
        Activation::Sigmoid => pairs.for_each(|(g, &y)| *g *= y * (1.0 - y)),
        Activation::Relu => pairs.for_each(|(g, &y)| {
            if y <= 0.0 {
                *g = 0.0
            }
        }),
        Activation::LeakyRelu => pairs.for_each(|(g, &y)| {
            if y <= 0.0 {
                *g *= alpha
            }
        }),
    }
}
