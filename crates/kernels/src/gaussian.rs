//! The diagonal-Gaussian latent of a variational autoencoder and the likelihoods its decoder
//! defines. An encoder row holds the statistics of q(z|x): `latent` means μ, then `latent`
//! log-variances. Sums run in f64 in index order and the exponentials are mathf's, so the bits
//! do not depend on the runtime.

use crate::mathf;
use crate::simd::F32x4;

/// ln 2π.
const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// The reparameterised sample z = μ + exp(½·logvar)·ε, row by row: `stats` is rows×2·latent,
/// `eps` and `z` rows×latent.
pub fn reparameterize(stats: &[f32], eps: &[f32], z: &mut [f32], latent: usize) {
    assert!(latent > 0 && stats.len() == 2 * eps.len() && z.len() == eps.len() && eps.len() % latent == 0);
    for ((s, e), zr) in stats.chunks_exact(2 * latent).zip(eps.chunks_exact(latent)).zip(z.chunks_exact_mut(latent)) {
        let (mu, logvar) = s.split_at(latent);
        for j in 0..latent {
            zr[j] = mu[j] + mathf::exp(0.5 * logvar[j]) * e[j];
        }
    }
}

/// KL(q(z|x) ‖ N(0, I)) = ½ Σ_j (μ_j² + e^logvar_j − 1 − logvar_j), summed over all rows (the
/// warm-up's weight can be 0, and the term is still reported). With `dstats`, writes ∂/∂stats of
/// weight·ΣKL plus the sample's path:
/// ∂μ = dz + weight·μ and ∂logvar = ½·dz·ε·e^{½·logvar} + ½·weight·(e^logvar − 1), where dz is
/// ∂L/∂z from the decoder (rows×latent).
pub fn kl(stats: &[f32], eps: &[f32], dz: &[f32], dstats: Option<&mut [f32]>, latent: usize, weight: f32) -> f64 {
    assert!(latent > 0 && stats.len() % (2 * latent) == 0);
    let rows = stats.len() / (2 * latent);
    let mut sum = 0.0f64;
    for s in stats.chunks_exact(2 * latent) {
        let (mu, logvar) = s.split_at(latent);
        for j in 0..latent {
            let var = mathf::exp(logvar[j]) as f64;
            sum += 0.5 * ((mu[j] as f64) * (mu[j] as f64) + var - 1.0 - logvar[j] as f64);
        }
    }
    if let Some(d) = dstats {
        assert!(d.len() == stats.len() && eps.len() == rows * latent && dz.len() == rows * latent);
        for (((s, e), g), ds) in stats.chunks_exact(2 * latent).zip(eps.chunks_exact(latent)).zip(dz.chunks_exact(latent)).zip(d.chunks_exact_mut(2 * latent)) {
            let (mu, logvar) = s.split_at(latent);
            let (dmu, dlogvar) = ds.split_at_mut(latent);
            for j in 0..latent {
                let sigma = mathf::exp(0.5 * logvar[j]);
                dmu[j] = g[j] + weight * mu[j];
                dlogvar[j] = 0.5 * g[j] * e[j] * sigma + 0.5 * weight * (mathf::exp(logvar[j]) - 1.0);
            }
        }
    }
    sum
}

/// `kl` row by row with a weight per row (the semi-supervised VAE weighs each (x, y) pair by
/// q(y|x)): each row's KL(q ‖ N(0, I)) into `sums` (f64), and ∂/∂stats of Σ_r w_r·KL_r plus the
/// sample's path: ∂μ = dz + w_r·μ and ∂logvar = ½·dz·ε·e^{½·logvar} + ½·w_r·(e^logvar − 1). With
/// every w_r equal to `kl`'s weight, the gradient has `kl`'s bits.
pub fn kl_rows(stats: &[f32], eps: &[f32], dz: &[f32], dstats: &mut [f32], latent: usize, weights: &[f32], sums: &mut [f64]) {
    let rows = sums.len();
    assert!(latent > 0 && stats.len() == rows * 2 * latent && eps.len() == rows * latent && dz.len() == rows * latent && dstats.len() == stats.len() && weights.len() == rows);
    for r in 0..rows {
        let s = &stats[r * 2 * latent..(r + 1) * 2 * latent];
        let (mu, logvar) = s.split_at(latent);
        let mut sum = 0.0f64;
        for j in 0..latent {
            let var = mathf::exp(logvar[j]) as f64;
            sum += 0.5 * ((mu[j] as f64) * (mu[j] as f64) + var - 1.0 - logvar[j] as f64);
        }
        sums[r] = sum;
        let (e, g, w) = (&eps[r * latent..(r + 1) * latent], &dz[r * latent..(r + 1) * latent], weights[r]);
        let (dmu, dlogvar) = dstats[r * 2 * latent..(r + 1) * 2 * latent].split_at_mut(latent);
        for j in 0..latent {
            let sigma = mathf::exp(0.5 * logvar[j]);
            dmu[j] = g[j] + w * mu[j];
            dlogvar[j] = 0.5 * g[j] * e[j] * sigma + 0.5 * w * (mathf::exp(logvar[j]) - 1.0);
        }
    }
}

