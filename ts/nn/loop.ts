import { positiveInt } from './matrix.js';
import type { MinibatchSource } from './minibatches.js';

export interface EpochLogs {
  loss: number;
  valLoss?: number;
}

export interface History {
  loss: number[];
  valLoss: number[];
}

/** Where a `fit` is inside its run, after each minibatch (`onBatch`). */
export interface BatchProgress {
  /** The epoch of this `fit` call, from 0. */
  epoch: number;
  /** Epochs this `fit` call runs. */
  epochs: number;
  /** Minibatches of this epoch done, from 1. */
  batch: number;
  /** Minibatches per epoch. */
  batches: number;
  /** Rows of this epoch done. */
  rows: number;
  /** Rows per epoch. */
  rowsPerEpoch: number;
  /** This minibatch's loss. */
  loss: number;
  /** The mean loss over this epoch's rows so far (the epoch's loss once it ends). */
  runningLoss: number;
}

export interface EpochLoopOptions<T extends string, V extends string> {
  /** The training rows (attached), reshuffled at each epoch. */
  source: MinibatchSource;
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  signal?: AbortSignal;
  /** Trains on the source's rows order[start .. start+n]; returns the batch loss. */
  step: (start: number, n: number) => number;
  /** Further per-batch values averaged over each epoch's rows beside the loss, read after each step. */
  track?: Record<T, () => number>;
  /** Held-out score after each epoch, if any, logged under `validationKey`. */
  validate?: () => number;
  validationKey?: V;
  /** After every minibatch; return false to stop (the epoch then does not count). */
  onBatch?: (p: BatchProgress) => void | boolean;
  /** After every epoch; return false to stop. */
  onEpoch?: (epoch: number, logs: { loss: number } & Record<T, number> & Partial<Record<V, number>>) => void | boolean;
  /** Each completed epoch, before onEpoch (models count them). */
  completed?: () => void;
}

/** The minibatch epoch loop shared by every model's `fit`: per-epoch means of the loss and the tracked values. */
export function runEpochs<T extends string = never, V extends string = 'valLoss'>(o: EpochLoopOptions<T, V>): { loss: number[] } & Record<T | V, number[]> {
  const rows = o.source.rows;
  const epochs = positiveInt(o.epochs ?? 1, 'epochs');
  const batchSize = Math.min(positiveInt(o.batchSize ?? 32, 'batchSize'), rows);
  const batches = Math.ceil(rows / batchSize);
  const tracked = Object.entries(o.track ?? {}) as [T, () => number][];
  const validationKey = (o.validationKey ?? 'valLoss') as V;
  const columns: Record<string, number[]> = { loss: [] };
  for (const [k] of tracked) columns[k] = [];
  columns[validationKey] = [];
  const history = columns as { loss: number[] } & Record<T | V, number[]>;
  for (let epoch = 0; epoch < epochs; epoch++) {
    if (o.shuffle ?? true) o.source.shuffle();
    let sum = 0;
    const sums = tracked.map(() => 0);
    for (let start = 0, batch = 1; start < rows; start += batchSize, batch++) {
      if (o.signal?.aborted) return history;
      const n = Math.min(batchSize, rows - start);
      const loss = o.step(start, n);
      sum += n * loss;
      tracked.forEach(([, read], i) => (sums[i]! += n * read()));
      if (o.onBatch?.({ epoch, epochs, batch, batches, rows: start + n, rowsPerEpoch: rows, loss, runningLoss: sum / (start + n) }) === false) return history;
    }
    const logs = { loss: sum / rows } as { loss: number } & Record<T, number> & Partial<Record<V, number>>;
    history.loss.push(logs.loss);
    tracked.forEach(([k], i) => history[k].push((logs[k] = (sums[i]! / rows) as never)));
    if (o.validate) history[validationKey].push(((logs as Record<V, number>)[validationKey] = o.validate()));
    o.completed?.();
    if (o.onEpoch?.(epoch, logs) === false) break;
  }
  return history;
}
