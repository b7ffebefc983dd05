//! GEMM against a naive f64 reference: m, n, k swept around the tile sizes
//! (MR, NR = 8, KC = 256, NC = 512), strided operands whose padding is NaN
//! (a stray read poisons the result), and a NaN guard band around C (a stray
//! write is caught). Inputs are small integers, so every result is exact and
//! compared with ==. The same checks run on products split into column parts the way
//! threads share them, with A packed whole by the first part and reused by the rest.

use latentkit_kernels::gemm::params::{PACK_A_LEN, PACK_B_LEN, WHOLE_A_LEN};
use latentkit_kernels::gemm::kernel::Microkernel;
use latentkit_kernels::gemm::{sgemm, PackA, Scratch, Start};
use latentkit_kernels::simd::Scalar;

struct Lcg(u64);
impl Lcg {
    fn int(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) % 9) as f32 - 4.0
    }
}

#[derive(Copy, Clone, Debug)]
enum Mode {
    Overwrite,
    Accumulate,
    Bias,
}

/// A is m×k stored transposed or not, with a padded leading dimension.
fn strided(rng: &mut Lcg, rows: usize, cols: usize, transposed: bool) -> (Vec<f32>, usize, usize) {
    let ld = if transposed { rows + 3 } else { cols + 5 };
    let len = if transposed { cols * ld } else { rows * ld };
    let mut v = vec![f32::NAN; len.max(1)];
    let (rs, cs) = if transposed { (1, ld) } else { (ld, 1) };
    for i in 0..rows {
        for j in 0..cols {
            v[i * rs + j * cs] = rng.int();
        }
    }
    (v, rs, cs)
}

/// How `check` runs the product: whole, or over `parts` column ranges (one thread's parts of one
/// job: the first packs all of A into `whole_a` floats of room, the rest reuse it).
#[derive(Copy, Clone, Debug)]
enum Split {
    Whole,
    Parts { parts: usize, whole_a: usize },
}

fn check<K: Microkernel>(name: &str, m: usize, k: usize, n: usize, ta: bool, tb: bool, mode: Mode, seed: u64) {
    check_split::<K>(name, m, k, n, ta, tb, mode, seed, Split::Whole);
}

fn check_split<K: Microkernel>(name: &str, m: usize, k: usize, n: usize, ta: bool, tb: bool, mode: Mode, seed: u64, split: Split) {
    let mut rng = Lcg(seed);
    let (a, rsa, csa) = strided(&mut rng, m, k, ta);
    let (b, rsb, csb) = strided(&mut rng, k, n, tb);
    let bias: Vec<f32> = (0..n).map(|_| rng.int()).collect();
    let guard = 2;
    let rsc = n + 2 * guard;
    let mut c = vec![f32::NAN; (m + 2 * guard) * rsc];
    let c0: Vec<f32> = (0..m * n).map(|_| rng.int()).collect();
    for i in 0..m {
        for j in 0..n {
            c[(i + guard) * rsc + guard + j] = c0[i * n + j];
        }
    }
    let mut pa = vec![0f32; PACK_A_LEN];
    let mut pb = vec![0f32; PACK_B_LEN];
    let start = |j0: usize| match mode {
        Mode::Overwrite => Start::Overwrite,
        Mode::Accumulate => Start::Accumulate,
        Mode::Bias => Start::Bias(unsafe { bias.as_ptr().add(j0) }),
    };
    let c00 = unsafe { c.as_mut_ptr().add(guard * rsc + guard) };
    match split {
        Split::Whole => unsafe {
            sgemm::<K>(m, k, n, a.as_ptr(), rsa, csa, b.as_ptr(), rsb, csb, c00, rsc, start(0), &mut Scratch::new(&mut pa, &mut pb));
        },
        Split::Parts { parts, whole_a } => {
            // NaN in the whole-A space: a panel read before it was packed poisons C.
            let mut wa = vec![f32::NAN; whole_a];
            for p in 0..parts {
                let (j0, j1) = (n * p / parts, n * (p + 1) / parts);
                let pack_a = if p == 0 { PackA::Whole } else { PackA::Reuse };
                let mut sc = Scratch::with_whole_a(&mut pa, &mut pb, &mut wa, pack_a);
                unsafe {
                    sgemm::<K>(m, k, j1 - j0, a.as_ptr(), rsa, csa, b.as_ptr().add(j0 * csb), rsb, csb, c00.add(j0), rsc, start(j0), &mut sc);
                }
            }
        }
    }
    for i in 0..m + 2 * guard {
        for j in 0..rsc {
            let got = c[i * rsc + j];
            let inside = i >= guard && i < m + guard && j >= guard && j < n + guard;
            if !inside {
                assert!(got.is_nan(), "{name} MR={} m={m} k={k} n={n} ta={ta} tb={tb} {mode:?}: wrote {got} outside C at ({i}, {j}) ({split:?})", K::MR);
                continue;
            }
            let (r, col) = (i - guard, j - guard);
            let mut want = match mode {
                Mode::Overwrite => 0.0f64,
                Mode::Accumulate => c0[r * n + col] as f64,
                Mode::Bias => bias[col] as f64,
            };
            for p in 0..k {
                want += a[r * rsa + p * csa] as f64 * b[p * rsb + col * csb] as f64;
            }
            assert!(got as f64 == want, "{name} MR={} m={m} k={k} n={n} ta={ta} tb={tb} {mode:?}: C[{r}, {col}] = {got}, want {want} ({split:?})", K::MR);
        }
    }
}

