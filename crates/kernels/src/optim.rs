//! Optimizer updates over one flat parameter buffer and its gradient, in one
//! call. The update rules are optax's (the reference the tests reproduce);
//! each reads `g` and the state and moves `p` in place.

/// SGD with optional (Nesterov) momentum, optax's `sgd`:
/// v ← g + μ·v; p ← p − lr·(g + μ·v if nesterov else v). With μ = 0 the
/// velocity buffer is not touched and may be empty.
pub fn sgd(p: &mut [f32], g: &[f32], vel: &mut [f32], lr: f32, momentum: f32, nesterov: bool) {
    debug_assert!(p.len() == g.len());
    if momentum == 0.0 {
        for (p, &g) in p.iter_mut().zip(g) {
            *p -= lr * g;
        }
        return;
    }
    debug_assert!(vel.len() == p.len());
    for ((p, &g), v) in p.iter_mut().zip(g).zip(vel.iter_mut()) {
        *v = g + momentum * *v;
        let step = if nesterov { g + momentum * *v } else { *v };
        *p -= lr * step;
    }
}

/// Adam (weight_decay = 0) and AdamW (decoupled weight decay), optax's
/// `adam`/`adamw` with eps outside the root:
/// m ← (1−β1)·g + β1·m; v ← (1−β2)·g² + β2·v; m̂ = m/(1−β1ᵗ); v̂ = v/(1−β2ᵗ);
/// p ← p − lr·(m̂/(√v̂ + ε) + λ·p). `t` is the 1-based step count.
///
/// β arrives in f64 so that 1 − β and 1 − βᵗ are computed before rounding to
/// f32: with β2 = 0.999, rounding β first would put 1.3e-5 of relative error
/// into (1 − β2).
pub fn adam(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], lr: f32, b1: f64, b2: f64, eps: f32, weight_decay: f32, t: u32) {
    debug_assert!(p.len() == g.len() && m.len() == p.len() && v.len() == p.len() && t >= 1);
    // Bias corrections by repeated squaring: the same bits on every runtime.
    let c1 = (1.0 - powi64(b1, t)) as f32;
    let c2 = (1.0 - powi64(b2, t)) as f32;
    let (one_b1, one_b2) = ((1.0 - b1) as f32, (1.0 - b2) as f32);
    let (b1, b2) = (b1 as f32, b2 as f32);
    for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        *m = one_b1 * g + b1 * *m;
        *v = one_b2 * (g * g) + b2 * *v;
        let mhat = *m / c1;
        let vhat = *v / c2;
        let step = mhat / (vhat.sqrt() + eps) + weight_decay * *p;
        *p -= lr * step;
    }
}

/// Exponential moving average of parameters (Polyak averaging of a GAN's generator):
/// avg ← decay·avg + (1 − decay)·p, with 1 − decay computed in f64 before rounding.
pub fn ema(avg: &mut [f32], p: &[f32], decay: f64) {
    debug_assert!(avg.len() == p.len());
    let (keep, take) = (decay as f32, (1.0 - decay) as f32);
    for (a, &x) in avg.iter_mut().zip(p) {
        *a = keep * *a + take * x;
    }
}

/// RMSprop, optax's `rmsprop` (eps inside the root, no centring):
/// ν ← (1−ρ)·g² + ρ·ν; p ← p − lr·g/√(ν + ε).
pub fn rmsprop(p: &mut [f32], g: &[f32], nu: &mut [f32], lr: f32, decay: f64, eps: f32) {
    debug_assert!(p.len() == g.len() && nu.len() == p.len());
    let (one_d, decay) = ((1.0 - decay) as f32, decay as f32);
    for ((p, &g), nu) in p.iter_mut().zip(g).zip(nu.iter_mut()) {
        *nu = one_d * (g * g) + decay * *nu;
        *p -= lr * (g / (*nu + eps).sqrt());
    }
}

/// Σ g², in f64 and in order, for global-norm clipping across buffers.
pub fn sum_squares(g: &[f32]) -> f64 {
    g.iter().map(|&x| (x as f64) * (x as f64)).sum()
}

/// g ← g · s.
pub fn scale(g: &mut [f32], s: f32) {
    g.iter_mut().for_each(|x| *x *= s);
}

/// xⁿ by repeated squaring.
pub fn powi64(x: f64, n: u32) -> f64 {
    let (mut base, mut n, mut acc) = (x, n, 1.0);
    while n > 0 {
        if n & 1 == 1 {
            acc *= base;
        }
        base *= base;
        n >>= 1;
    }
    acc
}
