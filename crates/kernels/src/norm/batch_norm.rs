//! Batch normalisation over N×C×S values (S = 1 after a dense layer: per feature; S = H·W
//! after a convolution: per channel), forward beside backward, with PyTorch's conventions:
//! normalise by the biased variance of the batch, keep running statistics
//! r ← (1 − momentum)·r + momentum·stat with the unbiased variance, ε inside the square root.
//!
//! Each channel's statistics are sums in f64 over images then positions, in that fixed order, in
//! one pass over the values (and one more to normalise them); the backward pass's two sums also
//! take one pass. A split of the channels across threads gives the same bits as one thread.

use core::ops::Range;

use crate::activation::{self, Activation};
use crate::simd::F32x4;

/// The layout of the values and which channels a call covers.
#[derive(Copy, Clone, Debug)]
pub struct Shape {
    pub images: usize,
    pub channels: usize,
    pub size: usize,
}

impl Shape {
    fn plane(&self, n: usize, c: usize) -> Range<usize> {
        let at = (n * self.channels + c) * self.size;
        at..at + self.size
    }

    /// Values per channel: N·S.
    fn count(&self) -> usize {
        self.images * self.size
    }
}

/// Per-channel parameters and statistics (each C long).
pub struct Params<'a> {
    pub gamma: &'a [f32],
    pub beta: &'a [f32],
    /// The statistics the output was normalised with (written): the batch's in training, the
    /// running ones in evaluation; the backward pass reads them.
    pub mean: &'a mut [f32],
    pub inv_std: &'a mut [f32],
    pub running_mean: &'a mut [f32],
    pub running_var: &'a mut [f32],
}

/// For channels `channels`: y = f(γ·(x − μ)·σ⁻¹ + β). In training (`train`), μ and σ² are the
/// batch's (σ² biased) and the running statistics move by `momentum` (σ² unbiased, N·S ≥ 2);
/// otherwise μ and σ² are the running statistics. σ⁻¹ = 1/√(σ² + ε).
pub fn batch_norm_forward_channels<V: F32x4>(
    shape: Shape,
    x: &[f32],
    y: &mut [f32],
    p: Params,
    momentum: f32,
    eps: f32,
    train: bool,
    act: Activation,
    alpha: f32,
    channels: Range<usize>,
) {
    let total = shape.images * shape.channels * shape.size;
    assert!(x.len() >= total && y.len() >= total && channels.end <= shape.channels);
    assert!(!train || shape.count() >= 2);
    let m = shape.count() as f64;
    for c in channels {
        let (mean, var) = if train {
            // One pass: sums of (x − k) and its square, k the channel's first value, so the
            // variance does not cancel when the mean is large against the spread.
            let k = x[shape.plane(0, c)][0] as f64;
            let (mut sum, mut sum_sq) = (0f64, 0f64);
            for n in 0..shape.images {
                for &v in &x[shape.plane(n, c)] {
                    let d = v as f64 - k;
                    sum += d;
                    sum_sq += d * d;
                }
            }
            let mean = k + sum / m;
            let sq = (sum_sq - sum * sum / m).max(0.0);
            let var = sq / m;
            let mo = momentum as f64;
            p.running_mean[c] = ((1.0 - mo) * p.running_mean[c] as f64 + mo * mean) as f32;
            p.running_var[c] = ((1.0 - mo) * p.running_var[c] as f64 + mo * sq / (m - 1.0)) as f32;
            (mean, var)
        } else {
            (p.running_mean[c] as f64, p.running_var[c] as f64)
        };
        let inv = (1.0 / (var + eps as f64).sqrt()) as f32;
        let mu = mean as f32;
        p.mean[c] = mu;
        p.inv_std[c] = inv;
        let (scale, shift) = (p.gamma[c], p.beta[c]);
        for n in 0..shape.images {
            let r = shape.plane(n, c);
            for (o, &v) in y[r.clone()].iter_mut().zip(&x[r.clone()]) {
                *o = scale * ((v - mu) * inv) + shift;
            }
            activation::forward::<V>(act, alpha, &mut y[r]);
        }
    }
}

/// For channels `channels`, given dy = ∂L/∂y of the last forward pass (same `train`): dz = dy ⊙
/// f′(y) (written over dy); unless `params` is None, dγ += Σ dz·x̂ and dβ += Σ dz; unless `dx`
/// is None, dx ← γσ⁻¹·(dz − mean(dz) − x̂·mean(dz·x̂)) in training, γσ⁻¹·dz in evaluation, where
/// x̂ = (x − μ)·σ⁻¹ with the forward pass's μ and σ⁻¹.
pub fn batch_norm_backward_channels<V: F32x4>(
    shape: Shape,
    x: &[f32],
    y: &[f32],
    dy: &mut [f32],
    gamma: &[f32],
    mean: &[f32],
    inv_std: &[f32],
    params: Option<(&mut [f32], &mut [f32])>,
    dx: Option<&mut [f32]>,
    train: bool,
    act: Activation,
    alpha: f32,
    channels: Range<usize>,
) {
    let total = shape.images * shape.channels * shape.size;
    assert!(x.len() >= total && y.len() >= total && dy.len() >= total && channels.end <= shape.channels);
    let m = shape.count() as f64;
    let mut params = params;
    let mut dx = dx;
    for c in channels {
        let (mu, inv) = (mean[c], inv_std[c]);
        let (mut sum, mut dot) = (0f64, 0f64);
        for n in 0..shape.images {
            let r = shape.plane(n, c);
            activation::backward::<V>(act, alpha, &y[r.clone()], &mut dy[r.clone()]);
            for (&g, &v) in dy[r.clone()].iter().zip(&x[r]) {
                sum += g as f64;
                dot += g as f64 * ((v - mu) * inv) as f64;
            }
        }
        if let Some((dgamma, dbeta)) = params.as_mut() {
            dgamma[c] += dot as f32;
            dbeta[c] += sum as f32;
        }
        if let Some(dx) = dx.as_mut() {
            let k = gamma[c] * inv;
            let (mean_dz, mean_dot) = if train { ((sum / m) as f32, (dot / m) as f32) } else { (0.0, 0.0) };
            for n in 0..shape.images {
                let r = shape.plane(n, c);
                for (o, (&g, &v)) in dx[r.clone()].iter_mut().zip(dy[r.clone()].iter().zip(&x[r])) {
                    *o = k * (g - mean_dz - (v - mu) * inv * mean_dot);
                }
            }
        }
    }
}
