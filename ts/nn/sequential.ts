import { LatentkitError } from '../errors.js';
import { kernels } from '../runtime/dispatch.js';
import { assertChain, forwardChain, predictChain } from './chain.js';
import { type LossName, lossCode, targetLoss } from './loss.js';
import { type Matrix, type MatrixLike, asMatrix } from './matrix.js';
import type { BatchProgress, History } from './loop.js';
import { Optimizer, type OptimizerSpec } from './optimizer.js';
import { type Stack, assertFiniteBlock } from './stack.js';
import { type StepPlan, computeGradients } from './train-step.js';
import { TrainedModel } from './trained-model.js';

export interface TrainOptions {
  /** Default 'mse'. */
  loss?: LossName;
  /** Default Adam with lr 1e-3. */
  optimizer?: OptimizerSpec;
  /** Seeds shuffling (and, for mlp(), initialisation). Default 0. */
  seed?: number | bigint;
  /** Stop with an error when a loss is NaN or ±Inf, before the update is applied (default true). */
  guardNonFinite?: boolean;
}

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  /** Reshuffle the rows every epoch (default true). */
  shuffle?: boolean;
  /** Held-out data evaluated after every epoch. */
  validation?: { x: MatrixLike; y: MatrixLike };
  /** Called after every epoch; return false to stop. */
  onEpoch?: (epoch: number, logs: { loss: number; valLoss?: number }) => void | boolean;
  /** Called after every minibatch with where the run is (for progress); return false to stop. */
  onBatch?: (progress: BatchProgress) => void | boolean;
  /** Stops between minibatches when aborted. */
  signal?: AbortSignal;
}

export type { History, BatchProgress } from './loop.js';

const FIT_KEYS = ['epochs', 'batchSize', 'shuffle', 'validation', 'onEpoch', 'onBatch', 'signal'];

export function checkKeys(opts: object | undefined, allowed: readonly string[], what: string): void {
  if (opts === undefined) return;
  if (opts === null || typeof opts !== 'object') throw new LatentkitError(`${what} must be an object`);
  for (const k of Object.keys(opts)) {
    if (!allowed.includes(k)) throw new LatentkitError(`unknown option '${k}' for ${what}; expected one of ${allowed.join(', ')}`);
  }
}

/**
 * A chain of stacks trained end to end on (x, y) pairs with one loss and one
 * optimizer. Frozen stacks pass gradients through but keep their weights.
 */
export class Sequential extends TrainedModel {
  readonly stacks: readonly Stack[];
  readonly optimizer: Optimizer;
  readonly lossName: LossName;
  private readonly lossKind: number;
  private readonly target = this.scratch('a staged target batch');
  private readonly plan: StepPlan;

  constructor(stacks: readonly Stack[], opts: TrainOptions = {}) {
    checkKeys(opts, ['loss', 'optimizer', 'seed', 'guardNonFinite'], 'training options');
    assertChain(stacks, 'a sequential model');
    const lossName = opts.loss ?? 'mse';
    const lossKind = lossCode(lossName, 'the model');
    super({ what: 'model', seed: opts.seed, networks: [...stacks], order: 'epochs' });
    this.stacks = [...stacks];
    this.lossName = lossName;
    this.lossKind = lossKind;
    this.optimizer = this.own(new Optimizer(opts.optimizer ?? 'adam', this.stacks));
    this.plan = {
      optimizer: this.optimizer,
      terms: [{ chain: this.stacks, input: (rows) => this.stacks[0]!.inputBlock(rows).ptr, loss: targetLoss(this.lossName, () => this.target.block.ptr, 'the model') }],
      diverged: this.guard(opts.guardNonFinite),
    };
  }

  get inputSize(): number {
    return this.stacks[0]!.inputSize;
  }

  get outputSize(): number {
    return this.stacks[this.stacks.length - 1]!.outputSize;
  }

  /** Passes over the data that `fit` has completed. */
  get epochs(): number {
    return this.epochCount;
  }

  /** One optimizer step on the batch (x, y); returns the batch loss before the update. */
  trainStep(x: MatrixLike, y: MatrixLike): number {
    this.assertLive();
    const xm = asMatrix(x, this.inputSize, 'trainStep x');
    const ym = asMatrix(y, this.outputSize, 'trainStep y');
    const rows = xm.shape[0];
    if (ym.shape[0] !== rows) throw new LatentkitError(`trainStep: x has ${rows} rows [${xm.shape}] but y has ${ym.shape[0]} [${ym.shape}]`);
    const input = this.stacks[0]!.inputBlock(rows);
    input.write(xm.data);
    const target = this.targetBlock(rows);
    target.write(ym.data);
    return this.stepOnStaged(rows);
  }