code_enum! {
    /// A decoder's likelihood p(x|z) (ts/runtime/codes.ts: LIKELIHOOD).
    pub enum Likelihood {
        /// Bernoulli on logits: the decoder outputs one logit per feature.
        Bernoulli = 0,
        /// Gaussian with one fixed variance: the decoder outputs the means.
        GaussianFixed = 1,
        /// Gaussian with learned variances: the decoder outputs the means, then the log-variances.
        GaussianLearned = 2,
    }
}

/// Σ_j of the binary cross-entropy on logits, max(z, 0) − z·t + ln(1 + e^−|z|), four lanes at a
/// time in f32 (each block of 256 features' lanes then added in f64 in a fixed order; a ragged
/// end is padded with z = t = 0 and its lanes past the end dropped); with `grad`, (σ(z) − t)·g_scale.
fn bernoulli_row<V: F32x4>(x: &[f32], z: &[f32], mut grad: Option<&mut [f32]>, g_scale: f32) -> f64 {
    let d = x.len();
    let zero = V::splat(0.0);
    let one = V::splat(1.0);
    let abs_mask = V::splat(f32::from_bits(0x7fff_ffff));
    let scale = V::splat(g_scale);
    let mut sum = 0.0f64;
    let mut lanes = [0f32; 4];
    let mut tg = [0f32; 4];
    let mut block = 0;
    while block < d {
        let end = (block + 256).min(d);
        let mut acc = zero;
        let mut j = block;
        while j < end {
            let live = (end - j).min(4);
            let (zv, tv) = if live == 4 {
                unsafe { (V::load(z.as_ptr().add(j)), V::load(x.as_ptr().add(j))) }
            } else {
                let (mut tz, mut tx) = ([0f32; 4], [0f32; 4]);
                tz[..live].copy_from_slice(&z[j..end]);
                tx[..live].copy_from_slice(&x[j..end]);
                unsafe { (V::load(tz.as_ptr()), V::load(tx.as_ptr())) }
            };
            let e = mathf::exp_v(zero.sub(zv.and(abs_mask)));
            let term = zv.max(zero).sub(zv.mul(tv)).add(mathf::ln1p_unit_v(e));
            if live == 4 {
                acc = acc.add(term);
            } else {
                unsafe { term.store(lanes.as_mut_ptr()) };
                for l in live..4 {
                    lanes[l] = 0.0;
                }
                acc = acc.add(unsafe { V::load(lanes.as_ptr()) });
            }
            if let Some(g) = grad.as_deref_mut() {
                let r = one.div(one.add(e));
                let sig = zv.lt(zero).select(e.mul(r), r);
                let gv = sig.sub(tv).mul(scale);
                if live == 4 {
                    unsafe { gv.store(g.as_mut_ptr().add(j)) };
                } else {
                    unsafe { gv.store(tg.as_mut_ptr()) };
                    g[j..end].copy_from_slice(&tg[..live]);
                }
            }
            j += 4;
        }
        unsafe { acc.store(lanes.as_mut_ptr()) };
        sum += lanes.iter().map(|&v| v as f64).sum::<f64>();
        block = end;
    }
    sum
}

