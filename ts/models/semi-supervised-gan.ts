// The semi-supervised GAN of Salimans et al. (2016), section 5: the discriminator is a classifier
// over K classes plus an implied "generated" class whose logit is fixed at 0, so that for real
// rows D(x) = Z/(Z + 1) with Z = Σ_k e^{l_k}. Its loss is the labelled rows' cross-entropy over
// the K classes plus `unlabelledWeight` × (½·−ln D(x) on unlabelled rows + ½·−ln(1 − D(G(z))) on
// generated ones), as their code weighs them. The generator is trained by feature matching
// (section 3.1): the squared distance between the mean `features` of an unlabelled batch and of a
// generated one, averaged over the features.
import { LatentkitError } from '../errors.js';
import type { ModelKind } from '../io/model-kind.js';
import { kernels } from '../runtime/dispatch.js';
import { type Block, heap } from '../runtime/memory.js';
import { Rng } from '../runtime/rng.js';
import { assertChain } from '../nn/chain.js';
import { type LossUnit, targetLoss } from '../nn/loss.js';
import { positiveInt } from '../nn/matrix.js';
import { Optimizer, type OptimizerSpec } from '../nn/optimizer.js';
import { checkKeys } from '../nn/sequential.js';
import { Stack, assertFiniteBlock } from '../nn/stack.js';
import { divergenceGuard, type StepPlan, trainingStep } from '../nn/train-step.js';
import { type NoiseDistribution, type NoiseSpec, fillNoise, generateRows, noiseDistribution } from './generator-noise.js';
import { type ClassifierAverage, type SemiSupervisedData, type SemiSupervisedFitOptions, SemiSupervisedModel } from './semi-supervised.js';

export interface SemiSupervisedGanOptions {
  /** Maps noise z (width noise.dim) to samples. */
  generator: Stack;
  /** The discriminator up to the layer whose mean the generator matches (Salimans et al.'s last hidden layer). */
  features: Stack;
  /** The rest of the discriminator: features to K ≥ 2 class logits (no "generated" logit: it is fixed at 0). */
  classes: Stack;
  /** Default uniform on [−1, 1), as the paper's uniform noise. */
  noise: NoiseSpec;
  /** Unlabelled rows, generated rows and (at most) labelled rows per step (default 100, as the paper). */
  batchSize?: number;
  /** The weight of the unlabelled (real/generated) term against the labelled cross-entropy (default 1, as the paper). */
  unlabelledWeight?: number;
  /** Default Adam(3e-3, β1 = 0.5) for both, the paper's MNIST settings. */
  optimizerD?: OptimizerSpec;
  optimizerG?: OptimizerSpec;
  seed?: number | bigint;
  guardNonFinite?: boolean;
  /** Classify with a moving average of the discriminator's weights (see ClassifierAverage). */
  ema?: ClassifierAverage;
}

export interface SemiSupervisedGanStep {
  iteration: number;
  /** The discriminator's whole loss, and its labelled and unlabelled parts. */
  lossD: number;
  lossLabelled: number;
  lossUnlabelled: number;
  /** The generator's feature-matching loss. */
  lossG: number;
  /** Mean D(x) = Z/(Z + 1) over the unlabelled batch, and mean D(G(z)) over the generated one. */
  dReal: number;
  dFake: number;
}

export type SemiSupervisedGanFitOptions = SemiSupervisedFitOptions<SemiSupervisedGanStep>;

const KEYS = ['generator', 'features', 'classes', 'noise', 'batchSize', 'unlabelledWeight', 'optimizerD', 'optimizerG', 'seed', 'guardNonFinite', 'ema'];
const DEFAULT_OPT: OptimizerSpec = { type: 'adam', lr: 3e-3, beta1: 0.5 };

/** The real/generated term on K logits (one kernel call), keeping the mean D of its last batch. */
class RealOrGenerated implements LossUnit {
  meanD = 0;
  lastLoss = 0;
  constructor(readonly name: string, private readonly real: boolean, private readonly weight: number) {}

  apply(out: number, rows: number, cols: number, grad: number): number {
    const loss = kernels.gan_classes(out, rows, cols, this.real ? 1 : 0, grad, this.weight);
    // D = Z/(Z + 1) = σ(lse), from the logits the kernel read.
    const f32 = heap.f32;
    let sum = 0;
    for (let r = 0; r < rows; r++) {
      const at = (out >>> 2) + r * cols;
      let mx = -Infinity;
      for (let j = 0; j < cols; j++) mx = Math.max(mx, f32[at + j]!);
      let z = 0;
      for (let j = 0; j < cols; j++) z += Math.exp(f32[at + j]! - mx);
      sum += 1 / (1 + Math.exp(-(mx + Math.log(z))));
    }
    this.meanD = sum / rows;
    this.lastLoss = loss;
    return loss;
  }
}

