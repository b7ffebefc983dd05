import { LatentkitError } from '../errors.js';
import { Block, heap } from '../runtime/memory.js';
import { Rng } from '../runtime/rng.js';
import { LabelColumns } from '../nn/label-columns.js';
import { type GanObjective, ganObjectives } from '../nn/loss.js';
import { type Matrix, type MatrixLike, asMatrix, positiveInt } from '../nn/matrix.js';
import { writeOneHot } from '../nn/minibatches.js';
import { type ChainNode, divergenceGuard, type StepPlan, trainingStep } from '../nn/train-step.js';
import { TrainedModel } from '../nn/trained-model.js';
import { Optimizer, type OptimizerSpec } from '../nn/optimizer.js';
import { MovingAverage, emaDecay } from '../nn/moving-average.js';
import { checkKeys } from '../nn/sequential.js';
import type { ModelKind } from '../io/model-kind.js';
import { Stack, assertFiniteBlock } from '../nn/stack.js';
import { type NoiseDistribution, type NoiseSpec, fillNoise, generateRows, noiseDistribution } from './generator-noise.js';

export interface GanOptions {
  /** Maps noise z (width noise.dim) to samples; with `conditions`, [z, one-hot label]. */
  generator: Stack;
  /** Maps a sample to one logit: D(x) = σ(logit) is the probability that x is real; with `conditions`, [x, one-hot label]. */
  discriminator: Stack;
  /**
   * A conditional GAN (Mirza & Osindero 2014) over this many classes: the generator takes
   * [z, one-hot y] and the discriminator [x, one-hot y]; `fit` needs `labels` and `sample` takes
   * them. Default 0 (unconditional).
   */
  conditions?: number;
  noise: NoiseSpec;
  /** Discriminator steps per iteration (default 1). */
  k?: number;
  /** m: real samples and noise vectors per minibatch (default 64). */
  batchSize?: number;
  /** 'non-saturating' (default): descend −log D(G(z)); 'minimax': descend log(1 − D(G(z))) as in Goodfellow et al. 2014. */
  generatorLoss?: 'minimax' | 'non-saturating';
  /** Default Adam(2e-4, β1 = 0.5) for both. */
  optimizerD?: OptimizerSpec;
  optimizerG?: OptimizerSpec;
  /** One-sided label smoothing: real samples get target 1 − labelSmoothing (default 0). */
  labelSmoothing?: number;
  seed?: number | bigint;
  guardNonFinite?: boolean;
  /**
   * Keep an exponential moving average of the generator's weights, updated after every
   * generator step (θ̄ ← decay·θ̄ + (1 − decay)·θ), and sample from it: it smooths the
   * oscillation of GAN training, so the result depends less on where training stops.
   */
  ema?: { decay: number };
}

export interface GanStep {
  iteration: number;
  lossD: number;
  lossG: number;
  /** Mean D(x) over the last real minibatch, as a probability. */
  dReal: number;
  /** Mean D(G(z)) over the last fake minibatch of the discriminator step. */
  dFake: number;
}

export interface GanUpdate {
  network: 'discriminator' | 'generator';
  iteration: number;
  /** 0..k−1 for the discriminator. */
  step: number;
  /** Rows of the training set in this discriminator step's real minibatch. */
  realIndices?: Uint32Array;
}

export interface GanFitOptions {
  /** Iterations to run (or use epochs: passes of k·m real samples over the data). */
  iterations?: number;
  epochs?: number;
  onStep?: (s: GanStep) => void | boolean;
  /** Called after every optimizer update (for inspecting the schedule). */
  onUpdate?: (u: GanUpdate) => void;
  signal?: AbortSignal;
  /** The class of each real sample (integers in [0, conditions)); required by, and only for, a conditional GAN. */
  labels?: ArrayLike<number>;
}

export interface GanTrainStepOptions {
  /** The class of each real sample; required by, and only for, a conditional GAN. */
  labels?: ArrayLike<number>;
  /** Called after every optimizer update (for inspecting the schedule). */
  onUpdate?: (u: GanUpdate) => void;
}

export interface GanSampleOptions {
  seed?: number | bigint;
  /** Sample the trained generator itself rather than its moving average. */
  raw?: boolean;
  /** Conditional GANs: one class for every sample, or one per sample (default: uniformly random classes). */
  labels?: number | ArrayLike<number>;
}

