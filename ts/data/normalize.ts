import { LatentkitError } from '../errors.js';
import type { Matrix } from '../nn/matrix.js';

/** Per-column mean and standard deviation (population), computed in f64. */
export function columnStats(x: Matrix): { mean: Float32Array; std: Float32Array } {
  const [rows, cols] = x.shape;
  const mean = new Float64Array(cols);
  const sq = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) mean[j]! += x.data[i * cols + j]!;
  for (let j = 0; j < cols; j++) mean[j]! /= rows;
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) sq[j]! += (x.data[i * cols + j]! - mean[j]!) ** 2;
  return { mean: Float32Array.from(mean), std: Float32Array.from(sq, (s) => Math.sqrt(s / rows)) };
}

/** (x − mean) / std per column, with the statistics given or computed from x; zero-variance columns are only centred. */
export function standardize(x: Matrix, stats = columnStats(x)): { x: Matrix; mean: Float32Array; std: Float32Array } {
  const [rows, cols] = x.shape;
  if (stats.mean.length !== cols || stats.std.length !== cols) throw new LatentkitError(`statistics for ${stats.mean.length} columns do not fit x [${rows}, ${cols}]`);
  const data = new Float32Array(x.data.length);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const s = stats.std[j]!;
      data[i * cols + j] = (x.data[i * cols + j]! - stats.mean[j]!) / (s > 0 ? s : 1);
    }
  }
  return { x: { data, shape: [rows, cols] }, mean: stats.mean, std: stats.std };
}

/** Subtracts each row's own mean (e.g. the DC level of an image patch); returns the means to add back. */
export function centerRows(x: Matrix): { x: Matrix; rowMeans: Float32Array } {
  const [rows, cols] = x.shape;
  const data = new Float32Array(x.data.length);
  const rowMeans = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += x.data[i * cols + j]!;
    const m = s / cols;
    rowMeans[i] = m;
    for (let j = 0; j < cols; j++) data[i * cols + j] = x.data[i * cols + j]! - m;
  }
  return { x: { data, shape: [rows, cols] }, rowMeans };
}

/** Adds per-row values back (the inverse of centerRows). */
export function addRowMeans(x: Matrix, rowMeans: Float32Array): Matrix {
  const [rows, cols] = x.shape;
  if (rowMeans.length !== rows) throw new LatentkitError(`${rowMeans.length} row means for x [${rows}, ${cols}]`);
  const data = new Float32Array(x.data.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[i * cols + j] = x.data[i * cols + j]! + rowMeans[i]!;
  return { data, shape: [rows, cols] };
}

/** Maps [lo, hi] linearly onto [to0, to1] (e.g. pixels in [0, 1] to [−1, 1]). */
export function rescale(x: Matrix, lo: number, hi: number, to0: number, to1: number): Matrix {
  if (!(hi > lo)) throw new LatentkitError(`rescale needs hi > lo, got [${lo}, ${hi}]`);
  const k = (to1 - to0) / (hi - lo);
  return { data: x.data.map((v) => to0 + (v - lo) * k), shape: [...x.shape] };
}
