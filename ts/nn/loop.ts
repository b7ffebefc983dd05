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

export interface EpochLoopOptions {
  /** The training rows (attached), reshuffled at each epoch. */
  source: MinibatchSource;
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  signal?: AbortSignal;
  onEpoch?: (epoch: number, logs: EpochLogs) => void | boolean;
  /** Trains on the source's rows order[start .. start+n]; returns the batch loss. */
  step: (start: number, n: number) => number;
  /** Loss on held-out data after each epoch, if any. */
  validate?: () => number;
}

/** The minibatch epoch loop shared by every model's `fit`. */
export function runEpochs(o: EpochLoopOptions): History {
  const rows = o.source.rows;
  const epochs = positiveInt(o.epochs ?? 1, 'epochs');
  const batchSize = Math.min(positiveInt(o.batchSize ?? 32, 'batchSize'), rows);
  const history: History = { loss: [], valLoss: [] };
  for (let epoch = 0; epoch < epochs; epoch++) {
    if (o.shuffle ?? true) o.source.shuffle();
    let sum = 0;
    for (let start = 0; start < rows; start += batchSize) {
      if (o.signal?.aborted) return history;
      const n = Math.min(batchSize, rows - start);
      sum += n * o.step(start, n);
    }
    const logs: EpochLogs = { loss: sum / rows };
    history.loss.push(logs.loss);
    if (o.validate) {
      logs.valLoss = o.validate();
      history.valLoss.push(logs.valLoss);
    }
    if (o.onEpoch?.(epoch, logs) === false) break;
  }
  return history;
}
