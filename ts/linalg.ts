import { LatentkitError } from './errors.js';
import { Block, type BlockScope, heap } from './runtime/memory.js';
import { kernels } from './runtime/dispatch.js';
import type { Matrix } from './nn/matrix.js';
import { ACTIVATION } from './runtime/codes.js';

/**
 * y[rows × outputs] ← x[rows × inputs]·W + b with no activation; W is stored inputs × outputs
 * (`weights: 'in×out'`) or outputs × inputs and used transposed (`'out×in'`).
 */
export function affine(o: { rows: number; inputs: number; outputs: number; x: Block; w: Block; b: Block; y: Block; weights: 'in×out' | 'out×in' }): void {
  kernels.dense_forward(o.rows, o.inputs, o.outputs, o.x.ptr, o.w.ptr, o.b.ptr, o.y.ptr, ACTIVATION.linear, 0, o.weights === 'out×in' ? 1 : 0);
}

const CHUNK_ROWS = 2048;

// Relative costs per unit of work, in units of one multiply–add of the packed
// syrk, measured on MNIST (see bench/): one multiply–add of a sparse row's axpy,
// one test of a sparse column's entry, one element of a row's shifted copy.
const AXPY_COST = 4;
const TEST_COST = 8;
const COPY_COST = 4;

/**
 * Which columns go through the sparse path: among columns that are at least
 * half exact zeros, the sparsest s, with s minimising the modelled cost
 * (dense syrk ∝ (d − s)²·n/2, sparse rows ∝ d·Σnnz + n·s tests + n·d copies).
 */
export function splitColumns(nonzeros: Uint32Array, n: number): { dense: Uint32Array; sparse: Uint32Array } {
  const d = nonzeros.length;
  const candidates = Array.from({ length: d }, (_, j) => j)
    .filter((j) => nonzeros[j]! * 2 <= n)
    .sort((a, b) => nonzeros[a]! - nonzeros[b]! || a - b);
  let best = 0;
  let bestCost = (d * d * n) / 2;
  let nnz = 0;
  for (let s = 1; s <= candidates.length; s++) {
    nnz += nonzeros[candidates[s - 1]!]!;
    const cost = ((d - s) * (d - s) * n) / 2 + AXPY_COST * d * nnz + TEST_COST * n * s + COPY_COST * n * d;
    if (cost < bestCost) {
      bestCost = cost;
      best = s;
    }
  }
  const isSparse = new Uint8Array(d);
  for (let s = 0; s < best; s++) isSparse[candidates[s]!] = 1;
  const dense: number[] = [];
  const sparse: number[] = [];
  for (let j = 0; j < d; j++) (isSparse[j] ? sparse : dense).push(j);
  return { dense: Uint32Array.from(dense), sparse: Uint32Array.from(sparse) };
}

/**
 * Column means (f64, in JavaScript: the same bits everywhere) and the
 * covariance matrix (n − 1 convention) of a [n × d] matrix, the latter as a
 * d×d block in WebAssembly memory that the caller frees. Rows stream through
 * in chunks. Mostly-zero columns skip their zeros (see
 * crates/kernels/src/linalg/covariance.rs); the rest go through a packed syrk.
 */
export function covarianceBlock(x: Matrix, what: string): { mean: Float32Array; cov: Block } {
  const [n, d] = x.shape;
  if (n < 2) throw new LatentkitError(`${what} needs at least 2 rows, got [${n}, ${d}]`);
  const cov = heap.alloc(d * d, `the ${d}×${d} covariance matrix`);
  try {
    const mean = heap.scoped((scope) => covarianceInto(x, what, cov, scope));
    return { mean, cov };
  } catch (e) {
    heap.free(cov);
    throw e;
  }
}

