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
  return { median: median(times), min: Math.min(...times), max: Math.max(...times), reps, inner };
}

/** The middle value (the upper one of an even count), as every figure of the bench reports it. */
export function median(xs) {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
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
