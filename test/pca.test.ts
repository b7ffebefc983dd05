import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PCA } from '../dist/index.js';
// @ts-expect-error plain JS example helper
import { loadMnist } from '../examples/mnist.mjs';
import { expectClose, lcg } from './helpers.js';

describe('PCA', () => {
  it('recovers a known spectrum, and transform/inverseTransform round-trip', () => {
    // x = z·diag(σ)·Qᵀ + μ with z standard normal-ish, Q orthonormal (a permuted sign matrix).
    const n = 4000;
    const d = 6;
    const sigma = [5, 3, 2, 1, 0.5, 0.1];
    const perm = [2, 0, 5, 1, 4, 3];
    const sign = [1, -1, 1, 1, -1, 1];
    const mu = [1, -2, 3, 0, 0.5, 10];
    const r = lcg(7);
    const x = new Float32Array(n * d);
    const z = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const u = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
        z[i * d + j] = u * sigma[j]!;
      }
    }
    // Centre and whiten z per column exactly so the sample variances are σ² (n − 1 convention).
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += z[i * d + j]!;
      m /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (z[i * d + j]! - m) ** 2;
      const s = sigma[j]! / Math.sqrt(v / (n - 1));
      for (let i = 0; i < n; i++) z[i * d + j] = (z[i * d + j]! - m) * s;
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + perm[j]!] = sign[j]! * z[i * d + j]! + mu[perm[j]!]!;
    const pca = PCA.fit({ data: x, shape: [n, d] }, { components: 3 });
    // Cross-correlations of the sample columns are O(1/√n), so allow a little.
    expectClose(pca.explainedVariance, [25, 9, 4], 0.05, 0, 'explained variance');
    const total = sigma.reduce((s, v) => s + v * v, 0);
    expectClose(pca.explainedVarianceRatio, [25 / total, 9 / total, 4 / total], 0.05, 0, 'explained variance ratio');
    expectClose(pca.mean, mu, 0, 1e-3, 'mean');
    for (let c = 0; c < 3; c++) {
      const axis = perm[c]!;
      expect(Math.abs(pca.components[c * d + axis]!), `component ${c} along feature ${axis}`).toBeGreaterThan(0.99);
    }
    const full = PCA.fit({ data: x, shape: [n, d] }, { components: d });
    const back = full.inverseTransform(full.transform({ data: x, shape: [n, d] }));
    expectClose(back.data, x, 0, 1e-3, 'round trip with all components');
    pca.dispose();
    full.dispose();
  });

  it('matches scikit-learn on 10,000 MNIST images: variances to 1e-4, components to 1e-3 (up to sign)', () => {
    const ref = JSON.parse(readFileSync(new URL('./reference/pca-mnist.json', import.meta.url), 'utf8'));
    const bytes = readFileSync(new URL('./reference/pca-mnist-components.f32', import.meta.url));
    const comps = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    const { x } = loadMnist('train', { limit: ref.rows });
    const pca = PCA.fit(x, { components: ref.components });
    expectClose(pca.explainedVariance, ref.explainedVariance, 1e-4, 0, 'explained variance vs scikit-learn');
    expectClose(pca.explainedVarianceRatio, ref.explainedVarianceRatio, 1e-4, 0, 'explained variance ratio vs scikit-learn');
    for (let j = 0; j < ref.components; j++) {
      const ours = pca.components.subarray(j * 784, (j + 1) * 784);
      const theirs = comps.subarray(j * 784, (j + 1) * 784);
      let dot = 0;
      for (let i = 0; i < 784; i++) dot += ours[i]! * theirs[i]!;
      const s = Math.sign(dot);
      expectClose(Array.from(ours, (v) => s * v), theirs, 0, 1e-3, `component ${j}`);
    }
    expect(pca.converged).toBe(true);
    pca.dispose();
    // Cut short, the solver says so instead of pretending.
    const short = PCA.fit(x, { components: ref.components, maxIterations: 8 });
    expect(short.converged, `converged after ${short.iterations} Lanczos steps`).toBe(false);
    expect(short.iterations).toBe(ref.components); // never fewer steps than components
    short.dispose();
  });

  it('handles columns that are mostly zeros, all zeros or offset far from zero like the centred f64 covariance', () => {
    // Column 0 is 95% zeros (else 1000 + noise), column 1 all zeros, column 2 dense around 1e4,
    // column 3 a mix: the split covariance must not lose precision to any of them.
    const n = 3000;
    const r = lcg(3);
    const x = new Float32Array(n * 4);
    for (let i = 0; i < n; i++) {
      x[i * 4] = r() < 0.05 ? 1000 + r() : 0;
      x[i * 4 + 2] = 10_000 + 3 * r();
      x[i * 4 + 3] = r() < 0.5 ? 0 : r() + 0.5 * x[i * 4 + 2]! - 5000;
    }
    const mean = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) for (let j = 0; j < 4; j++) mean[j]! += x[i * 4 + j]! / n;
    const cov = new Float64Array(16);
    for (let i = 0; i < n; i++) for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) cov[a * 4 + b]! += ((x[i * 4 + a]! - mean[a]!) * (x[i * 4 + b]! - mean[b]!)) / (n - 1);
    const total = cov[0]! + cov[5]! + cov[10]! + cov[15]!;
    const pca = PCA.fit({ data: x, shape: [n, 4] }, { components: 4 });
    // Σ explained variance = trace; each λ matches vᵀCv of its own component.
    expectClose([pca.explainedVariance.reduce((a, b) => a + b, 0)], [total], 1e-5, 0, 'sum of variances vs the f64 trace');
    for (let c = 0; c < 4; c++) {
      const v = pca.components.subarray(c * 4, c * 4 + 4);
      let q = 0;
      for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) q += v[a]! * cov[a * 4 + b]! * v[b]!;
      expectClose([pca.explainedVariance[c]!], [q], 1e-4, 1e-6 * total, `variance of component ${c} vs vᵀCv in f64`);
    }
    // f32 eigenvectors beside an eigenvalue 1e5 times larger: ~1e-4 is rounding, 1e-3 would not be.
    expect(Math.abs(pca.components[1]!) + Math.abs(pca.components[4 + 1]!), 'the all-zero column carries no weight in the top two').toBeLessThan(1e-3);
    pca.dispose();
  });

  it('rejects bad input with the shapes', () => {
    expect(() => PCA.fit({ data: new Float32Array(12), shape: [3, 4] }, { components: 5 })).toThrow(/components \(5\) cannot exceed the 4 features/);
    expect(() => PCA.fit({ data: new Float32Array([1, 2, NaN, 4]), shape: [2, 2] }, { components: 1 })).toThrow(/NaN at row 1, column 0/);
    expect(() => PCA.fit(new Float32Array(4) as never, { components: 1 })).toThrow(/no width/);
    expect(() => PCA.fit({ data: new Float32Array(12), shape: [3, 4] }, { components: 1, tolerance: -1 })).toThrow(/tolerance must be a positive finite number, got -1/);
    expect(() => PCA.fit({ data: new Float32Array(12), shape: [3, 4] }, { components: 1, maxIterations: 0 })).toThrow(/maxIterations/);
    const pca = PCA.fit({ data: Float32Array.from([1, 2, 3, 5, 2, 1]), shape: [3, 2] }, { components: 1 });
    expect(() => pca.transform({ data: new Float32Array(3), shape: [1, 3] })).toThrow(/\[1, 3\] has 3 columns, the model expects 2/);
    pca.dispose();
  });
});
