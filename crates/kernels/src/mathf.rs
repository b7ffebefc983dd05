//! Elementary functions written out in plain arithmetic, so the results are
//! the same bits on every runtime and host (no libm, no engine `Math.*`).

use crate::simd::{F32x4, EXP2_MAGIC_BIAS, ROUND_MAGIC};

const LOG2E: f32 = 1.442_695_04;
// ln 2 split so that n * LN2_HI is exact for |n| < 2^9.
const LN2_HI: f32 = 0.693_359_375;
const LN2_LO: f32 = -2.121_944_4e-4;

/// e^x for f32, relative error about 1 ulp; x is clamped to [-87, 88] so the
/// result is always finite and normal.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = if x < -87.0 { -87.0 } else if x > 88.0 { 88.0 } else { x };
    // n = round(x·log2 e) by the 1.5·2^23 trick, which also leaves n in t's low bits.
    let t = x * LOG2E + ROUND_MAGIC;
    let n = t - ROUND_MAGIC;
    let r = x - n * LN2_HI - n * LN2_LO;
    // Taylor series to degree 7 on |r| ≤ ln2/2: truncation below 1e-8.
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    let scale = f32::from_bits(t.to_bits().wrapping_add(EXP2_MAGIC_BIAS) << 23);
    p * scale
}

/// tanh for f32: a short odd series near zero (where 1 − 2/(e^{2x}+1) would
/// cancel), the exp form elsewhere; saturates to ±1 without overflow.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let a = f32::from_bits(x.to_bits() & 0x7fff_ffff);
    let t = if a < 0.015_625 {
        let a2 = a * a;
        a * (1.0 + a2 * (-1.0 / 3.0 + a2 * (2.0 / 15.0)))
    } else {
        1.0 - 2.0 / (exp(2.0 * a) + 1.0)
    };
    t.copysign(x)
}

/// The logistic function 1 / (1 + e^−x), finite for every finite x.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// ln(1 + e^x) without overflow or cancellation: max(x, 0) + ln(1 + e^−|x|); below x = −87,
/// where [`exp`] clamps, e^−87 ≈ 1.6e-38.
#[inline(always)]
pub fn softplus(x: f32) -> f32 {
    let a = f32::from_bits(x.to_bits() & 0x7fff_ffff);
    let pos = if x > 0.0 { x } else { 0.0 };
    pos + ln1p_unit(exp(-a))
}

/// The softplus' derivative σ(x) from its output y = softplus(x): 1 − e^−y, by its series to y⁵
/// below ⅛, where the subtraction would cancel (relative error below 1e-6 either side).
#[inline(always)]
pub fn softplus_grad(y: f32) -> f32 {
    if y < 0.125 {
        y * (1.0 + y * (-0.5 + y * (1.0 / 6.0 + y * (-1.0 / 24.0 + y * (1.0 / 120.0)))))
    } else {
        1.0 - exp(-y)
    }
}

/// Scalar twin of [`ln1p_unit_v`]: the same operations in the same order.
#[inline(always)]
pub fn ln1p_unit(u: f32) -> f32 {
    let s = u / (2.0 + u);
    let z = s * s;
    let mut series = 1.0 / 13.0;
    for k in [11.0f32, 9.0, 7.0, 5.0, 3.0, 1.0] {
        series = 1.0 / k + z * series;
    }
    2.0 * s * series
}

/// [`exp`] on four lanes: the same operations in the same order, so every
/// lane equals the scalar function bit for bit.
#[inline(always)]
pub fn exp_v<V: F32x4>(x: V) -> V {
    // Clamp with compare + select: LLVM turns pmin/pmax into f32x4.min/max, which V8 lowers to long sequences.
    let (lo, hi) = (V::splat(-87.0), V::splat(88.0));
    let x = x.lt(lo).select(lo, x);
    let x = hi.lt(x).select(hi, x);
    let t = x.mul(V::splat(LOG2E)).add(V::splat(ROUND_MAGIC));
    let n = t.sub(V::splat(ROUND_MAGIC));
    let r = x.sub(n.mul(V::splat(LN2_HI))).sub(n.mul(V::splat(LN2_LO)));
    let c = |v: f32| V::splat(v);
    let p = c(1.0).add(r.mul(c(1.0).add(r.mul(c(0.5).add(r.mul(c(1.0 / 6.0).add(r.mul(c(1.0 / 24.0).add(r.mul(c(1.0 / 120.0).add(r.mul(c(1.0 / 720.0).add(r.mul(c(1.0 / 5040.0)))))))))))))));
    p.mul(t.exp2_magic())
}

