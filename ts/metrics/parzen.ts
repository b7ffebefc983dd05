import { LatentkitError } from '../errors.js';
import { type Matrix, type MatrixLike, asMatrix } from '../nn/matrix.js';
import { heap } from '../runtime/memory.js';
import { affine } from '../linalg.js';

/** Mean log-likelihood of held-out rows under a Gaussian Parzen window, and its standard error. */
export interface ParzenScore {
  logLikelihood: number;
  stderr: number;
  sigma: number;
}

export interface ParzenWindowOptions {
  /** Rows that choose σ (Goodfellow et al.: 1,000 held-out training images). */
  validation: MatrixLike;
  /** Rows scored with the chosen σ (the test set). */
  test: MatrixLike;
  /** Candidate window widths (default 10 values log-spaced from 0.1 to 1, as in the paper's code). */
  sigmas?: number[];
}

const DEFAULT_SIGMAS = Array.from({ length: 10 }, (_, i) => 10 ** (-1 + i / 9));
/** Distances computed per block of rows: at most this many floats of row × sample products. */
const BLOCK_FLOATS = 1 << 22;

function checked(x: MatrixLike, cols: number, what: string): Matrix {
  const m = asMatrix(x, cols, what);
  const bad = m.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new LatentkitError(`${what} [${m.shape}] contains ${m.data[bad]} at row ${Math.floor(bad / cols)}, column ${bad % cols}`);
  return m;
}

/**
 * log p(x) for every row x of `rows` and every σ of `sigmas`, p the Gaussian Parzen window on
 * `samples`: p(x) = (1/n) Σⱼ N(x; sⱼ, σ²I). ‖x − s‖² = ‖x‖² + ‖s‖² − 2x·s comes from a
 * transposed dense pass (y = x·Sᵀ − ‖s‖²/2, on every thread); the log-sum-exp is in f64.
 * Returns one Float64Array per σ.
 */
function logDensities(samples: Matrix, rows: Matrix, sigmas: number[]): Float64Array[] {
  const [n, d] = samples.shape;
  const m = rows.shape[0];
  const out = sigmas.map(() => new Float64Array(m));
  const block = Math.max(1, Math.min(m, Math.floor(BLOCK_FLOATS / n)));
  return heap.scoped((scope) => {
    const s = scope.alloc(n * d, 'the Parzen window samples');
    const bias = scope.alloc(n, 'the Parzen window sample norms');
    const x = scope.alloc(block * d, 'a block of rows to score');
    const y = scope.alloc(block * n, 'a block of row × sample products');
    s.write(samples.data);
    const half = new Float32Array(n);
    for (let j = 0; j < n; j++) {
      let q = 0;
      for (let c = 0; c < d; c++) q += samples.data[j * d + c]! ** 2;
      half[j] = -q / 2;
    }
    bias.write(half);
    const norm = sigmas.map((sg) => Math.log(n) + (d / 2) * Math.log(2 * Math.PI * sg * sg));
    const values = new Float64Array(n);
    for (let r0 = 0; r0 < m; r0 += block) {
      const b = Math.min(block, m - r0);
      x.write(rows.data.subarray(r0 * d, (r0 + b) * d));
      // y = x·Sᵀ − ‖s‖²/2: the samples are the rows of S.
      affine({ rows: b, inputs: d, outputs: n, x, w: s, b: bias, y, weights: 'out×in' });
      const f32 = heap.f32;
      for (let i = 0; i < b; i++) {
        let xx = 0;
        for (let c = 0; c < d; c++) xx += rows.data[(r0 + i) * d + c]! ** 2;
        // −‖x − sⱼ‖²/2 = yᵢⱼ − ‖x‖²/2 (clamped at 0: rounding can make a tiny distance negative)
        let top = -Infinity;
        for (let j = 0; j < n; j++) {
          const v = Math.min(0, f32[y.index + i * n + j]! - xx / 2);
          values[j] = v;
          if (v > top) top = v;
        }
        sigmas.forEach((sg, k) => {
          const inv = 1 / (sg * sg);
          let sum = 0;
          for (let j = 0; j < n; j++) sum += Math.exp((values[j]! - top) * inv);
          out[k]![r0 + i] = top * inv + Math.log(sum) - norm[k]!;
        });
      }
    }
    return out;
  });
}

function meanAndStderr(v: Float64Array): { mean: number; stderr: number } {
  let mean = 0;
  for (const x of v) mean += x;
  mean /= v.length;
  let ss = 0;
  for (const x of v) ss += (x - mean) ** 2;
  return { mean, stderr: v.length > 1 ? Math.sqrt(ss / (v.length - 1) / v.length) : NaN };
}

/** Mean log-likelihood (with its standard error) of `test` under the Parzen window of width σ on `samples`. */
export function parzenLogLikelihood(samples: MatrixLike, test: MatrixLike, sigma: number): ParzenScore {
  if (typeof sigma !== 'number' || !(sigma > 0) || !Number.isFinite(sigma)) throw new LatentkitError(`parzenLogLikelihood: sigma must be a positive number, got ${sigma}`);
  const s = checked(samples, (samples as Matrix)?.shape?.[1] ?? -1, 'Parzen window samples');
  const t = checked(test, s.shape[1], 'Parzen test rows');
  const { mean, stderr } = meanAndStderr(logDensities(s, t, [sigma])[0]!);
  return { logLikelihood: mean, stderr, sigma };
}

/**
 * The Parzen-window protocol of Goodfellow et al. (2014), Table 1: σ chosen among `sigmas` by the
 * mean log-likelihood of `validation`, then the mean log-likelihood of `test` with its standard
 * error. Pixels should be in [0, 1], as in the paper.
 */
export function parzenWindow(samples: MatrixLike, opts: ParzenWindowOptions): ParzenScore & { validation: { sigma: number; logLikelihood: number }[] } {
  const s = checked(samples, (samples as Matrix)?.shape?.[1] ?? -1, 'Parzen window samples');
  const sigmas = opts?.sigmas ?? DEFAULT_SIGMAS;
  if (!Array.isArray(sigmas) || sigmas.length === 0 || sigmas.some((v) => typeof v !== 'number' || !(v > 0) || !Number.isFinite(v))) {
    throw new LatentkitError(`parzenWindow: sigmas must be positive numbers, got ${JSON.stringify(sigmas)}`);
  }
  const v = checked(opts.validation, s.shape[1], 'Parzen validation rows');
  const t = checked(opts.test, s.shape[1], 'Parzen test rows');
  const validation = logDensities(s, v, sigmas).map((ll, k) => ({ sigma: sigmas[k]!, logLikelihood: meanAndStderr(ll).mean }));
  const best = validation.reduce((a, b) => (b.logLikelihood > a.logLikelihood ? b : a));
  const { mean, stderr } = meanAndStderr(logDensities(s, t, [best.sigma])[0]!);
  return { logLikelihood: mean, stderr, sigma: best.sigma, validation };
}
