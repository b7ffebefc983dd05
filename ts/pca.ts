import { LatentkitError } from './errors.js';
import { Block, heap } from './runtime/memory.js';
import { Rng } from './runtime/rng.js';
import { kernels } from './runtime/dispatch.js';
import { type Matrix, type MatrixLike, asMatrix, positiveInt } from './nn/matrix.js';
import { checkKeys } from './nn/sequential.js';
import { affine, covarianceBlock } from './linalg.js';

export interface PcaOptions {
  components: number;
  /** Seeds the eigen-solver's random start (default 0). */
  seed?: number | bigint;
  /** Stop when every wanted eigenpair's residual estimate ‖C·v − λv‖ is ≤ tolerance·λ₁ (default 1e-6). */
  tolerance?: number;
  /** Most Lanczos steps (matrix–vector products) to take; default and cap: the number of features, where the answer is exact. */
  maxIterations?: number;
}

const CHUNK_ROWS = 2048;
const disposeSymbol: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('Symbol.dispose');

/**
 * Principal component analysis: the covariance matrix in WebAssembly (rows
 * streamed in chunks, so memory stays d² + a chunk; packed syrk for dense
 * columns, axpy rows that skip the zeros of mostly-zero columns), then its
 * top eigenpairs by Lanczos with full reorthogonalisation. Components and
 * variances follow scikit-learn's conventions (covariance with n − 1,
 * components as rows, each component's largest-magnitude entry positive).
 */
export class PCA {
  /** [components × features], row-major. */
  readonly components: Float32Array;
  readonly explainedVariance: Float32Array;
  readonly explainedVarianceRatio: Float32Array;
  readonly mean: Float32Array;
  readonly nComponents: number;
  readonly nFeatures: number;
  /** Lanczos steps (matrix–vector products) the eigen-solver took. */
  readonly iterations: number;
  /** Whether every component met the tolerance (always, unless maxIterations cut the solver short). */
  readonly converged: boolean;
  private readonly basis: Block; // features × components, for transform
  private readonly shift: Block; // −mean·V, the transform's bias
  private readonly meanBlock: Block;
  private disposed = false;

