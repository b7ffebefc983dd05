import { LatentkitError } from '../errors.js';
import { assertChain } from '../nn/chain.js';
import type { BatchProgress, History } from '../nn/loop.js';
import { type Matrix, type MatrixLike, asMatrix, positiveInt } from '../nn/matrix.js';
import type { OptimizerSpec } from '../nn/optimizer.js';
import type { ModelKind } from '../io/model-kind.js';
import { Sequential, checkKeys } from '../nn/sequential.js';
import { Stack } from '../nn/stack.js';
import { argmaxRows, softmaxRows } from '../nn/classes.js';

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
  /** With `earlyStopping`, the most epochs to train. */
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  validation?: { x: MatrixLike; labels: ArrayLike<number> };
  /**
   * Score the validation set's accuracy every `every` epochs (default 1), stop after `patience`
   * epochs without a better score (default: never), and end with the weights of the best score.
   * Needs `validation`; the validation loss is then computed at those epochs only.
   */
  earlyStopping?: { every?: number; patience?: number };
  onEpoch?: (epoch: number, logs: { loss: number; valLoss?: number; valAccuracy?: number }) => void | boolean;
  /** After every minibatch, with where the run is (for progress); return false to stop. */
  onBatch?: (progress: BatchProgress) => void | boolean;
  signal?: AbortSignal;
}

export interface ClassifierHistory extends History {
  /** With `earlyStopping`: the validation accuracy at each scored epoch, and the epoch (1-based) whose weights were kept. */
  valAccuracy?: number[];
  bestEpoch?: number;
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
    if (opts.head.outputSize < 2) throw new LatentkitError(`the head must output one logit per class (≥ 2), ${opts.head.label} outputs ${opts.head.outputSize}`);
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

  fit(x: MatrixLike, labels: ArrayLike<number>, opts: ClassifierFitOptions = {}): ClassifierHistory {
    checkKeys(opts, ['epochs', 'batchSize', 'shuffle', 'validation', 'earlyStopping', 'onEpoch', 'onBatch', 'signal'], 'Classifier fit options');
    const m = asMatrix(x, this.inputSize, 'Classifier fit x');
    const y = this.oneHot(labels, m.shape[0], 'fit labels');
    const { validation, earlyStopping, ...rest } = opts;
    const vx = validation && asMatrix(validation.x, this.inputSize, 'validation x');
    const vy = validation && this.oneHot(validation.labels, vx!.shape[0], 'validation labels');
    if (!earlyStopping) return this.model.fit(m, y, { ...rest, ...(validation && { validation: { x: vx!, y: vy! } }) });

    checkKeys(earlyStopping, ['every', 'patience'], 'earlyStopping');
    if (!validation) throw new LatentkitError('earlyStopping needs a validation set: fit(x, labels, { validation: { x, labels }, earlyStopping })');
    const every = positiveInt(earlyStopping.every ?? 1, 'earlyStopping.every');
    const patience = earlyStopping.patience === undefined ? Infinity : positiveInt(earlyStopping.patience, 'earlyStopping.patience');
    const trained = [...this.body, this.head].filter((s) => !s.frozen);
    let best = -1;
    let bestEpoch = 0;
    let bestWeights: Float32Array[] = trained.map((s) => s.getWeights());
    const valLoss: number[] = [];
    const valAccuracy: number[] = [];
    const history = this.model.fit(m, y, {
      ...rest,
      onEpoch: (epoch, logs) => {
        const e = epoch + 1;
        let scored: { valLoss?: number; valAccuracy?: number } = {};
        if (e % every === 0) {
          const v = this.evaluate(vx!, validation.labels);
          valLoss.push(v.loss);
          valAccuracy.push(v.accuracy);
          scored = { valLoss: v.loss, valAccuracy: v.accuracy };
          if (v.accuracy > best) {
            best = v.accuracy;
            bestEpoch = e;
            bestWeights = trained.map((s) => s.getWeights());
          }
        }
        if (rest.onEpoch?.(epoch, { ...logs, ...scored }) === false) return false;
        return valAccuracy.length === 0 || e - bestEpoch < patience;
      },
    });
    // The best scored weights (the starting ones when no epoch was scored).
    trained.forEach((s, i) => s.setWeights(bestWeights[i]!));
    return { loss: history.loss, valLoss, valAccuracy, bestEpoch };
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
    softmaxRows(z.data, z.shape[0], this.classes);
    return z;
  }

  /** The most likely class per row. */
  predict(x: MatrixLike): Int32Array {
    const z = this.logits(x);
    return argmaxRows(z.data, z.shape[0], this.classes);
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

export const classifierKind: ModelKind<Classifier> = {
  kind: 'classifier',
  type: Classifier,
  modules: (clf) => [...clf.body.map((s, i) => [`body${i}`, s] as [string, Stack]), ['head', clf.head]],
  optimizers: (clf) => [['optimizer', clf.model.optimizer]],
  options: (clf) => ({ frozenBody: clf.body.map((s) => s.frozen) }),
  build: (ctx, o) => {
    const bodies = ctx.names.filter((k) => /^body\d+$/.test(k)).sort((a, b) => Number(a.slice(4)) - Number(b.slice(4))).map((n) => ctx.module(n));
    const clf = new Classifier({ body: bodies, head: ctx.module('head'), optimizer: o.optimizer as OptimizerSpec });
    ((o.frozenBody as boolean[]) ?? []).forEach((f, i) => {
      if (f && bodies[i]) bodies[i]!.freeze();
    });
    return clf;
  },
  trained: (clf) => clf.model,
};
