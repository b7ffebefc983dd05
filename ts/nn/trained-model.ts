// What every trained model has besides its networks and its objective: its random generator,
// its minibatch source (the data order and cursor), its step and epoch counters and their
// checkpoint form, the blocks it stages batches in, what it frees on dispose, and the live check
// of every public call. Sequential, Autoencoder, VAE and GAN extend it and write only what is
// their own; save, load and checkpoint read the training state through it.
import { LatentkitError } from '../errors.js';
import type { TrainingState } from '../io/model-kind.js';
import { Scratch } from '../runtime/memory.js';
import { Rng } from '../runtime/rng.js';
import { type EpochLoopOptions, runEpochs } from './loop.js';
import { MinibatchSource } from './minibatches.js';
import type { Stack } from './stack.js';
import { type StepPlan, divergenceGuard, trainingStep } from './train-step.js';

const disposeSymbol: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('Symbol.dispose');

export interface TrainedModelSetup {
  /** The model's name in errors ("this autoencoder was disposed"). */
  what: string;
  seed: number | bigint | undefined;
  /** The networks every public call needs alive. */
  networks: readonly Stack[];
  /**
   * How minibatches are drawn: `'epochs'` (`fit` passes over the rows; a checkpoint keeps the
   * epochs completed) or `'endless'` (shuffled passes continued across calls; it keeps the cursor).
   */
  order: 'epochs' | 'endless';
}

export abstract class TrainedModel {
  /** Every random draw of training (shuffling, noise, corruption) comes from it. */
  readonly rng: Rng;
  /** @internal The training rows, their shuffled order and the cursor into it. */
  protected readonly source: MinibatchSource;
  protected stepCount = 0;
  protected epochCount = 0;
  private readonly what: string;
  private readonly networks: readonly Stack[];
  private readonly order: 'epochs' | 'endless';
  private readonly owned: { dispose(): void }[] = [];
  private disposed = false;

  protected constructor(setup: TrainedModelSetup) {
    this.what = setup.what;
    this.networks = setup.networks;
    this.order = setup.order;
    this.rng = new Rng(setup.seed ?? 0);
    this.source = new MinibatchSource(this.rng);
  }

  /** Training steps taken: minibatch updates (for a GAN, iterations of Algorithm 1, each k + 1 updates). */
  get steps(): number {
    return this.stepCount;
  }

  /** Registers what `dispose()` frees with the model; returns it. */
  protected own<T extends { dispose(): void }>(x: T): T {
    this.owned.push(x);
    return x;
  }

  /** A block for staging batches, grown on demand and freed with the model. */
  protected scratch(what: string): Scratch {
    return this.own(new Scratch(what));
  }

  /** The non-finite guard of `trainStep` (on unless `on` is false): its message names the step. */
  protected guard(on: boolean | undefined): StepPlan['diverged'] {
    return divergenceGuard(on ?? true, () => this.stepCount);
  }

  /** One training step of `plan` on the staged rows, counted. */
  protected step(plan: StepPlan, rows: number): number {
    const loss = trainingStep(plan, rows);
    this.stepCount++;
    return loss;
  }

  /** The epoch loop over the attached rows, counting the epochs it completes. */
  protected fitEpochs<T extends string = never, V extends string = 'valLoss'>(o: Omit<EpochLoopOptions<T, V>, 'source' | 'completed'>) {
    return runEpochs<T, V>({ ...o, source: this.source, completed: () => this.epochCount++ });
  }

  /** @internal Everything beyond the weights, optimizer and RNG states that a resumed run needs. */
  trainingState(): TrainingState {
    return {
      steps: this.stepCount,
      ...(this.order === 'endless' ? { cursor: this.source.cursor } : { epochs: this.epochCount }),
      order: this.source.orderToFloats(),
    };
  }

  /** @internal */
  restoreTrainingState(s: TrainingState): void {
    this.stepCount = s.steps;
    if (this.order === 'epochs') this.epochCount = s.epochs ?? 0;
    if (s.order) this.source.restore(s.order, this.order === 'endless' ? s.cursor ?? 0 : 0);
  }

  /** Frees what the model allocated (optimizer state, buffers, the RNG); the networks it was given stay the caller's. */
  dispose(): void {
    if (this.disposed) return;
    for (const x of this.owned) x.dispose();
    this.rng.dispose();
    this.source.dispose();
    this.disposed = true;
  }

  [disposeSymbol](): void {
    this.dispose();
  }

  /** Throws once the model or one of its networks is disposed. */
  protected assertLive(): void {
    if (this.disposed) throw new LatentkitError(`this ${this.what} was disposed`);
    for (const s of this.networks) s.assertLive();
  }
}