/// −log p(x_r | out_r) of one row: `x` has d features; `out` the decoder's row (d values, or 2·d
/// for learned variances).
fn nll_row<V: F32x4>(kind: Likelihood, x: &[f32], out: &[f32], log_var: f32, grad: Option<&mut [f32]>, g_scale: f32) -> f64 {
    let d = x.len();
    let mut sum = 0.0f64;
    match kind {
        Likelihood::Bernoulli => sum = bernoulli_row::<V>(x, &out[..d], grad, g_scale),
        Likelihood::GaussianFixed => {
            let inv_var = mathf::exp(-log_var);
            for j in 0..d {
                let r = (x[j] - out[j]) as f64;
                sum += 0.5 * (r * r * inv_var as f64 + log_var as f64 + LN_2PI);
            }
            if let Some(g) = grad {
                for j in 0..d {
                    g[j] = (out[j] - x[j]) * inv_var * g_scale;
                }
            }
        }
        Likelihood::GaussianLearned => {
            let (mean, lv) = out.split_at(d);
            for j in 0..d {
                let r = (x[j] - mean[j]) as f64;
                sum += 0.5 * (r * r * mathf::exp(-lv[j]) as f64 + lv[j] as f64 + LN_2PI);
            }
            if let Some(g) = grad {
                let (gm, glv) = g.split_at_mut(d);
                for j in 0..d {
                    let inv_var = mathf::exp(-lv[j]);
                    let r = x[j] - mean[j];
                    gm[j] = -r * inv_var * g_scale;
                    glv[j] = 0.5 * (1.0 - r * r * inv_var) * g_scale;
                }
            }
        }
    }
    sum
}

/// Width of the decoder's output for `d` features.
pub fn output_width(kind: Likelihood, d: usize) -> usize {
    if kind == Likelihood::GaussianLearned { 2 * d } else { d }
}

/// The reconstruction term: mean over rows of −log p(x_r | out_r) (nats per row), times
/// `weight`; writes its gradient with respect to `out` when `grad` is given.
pub fn nll<V: F32x4>(kind: Likelihood, x: &[f32], out: &[f32], d: usize, log_var: f32, mut grad: Option<&mut [f32]>, weight: f32) -> f64 {
    assert!(d > 0 && x.len() % d == 0);
    let rows = x.len() / d;
    let w = output_width(kind, d);
    assert!(out.len() == rows * w);
    if rows == 0 {
        return 0.0;
    }
    let g_scale = weight / rows as f32;
    let mut sum = 0.0f64;
    for r in 0..rows {
        let g = grad.as_deref_mut().map(|g| &mut g[r * w..(r + 1) * w]);
        sum += nll_row::<V>(kind, &x[r * d..(r + 1) * d], &out[r * w..(r + 1) * w], log_var, g, g_scale);
    }
    weight as f64 * sum / rows as f64
}

/// The reconstruction term of some rows of a batch of `batch_rows`, for threads to share:
/// −log p(x_r | out_r) of each row into `sums` (nats, f64) and, with `grad`, its gradient scaled by
/// weight / batch_rows. weight · (Σ_r sums[r], added in row order) / batch_rows over a batch split
/// into parts at any rows gives `nll`'s bits.
///
/// With `row_weights` (one w_r per row: q(y|x) for M2's unlabelled (row, class) pairs) each row's
/// gradient is w_r · its f32 gradient; `sums` stay each row's own term, for the caller to weigh (M2
/// needs them unweighted for q(y|x)'s own gradient as well). A row with w_r = 0 gets a zero gradient
/// row, even where its own is not finite (a class q rules out exactly can drift to a log-variance
/// of −116, and 0 · Inf is NaN). A learned-variance row whose f32 gradient overflowed before w_r
/// scaled it (w_r subnormal) is taken again in f64 with w_r folded in (`learned_gradient_f64`); if
/// it is still beyond f32 it stays non-finite for the caller's guard.
pub fn nll_rows<V: F32x4>(
    kind: Likelihood, x: &[f32], out: &[f32], d: usize, log_var: f32, mut grad: Option<&mut [f32]>, weight: f32, batch_rows: usize, row_weights: Option<&[f32]>,
    sums: &mut [f64],
) {
    let rows = sums.len();
    let w = output_width(kind, d);
    assert!(d > 0 && rows <= batch_rows && x.len() == rows * d && out.len() == rows * w && grad.as_deref().map_or(true, |g| g.len() == rows * w));
    assert!(row_weights.map_or(true, |q| q.len() == rows));
    let g_scale = weight / batch_rows as f32;
    for (r, sum) in sums.iter_mut().enumerate() {
        let (xr, outr) = (&x[r * d..(r + 1) * d], &out[r * w..(r + 1) * w]);
        let mut g = grad.as_deref_mut().map(|g| &mut g[r * w..(r + 1) * w]);
        *sum = nll_row::<V>(kind, xr, outr, log_var, g.as_deref_mut(), g_scale);
        let (Some(g), Some(q)) = (g, row_weights.map(|q| q[r])) else { continue };
        if q == 0.0 {
            g.fill(0.0);
            continue;
        }
        for v in g.iter_mut() {
            *v *= q;
        }
        if kind == Likelihood::GaussianLearned && g.iter().any(|v| !v.is_finite()) {
            learned_gradient_f64(xr, outr, weight as f64 * q as f64 / batch_rows as f64, g);
        }
    }
}