  private constructor(fields: { components: Float32Array; variance: Float32Array; ratio: Float32Array; mean: Float32Array; iterations: number; converged: boolean; basis: Block }) {
    this.components = fields.components;
    this.explainedVariance = fields.variance;
    this.explainedVarianceRatio = fields.ratio;
    this.mean = fields.mean;
    this.nComponents = fields.variance.length;
    this.nFeatures = fields.mean.length;
    this.iterations = fields.iterations;
    this.converged = fields.converged;
    this.basis = fields.basis;
    const d = this.nFeatures;
    const k = this.nComponents;
    this.meanBlock = heap.alloc(d, 'the PCA mean');
    this.meanBlock.write(this.mean);
    this.shift = heap.alloc(k, 'the PCA shift');
    const shift = new Float32Array(k);
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += this.mean[i]! * this.components[j * d + i]!;
      shift[j] = -s;
    }
    this.shift.write(shift);
  }

  static fit(x: MatrixLike & { shape?: [number, number] }, opts: PcaOptions): PCA {
    checkKeys(opts, ['components', 'seed', 'tolerance', 'maxIterations'], 'PCA options');
    if (x instanceof Float32Array) throw new LatentkitError('PCA.fit needs { data, shape: [rows, features] } (a bare Float32Array has no width)');
    const width = x?.shape?.[1];
    const m = asMatrix(x, typeof width === 'number' ? width : -1, 'PCA.fit x');
    const [n, d] = m.shape;
    const k = positiveInt(opts?.components, 'components');
    if (k > d) throw new LatentkitError(`components (${k}) cannot exceed the ${d} features of x [${n}, ${d}]`);
    const tol = opts.tolerance ?? 1e-6;
    if (typeof tol !== 'number' || !(tol > 0) || !Number.isFinite(tol)) throw new LatentkitError(`tolerance must be a positive finite number, got ${String(tol)}`);
    const maxSteps = Math.min(d, positiveInt(opts.maxIterations ?? d, 'maxIterations'));
    return heap.scoped((scope) => {
      const { mean, cov } = covarianceBlock(m, 'PCA.fit x');
      scope.own(cov);
      const f32 = heap.f32;
      let total = 0;
      for (let i = 0; i < d; i++) total += f32[cov.index + i * d + i]!;
      const vals = scope.alloc(k, 'eigenvalues');
      // Kept by the PCA once it is built; until then the scope frees it.
      const basis = scope.alloc(d * k, 'the principal axes');
      const rng = new Rng(opts.seed ?? 0);
      let steps: number;
      try {
        steps = kernels.top_eigen(cov.ptr, d, k, rng.state.ptr, tol, maxSteps, vals.ptr, basis.ptr);
      } finally {
        rng.dispose();
      }
      if (steps === 0) throw new LatentkitError(`not enough WebAssembly memory for the eigen-solver's Lanczos basis (up to ${maxSteps}×${d})`);
      const variance = vals.read();
      // Components as rows, each flipped so its largest-magnitude entry is positive.
      const v = heap.f32;
      const components = new Float32Array(k * d);
      for (let j = 0; j < k; j++) {
        let big = 0;
        for (let i = 0; i < d; i++) {
          const c = v[basis.index + i * k + j]!;
          if (Math.abs(c) > Math.abs(big)) big = c;
        }
        const sign = big < 0 ? -1 : 1;
        for (let i = 0; i < d; i++) {
          const c = sign * v[basis.index + i * k + j]!;
          components[j * d + i] = c;
          v[basis.index + i * k + j] = c;
        }
      }
      const ratio = Float32Array.from(variance, (l) => l / total);
      const pca = new PCA({ components, variance, ratio, mean, iterations: Math.abs(steps), converged: steps > 0, basis });
      scope.keep(basis);
      return pca;
    });
  }

  /** (x − mean)·V: rows of x projected onto the components. */
  transform(x: MatrixLike): Matrix {
    this.assertLive();
    return this.apply(asMatrix(x, this.nFeatures, 'PCA transform x'), this.nFeatures, this.nComponents, this.shift, false);
  }

  /** z·Vᵀ + mean: back from component scores to features. */
  inverseTransform(z: MatrixLike): Matrix {
    this.assertLive();
    return this.apply(asMatrix(z, this.nComponents, 'PCA inverseTransform z'), this.nComponents, this.nFeatures, this.meanBlock, true);
  }

  private apply(m: Matrix, inWidth: number, outWidth: number, bias: Block, transposed: boolean): Matrix {
    const rows = m.shape[0];
    const out = new Float32Array(rows * outWidth);
    const chunk = Math.min(rows, CHUNK_ROWS);
    const input = heap.alloc(chunk * inWidth, 'a PCA input chunk');
    const output = heap.alloc(chunk * outWidth, 'a PCA output chunk');
    try {
      for (let r = 0; r < rows; r += chunk) {
        const n = Math.min(chunk, rows - r);
        input.write(m.data.subarray(r * inWidth, (r + n) * inWidth));
        const bad = kernels.find_nonfinite(input.ptr, n * inWidth);
        if (bad >= 0) throw new LatentkitError(`PCA input [${rows}, ${inWidth}] contains ${heap.f32[input.index + bad]} at row ${r + Math.floor(bad / inWidth)}, column ${bad % inWidth}`);
        affine({ rows: n, inputs: inWidth, outputs: outWidth, x: input, w: this.basis, b: bias, y: output, weights: transposed ? 'out×in' : 'in×out' });
        out.set(heap.f32.subarray(output.index, output.index + n * outWidth), r * outWidth);
      }
    } finally {
      heap.free(input);
      heap.free(output);
    }
    return { data: out, shape: [rows, outWidth] };
  }

  dispose(): void {
    if (this.disposed) return;
    [this.basis, this.shift, this.meanBlock].forEach((b) => heap.free(b));
    this.disposed = true;
  }

  [disposeSymbol](): void {
    this.dispose();
  }

  private assertLive(): void {
    if (this.disposed) throw new LatentkitError('this PCA was disposed');
  }
}
