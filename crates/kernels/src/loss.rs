//! Losses over a batch of predictions, each returning the mean loss times
//! `weight` and writing (overwriting) its gradient with respect to the
//! predictions. Sums run in f64 so the reported loss does not depend on the
//! batch size's rounding.

use crate::mathf;
use crate::simd::F32x4;

code_enum! {
    /// Loss codes (ts/runtime/codes.ts: LOSS).
    pub enum Loss {
        /// Mean squared error.
        Mse = 0,
        /// Binary cross-entropy on logits.
        BceWithLogits = 1,
        /// Softmax cross-entropy on logits.
        SoftmaxCrossEntropy = 2,
    }
}

/// L = weight · mean_ij (p − t)²; grad = weight · 2(p − t) / (m·n).
/// Squares are summed four lanes at a time in f32 over blocks of 256
/// elements, each block's lanes then added in f64 in a fixed order.
pub fn mse<V: F32x4>(pred: &[f32], target: &[f32], grad: &mut [f32], weight: f32) -> f64 {
    assert!(pred.len() == target.len() && grad.len() >= pred.len());
    let count = pred.len();
    if count == 0 {
        return 0.0;
    }
    let scale = V::splat(weight * 2.0 / count as f32);
    let full = count - count % 4;
    let mut sum = 0.0f64;
    let mut lanes = [0f32; 4];
    let mut block = 0;
    while block < full {
        let end = (block + 256).min(full);
        let mut acc = V::splat(0.0);
        let mut i = block;
        while i < end {
            unsafe {
                let d = V::load(pred.as_ptr().add(i)).sub(V::load(target.as_ptr().add(i)));
                acc = acc.add(d.mul(d));
                d.mul(scale).store(grad.as_mut_ptr().add(i));
            }
            i += 4;
        }
        unsafe { acc.store(lanes.as_mut_ptr()) };
        sum += lanes.iter().map(|&v| v as f64).sum::<f64>();
        block = end;
    }
    if full < count {
        let (mut tp, mut tt) = ([0f32; 4], [0f32; 4]);
        tp[..count - full].copy_from_slice(&pred[full..]);
        tt[..count - full].copy_from_slice(&target[full..]);
        unsafe {
            let d = V::load(tp.as_ptr()).sub(V::load(tt.as_ptr()));
            d.mul(d).store(lanes.as_mut_ptr());
            d.mul(scale).store(tp.as_mut_ptr());
        }
        sum += lanes.iter().map(|&v| v as f64).sum::<f64>();
        grad[full..count].copy_from_slice(&tp[..count - full]);
    }
    weight as f64 * sum / count as f64
}

/// Index of the first NaN or ±Inf, or None. x − x is 0 for a finite x and NaN
/// otherwise, so a sum of them is 0 exactly when every element is finite; four
/// sums of four lanes each keep the scan bound by memory, not by the add's
/// latency (one sum took 240 µs on 940k gradients, four about half that).
pub fn first_nonfinite<V: F32x4>(x: &[f32]) -> Option<usize> {
    let wide = x.len() - x.len() % 16;
    let full = x.len() - x.len() % 4;
    let mut acc = [V::splat(0.0); 4];
    let mut i = 0;
    while i < wide {
        for (k, a) in acc.iter_mut().enumerate() {
            let v = unsafe { V::load(x.as_ptr().add(i + 4 * k)) };
            *a = a.add(v.sub(v));
        }
        i += 16;
    }
    while i < full {
        let v = unsafe { V::load(x.as_ptr().add(i)) };
        acc[0] = acc[0].add(v.sub(v));
        i += 4;
    }
    let mut lanes = [0f32; 4];
    unsafe { acc[0].add(acc[1]).add(acc[2].add(acc[3])).store(lanes.as_mut_ptr()) };
    if lanes.iter().all(|v| *v == 0.0) && x[full..].iter().all(|v| v.is_finite()) {
        return None;
    }
    x.iter().position(|v| !v.is_finite())
}

