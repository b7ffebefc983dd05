// Where a model's minibatches come from: the training rows, their shuffled order and the cursor
// into it, and the copy of a minibatch's rows (with one-hot labels for a conditional model) into
// the model's preallocated input block. Every model's data path goes through one of these, so a
// batch flows one way: data → model → kernels.
import { LatentkitError } from '../errors.js';
import { Block, heap } from '../runtime/memory.js';
import type { Rng } from '../runtime/rng.js';
import type { Matrix } from './matrix.js';

/** A conditional model's labels: one class per row, written after each row as a one-hot. */
export interface LabelColumnsSpec {
  labels: ArrayLike<number>;
  classes: number;
}

export class MinibatchSource {
  private order: Block | null = null;
  /** Rows of the current pass already handed out (endless passes: `next`). */
  cursor = 0;
  private data: Matrix | null = null;
  private labels: LabelColumnsSpec | null = null;
  /** The label of each row of the last batch (conditional models). */
  batchLabels = new Int32Array(0);

  constructor(private readonly rng: Rng) {}

  get rows(): number {
    return this.data?.shape[0] ?? 0;
  }

  /** The data set minibatches are drawn from. A new row count starts a fresh order (identity, reshuffled before the first endless batch). */
  attach(data: Matrix, labels: LabelColumnsSpec | null = null): void {
    const rows = data.shape[0];
    this.data = data;
    this.labels = labels;
    if (!this.order || this.order.length !== rows) {
      if (this.order) heap.free(this.order);
      this.order = heap.alloc(rows, 'the shuffle order');
      const u32 = heap.u32;
      for (let i = 0; i < rows; i++) u32[this.order.index + i] = i;
      this.cursor = rows;
    }
  }

  /** Reshuffles the order (the start of an epoch). */
  shuffle(): void {
    const order = this.order!;
    this.rng.shuffleBlock(order, order.length);
  }

  /**
   * Copies rows order[start .. start + n] into `dst`, each followed by its one-hot label when
   * conditional; `paired` (the targets of a supervised model) is copied in the same order instead.
   */
  copy(start: number, n: number, dst: Block, paired?: Matrix): Block {
    const data = paired ?? this.data!;
    const cols = data.shape[1];
    const f32 = heap.f32;
    const u32 = heap.u32;
    const order = this.order!.index;
    const c = paired ? 0 : this.labels?.classes ?? 0;
    if (this.batchLabels.length < n) this.batchLabels = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      const row = u32[order + start + r]!;
      const at = dst.index + r * (cols + c);
      f32.set(data.data.subarray(row * cols, row * cols + cols), at);
      if (c > 0) {
        const label = this.labels!.labels[row]!;
        writeOneHot(f32, at + cols, c, label);
        this.batchLabels[r] = label;
      }
    }
    return dst;
  }

  /** The next `n` rows of an endless sequence of shuffled passes (a pass reshuffles when fewer than n rows are left). */
  next(n: number, dst: Block): Block {
    if (n > this.rows) throw new LatentkitError(`a minibatch of ${n} rows from ${this.rows}`);
    if (this.cursor + n > this.rows) {
      this.shuffle();
      this.cursor = 0;
    }
    this.copy(this.cursor, n, dst);
    this.cursor += n;
    return dst;
  }

  /** The rows of the last `n` handed out by `next` (for inspecting the schedule). */
  lastIndices(n: number): Uint32Array {
    return heap.u32.slice(this.order!.index + this.cursor - n, this.order!.index + this.cursor);
  }

  /** The order as floats (exact below 2^24 rows), for checkpoints. */
  orderToFloats(): Float32Array | null {
    return this.order ? Float32Array.from(heap.u32.subarray(this.order.index, this.order.index + this.order.length)) : null;
  }

  /** Restores a checkpoint's order and cursor (the data is attached later, with the same row count). */
  restore(order: Float32Array, cursor: number): void {
    if (!this.order || this.order.length !== order.length) {
      if (this.order) heap.free(this.order);
      this.order = heap.alloc(order.length, 'the shuffle order');
    }
    heap.u32.set(Uint32Array.from(order), this.order.index);
    this.cursor = cursor;
  }

  /** Lets go of the data (the order stays: a resumed run continues it). */
  detach(): void {
    this.data = null;
    this.labels = null;
  }

  dispose(): void {
    if (this.order) heap.free(this.order);
    this.order = null;
  }
}

/** The one-hot of `label` over `classes` floats of f32, from index `at`. */
export function writeOneHot(f32: Float32Array, at: number, classes: number, label: number): void {
  f32.fill(0, at, at + classes);
  f32[at + label] = 1;
}
