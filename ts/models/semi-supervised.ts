// What the semi-supervised models (the GAN of Salimans et al. 2016, the VAE of Kingma et al. 2014)
// share: their data — a few labelled rows, many unlabelled ones — checked once, the labelled rows
// drawn in shuffled passes of their own beside the unlabelled ones (both orders resume from a
// checkpoint), the training loop over iterations or epochs of the unlabelled rows, and the
// classifier's answers (probabilities, classes, the error rate) from the model's logits.
import { LatentkitError } from '../errors.js';
import type { TrainingState } from '../io/model-kind.js';
import { argmaxRows, checkLabels, errorRate, softmaxRows } from '../nn/classes.js';
import { type Matrix, type MatrixLike, asMatrix, positiveInt } from '../nn/matrix.js';
import { MinibatchSource } from '../nn/minibatches.js';
import { checkKeys } from '../nn/sequential.js';
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
  /** The class's name in messages, and what to train instead when no row is labelled. */
  private readonly name: string;
  private readonly without: string;

  protected constructor(setup: Omit<TrainedModelSetup, 'order'> & { name: string; inputSize: number; classCount: number; batchSize: number; without: string }) {
    super({ ...setup, order: 'endless' });
    this.name = setup.name;
    this.inputSize = setup.inputSize;
    this.classCount = setup.classCount;
    this.batchSize = setup.batchSize;
    this.without = setup.without;
    this.labelledSource = this.own(new MinibatchSource(this.rng));
  }

  /** One training iteration on the bound data. */
  protected abstract iteration(): Step;

  /** The K class logits per row (inference). */
  abstract logits(x: MatrixLike): Matrix;

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
      const step = this.iteration();
      steps.push(step);
      if (opts.onStep?.(step) === false) break;
    }
    return steps;
  }

  /** One iteration on `data` (checked once while the same object is passed). */
  trainStep(data: SemiSupervisedData): Step {
    this.assertLive();
    this.bind(data);
    return this.iteration();
  }

  /** Class probabilities per row (the softmax of the K logits). */
  predict(x: MatrixLike): Matrix {
    const z = this.logits(x);
    softmaxRows(z.data, z.shape[0], this.classCount);
    return z;
  }

  /** The most likely class per row. */
  classify(x: MatrixLike): Int32Array {
    const z = this.logits(x);
    return argmaxRows(z.data, z.shape[0], this.classCount);
  }

  /** The share of rows whose class is not `labels`' (test error as a fraction). */
  error(x: MatrixLike, labels: ArrayLike<number>): number {
    return errorRate(this.classify(x), labels, this.classCount, 'error labels');
  }

  /** @internal */
  override trainingState(): TrainingState {
    return { ...super.trainingState(), labelled: { cursor: this.labelledSource.cursor, order: this.labelledSource.orderToFloats() } };
  }

  /** @internal */
  override restoreTrainingState(s: TrainingState): void {
    super.restoreTrainingState(s);
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
