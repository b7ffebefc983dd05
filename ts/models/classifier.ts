import { LatentkitError } from '../errors.js';
import { assertChain } from '../nn/chain.js';
import type { History } from '../nn/loop.js';
import { type Matrix, type MatrixLike, asMatrix } from '../nn/matrix.js';
import type { OptimizerSpec } from '../nn/optimizer.js';
import { Sequential, checkKeys } from '../nn/sequential.js';
import { Stack } from '../nn/stack.js';

export interface ClassifierOptions {
  /** The feature extractor: one stack (e.g. a pretrained encoder) or a chain of them. */
  body: Stack | Stack[];
  /** Maps the body's output to one logit per class. */
  head: Stack;
  optimizer?: OptimizerSpec;
  seed?: number | bigint;
  /** Keep the body's weights fixed (a linear probe when the head is one layer). Default false. */
  freezeBody?: boolean;
}

export interface ClassifierFitOptions {
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  validation?: { x: MatrixLike; labels: ArrayLike<number> };
  onEpoch?: (epoch: number, logs: { loss: number; valLoss?: number }) => void | boolean;
  signal?: AbortSignal;
}

const disposeSymbol: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('Symbol.dispose');

/**
 * Softmax classification on top of stacks: softmax cross-entropy on the
 * head's logits. The body and head stay the caller's stacks; `freezeBody`
 * freezes the body stacks themselves (call `unfreeze()` to release them).
 */
export class Classifier {
  readonly body: readonly Stack[];
  readonly head: Stack;
  readonly classes: number;
  readonly model: Sequential;
  private disposed = false;

  constructor(opts: ClassifierOptions) {
    checkKeys(opts, ['body', 'head', 'optimizer', 'seed', 'freezeBody'], 'Classifier options');
    const body = Array.isArray(opts.body) ? opts.body : [opts.body];
    if (!body.every((s) => s instanceof Stack) || !(opts.head instanceof Stack)) throw new LatentkitError('Classifier needs body (a stack or stacks) and head (a stack)');
    assertChain([...body, opts.head], 'Classifier (body → head)');
    if (opts.head.outputSize < 2) throw new LatentkitError(`the head must output one logit per class (≥ 2), [${opts.head.sizes.join(', ')}] outputs ${opts.head.outputSize}`);
    this.body = body;
    this.head = opts.head;
    this.classes = opts.head.outputSize;
    if (opts.freezeBody) body.forEach((s) => s.freeze());
    this.model = new Sequential([...body, opts.head], {
      loss: 'softmax-cross-entropy',
      ...(opts.optimizer !== undefined && { optimizer: opts.optimizer }),
      ...(opts.seed !== undefined && { seed: opts.seed }),
    });
  }

  get inputSize(): number {
    return this.model.inputSize;
  }

  fit(x: MatrixLike, labels: ArrayLike<number>, opts: ClassifierFitOptions = {}): History {
    checkKeys(opts, ['epochs', 'batchSize', 'shuffle', 'validation', 'onEpoch', 'signal'], 'Classifier fit options');
    const m = asMatrix(x, this.inputSize, 'Classifier fit x');
    const y = this.oneHot(labels, m.shape[0], 'fit labels');
    const { validation, ...rest } = opts;
    return this.model.fit(m, y, {
      ...rest,
      ...(validation && { validation: { x: validation.x, y: this.oneHot(validation.labels, asMatrix(validation.x, this.inputSize, 'validation x').shape[0], 'validation labels') } }),
    });
  }

  /** One step on a labelled batch; returns its loss. */
  trainStep(x: MatrixLike, labels: ArrayLike<number>): number {
    const m = asMatrix(x, this.inputSize, 'Classifier trainStep x');
    return this.model.trainStep(m, this.oneHot(labels, m.shape[0], 'trainStep labels'));
  }

  /** Logits per row. */
  logits(x: MatrixLike): Matrix {
    return this.model.predict(x);
  }

  /** Class probabilities per row (softmax of the logits). */
  predictProba(x: MatrixLike): Matrix {
    const z = this.logits(x);
    const c = this.classes;
    for (let r = 0; r < z.shape[0]; r++) {
      let mx = -Infinity;
      for (let j = 0; j < c; j++) mx = Math.max(mx, z.data[r * c + j]!);
      let s = 0;
      for (let j = 0; j < c; j++) s += z.data[r * c + j] = Math.exp(z.data[r * c + j]! - mx);
      for (let j = 0; j < c; j++) z.data[r * c + j]! /= s;
    }
    return z;
  }

  /** The most likely class per row. */
  predict(x: MatrixLike): Int32Array {
    const z = this.logits(x);
    const c = this.classes;
    const out = new Int32Array(z.shape[0]);
    for (let r = 0; r < out.length; r++) {
      let best = 0;
      for (let j = 1; j < c; j++) if (z.data[r * c + j]! > z.data[r * c + best]!) best = j;
      out[r] = best;
    }
    return out;
  }

  /** Mean softmax cross-entropy and accuracy on labelled data. */
  evaluate(x: MatrixLike, labels: ArrayLike<number>): { loss: number; accuracy: number } {
    const m = asMatrix(x, this.inputSize, 'Classifier evaluate x');
    const y = this.oneHot(labels, m.shape[0], 'evaluate labels');
    const loss = this.model.evaluate(m, y);
    const predicted = this.predict(m);
    let correct = 0;
    for (let i = 0; i < predicted.length; i++) if (predicted[i] === labels[i]) correct++;
    return { loss, accuracy: correct / predicted.length };
  }

  /** Frees the optimizer state; the stacks stay the caller's. */
  dispose(): void {
    if (this.disposed) return;
    this.model.dispose();
    this.disposed = true;
  }

  [disposeSymbol](): void {
    this.dispose();
  }

  private oneHot(labels: ArrayLike<number>, rows: number, what: string): Matrix {
    if (!labels || typeof labels.length !== 'number') throw new LatentkitError(`${what}: expected an array of class indices`);
    if (labels.length !== rows) throw new LatentkitError(`${what}: ${labels.length} labels for ${rows} rows`);
    const c = this.classes;
    const y = new Float32Array(rows * c);
    for (let i = 0; i < rows; i++) {
      const l = labels[i]!;
      if (!Number.isInteger(l) || l < 0 || l >= c) throw new LatentkitError(`${what}: label ${i} is ${l}, expected an integer in [0, ${c})`);
      y[i * c + l] = 1;
    }
    return { data: y, shape: [rows, c] };
  }
}
