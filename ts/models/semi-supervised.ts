// What the semi-supervised models (the GAN of Salimans et al. 2016, the VAE of Kingma et al. 2014)
// share: their data — a few labelled rows, many unlabelled ones — checked once, the labelled rows
// drawn in shuffled passes of their own beside the unlabelled ones (both orders resume from a
// checkpoint), the training loop over iterations or epochs of the unlabelled rows, and the
// classifier's answers (probabilities, classes, the error rate) from the model's logits, and the
// optional moving average of the classifier's weights those answers are read from.
import { LatentkitError } from '../errors.js';
import type { BuildContext, TrainingState } from '../io/model-kind.js';
import { argmaxRows, checkLabels, errorRate, softmaxRows } from '../nn/classes.js';
import { type Matrix, type MatrixLike, asMatrix, positiveInt } from '../nn/matrix.js';
import { predictChain } from '../nn/chain.js';
import { MinibatchSource } from '../nn/minibatches.js';
import { checkKeys } from '../nn/sequential.js';
import { MovingAverage, emaDecay } from '../nn/moving-average.js';
import type { Stack } from '../nn/stack.js';
import { TrainedModel, type TrainedModelSetup } from '../nn/trained-model.js';

/** What `fit` trains on: a few labelled rows and many unlabelled ones (the labelled rows may be among them). */
export interface SemiSupervisedData {
  labelled: MatrixLike;
  /** The class of each labelled row, an integer in [0, K). */
  labels: ArrayLike<number>;
  unlabelled: MatrixLike;
}

export interface SemiSupervisedFitOptions<Step> {
  /** Iterations to run, or epochs: passes over the unlabelled rows (each iteration takes a batch of them). */
  iterations?: number;
  epochs?: number;
  onStep?: (s: Step) => void | boolean;
  signal?: AbortSignal;
}

/**
 * Keep an exponential moving average of the classifier's weights, updated after every iteration,
 * and classify with it (`raw: true` reads the trained weights). It is the zero-started average
 * divided by 1 − decay^t, as Adam corrects its moments, so early weights fade at the rate `decay`
 * and the initial ones weigh nothing. Salimans et al.'s code scores its MNIST and CIFAR-10
 * classifiers this way, with decay 0.9999.
 */
export interface ClassifierAverage {
  decay: number;
}

/** Which weights `logits`, `predict`, `classify` and `error` read. */
export interface ClassifyOptions {
  /** The trained weights rather than their moving average (no effect without `ema`). */
  raw?: boolean;
}

/** The data as a model holds it once checked. */
export interface BoundData {
  data: SemiSupervisedData;
  labelled: Matrix;
  unlabelled: Matrix;
  /** The labelled rows' classes as one-hot rows. */
  oneHot: Matrix;
}

export abstract class SemiSupervisedModel<Step> extends TrainedModel {
  /** K, the classes of the labelled rows. */
  readonly classCount: number;
  /** Unlabelled rows (and at most as many labelled rows) per step. */
  readonly batchSize: number;
  /** Values per row of data. */
  readonly inputSize: number;
  /** The labelled rows' order and cursor, apart from the unlabelled rows' (`source`). */
  protected readonly labelledSource: MinibatchSource;
  protected bound: BoundData | null = null;
  /** The `ema` option's decay, null without it. */
  readonly emaDecay: number | null;
  /** The classifier's stacks, input to logits, by their module names. */
  private readonly classifierModules: readonly (readonly [string, Stack])[];
  /** Their moving average (`ema`), owned by the model; null without it. */
  private readonly average: MovingAverage | null;
  /** The class's name in messages, and what to train instead when no row is labelled. */
  private readonly name: string;
  private readonly without: string;

  protected constructor(setup: Omit<TrainedModelSetup, 'order'> & { name: string; inputSize: number; classCount: number; batchSize: number; without: string; classifier: readonly (readonly [string, Stack])[]; ema: ClassifierAverage | undefined }) {
    // Checked before anything is allocated.
    const averaged = setup.classifier.map(([, s]) => s);
    const decay = setup.ema === undefined ? null : emaDecay(setup.ema, setup.name, averaged);
    super({ ...setup, order: 'endless' });
    this.name = setup.name;
    this.inputSize = setup.inputSize;
    this.classCount = setup.classCount;
    this.batchSize = setup.batchSize;
    this.without = setup.without;
    this.classifierModules = setup.classifier;
    this.labelledSource = this.own(new MinibatchSource(this.rng));
    this.emaDecay = decay;
    this.average = decay === null ? null : this.own(new MovingAverage(averaged, decay, true));
  }

  /** One training iteration on the bound data. */
  protected abstract iteration(): Step;

  /** The K class logits per row (inference: no noise, running statistics), from the moving average when the model keeps one. */
  logits(x: MatrixLike, opts: ClassifyOptions = {}): Matrix {
    const what = `${this.name} input`;
    return predictChain(this.classifierStacks(opts), asMatrix(x, this.inputSize, what), what);
  }

  /** The stacks `logits` runs, input first: the moving average's when the model keeps one (unless `raw`). */
  classifierStacks(opts: ClassifyOptions = {}): readonly Stack[] {
    this.assertLive();
    checkKeys(opts, ['raw'], `${this.name} classify options`);
    return opts.raw || !this.average ? this.classifierModules.map(([, s]) => s) : this.average.stacks;
  }