/// Squared error per row, mean over columns: out[i] = mean_j (p_ij − t_ij)².
pub fn mse_rows(pred: &[f32], target: &[f32], cols: usize, out: &mut [f32]) {
    debug_assert!(cols > 0 && pred.len() == target.len());
    for ((o, p), t) in out.iter_mut().zip(pred.chunks_exact(cols)).zip(target.chunks_exact(cols)) {
        let mut sum = 0.0f64;
        for (&a, &b) in p.iter().zip(t) {
            let d = (a - b) as f64;
            sum += d * d;
        }
        *o = (sum / cols as f64) as f32;
    }
}

/// Binary cross-entropy on logits z against targets t ∈ [0, 1]:
/// ℓ = max(z, 0) − z·t + ln(1 + e^−|z|), the form that stays finite for any
/// finite z; ∂ℓ/∂z = σ(z) − t. `target` of None means every target is
/// `const_target` (the GAN's real/fake labels need no buffer).
pub fn bce_logits(pred: &[f32], target: Option<&[f32]>, const_target: f32, grad: &mut [f32], weight: f32) -> f64 {
    debug_assert!(grad.len() >= pred.len());
    let count = pred.len();
    if count == 0 {
        return 0.0;
    }
    let g_scale = weight / count as f32;
    let mut sum = 0.0f64;
    for (i, (g, &z)) in grad.iter_mut().zip(pred).enumerate() {
        let t = match target {
            Some(t) => t[i],
            None => const_target,
        };
        let e = mathf::exp(-z.abs()) as f64;
        let zd = z as f64;
        sum += zd.max(0.0) - zd * t as f64 + mathf::ln1p64(e);
        let sig = if z >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
        *g = ((sig - t as f64) as f32) * g_scale;
    }
    weight as f64 * sum / count as f64
}

/// e_j = exp(z_j − max z) for one row of logits; returns the max and Σ e_j (in f64).
fn exp_shifted(z: &[f32], e: &mut [f32]) -> (f32, f64) {
    let mx = z.iter().fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    let mut sum = 0.0f64;
    for (ej, &zj) in e.iter_mut().zip(z) {
        let v = mathf::exp(zj - mx);
        *ej = v;
        sum += v as f64;
    }
    (mx, sum)
}

/// Softmax cross-entropy on logits, rows of `cols` classes, targets a
/// distribution per row (one-hot for labels): ℓ_i = Σ_j t_ij (lse_i − z_ij),
/// mean over rows; ∂ℓ_i/∂z_ij = softmax_ij · Σ_j t_ij − t_ij.
pub fn softmax_cross_entropy(pred: &[f32], target: &[f32], cols: usize, grad: &mut [f32], weight: f32) -> f64 {
    debug_assert!(cols > 0 && pred.len() == target.len() && grad.len() >= pred.len());
    let rows = pred.len() / cols;
    if rows == 0 {
        return 0.0;
    }
    let g_scale = weight / rows as f32;
    let mut total = 0.0f64;
    for ((z, t), g) in pred.chunks_exact(cols).zip(target.chunks_exact(cols)).zip(grad.chunks_exact_mut(cols)) {
        let (mx, sum) = exp_shifted(z, g);
        let lse = mx as f64 + mathf::ln64(sum);
        let t_sum: f64 = t.iter().map(|&v| v as f64).sum();
        let mut tz = 0.0f64;
        for ((gj, &zj), &tj) in g.iter_mut().zip(z).zip(t) {
            tz += tj as f64 * zj as f64;
            *gj = ((*gj as f64 / sum * t_sum - tj as f64) as f32) * g_scale;
        }
        total += lse * t_sum - tz;
    }
    weight as f64 * total / rows as f64
}

/// softplus(u) = ln(1 + eᵘ), finite for any finite u, and its derivative σ(u).
fn softplus_and_sigmoid(u: f64) -> (f64, f64) {
    let e = mathf::exp(-(u.abs() as f32)) as f64;
    let sp = u.max(0.0) + mathf::ln1p64(e);
    let sig = if u >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
    (sp, sig)
}

