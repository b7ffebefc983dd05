import { LatentkitError } from '../errors.js';
import { heap } from '../runtime/memory.js';
import { covarianceBlock, symmetricEigen } from '../linalg.js';
import { type Matrix, asMatrix } from '../nn/matrix.js';
import type { Stack } from '../nn/stack.js';

/** Mean and covariance (n − 1) of a sample set, in f64. */
export interface GaussianStatistics {
  mean: Float64Array;
  covariance: Float64Array;
  dim: number;
  count: number;
}

export function gaussianStatistics(x: Matrix): GaussianStatistics {
  const m = asMatrix(x, x?.shape?.[1] ?? -1, 'gaussianStatistics x');
  const [n, d] = m.shape;
  const { mean, cov } = covarianceBlock(m, 'gaussianStatistics x');
  try {
    const covariance = Float64Array.from(heap.f32.subarray(cov.index, cov.index + d * d));
    return { mean: Float64Array.from(mean), covariance, dim: d, count: n };
  } finally {
    heap.free(cov);
  }
}

/**
 * Fréchet distance between the Gaussians fitted to two sample sets (the FID
 * formula): ‖μa − μb‖² + tr(Ca) + tr(Cb) − 2·tr((Ca^½ Cb Ca^½)^½), the last
 * trace from the eigenvalues of the symmetric Ca^½ Cb Ca^½.
 */
export function frechetDistance(a: Matrix | GaussianStatistics, b: Matrix | GaussianStatistics): number {
  const sa = 'covariance' in a ? a : gaussianStatistics(a);
  const sb = 'covariance' in b ? b : gaussianStatistics(b);
  const d = sa.dim;
  if (sb.dim !== d) throw new LatentkitError(`Fréchet distance: the sample sets have ${d} and ${sb.dim} features`);
  let meanTerm = 0;
  for (let i = 0; i < d; i++) meanTerm += (sa.mean[i]! - sb.mean[i]!) ** 2;
  let trace = 0;
  for (let i = 0; i < d; i++) trace += sa.covariance[i * d + i]! + sb.covariance[i * d + i]!;
  // Ca^½ = V·diag(√λ)·Vᵀ (negative rounding noise clipped to 0).
  const { values, vectors } = symmetricEigen(sa.covariance, d);
  const root = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += vectors[i * d + k]! * Math.sqrt(Math.max(0, values[k]!)) * vectors[j * d + k]!;
      root[i * d + j] = s;
    }
  }
  const t = matmul(matmul(root, sb.covariance, d), root, d);
  for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) t[i * d + j] = t[j * d + i] = 0.5 * (t[i * d + j]! + t[j * d + i]!);
  const inner = symmetricEigen(t, d).values;
  let traceRoot = 0;
  for (const v of inner) traceRoot += Math.sqrt(Math.max(0, v));
  return meanTerm + trace - 2 * traceRoot;
}

function matmul(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const c = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) c[i * d + j]! += aik * b[k * d + j]!;
    }
  }
  return c;
}

/** Fractions of rows assigned to each of `classes` classes. */
export function classHistogram(predicted: ArrayLike<number>, classes: number): number[] {
  const h = new Array<number>(classes).fill(0);
  for (let i = 0; i < predicted.length; i++) {
    const c = predicted[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= classes) throw new LatentkitError(`class ${c} at row ${i} is outside [0, ${classes})`);
    h[c]!++;
  }
  return h.map((v) => v / predicted.length);
}

/**
 * Fréchet distance in the feature space of a trained classifier's body (its
 * penultimate layer), plus the class histogram its head assigns: the
 * FID-style score for MNIST-like data.
 */
export class FeatureScore {
  constructor(readonly body: Stack, readonly head: Stack) {
    if (body.outputSize !== head.inputSize) throw new LatentkitError(`FeatureScore: body outputs ${body.outputSize}, head takes ${head.inputSize}`);
  }

  features(x: Matrix): Matrix {
    return this.body.predict(x);
  }

  statistics(x: Matrix): GaussianStatistics {
    return gaussianStatistics(this.features(x));
  }

  /** Fréchet distance between x's features and reference statistics (or samples). */
  distance(x: Matrix, reference: GaussianStatistics | Matrix): number {
    const ref = 'covariance' in reference ? reference : this.statistics(reference);
    return frechetDistance(this.statistics(x), ref);
  }

  /** Class fractions the head assigns to x. */
  classHistogram(x: Matrix): number[] {
    const logits = this.head.predict(this.features(x));
    const c = this.head.outputSize;
    const pred = new Int32Array(logits.shape[0]);
    for (let r = 0; r < pred.length; r++) {
      let best = 0;
      for (let j = 1; j < c; j++) if (logits.data[r * c + j]! > logits.data[r * c + best]!) best = j;
      pred[r] = best;
    }
    return classHistogram(pred, c);
  }
}
