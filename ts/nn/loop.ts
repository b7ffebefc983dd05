import { Block, heap } from '../runtime/memory.js';
import type { Rng } from '../runtime/rng.js';
import { positiveInt } from './matrix.js';

export interface EpochLogs {
  loss: number;
  valLoss?: number;
}

export interface History {
  loss: number[];
  valLoss: number[];
}

export interface EpochLoopOptions {
  rows: number;
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  rng: Rng;
  /** A u32 block of `rows` indices (the permutation); shuffled in place each epoch. */
  order: Block;
  signal?: AbortSignal;
  onEpoch?: (epoch: number, logs: EpochLogs) => void | boolean;
  /** Trains on rows order[start .. start+n]; returns the batch loss. */
  step: (start: number, n: number) => number;
  /** Loss on held-out data after each epoch, if any. */
  validate?: () => number;
}

/** The minibatch epoch loop shared by every model's `fit`. */
export function runEpochs(o: EpochLoopOptions): History {
  const epochs = positiveInt(o.epochs ?? 1, 'epochs');
  const batchSize = Math.min(positiveInt(o.batchSize ?? 32, 'batchSize'), o.rows);
  const history: History = { loss: [], valLoss: [] };
  for (let epoch = 0; epoch < epochs; epoch++) {
    if (o.shuffle ?? true) o.rng.shuffle(o.order, o.rows);
    let sum = 0;
    for (let start = 0; start < o.rows; start += batchSize) {
      if (o.signal?.aborted) return history;
      const n = Math.min(batchSize, o.rows - start);
      sum += n * o.step(start, n);
    }
    const logs: EpochLogs = { loss: sum / o.rows };
    history.loss.push(logs.loss);
    if (o.validate) {
      logs.valLoss = o.validate();
      history.valLoss.push(logs.valLoss);
    }
    if (o.onEpoch?.(epoch, logs) === false) break;
  }
  return history;
}

/** A u32 block holding 0..rows−1, reused while the row count stays the same. */
export function identityOrder(existing: Block | null, rows: number): Block {
  if (existing && existing.length === rows) return existing;
  if (existing) heap.free(existing);
  const order = heap.alloc(rows, 'the shuffle order');
  const u32 = heap.u32;
  for (let i = 0; i < rows; i++) u32[order.index + i] = i;
  return order;
}

/** Copies rows order[start..start+n] of data (width cols) into consecutive rows of dst. */
export function gatherRows(data: Float32Array, cols: number, order: Block, start: number, n: number, dst: Block): void {
  const f32 = heap.f32;
  const u32 = heap.u32;
  const base = dst.index;
  for (let r = 0; r < n; r++) {
    const row = u32[order.index + start + r]!;
    f32.set(data.subarray(row * cols, row * cols + cols), base + r * cols);
  }
}

/** A shuffle order as floats (exact below 2^24 rows), for checkpoints. */
export function orderToFloats(order: Block | null): Float32Array | null {
  return order ? Float32Array.from(heap.u32.subarray(order.index, order.index + order.length)) : null;
}

/** The order block holding `values` (a checkpoint's permutation), reusing `existing` when it fits. */
export function orderFromFloats(existing: Block | null, values: Float32Array): Block {
  const order = identityOrder(existing, values.length);
  heap.u32.set(Uint32Array.from(values), order.index);
  return order;
}
