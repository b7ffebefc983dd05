// What every model that classifies shares: class probabilities from logits, the most likely class,
// the error rate, and the check of class labels (with the index and value of the first bad one).
import { LatentkitError } from '../errors.js';

/** Rows of `c` logits to probabilities, in place (softmax, the largest logit taken out first). */
export function softmaxRows(z: Float32Array, rows: number, c: number): void {
  for (let r = 0; r < rows; r++) {
    let mx = -Infinity;
    for (let j = 0; j < c; j++) mx = Math.max(mx, z[r * c + j]!);
    let s = 0;
    for (let j = 0; j < c; j++) s += z[r * c + j] = Math.exp(z[r * c + j]! - mx);
    for (let j = 0; j < c; j++) z[r * c + j]! /= s;
  }
}

/** The index of the largest of each row's `c` values (the first on ties). */
export function argmaxRows(z: Float32Array, rows: number, c: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (z[r * c + j]! > z[r * c + best]!) best = j;
    out[r] = best;
  }
  return out;
}

/** Throws unless `labels` holds `rows` integers in [0, classes), naming the first that is not. */
export function checkLabels(labels: ArrayLike<number>, rows: number, classes: number, what: string): void {
  if (!labels || typeof labels.length !== 'number') throw new LatentkitError(`${what}: expected an array of class indices`);
  if (labels.length !== rows) throw new LatentkitError(`${what}: ${labels.length} labels for ${rows} rows`);
  for (let i = 0; i < rows; i++) {
    const l = labels[i]!;
    if (!Number.isInteger(l) || l < 0 || l >= classes) throw new LatentkitError(`${what}: label ${i} is ${l}, expected an integer in [0, ${classes})`);
  }
}

/** The share of `predicted` that differs from `labels` (checked against `classes`). */
export function errorRate(predicted: Int32Array, labels: ArrayLike<number>, classes: number, what: string): number {
  checkLabels(labels, predicted.length, classes, what);
  let wrong = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] !== labels[i]) wrong++;
  return wrong / predicted.length;
}
