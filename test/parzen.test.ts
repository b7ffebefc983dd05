// The Parzen-window log-likelihood (Goodfellow et al. 2014, Table 1): exact against an f64
// brute force, and against the closed form for Gaussian samples and test points.
import { describe, expect, it } from 'vitest';
import { LatentkitError, Rng, parzenLogLikelihood, parzenWindow } from '../dist/index.js';
import { randomArray } from './helpers.js';

/** log (1/n) Σⱼ N(x; sⱼ, σ²I), in f64, one row at a time. */
function bruteForce(s: Float32Array, x: Float32Array, d: number, sigma: number): number[] {
  const n = s.length / d;
  const out: number[] = [];
  for (let i = 0; i < x.length / d; i++) {
    const e: number[] = [];
    for (let j = 0; j < n; j++) {
      let q = 0;
      for (let c = 0; c < d; c++) q += (x[i * d + c]! - s[j * d + c]!) ** 2;
      e.push(-q / (2 * sigma * sigma));
    }
    const top = Math.max(...e);
    out.push(top + Math.log(e.reduce((a, v) => a + Math.exp(v - top), 0)) - Math.log(n) - (d / 2) * Math.log(2 * Math.PI * sigma * sigma));
  }
  return out;
}

describe('Parzen window', () => {
  it('matches an f64 brute force, mean and standard error', () => {
    const d = 7;
    const s = randomArray(50 * d, 1);
    const x = randomArray(20 * d, 2);
    for (const sigma of [0.2, 0.7, 2]) {
      const want = bruteForce(s, x, d, sigma);
      const mean = want.reduce((a, v) => a + v, 0) / want.length;
      const sd = Math.sqrt(want.reduce((a, v) => a + (v - mean) ** 2, 0) / (want.length - 1));
      const got = parzenLogLikelihood({ data: s, shape: [50, d] }, { data: x, shape: [20, d] }, sigma);
      expect(Math.abs(got.logLikelihood - mean), `σ ${sigma}: got ${got.logLikelihood}, want ${mean}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(mean)));
      expect(Math.abs(got.stderr - sd / Math.sqrt(20)), `σ ${sigma}: stderr ${got.stderr}`).toBeLessThan(1e-4);
    }
  });

  it('reaches the closed form for Gaussian data: E log N(x; μ, (τ² + σ²)I) with x ~ N(μ, τ²I)', () => {
    // As the samples grow, the window's density tends to N(μ, (τ² + σ²)I), whose expected
    // log-likelihood under x ~ N(μ, τ²I) is −(d/2)·log(2π(τ² + σ²)) − (d/2)·τ²/(τ² + σ²).
    const d = 2;
    const tau = 1;
    const rng = new Rng(4);
    const samples = { data: rng.normalArray(20_000 * d, 0.5, tau), shape: [20_000, d] as [number, number] };
    const test = { data: rng.normalArray(4_000 * d, 0.5, tau), shape: [4_000, d] as [number, number] };
    rng.dispose();
    for (const sigma of [0.3, 1]) {
      const v = tau * tau + sigma * sigma;
      const want = -(d / 2) * Math.log(2 * Math.PI * v) - (d / 2) * (tau * tau) / v;
      const got = parzenLogLikelihood(samples, test, sigma);
      expect(Math.abs(got.logLikelihood - want), `σ ${sigma}: got ${got.logLikelihood} ± ${got.stderr}, want ${want}`).toBeLessThan(3 * got.stderr + 0.01);
    }
  });

  it('chooses σ on the validation rows and scores the test rows with it', () => {
    const rng = new Rng(5);
    const d = 3;
    const samples = { data: rng.normalArray(3000 * d), shape: [3000, d] as [number, number] };
    const validation = { data: rng.normalArray(500 * d), shape: [500, d] as [number, number] };
    const test = { data: rng.normalArray(500 * d), shape: [500, d] as [number, number] };
    rng.dispose();
    const r = parzenWindow(samples, { validation, test });
    expect(r.validation).toHaveLength(10);
    expect(r.validation[0]!.sigma).toBeCloseTo(0.1, 12);
    expect(r.validation[9]!.sigma).toBeCloseTo(1, 12);
    const best = Math.max(...r.validation.map((v) => v.logLikelihood));
    expect(r.validation.find((v) => v.sigma === r.sigma)!.logLikelihood).toBe(best);
    // An interior optimum: too narrow and too wide windows both score worse.
    expect(r.sigma).toBeGreaterThan(0.1);
    expect(r.sigma).toBeLessThan(1);
    expect(r.logLikelihood).toBe(parzenLogLikelihood(samples, test, r.sigma).logLikelihood);
  });

  it('scores 10,000 MNIST training images as samples at 242 ± 2, as an independent implementation of the protocol does', async () => {
    // The figure for this set-up measured with an independent implementation (issue 13): σ chosen
    // from the 10 default widths on the last 1,000 training images, the 10,000 test images scored.
    const { loadMnist } = await import('../examples/mnist.mjs');
    const train = loadMnist('train');
    const test = loadMnist('test');
    const samples = { data: train.x.data.subarray(0, 10_000 * 784), shape: [10_000, 784] as [number, number] };
    const validation = { data: train.x.data.subarray(59_000 * 784), shape: [1000, 784] as [number, number] };
    const r = parzenWindow(samples, { validation, test: test.x });
    expect(Math.abs(r.logLikelihood - 242), `${r.logLikelihood} ± ${r.stderr} (σ ${r.sigma})`).toBeLessThan(2 + 2 * r.stderr);
  });

  it('names the problem in bad input', () => {
    const s = { data: new Float32Array(12), shape: [4, 3] as [number, number] };
    const cases: [() => unknown, RegExp][] = [
      [() => parzenLogLikelihood(s, s, 0), /sigma must be a positive number, got 0/],
      [() => parzenLogLikelihood(s, { data: new Float32Array(8), shape: [4, 2] }, 1), /Parzen test rows: shape \[4, 2\] has 2 columns, the model expects 3/],
      [() => parzenLogLikelihood({ data: Float32Array.of(0, 0, NaN), shape: [1, 3] }, s, 1), /Parzen window samples \[1,3\] contains NaN at row 0, column 2/],
      [() => parzenWindow(s, { validation: s, test: s, sigmas: [] }), /sigmas must be positive numbers/],
    ];
    for (const [f, pattern] of cases) {
      expect(f).toThrow(LatentkitError);
      expect(f).toThrow(pattern);
    }
  });
});
