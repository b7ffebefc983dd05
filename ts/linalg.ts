import { LatentkitError } from './errors.js';
import { Block, heap } from './runtime/memory.js';
import { kernels } from './runtime/wasm.js';
import type { Matrix } from './nn/matrix.js';

const CHUNK_ROWS = 2048;

/**
 * Column means (f64, in JavaScript: the same bits everywhere) and the
 * covariance matrix (n − 1 convention) of a [n × d] matrix, the latter as a
 * d×d block in WebAssembly memory that the caller frees. Rows stream through
 * in chunks: centred, then accumulated by the blocked syrk kernel.
 */
export function covarianceBlock(x: Matrix, what: string): { mean: Float32Array; cov: Block } {
  const [n, d] = x.shape;
  if (n < 2) throw new LatentkitError(`${what} needs at least 2 rows, got [${n}, ${d}]`);
  const meanF64 = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = x.data[i * d + j]!;
      if (v - v !== 0) throw new LatentkitError(`${what} [${n}, ${d}] contains ${v} at row ${i}, column ${j}`);
      meanF64[j]! += v;
    }
  }
  const mean = Float32Array.from(meanF64, (s) => s / n);
  const cov = heap.alloc(d * d, `the ${d}×${d} covariance matrix`);
  let chunk: Block | null = null;
  let meanB: Block | null = null;
  try {
    chunk = heap.alloc(Math.min(n, CHUNK_ROWS) * d, 'a chunk of rows');
    meanB = heap.alloc(d, 'the mean');
    meanB.write(mean);
    for (let r = 0; r < n; r += CHUNK_ROWS) {
      const rows = Math.min(CHUNK_ROWS, n - r);
      chunk.write(x.data.subarray(r * d, (r + rows) * d));
      kernels.lk_center_columns(chunk.ptr, rows, d, meanB.ptr);
      kernels.lk_syrk(chunk.ptr, rows, d, cov.ptr, r === 0 ? 0 : 1);
    }
    kernels.lk_symmetrize_scale(cov.ptr, d, 1 / (n - 1));
  } catch (e) {
    heap.free(cov);
    throw e;
  } finally {
    if (chunk) heap.free(chunk);
    if (meanB) heap.free(meanB);
  }
  return { mean, cov };
}

/** Eigenvalues (descending) and eigenvectors (columns, row-major p×p) of a symmetric f64 matrix, by Jacobi in WebAssembly. */
export function symmetricEigen(a: Float64Array, p: number): { values: Float64Array; vectors: Float64Array } {
  const bytes = 8 * (2 * p * p + p);
  const block = heap.alloc(bytes / 4, 'an eigen-decomposition workspace');
  try {
    const base = block.ptr;
    const f64 = new Float64Array(kernels.memory.buffer, base, 2 * p * p + p);
    f64.set(a);
    kernels.lk_jacobi_eigh(base, p, base + 8 * p * p, base + 8 * (p * p + p));
    const out = new Float64Array(kernels.memory.buffer, base, 2 * p * p + p);
    return { values: out.slice(p * p, p * p + p), vectors: out.slice(p * p + p) };
  } finally {
    heap.free(block);
  }
}