fn sweep<K: Microkernel>(name: &str) {
    let ms = [1, 2, 3, 4, 5, 7, 8, 9, 17, 64, 65, 70];
    let ns = [1, 3, 7, 8, 9, 16, 17, 33];
    let ks = [0, 1, 5, 8, 255, 256, 257];
    let mut seed = 1;
    for &m in &ms {
        for &n in &ns {
            for &k in &ks {
                for (ta, tb) in [(false, false), (false, true), (true, false)] {
                    for mode in [Mode::Overwrite, Mode::Accumulate, Mode::Bias] {
                        seed += 1;
                        check::<K>(name, m, k, n, ta, tb, mode, seed);
                    }
                }
            }
        }
    }
    // Past one NC block of columns and two KC blocks of depth.
    for &(m, k, n) in &[(3, 520, 513), (9, 600, 1030), (131, 33, 520)] {
        for (ta, tb) in [(false, false), (false, true), (true, false)] {
            check::<K>(name, m, k, n, ta, tb, Mode::Accumulate, 7);
            check::<K>(name, m, k, n, ta, tb, Mode::Bias, 8);
        }
    }
    // Column parts sharing A packed whole: parts narrower and wider than NR, A past one MC
    // block and one KC slice, and an A one float too big for the room (packed by blocks).
    for &(m, k, n) in &[(1, 1, 9), (5, 0, 17), (9, 257, 33), (70, 600, 47), (131, 33, 520), (65, 300, 1030)] {
        let m_pad = (m + K::MR - 1) / K::MR * K::MR;
        for (ta, tb) in [(false, false), (false, true), (true, false)] {
            for parts in [2, 3, 5] {
                for whole_a in [WHOLE_A_LEN, (m_pad * k).saturating_sub(1)] {
                    seed += 1;
                    check_split::<K>(name, m, k, n, ta, tb, Mode::Bias, seed, Split::Parts { parts, whole_a });
                    check_split::<K>(name, m, k, n, ta, tb, Mode::Accumulate, seed, Split::Parts { parts, whole_a });
                }
            }
        }
    }
}

#[test]
fn sgemm_4x8_scalar_matches_reference() {
    sweep::<latentkit_kernels::gemm::kernel::Sgemm4x8Scalar>("sgemm_4x8_scalar");
}

#[cfg(target_arch = "x86_64")]
#[test]
fn sgemm_4x8_sse2_matches_reference() {
    sweep::<latentkit_kernels::gemm::kernel::Sgemm4x8Sse2>("sgemm_4x8_sse2");
}

/// With non-integer inputs the SIMD kernel and its scalar twin still agree bit for bit.
#[cfg(target_arch = "x86_64")]
#[test]
fn simd_and_scalar_twins_agree_bitwise() {
    use latentkit_kernels::gemm::{gemm_nn, gemm_nt, gemm_tn};
    use latentkit_kernels::simd::Sse2;
    let (m, k, n) = (37, 300, 45);
    let mut seed = 99u64;
    let mut next = || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        ((seed >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    };
    let x: Vec<f32> = (0..m * k).map(|_| next()).collect();
    let w: Vec<f32> = (0..k * n).map(|_| next()).collect();
    let dy: Vec<f32> = (0..m * n).map(|_| next()).collect();
    let mut pa = vec![0f32; PACK_A_LEN];
    let mut pb = vec![0f32; PACK_B_LEN];
    let mut sc = Scratch::new(&mut pa, &mut pb);
    let (mut y1, mut y2) = (vec![0f32; m * n], vec![0f32; m * n]);
    gemm_nn::<Sse2>(m, k, n, &x, &w, &mut y1, Start::Overwrite, &mut sc);
    gemm_nn::<Scalar>(m, k, n, &x, &w, &mut y2, Start::Overwrite, &mut sc);
    let (mut d1, mut d2) = (vec![0f32; m * k], vec![0f32; m * k]);
    gemm_nt::<Sse2>(m, n, k, &dy, &w, &mut d1, Start::Overwrite, &mut sc);
    gemm_nt::<Scalar>(m, n, k, &dy, &w, &mut d2, Start::Overwrite, &mut sc);
    let (mut g1, mut g2) = (vec![0f32; k * n], vec![0f32; k * n]);
    gemm_tn::<Sse2>(m, k, n, &x, &dy, &mut g1, Start::Overwrite, &mut sc);
    gemm_tn::<Scalar>(m, k, n, &x, &dy, &mut g2, Start::Overwrite, &mut sc);
    for (name, a, b) in [("NN", &y1, &y2), ("NT", &d1, &d2), ("TN", &g1, &g2)] {
        for (i, (p, q)) in a.iter().zip(b.iter()).enumerate() {
            assert!(p.to_bits() == q.to_bits(), "{name} [{i}] sse2 {p} != scalar {q}");
        }
    }
}