/// [`tanh`] on four lanes (both branches computed, then selected).
#[inline(always)]
pub fn tanh_v<V: F32x4>(x: V) -> V {
    let sign = V::splat(-0.0);
    let a = x.and(V::splat(f32::from_bits(0x7fff_ffff)));
    let a2 = a.mul(a);
    let small = a.mul(V::splat(1.0).add(a2.mul(V::splat(-1.0 / 3.0).add(a2.mul(V::splat(2.0 / 15.0))))));
    let large = V::splat(1.0).sub(V::splat(2.0).div(exp_v(V::splat(2.0).mul(a)).add(V::splat(1.0))));
    let t = a.lt(V::splat(0.015_625)).select(small, large);
    t.or(x.and(sign))
}

/// [`sigmoid`] on four lanes.
#[inline(always)]
pub fn sigmoid_v<V: F32x4>(x: V) -> V {
    V::splat(1.0).div(V::splat(1.0).add(exp_v(V::splat(0.0).sub(x))))
}

/// [`softplus`] on four lanes.
#[inline(always)]
pub fn softplus_v<V: F32x4>(x: V) -> V {
    let zero = V::splat(0.0);
    let a = x.and(V::splat(f32::from_bits(0x7fff_ffff)));
    let pos = zero.lt(x).select(x, zero);
    pos.add(ln1p_unit_v(exp_v(zero.sub(a))))
}

/// [`softplus_grad`] on four lanes (both branches computed, then selected).
#[inline(always)]
pub fn softplus_grad_v<V: F32x4>(y: V) -> V {
    let (one, c) = (V::splat(1.0), |v: f32| V::splat(v));
    let small = y.mul(one.add(y.mul(c(-0.5).add(y.mul(c(1.0 / 6.0).add(y.mul(c(-1.0 / 24.0).add(y.mul(c(1.0 / 120.0))))))))));
    let large = one.sub(exp_v(V::splat(0.0).sub(y)));
    y.lt(c(0.125)).select(small, large)
}

/// Natural logarithm in f64 for x > 0 (finite, normal): x = 2^k·m with
/// m ∈ [√½, √2), ln m = 2·atanh(s), s = (m−1)/(m+1), |s| ≤ 0.172.
#[inline]
pub fn ln64(x: f64) -> f64 {
    ln64_lane(x)
}

/// `out[i] = ln64(x[i])` for every i (x[i] > 0, finite, normal). One lane's operations have no
/// branch and no integer-to-float conversion, so the loop vectorizer takes two lanes at a time
/// (f64x2 on wasm): the polar method's normals, taken one logarithm at a time, were 15% of a
/// semi-supervised GAN step.
pub fn ln64_each(x: &[f64], out: &mut [f64]) {
    for (x, out) in x.iter().zip(out.iter_mut()) {
        *out = ln64_lane(*x);
    }
}

