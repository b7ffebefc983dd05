import { describe, expect, it } from 'vitest';
import { frechetDistance, gaussianStatistics } from '../dist/index.js';
import { lcg } from './helpers.js';

/** Q·diag(λ)·Qᵀ with Q a product of random Givens rotations (so every such matrix shares Q). */
function withEigenvectors(q: Float64Array, lambdas: number[]): Float64Array {
  const d = lambdas.length;
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) m[i * d + j]! += q[i * d + k]! * lambdas[k]! * q[j * d + k]!;
  return m;
}

function randomRotation(d: number, seed: number): Float64Array {
  const q = new Float64Array(d * d);
  for (let i = 0; i < d; i++) q[i * d + i] = 1;
  const r = lcg(seed);
  for (let t = 0; t < 6 * d; t++) {
    const i = Math.floor(r() * d);
    const j = Math.floor(r() * d);
    if (i === j) continue;
    const a = r() * 2 * Math.PI;
    const [c, s] = [Math.cos(a), Math.sin(a)];
    for (let k = 0; k < d; k++) {
      const [x, y] = [q[k * d + i]!, q[k * d + j]!];
      q[k * d + i] = c * x - s * y;
      q[k * d + j] = s * x + c * y;
    }
  }
  return q;
}

describe('Fréchet distance', () => {
  it('equals ‖Δμ‖² + Σ(√λa − √λb)² for covariances that share eigenvectors', () => {
    for (const d of [1, 2, 9, 40]) {
      const q = randomRotation(d, d);
      const r = lcg(100 + d);
      const la = Array.from({ length: d }, () => 0.1 + 3 * r());
      const lb = Array.from({ length: d }, (_, i) => (i === d - 1 ? 0 : 0.1 + 3 * r())); // one singular direction
      const ma = Float64Array.from({ length: d }, () => r() - 0.5);
      const mb = Float64Array.from({ length: d }, () => r() - 0.5);
      const a = { mean: ma, covariance: withEigenvectors(q, la), dim: d, count: 100 };
      const b = { mean: mb, covariance: withEigenvectors(q, lb), dim: d, count: 100 };
      let want = 0;
      for (let i = 0; i < d; i++) want += (ma[i]! - mb[i]!) ** 2 + (Math.sqrt(la[i]!) - Math.sqrt(lb[i]!)) ** 2;
      const got = frechetDistance(a, b);
      expect(Math.abs(got - want), `d=${d}: got ${got}, want ${want}`).toBeLessThan(1e-7 * Math.max(1, want)); // √ of a rounding-level eigenvalue is ~1e-8
      expect(Math.abs(frechetDistance(a, a)), `d=${d}: distance to itself`).toBeLessThan(1e-9);
    }
  });

  it('is about 0 between two large samples of one distribution and grows with a shift', () => {
    const r = lcg(5);
    const sample = (n: number, shift: number) => {
      const data = new Float32Array(n * 3);
      for (let i = 0; i < data.length; i++) data[i] = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()) + (i % 3 === 0 ? shift : 0);
      return { data, shape: [n, 3] as [number, number] };
    };
    const base = gaussianStatistics(sample(20_000, 0));
    expect(frechetDistance(base, sample(20_000, 0))).toBeLessThan(0.01);
    const far = frechetDistance(base, sample(20_000, 2));
    expect(far, 'a shift of 2 along one axis').toBeGreaterThan(3.9);
    expect(far).toBeLessThan(4.1);
  });
});
