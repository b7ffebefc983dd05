//! What the kernel test files share: seeded values and the f64 activations they check against.
#![allow(dead_code)]

use latentkit_kernels::activation::Activation;
use latentkit_kernels::rng::Xoshiro128ss;

/// `n` values uniform in [−1, 1) from `seed`.
pub fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut r = Xoshiro128ss::from_seed(seed);
    (0..n).map(|_| r.next_f32() * 2.0 - 1.0).collect()
}

/// f(z) in f64.
pub fn act_f64(a: Activation, alpha: f64, z: f64) -> f64 {
    match a {
        Activation::Linear => z,
        Activation::Tanh => z.tanh(),
        Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
        Activation::Relu => z.max(0.0),
        Activation::LeakyRelu => if z > 0.0 { z } else { alpha * z },
        Activation::Softplus => z.max(0.0) + (-z.abs()).exp().ln_1p(),
    }
}
