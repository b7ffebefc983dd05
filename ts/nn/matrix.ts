import { LatentkitError } from '../errors.js';

/** A row-major batch: `shape` is [rows, cols]. */
export interface Matrix {
  data: Float32Array;
  shape: [number, number];
}

/** What the API accepts as a batch: a Matrix, or a bare Float32Array whose width the model knows. */
export type MatrixLike = Matrix | Float32Array;

/** Checks a user batch against the expected width and returns it as a Matrix (no copy). */
export function asMatrix(x: MatrixLike, cols: number, what: string): Matrix {
  if (x instanceof Float32Array) {
    if (x.length === 0 || x.length % cols !== 0) {
      throw new LatentkitError(`${what}: a Float32Array of length ${x.length} is not a whole number of rows of width ${cols}`);
    }
    return { data: x, shape: [x.length / cols, cols] };
  }
  if (!x || typeof x !== 'object' || !(x.data instanceof Float32Array) || !Array.isArray(x.shape) || x.shape.length !== 2) {
    throw new LatentkitError(`${what}: expected a Float32Array or { data: Float32Array, shape: [rows, cols] }`);
  }
  const [rows, c] = x.shape;
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(c) || c < 1) {
    throw new LatentkitError(`${what}: shape [${x.shape}] must be two positive integers`);
  }
  if (c !== cols) {
    throw new LatentkitError(`${what}: shape [${rows}, ${c}] has ${c} columns, the model expects ${cols}`);
  }
  if (x.data.length !== rows * c) {
    throw new LatentkitError(`${what}: shape [${rows}, ${c}] needs ${rows * c} values, data has ${x.data.length}`);
  }
  return x;
}

export function matrix(data: Float32Array, rows: number, cols: number): Matrix {
  return asMatrix({ data, shape: [rows, cols] }, cols, 'matrix');
}

export function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new LatentkitError(`${what} must be a positive integer, got ${String(v)}`);
  }
  return v;
}