/** The two passes of covarianceBlock, writing cov; returns the column means. */
function covarianceInto(x: Matrix, what: string, cov: Block, scope: BlockScope): Float32Array {
  const [n, d] = x.shape;
  const rowsPerChunk = Math.min(n, CHUNK_ROWS);
  const chunk = scope.alloc(rowsPerChunk * d, 'a chunk of rows');
  // Pass 1: column sums (f64: the same bits on every runtime), nonzero counts, finiteness.
  const stats = scope.alloc(3 * d, 'column sums and counts');
  heap.u32.fill(0, stats.index, stats.index + 3 * d);
  const sumPtr = stats.ptr;
  const nonzerosPtr = stats.ptr + 8 * d;
  for (let r = 0; r < n; r += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, n - r);
    chunk.write(x.data.subarray(r * d, (r + rows) * d));
    const bad = kernels.column_stats(chunk.ptr, rows, d, sumPtr, nonzerosPtr);
    if (bad >= 0) throw new LatentkitError(`${what} [${n}, ${d}] contains ${x.data[r * d + bad]} at row ${r + Math.floor(bad / d)}, column ${bad % d}`);
  }
  const meanF64 = new Float64Array(heap.memoryBuffer, sumPtr, d).map((s) => s / n);
  const mean = Float32Array.from(meanF64);
  const { dense, sparse } = splitColumns(heap.u32.slice(nonzerosPtr >>> 2, (nonzerosPtr >>> 2) + d), n);
  const nd = dense.length;
  const ns = sparse.length;
  const shift = new Float32Array(d);
  for (const j of dense) shift[j] = mean[j]!;

  // Pass 2: second moments about the shifts.
  const panel = scope.alloc(rowsPerChunk * nd, 'a chunk of dense columns');
  const md = scope.alloc(nd * nd, "the dense columns' second moments");
  const ms = scope.alloc(ns * d, "the sparse columns' second moments");
  const rowBuf = scope.alloc(d, 'a shifted row');
  const shiftB = scope.alloc(d, 'the column shifts');
  const deltaB = scope.alloc(2 * d, 'the mean minus the shifts');
  const denseB = scope.alloc(nd, 'the dense column indices');
  const sparseB = scope.alloc(ns, 'the sparse column indices');
  shiftB.write(shift);
  heap.u32.set(dense, denseB.index);
  heap.u32.set(sparse, sparseB.index);
  for (let r = 0; r < n; r += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, n - r);
    if (r > 0 || rows < n) chunk.write(x.data.subarray(r * d, (r + rows) * d));
    const accumulate = r === 0 ? 0 : 1;
    kernels.covariance_prepare(chunk.ptr, rows, d, denseB.ptr, nd, sparseB.ptr, ns, shiftB.ptr, panel.ptr, rowBuf.ptr, ms.ptr, accumulate);
    if (nd > 0) kernels.syrk_upper(panel.ptr, rows, nd, md.ptr, accumulate);
  }
  new Float64Array(heap.memoryBuffer, deltaB.ptr, d).set(meanF64.map((m, j) => m - shift[j]!));
  kernels.covariance_assemble(md.ptr, denseB.ptr, nd, ms.ptr, sparseB.ptr, ns, deltaB.ptr, n, d, cov.ptr);
  return mean;
}

/** Eigenvalues (descending) and eigenvectors (columns, row-major p×p) of a symmetric f64 matrix, by Householder reduction and QL in WebAssembly. */
export function symmetricEigen(a: Float64Array, p: number): { values: Float64Array; vectors: Float64Array } {
  const bytes = 8 * (2 * p * p + p);
  const block = heap.alloc(bytes / 4, 'an eigen-decomposition workspace');
  try {
    const base = block.ptr;
    const f64 = new Float64Array(heap.memoryBuffer, base, 2 * p * p + p);
    f64.set(a);
    kernels.symmetric_eigen(base, p, base + 8 * p * p, base + 8 * (p * p + p));
    const out = new Float64Array(heap.memoryBuffer, base, 2 * p * p + p);
    return { values: out.slice(p * p, p * p + p), vectors: out.slice(p * p + p) };
  } finally {
    heap.free(block);
  }
}