/// The semi-supervised GAN's real/fake objective on rows of K class logits l (Salimans et al.
/// 2016, section 5): the fake class's logit is fixed at 0, so with Z = Σ_j e^{l_j},
/// D(x) = Z / (Z + 1). For real rows (`real`) ℓ = −ln D(x) = softplus(−lse), with
/// ∂ℓ/∂l_j = −σ(−lse)·softmax_j; for generated rows ℓ = −ln(1 − D) = softplus(lse), with
/// ∂ℓ/∂l_j = σ(lse)·softmax_j. Mean over rows, times `weight`; the gradient is written, not added.
pub fn gan_classes(pred: &[f32], cols: usize, real: bool, grad: &mut [f32], weight: f32) -> f64 {
    debug_assert!(cols > 0 && grad.len() >= pred.len());
    let rows = pred.len() / cols;
    if rows == 0 {
        return 0.0;
    }
    let g_scale = weight as f64 / rows as f64;
    let mut total = 0.0f64;
    for (z, g) in pred.chunks_exact(cols).zip(grad.chunks_exact_mut(cols)) {
        let (mx, sum) = exp_shifted(z, g);
        let lse = mx as f64 + mathf::ln64(sum);
        let (u, sign) = if real { (-lse, -1.0) } else { (lse, 1.0) };
        let (sp, sig) = softplus_and_sigmoid(u);
        total += sp;
        let scale = sign * sig * g_scale / sum;
        for gj in g.iter_mut() {
            *gj = (*gj as f64 * scale) as f32;
        }
    }
    weight as f64 * total / rows as f64
}

/// The mean of each of `cols` columns over the rows of x, summed in f64 in row order.
pub fn column_means(x: &[f32], cols: usize, out: &mut [f32]) {
    let rows = x.len() / cols;
    for (j, o) in out.iter_mut().enumerate().take(cols) {
        let mut s = 0.0f64;
        for r in 0..rows {
            s += x[r * cols + j] as f64;
        }
        *o = if rows == 0 { 0.0 } else { (s / rows as f64) as f32 };
    }
}

/// Feature matching (Salimans et al. 2016, section 3.1): with m the column means of the
/// generated rows' features f and t the target (the real rows' means),
/// ℓ = weight · (1/cols) Σ_j (t_j − m_j)², and ∂ℓ/∂f_rj = −2·weight·(t_j − m_j) / (cols·rows),
/// written to grad.
pub fn feature_matching(features: &[f32], cols: usize, target: &[f32], grad: &mut [f32], weight: f32) -> f64 {
    debug_assert!(cols > 0 && target.len() >= cols && grad.len() >= features.len());
    let rows = features.len() / cols;
    if rows == 0 {
        return 0.0;
    }
    let mut total = 0.0f64;
    let g_scale = -2.0 * weight as f64 / (cols as f64 * rows as f64);
    for j in 0..cols {
        let mut s = 0.0f64;
        for r in 0..rows {
            s += features[r * cols + j] as f64;
        }
        let d = target[j] as f64 - s / rows as f64;
        total += d * d;
        let g = (g_scale * d) as f32;
        for r in 0..rows {
            grad[r * cols + j] = g;
        }
    }
    weight as f64 * total / cols as f64
}

/// L1 penalty on activations h: returns Σ|h| and adds `scale`·sign(h) to dh
/// (∂(scale·Σ|h|)/∂h, with sign(0) = 0).
pub fn l1_penalty(h: &[f32], dh: &mut [f32], scale: f32) -> f64 {
    let mut sum = 0.0f64;
    for (g, &v) in dh.iter_mut().zip(h) {
        sum += v.abs() as f64;
        if v > 0.0 {
            *g += scale;
        } else if v < 0.0 {
            *g -= scale;
        }
    }
    sum
}

/// Index of the largest logit in each row (first on ties).
pub fn argmax_rows(pred: &[f32], cols: usize, out: &mut [u32]) {
    for (o, z) in out.iter_mut().zip(pred.chunks_exact(cols)) {
        let mut best = 0;
        for j in 1..cols {
            if z[j] > z[best] {
                best = j;
            }
        }
        *o = best as u32;
    }
}