export class SemiSupervisedGAN extends SemiSupervisedModel<SemiSupervisedGanStep> {
  readonly generator: Stack;
  readonly features: Stack;
  readonly classes: Stack;
  readonly noiseDim: number;
  readonly noiseDistribution: NoiseDistribution;
  readonly unlabelledWeight: number;
  readonly optimizerD: Optimizer;
  readonly optimizerG: Optimizer;
  private readonly targets = this.scratch('the labelled rows\' one-hot targets');
  /** The mean features of the unlabelled batch the generator's step matches. */
  private readonly featureTarget = this.scratch('the mean features of an unlabelled batch');
  private readonly labelledLoss: LossUnit;
  private readonly realLoss: RealOrGenerated;
  private readonly fakeLoss: RealOrGenerated;
  private readonly discriminatorStep: StepPlan;
  private readonly generatorStep: StepPlan;

  constructor(opts: SemiSupervisedGanOptions) {
    checkKeys(opts, KEYS, 'SemiSupervisedGAN options');
    const { generator: G, features: F, classes: C } = opts;
    if (!(G instanceof Stack) || !(F instanceof Stack) || !(C instanceof Stack)) throw new LatentkitError('SemiSupervisedGAN needs three stacks: generator, features and classes');
    assertChain([G, F, C], 'SemiSupervisedGAN (generator → features → classes)');
    if (C.outputSize < 2) throw new LatentkitError(`the classes stack ${C.label} must output one logit per class (≥ 2), it outputs ${C.outputSize}`);
    const dim = opts.noise?.dim;
    positiveInt(dim, 'noise.dim');
    if (dim !== G.inputSize) throw new LatentkitError(`noise.dim is ${dim} but the generator ${G.label} takes ${G.inputSize} inputs`);
    const dist = noiseDistribution(opts.noise.distribution, 'uniform');
    const batchSize = positiveInt(opts.batchSize ?? 100, 'batchSize');
    const w = opts.unlabelledWeight ?? 1;
    if (typeof w !== 'number' || !(w >= 0 && w < 1e6)) throw new LatentkitError(`unlabelledWeight must be a number ≥ 0, got ${w}`);
    super({ what: 'semi-supervised GAN', name: 'SemiSupervisedGAN', seed: opts.seed, networks: [G, F, C], inputSize: F.inputSize, classCount: C.outputSize, batchSize, without: 'a GAN', classifier: [['features', F], ['classes', C]], ema: opts.ema });
    this.generator = G;
    this.features = F;
    this.classes = C;
    this.noiseDim = dim;
    this.noiseDistribution = dist;
    this.unlabelledWeight = w;
    this.featureTarget.reserve(F.outputSize);
    this.optimizerD = this.own(new Optimizer(opts.optimizerD ?? DEFAULT_OPT, [F, C], 'the discriminator'));
    this.optimizerG = this.own(new Optimizer(opts.optimizerG ?? DEFAULT_OPT, [G], 'the generator'));
    const guard = opts.guardNonFinite ?? true;
    const diverged = (who: string) => divergenceGuard(guard, () => this.stepCount, who);
    const m = batchSize;
    this.labelledLoss = targetLoss('softmax-cross-entropy', () => this.targets.block.ptr, 'the labelled rows');
    this.realLoss = new RealOrGenerated('discriminator on unlabelled rows', true, w / 2);
    this.fakeLoss = new RealOrGenerated('discriminator on generated rows', false, w / 2);
    // The discriminator's step: labelled rows, then unlabelled ones, then generated ones (G passes nothing back).
    this.discriminatorStep = {
      optimizer: this.optimizerD,
      terms: [
        { chain: [F, C], rows: () => this.labelledRows(), input: (n) => this.nextLabelledBatch(n).ptr, loss: this.labelledLoss },
        { chain: [F, C], input: () => this.nextUnlabelledBatch(m).ptr, loss: this.realLoss },
        { chain: [G, F, C], input: () => this.drawNoise(this.rng, m).ptr, loss: this.fakeLoss },
      ],
      diverged: diverged('discriminator'),
    };
    // The generator's step: the mean features of a fresh unlabelled batch (a training-mode pass,
    // as the paper's), then generated rows through G and F, F passing gradients only.
    const matching: LossUnit = {
      name: 'feature matching',
      apply: (out, rows, cols, grad) => kernels.feature_matching(out, rows, cols, this.featureTarget.block.ptr, grad, 1),
    };
    this.generatorStep = {
      optimizer: this.optimizerG,
      terms: [{
        chain: [G, F],
        input: () => {
          const real = this.nextUnlabelledBatch(m);
          kernels.column_means(F.forward(real.ptr, m, true), m, F.outputSize, this.featureTarget.block.ptr);
          return this.drawNoise(this.rng, m).ptr;
        },
        loss: matching,
      }],
      diverged: diverged('generator'),
    };
  }

