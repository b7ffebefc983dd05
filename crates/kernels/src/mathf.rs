//! Elementary functions written out in plain arithmetic, so the results are
//! the same bits on every runtime and host (no libm, no engine `Math.*`).

const LOG2E: f32 = 1.442_695_04;
// ln 2 split so that n * LN2_HI is exact for |n| < 2^9.
const LN2_HI: f32 = 0.693_359_375;
const LN2_LO: f32 = -2.121_944_4e-4;

/// e^x for f32, relative error about 1 ulp; x is clamped to [-87, 88] so the
/// result is always finite and normal.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = if x < -87.0 { -87.0 } else if x > 88.0 { 88.0 } else { x };
    let n = (x * LOG2E + 0.5).floor();
    let r = x - n * LN2_HI - n * LN2_LO;
    // Taylor series to degree 7 on |r| ≤ ln2/2: truncation below 1e-8.
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    p * scale
}

/// tanh for f32: a short odd series near zero (where 1 − 2/(e^{2x}+1) would
/// cancel), the exp form elsewhere; saturates to ±1 without overflow.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let a = if x < 0.0 { -x } else { x };
    let t = if a < 0.015_625 {
        let a2 = a * a;
        a * (1.0 + a2 * (-1.0 / 3.0 + a2 * (2.0 / 15.0)))
    } else {
        1.0 - 2.0 / (exp(2.0 * a) + 1.0)
    };
    if x < 0.0 {
        -t
    } else {
        t
    }
}

/// The logistic function 1 / (1 + e^−x), finite for every finite x.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// Natural logarithm in f64 for x > 0 (finite, normal): x = 2^k·m with
/// m ∈ [√½, √2), ln m = 2·atanh(s), s = (m−1)/(m+1), |s| ≤ 0.172.
pub fn ln64(x: f64) -> f64 {
    debug_assert!(x > 0.0 && x.is_finite());
    let bits = x.to_bits();
    let mut k = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > core::f64::consts::SQRT_2 {
        m *= 0.5;
        k += 1;
    }
    2.0 * atanh_series((m - 1.0) / (m + 1.0)) + k as f64 * core::f64::consts::LN_2
}

/// ln(1 + u) for u ≥ 0 without cancellation for small u.
pub fn ln1p64(u: f64) -> f64 {
    debug_assert!(u >= 0.0);
    if u < 0.4 {
        2.0 * atanh_series(u / (2.0 + u))
    } else {
        ln64(1.0 + u)
    }
}

/// atanh(s) = s + s³/3 + s⁵/5 + … for |s| ≤ 0.18, to double precision.
fn atanh_series(s: f64) -> f64 {
    let z = s * s;
    let mut sum = 0.0;
    let mut i = 25.0;
    while i > 1.0 {
        sum = z * (1.0 / i + sum);
        i -= 2.0;
    }
    s * (1.0 + sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_f64_to_two_ulp() {
        let mut x = -87.0f32;
        while x < 88.0 {
            let want = (x as f64).exp();
            let got = exp(x) as f64;
            let rel = ((got - want) / want).abs();
            assert!(rel < 2.5e-7, "exp({x}) = {got}, want {want}, rel {rel}");
            x += 0.0137;
        }
    }

    #[test]
    fn tanh_and_sigmoid_are_accurate_and_saturate() {
        let mut x = -20.0f32;
        while x < 20.0 {
            let t = tanh(x) as f64;
            let want = (x as f64).tanh();
            assert!((t - want).abs() <= 1.2e-7 + 4e-6 * want.abs(), "tanh({x}) = {t}, want {want}");
            let s = sigmoid(x) as f64;
            let want = 1.0 / (1.0 + (-(x as f64)).exp());
            assert!((s - want).abs() <= 2e-7 * want.max(1e-30) + 1e-38, "sigmoid({x}) = {s}, want {want}");
            x += 0.0071;
        }
        assert_eq!(tanh(1e4), 1.0);
        assert_eq!(tanh(-1e4), -1.0);
        assert_eq!(sigmoid(1e4), 1.0);
        assert!(sigmoid(-1e4) >= 0.0 && sigmoid(-1e4) < 1e-37);
        assert_eq!(tanh(0.0), 0.0);
        assert_eq!(tanh(1e-20), 1e-20);
    }

    #[test]
    fn logs_match_std() {
        for &x in &[1e-300, 1e-30, 0.001, 0.5, 0.7071, 1.0, 1.5, 2.0, 10.0, 12345.678, 1e300] {
            let (got, want) = (ln64(x), f64::ln(x));
            assert!((got - want).abs() <= 1e-15 * want.abs().max(1.0), "ln({x}) = {got}, want {want}");
        }
        for &u in &[0.0, 1e-20, 1e-8, 0.01, 0.39, 0.41, 1.0, 100.0] {
            let (got, want) = (ln1p64(u), f64::ln_1p(u));
            assert!((got - want).abs() <= 1e-15 * want.abs() + 1e-300, "ln1p({u}) = {got}, want {want}");
        }
    }
}