const KEYS = ['generator', 'discriminator', 'conditions', 'noise', 'k', 'batchSize', 'generatorLoss', 'optimizerD', 'optimizerG', 'labelSmoothing', 'seed', 'guardNonFinite', 'ema'];
const DEFAULT_OPT: OptimizerSpec = { type: 'adam', lr: 2e-4, beta1: 0.5 };

/**
 * A generative adversarial network trained by the algorithm of Goodfellow et
 * al. (2014): each iteration takes k discriminator steps, each on its own
 * minibatch of m real samples and m noise vectors, then one generator step on
 * fresh noise. Generator and discriminator stay the caller's stacks.
 */
export class GAN extends TrainedModel {
  readonly generator: Stack;
  readonly discriminator: Stack;
  readonly noiseDim: number;
  readonly noiseDistribution: NoiseDistribution;
  /** Classes of a conditional GAN; 0 when unconditional. */
  readonly conditions: number;
  /** Values per sample: the generator's outputs. */
  readonly sampleSize: number;
  readonly k: number;
  readonly batchSize: number;
  readonly generatorLoss: 'minimax' | 'non-saturating';
  readonly labelSmoothing: number;
  readonly optimizerD: Optimizer;
  readonly optimizerG: Optimizer;
  /** The generator's moving average (`ema` option), owned by the GAN; null without it. */
  readonly generatorEma: Stack | null = null;
  readonly emaDecay: number | null = null;
  private readonly average: MovingAverage | null = null;
  /** The data `source` holds, as the caller passed it (a trainStep with the same arrays reuses it). */
  private bound: { real: MatrixLike; labels: ArrayLike<number> | undefined; x: Matrix; labelArray: ArrayLike<number> | null } | null = null;
  /** Conditional GANs: ∂L/∂[x, y] from the discriminator, before the label columns are dropped. */
  private readonly dInput = this.scratch('the discriminator input gradient');
  /** Conditional GANs: the labels the generator step drew. */
  private generatedLabels: Int32Array;
  private readonly realLoss: GanObjective;
  private readonly fakeLoss: GanObjective;
  private readonly generatorObjective: GanObjective;
  private readonly discriminatorStep: StepPlan;
  private readonly generatorStep: StepPlan;