/// A learned-variance row's gradient with its scale folded in before the f32 rounding:
/// ∂/∂mean = −r·e^(−lv)·scale and ∂/∂lv = ½(1 − r²·e^(−lv))·scale with r = x − mean, in f64, and
/// e^(−lv)'s argument clamped to [−87, 88] as mathf::exp clamps it.
fn learned_gradient_f64(x: &[f32], out: &[f32], scale: f64, g: &mut [f32]) {
    let d = x.len();
    let (mean, lv) = out.split_at(d);
    let (gm, glv) = g.split_at_mut(d);
    for j in 0..d {
        let r = x[j] as f64 - mean[j] as f64;
        let inverse_variance = (-(lv[j] as f64)).clamp(-87.0, 88.0).exp();
        gm[j] = (-r * inverse_variance * scale) as f32;
        glv[j] = (0.5 * (1.0 - r * r * inverse_variance) * scale) as f32;
    }
}

/// Importance weights of Burda et al. (2016): for each of `w.len()` samples, log w = log p(x|z) +
/// log p(z) − log q(z|x), into `w` (f64). Samples come `per_input` to an input row, and the first
/// is sample `lead` of the first input: sample r belongs to input (lead + r) / per_input of `x`
/// and `stats` (one row per input); `out`, `z` and `eps` have one row per sample. log q uses ε
/// directly: −½ Σ (ε² + logvar + ln 2π).
pub fn importance_log_weights<V: F32x4>(kind: Likelihood, x: &[f32], d: usize, log_var: f32, out: &[f32], stats: &[f32], z: &[f32], eps: &[f32], latent: usize, per_input: usize, lead: usize, w: &mut [f64]) {
    let rows = w.len();
    let width = output_width(kind, d);
    assert!(per_input > 0 && lead < per_input && out.len() == rows * width && z.len() == rows * latent && eps.len() == rows * latent);
    let inputs = (lead + rows + per_input - 1) / per_input;
    assert!(x.len() >= inputs * d && stats.len() >= inputs * 2 * latent);
    for r in 0..rows {
        let i = (lead + r) / per_input;
        let log_px = -nll_row::<V>(kind, &x[i * d..(i + 1) * d], &out[r * width..(r + 1) * width], log_var, None, 0.0);
        let logvar = &stats[i * 2 * latent + latent..(i + 1) * 2 * latent];
        let (mut log_pz, mut log_qz) = (0.0f64, 0.0f64);
        for j in 0..latent {
            let (zj, ej) = (z[r * latent + j] as f64, eps[r * latent + j] as f64);
            log_pz -= 0.5 * (zj * zj + LN_2PI);
            log_qz -= 0.5 * (ej * ej + logvar[j] as f64 + LN_2PI);
        }
        w[r] = log_px + log_pz - log_qz;
    }
}

/// ln((1/n) Σ e^{w_i}), stable for any spread: the largest weight is taken out first, so every
/// term is e^{≤0}, taken in f32 (mathf::exp, ~1e-7 relative) and summed in f64. Differences below
/// −87 count as e^−87, which changes the sum by less than n·e^−87.
pub fn log_mean_exp(w: &[f64]) -> f64 {
    if w.is_empty() {
        return f64::NAN;
    }
    let max = w.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    let sum: f64 = w.iter().map(|&v| mathf::exp((v - max).max(-87.0) as f32) as f64).sum();
    max + mathf::ln64(sum / w.len() as f64)
}