  /** Iterations trained. */
  get iterations(): number {
    return this.stepCount;
  }

  /** Trains on labelled and unlabelled rows; returns each iteration's step. */
  protected fitSteps(data: SemiSupervisedData, opts: SemiSupervisedFitOptions<Step>): Step[] {
    this.assertLive();
    checkKeys(opts, ['iterations', 'epochs', 'onStep', 'signal'], `${this.name} fit options`);
    const rows = this.bind(data).unlabelled.shape[0];
    if (opts.iterations !== undefined && opts.epochs !== undefined) throw new LatentkitError('give iterations or epochs, not both');
    const iterations = opts.iterations !== undefined
      ? positiveInt(opts.iterations, 'iterations')
      : Math.max(1, Math.round((positiveInt(opts.epochs ?? 1, 'epochs') * rows) / this.batchSize));
    const steps: Step[] = [];
    for (let i = 0; i < iterations; i++) {
      if (opts.signal?.aborted) break;
      const step = this.advance();
      steps.push(step);
      if (opts.onStep?.(step) === false) break;
    }
    return steps;
  }

  /** One iteration on `data` (checked once while the same object is passed). */
  trainStep(data: SemiSupervisedData): Step {
    this.assertLive();
    this.bind(data);
    return this.advance();
  }

  /** Class probabilities per row (the softmax of the K logits). */
  predict(x: MatrixLike, opts: ClassifyOptions = {}): Matrix {
    const z = this.logits(x, opts);
    softmaxRows(z.data, z.shape[0], this.classCount);
    return z;
  }

  /** The most likely class per row. */
  classify(x: MatrixLike, opts: ClassifyOptions = {}): Int32Array {
    const z = this.logits(x, opts);
    return argmaxRows(z.data, z.shape[0], this.classCount);
  }

  /** The share of rows whose class is not `labels`' (test error as a fraction). */
  error(x: MatrixLike, labels: ArrayLike<number>, opts: ClassifyOptions = {}): number {
    return errorRate(this.classify(x, opts), labels, this.classCount, 'error labels');
  }

  /** @internal The moving averages by module name (the classifier's names + `Ema`); empty without `ema`. */
  averageModules(): [string, Stack][] {
    return this.average ? this.classifierModules.map(([name], i) => [`${name}Ema`, this.average!.stacks[i]!]) : [];
  }

  /** @internal Loads the file's moving averages, by module name; the model owns its own, so the loaded copies are released. */
  restoreAverage(ctx: BuildContext): void {
    const names = this.averageModules().map(([name]) => name);
    const saved = names.map((name) => {
      const s = ctx.optional(name);
      if (!s) throw new LatentkitError(`corrupt latentkit model: a ${this.name} with ema needs module ${name}`);
      return s;
    });
    this.average?.load(saved, names);
    for (const s of saved) ctx.release(s);
  }

  /** One iteration, then the classifier's average moved towards its new weights. */
  private advance(): Step {
    const step = this.iteration();
    this.average?.update();
    return step;
  }

  /** @internal */
  override trainingState(): TrainingState {
    return { ...super.trainingState(), labelled: { cursor: this.labelledSource.cursor, order: this.labelledSource.orderToFloats() } };
  }

  /** @internal */
  override restoreTrainingState(s: TrainingState): void {
    super.restoreTrainingState(s);
    // The average has been updated once per iteration since the model was built.
    this.average?.resume(this.stepCount);
    if (s.labelled?.order) this.labelledSource.restore(s.labelled.order, s.labelled.cursor);
  }

  /** Labelled rows per step: a batch, or all of them when there are fewer. */
  protected labelledRows(): number {
    return Math.min(this.batchSize, this.labelledSource.rows);
  }

  /** Checks the data (unless it is the object bound already) and attaches both row sets. */
  protected bind(data: SemiSupervisedData): BoundData {
    if (this.bound && this.bound.data === data) return this.bound;
    const what = this.name;
    if (!data || typeof data !== 'object') throw new LatentkitError(`${what} fit: expected { labelled, labels, unlabelled }`);
    checkKeys(data, ['labelled', 'labels', 'unlabelled'], `${what} data`);
    const cols = this.inputSize;
    if (data.labelled === undefined) throw new LatentkitError(`${what} fit: no labelled rows; it needs at least one labelled row per class it is to learn (for none, train ${this.without})`);
    if (data.unlabelled === undefined) throw new LatentkitError(`${what} fit: no unlabelled rows (the labelled rows may be passed as unlabelled too, as the papers do)`);
    const labelled = asMatrix(data.labelled, cols, `${what} labelled rows`);
    const unlabelled = asMatrix(data.unlabelled, cols, `${what} unlabelled rows`);
    const rows = labelled.shape[0];
    checkLabels(data.labels, rows, this.classCount, `${what} labels`);
    if (unlabelled.shape[0] < this.batchSize) throw new LatentkitError(`the unlabelled rows [${unlabelled.shape[0]}, ${cols}] are fewer than the batch size ${this.batchSize}`);
    const K = this.classCount;
    const oneHot = new Float32Array(rows * K);
    for (let i = 0; i < rows; i++) oneHot[i * K + data.labels[i]!] = 1;
    this.source.attach(unlabelled);
    this.labelledSource.attach(labelled);
    this.bound = { data, labelled, unlabelled, oneHot: { data: oneHot, shape: [rows, K] } };
    return this.bound;
  }
}