#[inline(always)]
fn ln64_lane(x: f64) -> f64 {
    const MANTISSA: u64 = 0x000f_ffff_ffff_ffff;
    const ONE: u64 = 0x3ff0_0000_0000_0000;
    const TWO_POW_52: f64 = 4_503_599_627_370_496.0;
    debug_assert!(x > 0.0 && x.is_finite());
    let bits = x.to_bits();
    let m = f64::from_bits((bits & MANTISSA) | ONE);
    // 2^52 + e exactly, e the biased exponent: minus 2^52 it is e as an f64, with no conversion.
    let e = f64::from_bits(TWO_POW_52.to_bits() | (bits >> 52)) - TWO_POW_52;
    let high = m > core::f64::consts::SQRT_2;
    let m = if high { m * 0.5 } else { m };
    let k = if high { e - 1022.0 } else { e - 1023.0 };
    2.0 * atanh_series((m - 1.0) / (m + 1.0)) + k * core::f64::consts::LN_2
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

/// ln(1 + u) on four lanes for u ∈ [0, 1] (the softplus of a non-positive number, ln(1 + e^−|z|)):
/// 2·atanh(s) with s = u/(2 + u) ∈ [0, ⅓], seven terms of the series (the first left out is
/// below 1e-8), plain multiplies and adds so every runtime rounds alike.
#[inline(always)]
pub fn ln1p_unit_v<V: F32x4>(u: V) -> V {
    let s = u.div(V::splat(2.0).add(u));
    let z = s.mul(s);
    // Horner from the s¹³/13 term down to 1.
    let mut series = V::splat(1.0 / 13.0);
    for k in [11.0f32, 9.0, 7.0, 5.0, 3.0, 1.0] {
        series = V::splat(1.0 / k).add(z.mul(series));
    }
    V::splat(2.0).mul(s).mul(series)
}

/// atanh(s) = s + s³/3 + s⁵/5 + … for |s| ≤ 0.18, to double precision.
fn atanh_series(s: f64) -> f64 {
    // 1/25, 1/23, …, 1/3 as constants: the same correctly rounded quotients, off the critical path.
    const INVERSE_ODD: [f64; 12] = [1.0 / 25.0, 1.0 / 23.0, 1.0 / 21.0, 1.0 / 19.0, 1.0 / 17.0, 1.0 / 15.0, 1.0 / 13.0, 1.0 / 11.0, 1.0 / 9.0, 1.0 / 7.0, 1.0 / 5.0, 1.0 / 3.0];
    let z = s * s;
    let mut sum = 0.0;
    for c in INVERSE_ODD {
        sum = z * (c + sum);
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
    fn softplus_and_its_gradient_are_accurate_and_never_overflow() {
        let mut x = -90.0f32;
        while x < 90.0 {
            let xf = x as f64;
            let want = if xf > 0.0 { xf + (-xf).exp().ln_1p() } else { xf.exp().ln_1p() };
            let y = softplus(x);
            // Below −87 the result is e^−87 ≈ 1.6e-38, exp's clamp.
            assert!(((y as f64) - want).abs() <= 2.5e-7 * want + 1.7e-38, "softplus({x}) = {y}, want {want}");
            let dwant = 1.0 / (1.0 + (-xf).exp());
            let d = softplus_grad(y) as f64;
            assert!((d - dwant).abs() <= 1e-6 * dwant + 1e-37, "softplus'({x}) from y {y} = {d}, want {dwant}");
            x += 0.0113;
        }
        assert_eq!(softplus(1e30), 1e30);
        assert!(softplus(-1e30) >= 0.0 && softplus(-1e30) < 1e-37);
        assert_eq!(softplus_grad(1e30), 1.0);
    }

    /// The vector forms agree with the scalar functions bit for bit, in SSE2 and in the scalar twin.
    #[test]
    fn vector_forms_equal_scalar_bitwise() {
        use crate::simd::{Native, Scalar};
        fn lanes<V: F32x4>(f: fn(V) -> V, x: [f32; 4]) -> [f32; 4] {
            let mut out = [0f32; 4];
            unsafe { f(V::load(x.as_ptr())).store(out.as_mut_ptr()) };
            out
        }
        let mut x = -100.0f32;
        while x < 100.0 {
            let v = [x, -x * 0.37, x * 1e-3, -0.0];
            for i in 0..4 {
                // softplus_grad reads an output, so it gets |x|, a softplus' range.
                let a = v.map(f32::abs);
                let want = [exp(v[i]), tanh(v[i]), sigmoid(v[i]), softplus(v[i]), softplus_grad(a[i])];
                let got_n = [lanes::<Native>(exp_v, v)[i], lanes::<Native>(tanh_v, v)[i], lanes::<Native>(sigmoid_v, v)[i], lanes::<Native>(softplus_v, v)[i], lanes::<Native>(softplus_grad_v, a)[i]];
                let got_s = [lanes::<Scalar>(exp_v, v)[i], lanes::<Scalar>(tanh_v, v)[i], lanes::<Scalar>(sigmoid_v, v)[i], lanes::<Scalar>(softplus_v, v)[i], lanes::<Scalar>(softplus_grad_v, a)[i]];
                for k in 0..5 {
                    assert_eq!(got_n[k].to_bits(), want[k].to_bits(), "fn {k} at {}: vector {} vs scalar {}", v[i], got_n[k], want[k]);
                    assert_eq!(got_s[k].to_bits(), want[k].to_bits(), "fn {k} at {}: twin {} vs scalar {}", v[i], got_s[k], want[k]);
                }
            }
            x += 0.0173;
        }
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