  /** Trains on labelled and unlabelled rows; returns the per-iteration losses. Each iteration is one discriminator step and one generator step. */
  fit(data: SemiSupervisedData, opts: SemiSupervisedGanFitOptions = {}): { lossD: number[]; lossG: number[] } {
    const steps = this.fitSteps(data, opts);
    return { lossD: steps.map((s) => s.lossD), lossG: steps.map((s) => s.lossG) };
  }

  /** n generated samples, from the model's own noise stream or from `seed`. */
  sample(n: number, opts: { seed?: number | bigint } = {}): Float32Array {
    this.assertLive();
    checkKeys(opts, ['seed'], 'SemiSupervisedGAN sample options');
    positiveInt(n, 'sample count');
    const rng = opts.seed === undefined ? this.rng : new Rng(opts.seed);
    try {
      return generateRows(this.generator, n, (m) => this.drawNoise(rng, m));
    } finally {
      if (rng !== this.rng) rng.dispose();
    }
  }

  private nextLabelledBatch(n: number): Block {
    const F = this.features;
    const dst = this.labelledSource.next(n, F.inputBlock(n));
    assertFiniteBlock(dst.ptr, n, F.inputSize, 'labelled rows');
    this.labelledSource.copy(this.labelledSource.cursor - n, n, this.targets.reserve(n * this.classCount), this.bound!.oneHot);
    return dst;
  }

  private nextUnlabelledBatch(m: number): Block {
    const F = this.features;
    const dst = this.source.next(m, F.inputBlock(m));
    assertFiniteBlock(dst.ptr, m, F.inputSize, 'unlabelled rows');
    return dst;
  }

  private drawNoise(rng: Rng, m: number): Block {
    const z = this.generator.inputBlock(m);
    fillNoise(rng, z, m * this.noiseDim, this.noiseDistribution);
    return z;
  }

  protected iteration(): SemiSupervisedGanStep {
    const m = this.batchSize;
    for (const s of [this.generator, this.features, this.classes]) s.ensureCapacity(m);
    const it = this.stepCount + 1;
    const lossD = trainingStep(this.discriminatorStep, m);
    const lossG = trainingStep(this.generatorStep, m);
    this.stepCount = it;
    const lossUnlabelled = this.realLoss.lastLoss + this.fakeLoss.lastLoss;
    return { iteration: it, lossD, lossLabelled: lossD - lossUnlabelled, lossUnlabelled, lossG, dReal: this.realLoss.meanD, dFake: this.fakeLoss.meanD };
  }
}

export const semiSupervisedGanKind: ModelKind<SemiSupervisedGAN> = {
  kind: 'semi-supervised-gan',
  type: SemiSupervisedGAN,
  modules: (m) => [['generator', m.generator], ['features', m.features], ['classes', m.classes], ...m.averageModules()],
  optimizers: (m) => [['optimizerD', m.optimizerD], ['optimizerG', m.optimizerG]],
  options: (m) => ({
    noise: { dim: m.noiseDim, distribution: m.noiseDistribution }, batchSize: m.batchSize, unlabelledWeight: m.unlabelledWeight,
    ...(m.emaDecay !== null && { ema: { decay: m.emaDecay } }),
  }),
  build: (ctx, o) => {
    const model = new SemiSupervisedGAN({
      generator: ctx.module('generator'), features: ctx.module('features'), classes: ctx.module('classes'),
      noise: o.noise as SemiSupervisedGanOptions['noise'], batchSize: o.batchSize as number, unlabelledWeight: o.unlabelledWeight as number,
      optimizerD: o.optimizerD as OptimizerSpec, optimizerG: o.optimizerG as OptimizerSpec,
      ...(o.ema !== undefined && { ema: o.ema as ClassifierAverage }),
    });
    model.restoreAverage(ctx);
    return model;
  },
};