  constructor(opts: GanOptions) {
    checkKeys(opts, KEYS, 'GAN options');
    const { generator: G, discriminator: D } = opts;
    if (!(G instanceof Stack) || !(D instanceof Stack)) throw new LatentkitError('GAN needs a generator stack and a discriminator stack');
    G.assertLive();
    D.assertLive();
    const c = opts.conditions ?? 0;
    if (!Number.isInteger(c) || c < 0 || c === 1) throw new LatentkitError(`conditions must be 0 (unconditional) or a number of classes ≥ 2, got ${c}`);
    if (G.outputSize + c !== D.inputSize) {
      throw new LatentkitError(c === 0
        ? `the generator ${G.label} outputs ${G.outputSize} values but the discriminator ${D.label} takes ${D.inputSize}`
        : `the discriminator ${D.label} takes ${D.inputSize} inputs but a sample and its one-hot label are ${G.outputSize} + ${c} = ${G.outputSize + c}`);
    }
    if (D.outputSize !== 1) throw new LatentkitError(`the discriminator ${D.label} must output 1 logit, it outputs ${D.outputSize}`);
    const dim = opts.noise?.dim;
    positiveInt(dim, 'noise.dim');
    if (dim + c !== G.inputSize) {
      throw new LatentkitError(c === 0
        ? `noise.dim is ${dim} but the generator ${G.label} takes ${G.inputSize} inputs`
        : `the generator ${G.label} takes ${G.inputSize} inputs but noise and a one-hot label are ${dim} + ${c} = ${dim + c}`);
    }
    const dist = noiseDistribution(opts.noise.distribution, 'normal');
    const k = opts.k ?? 1;
    if (!Number.isInteger(k) || k < 1) throw new LatentkitError(`k (discriminator steps per iteration) must be an integer ≥ 1, got ${k}`);
    const loss = opts.generatorLoss ?? 'non-saturating';
    if (loss !== 'minimax' && loss !== 'non-saturating') throw new LatentkitError(`generatorLoss must be 'minimax' or 'non-saturating', got ${JSON.stringify(loss)}`);
    const s = opts.labelSmoothing ?? 0;
    if (typeof s !== 'number' || !(s >= 0 && s < 0.5)) throw new LatentkitError(`labelSmoothing must be in [0, 0.5), got ${s}`);
    const batchSize = positiveInt(opts.batchSize ?? 64, 'batchSize');
    const decay = opts.ema === undefined ? null : emaDecay(opts.ema, 'GAN', [G]);
    super({ what: 'GAN', seed: opts.seed, networks: [G, D], order: 'endless' });
    this.generator = G;
    this.discriminator = D;
    this.noiseDim = dim;
    this.noiseDistribution = dist;
    this.conditions = c;
    this.sampleSize = G.outputSize;
    this.k = k;
    this.batchSize = batchSize;
    this.generatorLoss = loss;
    this.labelSmoothing = s;
    const guard = opts.guardNonFinite ?? true;
    this.generatedLabels = new Int32Array(batchSize);
    if (c > 0) this.dInput.reserve(batchSize * D.inputSize);
    this.optimizerD = this.own(new Optimizer(opts.optimizerD ?? DEFAULT_OPT, [D], 'the discriminator'));
    this.optimizerG = this.own(new Optimizer(opts.optimizerG ?? DEFAULT_OPT, [G], 'the generator'));
    if (decay !== null) {
      this.average = this.own(new MovingAverage([G], decay, false));
      this.generatorEma = this.average.stacks[0]!;
      this.emaDecay = decay;
    }
    // Algorithm 1 as two training steps. Discriminator: a real minibatch, then fakes from fresh
    // noise (a conditional GAN's fakes take the real minibatch's labels). Generator: fresh noise
    // (and labels drawn from the training labels) through G and D, D passing gradients only.
    const m = this.batchSize;
    const joined = (labels: () => Int32Array): ChainNode[] => (c > 0 ? [G, new LabelColumns(G.outputSize, c, labels, D, () => this.dInput.block), D] : [G, D]);
    this.realLoss = ganObjectives.real(s);
    this.fakeLoss = ganObjectives.fake();
    this.generatorObjective = ganObjectives[loss]();
    const diverged = (who: string) => divergenceGuard(guard, () => this.stepCount, who);
    this.discriminatorStep = {
      optimizer: this.optimizerD,
      terms: [
        { chain: [D], input: () => this.nextRealBatch(m).ptr, loss: this.realLoss },
        { chain: joined(() => this.source.batchLabels), input: () => this.drawNoise(this.rng, m, G, c ? (r) => this.source.batchLabels[r]! : undefined).ptr, loss: this.fakeLoss },
      ],
      diverged: diverged('discriminator'),
    };
    // Labels are drawn after the noise, so the noise stream is the unconditional GAN's up to there.
    const drawLabel = (r: number) => (this.generatedLabels[r] = this.bound!.labelArray![this.rng.below(this.source.rows)]!);
    this.generatorStep = {
      optimizer: this.optimizerG,
      terms: [{ chain: joined(() => this.generatedLabels), input: () => this.drawNoise(this.rng, m, G, c ? drawLabel : undefined).ptr, loss: this.generatorObjective }],
      diverged: diverged('generator'),
    };
  }

  /** Iterations of Algorithm 1 trained. */
  get iterations(): number {
    return this.stepCount;
  }

  /** Runs training iterations on `real` (rows = samples); returns the per-iteration losses. */
  fit(real: MatrixLike, opts: GanFitOptions = {}): { lossD: number[]; lossG: number[] } {
    this.assertLive();
    checkKeys(opts, ['iterations', 'epochs', 'onStep', 'onUpdate', 'signal', 'labels'], 'GAN fit options');
    const rows = this.bind(real, opts.labels).shape[0];
    if (opts.iterations !== undefined && opts.epochs !== undefined) throw new LatentkitError('give iterations or epochs, not both');
    const iterations = opts.iterations !== undefined
      ? positiveInt(opts.iterations, 'iterations')
      : Math.max(1, Math.round((positiveInt(opts.epochs ?? 1, 'epochs') * rows) / (this.k * this.batchSize)));
    const history = { lossD: [] as number[], lossG: [] as number[] };
    for (let i = 0; i < iterations; i++) {
      if (opts.signal?.aborted) break;
      const step = this.iteration(opts.onUpdate);
      history.lossD.push(step.lossD);
      history.lossG.push(step.lossG);
      if (opts.onStep?.(step) === false) break;
    }
    return history;
  }

