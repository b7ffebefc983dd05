import type { MatrixLike } from './matrix.js';
import { type FitOptions, type History, Sequential, type TrainOptions, checkKeys } from './sequential.js';
import { Stack, type StackOptions } from './stack.js';

export type MlpOptions = StackOptions & TrainOptions;

const MLP_KEYS = ['activation', 'outputActivation', 'init', 'seed', 'dropout', 'loss', 'optimizer', 'guardNonFinite'];

/**
 * A dense stack that can also train itself: `trainStep`, `fit` and
 * `evaluate` use the loss and optimizer given here (default MSE and Adam).
 * The optimizer state is allocated on the first training call, so a stack
 * used only inside a bigger model never pays for it.
 */
export class MLP extends Stack {
  private trainer: Sequential | null = null;
  private readonly trainOptions: TrainOptions;

  constructor(sizes: readonly number[], opts: MlpOptions = {}) {
    checkKeys(opts, MLP_KEYS, 'mlp options');
    super(sizes, opts);
    this.trainOptions = { loss: opts.loss, optimizer: opts.optimizer, seed: opts.seed, guardNonFinite: opts.guardNonFinite };
  }

  /** The model that trains this stack alone. */
  get sequential(): Sequential {
    this.assertLive();
    if (!this.trainer) {
      const o = this.trainOptions;
      this.trainer = new Sequential([this], {
        ...(o.loss !== undefined && { loss: o.loss }),
        ...(o.optimizer !== undefined && { optimizer: o.optimizer }),
        ...(o.seed !== undefined && { seed: o.seed }),
        ...(o.guardNonFinite !== undefined && { guardNonFinite: o.guardNonFinite }),
      });
    }
    return this.trainer;
  }

  trainStep(x: MatrixLike, y: MatrixLike): number {
    return this.sequential.trainStep(x, y);
  }

  fit(x: MatrixLike, y: MatrixLike, opts?: FitOptions): History {
    return this.sequential.fit(x, y, opts);
  }

  /** Loss on (x, y), leaving the gradients readable with getGradients(); no update. */
  computeGradients(x: MatrixLike, y: MatrixLike): number {
    return this.sequential.computeGradients(x, y);
  }

  evaluate(x: MatrixLike, y: MatrixLike): number {
    return this.sequential.evaluate(x, y);
  }

  override dispose(): void {
    this.trainer?.dispose();
    this.trainer = null;
    super.dispose();
  }
}

/** `mlp([in, h1, …, out], { activation, outputActivation, init, seed, loss, optimizer })`. */
export function mlp(sizes: readonly number[], opts: MlpOptions = {}): MLP {
  return new MLP(sizes, opts);
}
