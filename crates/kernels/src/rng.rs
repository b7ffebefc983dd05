//! The seeded PRNG: xoshiro128** (Blackman & Vigna), 32-bit output, seeded
//! from a 64-bit seed through splitmix64. All randomness in latentkit (weight
//! init, noise, shuffling, dropout of inputs) comes from here, so one seed
//! gives the same bits on every runtime.

use crate::mathf;

#[derive(Clone, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Xoshiro128ss {
    pub s: [u32; 4],
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Xoshiro128ss {
    pub fn from_seed(seed: u64) -> Self {
        let mut sm = seed;
        let a = splitmix64(&mut sm);
        let b = splitmix64(&mut sm);
        let s = [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32];
        // An all-zero state would be stuck; splitmix64 cannot give two zero words in a row,
        // but guard anyway.
        if s == [0; 4] {
            return Xoshiro128ss { s: [1, 0, 0, 0] };
        }
        Xoshiro128ss { s }
    }

    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 9;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(11);
        result
    }

    /// Uniform on [0, 1) with 24 random bits.
    #[inline]
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
    }

    /// Uniform integer in [0, n), unbiased (Lemire's multiply-and-reject).
    pub fn below(&mut self, n: u32) -> u32 {
        debug_assert!(n > 0);
        let mut m = self.next_u32() as u64 * n as u64;
        if (m as u32) < n {
            let threshold = n.wrapping_neg() % n;
            while (m as u32) < threshold {
                m = self.next_u32() as u64 * n as u64;
            }
        }
        (m >> 32) as u32
    }

    /// out[i] ~ U[lo, hi).
    pub fn fill_uniform(&mut self, out: &mut [f32], lo: f32, hi: f32) {
        let span = hi - lo;
        for v in out.iter_mut() {
            *v = lo + span * self.next_f32();
        }
    }

    /// out[i] ~ N(mean, std²) by Marsaglia's polar method (pairs; the odd last
    /// value uses half a pair). Computed in f64 with latentkit's own log.
    pub fn fill_normal(&mut self, out: &mut [f32], mean: f32, std: f32) {
        self.each_normal_pair(out.len(), |i, a, b| {
            out[i] = (mean as f64 + std as f64 * a) as f32;
            if i + 1 < out.len() {
                out[i + 1] = (mean as f64 + std as f64 * b) as f32;
            }
        });
    }

    /// x[i] += N(0, std²): Gaussian corruption of a denoising autoencoder's input.
    pub fn add_normal(&mut self, x: &mut [f32], std: f32) {
        self.each_normal_pair(x.len(), |i, a, b| {
            x[i] += (std as f64 * a) as f32;
            if i + 1 < x.len() {
                x[i + 1] += (std as f64 * b) as f32;
            }
        });
    }

    /// Calls `f(i, a, b)` for i = 0, 2, 4, … < n with the polar method's pairs in order. The
    /// accepted points of up to PAIRS pairs are drawn first and their factors √(−2 ln s / s)
    /// taken after, lane-wise over the batch ([`mathf::ln64_each`]): the draws consume the stream
    /// exactly as one pair at a time would, and the factors, no longer behind a rejection branch
    /// each, run two to a vector. The same bits.
    fn each_normal_pair(&mut self, n: usize, mut f: impl FnMut(usize, f64, f64)) {
        const PAIRS: usize = 32;
        let (mut u, mut v, mut s, mut factor) = ([0f64; PAIRS], [0f64; PAIRS], [0f64; PAIRS], [0f64; PAIRS]);
        let mut i = 0;
        while i < n {
            let count = PAIRS.min((n - i).div_ceil(2));
            // Every candidate is written, and kept only if inside the disc: no branch to mispredict
            // on the one in five that falls outside, and the stream read as before.
            let mut p = 0;
            while p < count {
                let (cu, cv) = self.polar_candidate();
                let cs = cu * cu + cv * cv;
                (u[p], v[p], s[p]) = (cu, cv, cs);
                p += (cs < 1.0) as usize;
            }
            mathf::ln64_each(&s[..count], &mut factor[..count]);
            for (k, &s) in factor[..count].iter_mut().zip(&s[..count]) {
                *k = (-2.0 * *k / s).sqrt();
            }
            for p in 0..count {
                f(i, u[p] * factor[p], v[p] * factor[p]);
                i += 2;
            }
        }
    }

    /// A point (u, v) drawn uniformly in the square [−1, 1]², the polar method's candidate.
    #[inline(always)]
    fn polar_candidate(&mut self) -> (f64, f64) {
        // Centred on the 2^24 grid so that neither coordinate is ever exactly zero.
        let u = ((self.next_u32() >> 8) as f64 + 0.5) * (2.0 / 16_777_216.0) - 1.0;
        let v = ((self.next_u32() >> 8) as f64 + 0.5) * (2.0 / 16_777_216.0) - 1.0;
        (u, v)
    }

    /// p[i] ← 1 with probability p[i], else 0, in place: binary draws from probabilities (dynamic
    /// binarisation of grey levels). The draw is `next_f32() < p[i]`, so it uses the stream
    /// `fill_uniform(.., 0, 1)` would and gives the same bits as comparing its output with p.
    /// Returns the index of the first p[i] that is NaN or outside [0, 1] and draws nothing, or None.
    pub fn bernoulli_in_place(&mut self, p: &mut [f32]) -> Option<usize> {
        if let Some(bad) = p.iter().position(|v| !(0.0..=1.0).contains(v)) {
            return Some(bad);
        }
        for v in p.iter_mut() {
            *v = (self.next_f32() < *v) as u32 as f32;
        }
        None
    }

    /// x[i] ← 0 with probability `rate`: masking corruption.
    pub fn mask(&mut self, x: &mut [f32], rate: f32) {
        for v in x.iter_mut() {
            if self.next_f32() < rate {
                *v = 0.0;
            }
        }
    }

    /// Inverted dropout on a layer's output: mask[i] = 1/(1 − rate) with
    /// probability 1 − rate, else 0; y ← y ⊙ mask. The mask is kept for the backward pass.
    pub fn dropout(&mut self, y: &mut [f32], mask: &mut [f32], rate: f32) {
        debug_assert!(mask.len() >= y.len() && (0.0..1.0).contains(&rate));
        let keep = 1.0 / (1.0 - rate);
        for (v, m) in y.iter_mut().zip(mask.iter_mut()) {
            *m = if self.next_f32() < rate { 0.0 } else { keep };
            *v *= *m;
        }
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle(&mut self, xs: &mut [u32]) {
        let mut i = xs.len();
        while i > 1 {
            let j = self.below(i as u32) as usize;
            i -= 1;
            xs.swap(i, j);
        }
    }
}