  /**
   * One iteration of Algorithm 1 on `real`: k discriminator steps, each on its own minibatch of
   * m real rows (an epoch-wise shuffled pass that continues across calls) and m noise vectors,
   * then one generator step. Returns the losses and the mean D outputs. Passing the same arrays
   * again skips re-checking them (the labels of a conditional GAN are checked once).
   */
  trainStep(real: MatrixLike, opts: GanTrainStepOptions = {}): GanStep {
    this.assertLive();
    checkKeys(opts, ['labels', 'onUpdate'], 'GAN trainStep options');
    this.bind(real, opts.labels);
    return this.iteration(opts.onUpdate);
  }

  /** Attaches the training rows (and labels) to the minibatch source, checking them unless they are the ones attached. */
  private bind(real: MatrixLike, labels: ArrayLike<number> | undefined): Matrix {
    if (this.bound && this.bound.real === real && this.bound.labels === labels) return this.bound.x;
    const x = asMatrix(real, this.sampleSize, 'GAN real samples');
    const rows = x.shape[0];
    const labelArray = this.checkLabels(labels, rows, x.shape[1]);
    if (rows < this.batchSize) throw new LatentkitError(`the training set [${rows}, ${x.shape[1]}] has fewer rows than the batch size ${this.batchSize}`);
    this.source.attach(x, labelArray ? { labels: labelArray, classes: this.conditions } : null);
    this.bound = { real, labels, x, labelArray };
    return x;
  }

  /**
   * n generated samples, from the GAN's own noise stream or from `seed`; from the moving-average
   * generator when the GAN keeps one (`raw: true` samples the trained generator itself).
   */
  sample(n: number, opts: GanSampleOptions = {}): Float32Array {
    this.assertLive();
    checkKeys(opts, ['seed', 'raw', 'labels'], 'GAN sample options');
    positiveInt(n, 'sample count');
    const labels = this.sampleLabels(n, opts.labels);
    const rng = opts.seed === undefined ? this.rng : new Rng(opts.seed);
    const G = opts.raw || !this.generatorEma ? this.generator : this.generatorEma;
    try {
      return generateRows(G, n, (m, r) => this.drawNoise(rng, m, G, labels ? (i) => labels(r + i, rng) : undefined));
    } finally {
      if (rng !== this.rng) rng.dispose();
    }
  }

  /**
   * m noise rows in the generator's input block; for a conditional GAN each row is followed by
   * the one-hot of label(row). The noise values are the same as an unconditional GAN's.
   */
  private drawNoise(rng: Rng, m: number, into: Stack = this.generator, label?: (row: number) => number): Block {
    const z = into.inputBlock(m);
    const d = this.noiseDim;
    fillNoise(rng, z, m * d, this.noiseDistribution);
    const c = this.conditions;
    if (c > 0) {
      // Spread the rows from the last one down (each moves right, over no unread row), then add the labels.
      const f32 = heap.f32;
      const base = z.ptr >>> 2;
      for (let r = m - 1; r >= 0; r--) {
        const at = base + r * (d + c);
        f32.copyWithin(at, base + r * d, base + r * d + d);
        writeOneHot(f32, at + d, c, label!(r));
      }
    }
    return z;
  }

  private checkLabels(labels: ArrayLike<number> | undefined, rows: number, cols: number): ArrayLike<number> | null {
    const c = this.conditions;
    if (c === 0) {
      if (labels !== undefined) throw new LatentkitError('labels are for a conditional GAN (conditions: n); this GAN is unconditional');
      return null;
    }
    if (labels === undefined) throw new LatentkitError(`this GAN is conditioned on ${c} classes: fit needs labels, one per row of the [${rows}, ${cols}] samples`);
    if (!labels || typeof labels.length !== 'number') throw new LatentkitError('GAN fit labels: expected an array of class indices');
    if (labels.length !== rows) throw new LatentkitError(`GAN fit labels: ${labels.length} labels for ${rows} rows`);
    for (let i = 0; i < rows; i++) {
      const l = labels[i]!;
      if (!Number.isInteger(l) || l < 0 || l >= c) throw new LatentkitError(`GAN fit labels: label ${i} is ${l}, expected an integer in [0, ${c})`);
    }
    return labels;
  }

