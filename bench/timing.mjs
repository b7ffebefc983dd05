// Timing helpers shared by the benchmark runners: warm up (long enough for the
// engine's optimising tier), then `reps` timed repetitions of `inner` calls each.
export async function measure(fn, { warmupMs = 1500, reps = 5, inner = 20 } = {}) {
  const start = performance.now();
  while (performance.now() - start < warmupMs) await fn();
  const times = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) await fn();
    times.push((performance.now() - t0) / inner);
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted[sorted.length - 1], reps, inner };
}

export const GAN_SIZES = { g: [100, 256, 512, 784], d: [784, 512, 256, 1] };
export const GEMM = { m: 256, k: 784, n: 512 };

/** Deterministic pseudo-random floats in [−1, 1) (integer LCG, same in every runner). */
export function data(n, seed = 1) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = (s >>> 8) / 8388608 - 1;
  }
  return out;
}