  /**
   * Loss on (x, y) with the gradients of every unfrozen stack left in place
   * (read them with `stack.getGradients()`); nothing is updated.
   */
  computeGradients(x: MatrixLike, y: MatrixLike): number {
    this.assertLive();
    const xm = asMatrix(x, this.inputSize, 'computeGradients x');
    const ym = asMatrix(y, this.outputSize, 'computeGradients y');
    const rows = xm.shape[0];
    if (ym.shape[0] !== rows) throw new LatentkitError(`computeGradients: x has ${rows} rows but y has ${ym.shape[0]}`);
    this.stacks[0]!.inputBlock(rows).write(xm.data);
    this.targetBlock(rows).write(ym.data);
    return this.forwardBackward(rows);
  }

  /** Forward pass through every stack. */
  predict(x: MatrixLike): Matrix {
    this.assertLive();
    return predictChain(this.stacks, asMatrix(x, this.inputSize, 'predict input'), 'predict input');
  }

  /** Mean loss over (x, y), in batches, without updating anything. */
  evaluate(x: MatrixLike, y: MatrixLike, batchSize = 1024): number {
    this.assertLive();
    const xm = asMatrix(x, this.inputSize, 'evaluate x');
    const ym = asMatrix(y, this.outputSize, 'evaluate y');
    const rows = xm.shape[0];
    if (ym.shape[0] !== rows) throw new LatentkitError(`evaluate: x has ${rows} rows but y has ${ym.shape[0]}`);
    let total = 0;
    for (let r = 0; r < rows; r += batchSize) {
      const n = Math.min(batchSize, rows - r);
      const input = this.stacks[0]!.stageInput(xm.data.subarray(r * this.inputSize, (r + n) * this.inputSize), n, 'evaluate x');
      const target = this.targetBlock(n);
      target.write(ym.data.subarray(r * this.outputSize, (r + n) * this.outputSize));
      assertFiniteBlock(target.ptr, n, this.outputSize, 'evaluate y');
      const p = forwardChain(this.stacks, input.ptr, n);
      const last = this.stacks[this.stacks.length - 1]!;
      total += n * kernels.loss(this.lossKind, p, target.ptr, 0, n, this.outputSize, last.outputGradPtr, 1);
    }
    return total / rows;
  }

  /** Minibatch training for `epochs` passes over (x, y); returns the per-epoch mean losses. */
  fit(x: MatrixLike, y: MatrixLike, opts: FitOptions = {}): History {
    this.assertLive();
    checkKeys(opts, FIT_KEYS, 'fit options');
    const xm = asMatrix(x, this.inputSize, 'fit x');
    const ym = asMatrix(y, this.outputSize, 'fit y');
    const rows = xm.shape[0];
    if (ym.shape[0] !== rows) throw new LatentkitError(`fit: x has ${rows} rows [${xm.shape}] but y has ${ym.shape[0]} [${ym.shape}]`);
    const validation = opts.validation;
    if (validation) {
      asMatrix(validation.x, this.inputSize, 'validation x');
      asMatrix(validation.y, this.outputSize, 'validation y');
    }
    this.source.attach(xm);
    return this.fitEpochs({
      epochs: opts.epochs, batchSize: opts.batchSize, shuffle: opts.shuffle, signal: opts.signal, onEpoch: opts.onEpoch, onBatch: opts.onBatch,
      step: (start, n) => {
        this.source.copy(start, n, this.stacks[0]!.inputBlock(n));
        this.source.copy(start, n, this.targetBlock(n), ym);
        return this.stepOnStaged(n);
      },
      validate: validation ? () => this.evaluate(validation.x, validation.y) : undefined,
    });
  }

  /** The step once input and target are in their blocks. */
  private stepOnStaged(rows: number): number {
    this.checkStaged(rows);
    return this.step(this.plan, rows);
  }

  private forwardBackward(rows: number): number {
    this.checkStaged(rows);
    return computeGradients(this.plan, rows);
  }

  private checkStaged(rows: number): void {
    assertFiniteBlock(this.stacks[0]!.inputBlock(rows).ptr, rows, this.inputSize, 'training input');
    assertFiniteBlock(this.targetBlock(rows).ptr, rows, this.outputSize, 'training target');
    for (const s of this.stacks) s.ensureCapacity(rows);
  }

  private targetBlock(rows: number) {
    return this.target.reserve(rows * this.outputSize);
  }
}