  /** The label of each sample for `sample`, or null for an unconditional GAN. */
  private sampleLabels(n: number, labels: number | ArrayLike<number> | undefined): ((i: number, rng: Rng) => number) | null {
    const c = this.conditions;
    if (c === 0) {
      if (labels !== undefined) throw new LatentkitError('sample labels are for a conditional GAN (conditions: n); this GAN is unconditional');
      return null;
    }
    const check = (l: number, what: string) => {
      if (!Number.isInteger(l) || l < 0 || l >= c) throw new LatentkitError(`sample labels: ${what} is ${l}, expected an integer in [0, ${c})`);
      return l;
    };
    if (labels === undefined) return (_, rng) => rng.below(c);
    if (typeof labels === 'number') {
      const l = check(labels, 'the label');
      return () => l;
    }
    if (!labels || typeof labels.length !== 'number') throw new LatentkitError('sample labels: expected a class index or an array of them');
    if (labels.length !== n) throw new LatentkitError(`sample labels: ${labels.length} labels for ${n} samples`);
    for (let i = 0; i < n; i++) check(labels[i]!, `label ${i}`);
    return (i) => labels[i]!;
  }

  /** The discriminator's next real minibatch, in its input block. */
  private nextRealBatch(m: number): Block {
    const D = this.discriminator;
    const dst = this.source.next(m, D.inputBlock(m));
    assertFiniteBlock(dst.ptr, m, D.inputSize, 'real samples');
    return dst;
  }

  private iteration(onUpdate?: (u: GanUpdate) => void): GanStep {
    const G = this.generator;
    const m = this.batchSize;
    G.ensureCapacity(m);
    this.discriminator.ensureCapacity(m);
    const it = this.stepCount + 1;
    let lossD = 0;
    for (let step = 0; step < this.k; step++) {
      lossD = trainingStep(this.discriminatorStep, m);
      onUpdate?.({ network: 'discriminator', iteration: it, step, realIndices: this.source.lastIndices(m) });
    }
    const lossG = trainingStep(this.generatorStep, m);
    this.average?.update();
    onUpdate?.({ network: 'generator', iteration: it, step: 0 });
    this.stepCount = it;
    return { iteration: it, lossD, lossG, dReal: this.realLoss.meanD, dFake: this.fakeLoss.meanD };
  }

  /** @internal Loads the moving average's weights from `saved` (a stack of the same shape). */
  restoreEma(saved: Stack): void {
    if (!this.average) throw new LatentkitError(`corrupt latentkit model: a generator average ${saved.label} for a GAN without ema`);
    this.average.load([saved], ['generatorEma']);
  }

}

export const ganKind: ModelKind<GAN> = {
  kind: 'gan',
  type: GAN,
  modules: (gan) => {
    const mods: [string, Stack][] = [['generator', gan.generator], ['discriminator', gan.discriminator]];
    return gan.generatorEma ? [...mods, ['generatorEma', gan.generatorEma]] : mods;
  },
  optimizers: (gan) => [['optimizerD', gan.optimizerD], ['optimizerG', gan.optimizerG]],
  options: (gan) => ({
    ...(gan.conditions > 0 && { conditions: gan.conditions }),
    noise: { dim: gan.noiseDim, distribution: gan.noiseDistribution }, k: gan.k, batchSize: gan.batchSize, generatorLoss: gan.generatorLoss,
    labelSmoothing: gan.labelSmoothing, ...(gan.emaDecay !== null && { ema: { decay: gan.emaDecay } }),
  }),
  build: (ctx, o) => {
    const gan = new GAN({
      generator: ctx.module('generator'), discriminator: ctx.module('discriminator'), ...(o.conditions !== undefined && { conditions: o.conditions as number }),
      noise: o.noise as GanOptions['noise'], k: o.k as number, batchSize: o.batchSize as number, generatorLoss: o.generatorLoss as GanOptions['generatorLoss'],
      labelSmoothing: o.labelSmoothing as number, optimizerD: o.optimizerD as OptimizerSpec, optimizerG: o.optimizerG as OptimizerSpec,
      ...(o.ema !== undefined && { ema: o.ema as { decay: number } }),
    });
    // The GAN owns its average: copy the saved one in, then let the loaded copy go.
    const saved = ctx.optional('generatorEma');
    if (gan.generatorEma && !saved) throw new LatentkitError('corrupt latentkit model: a GAN with ema needs module generatorEma');
    if (saved) {
      gan.restoreEma(saved);
      ctx.release(saved);
    }
    return gan;
  },
};
