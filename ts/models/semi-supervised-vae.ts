// The semi-supervised VAE of Kingma et al. (2014), M2: a classifier q(y|x), an encoder q(z|x,y) of
// [x, one-hot y] and a decoder p(x|y,z) of [z, one-hot y]. With ℓ(x, y) = −log p(x|y,z) + KL(q(z|x,y)
// ‖ N(0, I)) (one sample of z) and U(x) = Σ_y q(y|x)·ℓ(x, y) − H(q(·|x)), the paper's objective is
//   J^α = Σ over labelled rows of ℓ(x, y) + Σ over unlabelled rows of U(x) + α·N · mean over labelled rows of −log q(y|x)
// (N all rows, N_l labelled, N_u unlabelled; α·N as Kingma et al.'s code scales it), and each step
// descends an unbiased estimate of J^α / N_u from a batch of each:
//   N_l/N_u · mean over labelled rows of ℓ(x, y) + α·N/N_u · mean of their −log q(y|x) + mean over unlabelled rows of U(x).
// Every row, labelled or not, weighs the same in the bound, however often the few labelled rows are
// drawn. The unlabelled rows' bound is taken over every class y at once (m·K rows through the
// encoder and decoder, each weighted by q(y|x)). M1+M2 is this model trained on the latent means
// of a trained VAE (M1).
import { LatentkitError } from '../errors.js';
import type { ModelKind } from '../io/model-kind.js';
import { kernels } from '../runtime/dispatch.js';
import { type Block, heap } from '../runtime/memory.js';
import { Rng } from '../runtime/rng.js';
import { GaussianLatent } from '../nn/gaussian-latent.js';
import { LabelColumns, joinLabels } from '../nn/label-columns.js';
import { copyFloats } from '../nn/layers/layer.js';
import { LOSS } from '../runtime/codes.js';
import { type LossUnit, likelihoodLoss } from '../nn/loss.js';
import { type Matrix, type MatrixLike, asMatrix, positiveInt } from '../nn/matrix.js';
import { writeOneHot } from '../nn/minibatches.js';
import { Optimizer, type OptimizerSpec } from '../nn/optimizer.js';
import { checkKeys } from '../nn/sequential.js';
import { Stack, assertFiniteBlock } from '../nn/stack.js';
import { type StepPlan, trainingStep } from '../nn/train-step.js';
import { checkLabels, softmaxRows } from '../nn/classes.js';
import { type ResolvedLikelihood, type VaeLikelihood, describeLikelihood, resolveLikelihood } from './vae.js';
import { LIKELIHOOD } from '../runtime/codes.js';
import { type ClassifierAverage, type SemiSupervisedData, type SemiSupervisedFitOptions, SemiSupervisedModel } from './semi-supervised.js';

export interface SemiSupervisedVaeOptions {
  /** q(z|x,y): [x, one-hot y] → the means, then the log-variances, of z. */
  encoder: Stack;
  /** p(x|y,z): [z, one-hot y] → the likelihood's parameters. */
  decoder: Stack;
  /** q(y|x): x → K class logits. */
  classifier: Stack;
  /** p(x|y,z): 'bernoulli' (pixels in [0, 1]) or a Gaussian (M1+M2's continuous features). */
  likelihood?: VaeLikelihood;
  /** α, the classification term's weight per row of the data (default 0.1, as the paper): the term is α·N times the labelled rows' mean cross-entropy. */
  alpha?: number;
  /** Unlabelled rows and (at most) labelled rows per step (default 100). */
  batchSize?: number;
  /** Default Adam(3e-4), as the paper. */
  optimizer?: OptimizerSpec;
  seed?: number | bigint;
  guardNonFinite?: boolean;
  /** Classify with a moving average of q(y|x)'s weights (see ClassifierAverage). */
  ema?: ClassifierAverage;
}

export interface SemiSupervisedVaeStep {
  iteration: number;
  /** The whole loss (J^α / N_u), and its parts unweighted: the labelled rows' mean −ELBO, their mean cross-entropy, the unlabelled rows' mean −ELBO. */
  loss: number;
  labelled: number;
  classification: number;
  unlabelled: number;
}

const KEYS = ['encoder', 'decoder', 'classifier', 'likelihood', 'alpha', 'batchSize', 'optimizer', 'seed', 'guardNonFinite', 'ema'];

export class SemiSupervisedVAE extends SemiSupervisedModel<SemiSupervisedVaeStep> {
  readonly encoder: Stack;
  readonly decoder: Stack;
  readonly classifier: Stack;
  readonly alpha: number;
  readonly optimizer: Optimizer;
  private readonly lik: ResolvedLikelihood;
  /** Rows the decoder is scored against: the labelled batch, then the unlabelled batch K times over. */
  private readonly targetL = this.scratch('the labelled rows');
  private readonly targetU = this.scratch('the unlabelled rows, once per class');
  private readonly oneHotL = this.scratch('the labelled rows\' one-hot targets');
  private readonly unlabelledX = this.scratch('the unlabelled batch');
  private readonly q = this.scratch('q(y|x) of the unlabelled batch, per (row, class)');
  private readonly qWeights = this.scratch('K·q(y|x), the weights of the decoder\'s rows');
  private readonly klWeights = this.scratch('q(y|x)/m, the weights of the KL rows');
  private readonly nllRows = this.scratch('−log p(x|y,z) of each (row, class)');
  private readonly klRows = this.scratch('KL of each (row, class)');
  private readonly labelledNll = this.scratch('−log p(x|y,z) of each labelled row');
  private readonly joinL = this.scratch('∂L/∂[z, y], labelled');
  private readonly joinU = this.scratch('∂L/∂[z, y], unlabelled');
  private labelsL = new Int32Array(0);
  private labelsU = new Int32Array(0);
  private readonly plan: StepPlan;
  private readonly parts = { labelled: 0, classification: 0, unlabelled: 0 };
  private readonly labelledKl: () => number;

  constructor(opts: SemiSupervisedVaeOptions) {
    checkKeys(opts, KEYS, 'SemiSupervisedVAE options');
    const { encoder: E, decoder: Dec, classifier: C } = opts;
    if (!(E instanceof Stack) || !(Dec instanceof Stack) || !(C instanceof Stack)) throw new LatentkitError('SemiSupervisedVAE needs three stacks: encoder, decoder and classifier');
    if (new Set([E, Dec, C]).size !== 3) throw new LatentkitError('SemiSupervisedVAE: the encoder, decoder and classifier must be different stacks');
    for (const s of [E, Dec, C]) s.assertLive();
    const K = C.outputSize;
    if (K < 2) throw new LatentkitError(`the classifier ${C.label} must output one logit per class (≥ 2), it outputs ${K}`);
    const d = C.inputSize;
    if (E.inputSize !== d + K) throw new LatentkitError(`the encoder ${E.label} takes ${E.inputSize} values; q(z|x,y) takes x (${d}, the classifier's input) and a one-hot y (${K}): ${d + K}`);
    if (E.outputSize % 2 !== 0) throw new LatentkitError(`the encoder ${E.label} outputs ${E.outputSize} values; it needs 2·latent (the means, then the log-variances)`);
    const L = E.outputSize / 2;
    if (Dec.inputSize !== L + K) throw new LatentkitError(`the decoder ${Dec.label} takes ${Dec.inputSize} values; p(x|y,z) takes z (${L}) and a one-hot y (${K}): ${L + K}`);
    const lik = resolveLikelihood(opts.likelihood ?? 'bernoulli');
    const width = lik.kind === LIKELIHOOD['gaussian-learned'] ? 2 * d : d;
    if (Dec.outputSize !== width) throw new LatentkitError(`the decoder ${Dec.label} outputs ${Dec.outputSize} values; a ${describeLikelihood(lik.spec)} over ${d} features needs ${width}`);
    const alpha = opts.alpha ?? 0.1;
    if (typeof alpha !== 'number' || !(alpha >= 0 && alpha < 1e6)) throw new LatentkitError(`alpha must be a number ≥ 0, got ${alpha}`);
    const batchSize = positiveInt(opts.batchSize ?? 100, 'batchSize');
    super({ what: 'semi-supervised VAE', name: 'SemiSupervisedVAE', seed: opts.seed, networks: [E, Dec, C], inputSize: d, classCount: K, batchSize, without: 'a VAE', classifier: [['classifier', C]], ema: opts.ema });
    this.encoder = E;
    this.decoder = Dec;
    this.classifier = C;
    this.alpha = alpha;
    this.lik = lik;
    this.optimizer = this.own(new Optimizer(opts.optimizer ?? { type: 'adam', lr: 3e-4 }, [E, Dec, C], 'the semi-supervised VAE'));
    const m = batchSize;
    const nl = () => this.labelledRows();

    // Labelled rows: the conditional VAE's bound.
    const labelledWeight = () => this.labelledWeight();
    const latentL = this.own(new GaussianLatent(L, this.rng, labelledWeight));
    this.labelledKl = () => latentL.lastKl;
    const reconL = likelihoodLoss(lik.kind, lik.logVar, () => this.targetL.block.ptr, d, (rows) => this.labelledNll.reserve(2 * rows).ptr, labelledWeight);
    // Unlabelled rows: every class at once, each (row, class) weighted by q(y|x).
    const latentU = this.own(new GaussianLatent(L, this.rng, () => 1, { weights: () => this.klWeights.block.ptr, kl: (rows) => this.klRows.reserve(2 * rows).ptr }));
    const reconU: LossUnit = {
      ...likelihoodLoss(lik.kind, lik.logVar, () => this.targetU.block.ptr, d, (rows) => this.nllRows.reserve(2 * rows).ptr, () => 1, () => this.qWeights.block.ptr),
      name: 'the unlabelled rows\' reconstruction, weighted by q(y|x)',
    };
    const classify: LossUnit = {
      name: 'the labelled rows\' classification',
      apply: (out, rows, cols, grad) => {
        const w = this.classWeight();
        const loss = kernels.loss(LOSS['softmax-cross-entropy'], out, this.oneHotL.block.ptr, 0, rows, cols, grad, w);
        this.parts.classification = loss / w;
        return loss;
      },
    };
    this.plan = {
      optimizer: this.optimizer,
      terms: [
        {
          chain: [E, latentL, new LabelColumns(L, K, () => this.labelsL, Dec, () => this.joinL.reserve(nl() * (L + K))), Dec],
          rows: nl,
          input: (n) => this.stageLabelled(n),
          loss: {
            name: 'the labelled rows\' −ELBO',
            apply: (out, rows, cols, grad) => {
              const loss = reconL.apply(out, rows, cols, grad);
              this.parts.labelled = loss / this.labelledWeight();
              return loss;
            },
          },
        },
        { chain: [C], rows: nl, input: (n) => copyRows(this.targetL.block, C.inputBlock(n), n * d), loss: classify },
        {
          chain: [E, latentU, new LabelColumns(L, K, () => this.labelsU, Dec, () => this.joinU.reserve(m * K * (L + K))), Dec],
          rows: () => m * K,
          input: () => this.stageUnlabelled(m),
          loss: reconU,
        },
        // The classifier again on the unlabelled batch its q(y|x) weighed (the same rows, still staged).
        { chain: [C], input: () => C.inputBlock(m).ptr, loss: { name: 'q(y|x) of the unlabelled rows', apply: (out, rows, cols, grad) => this.unlabelledClassifier(out, rows, cols, grad) } },
      ],
      diverged: this.guard(opts.guardNonFinite),
    };
  }

  get likelihood(): VaeLikelihood {
    return this.lik.spec;
  }

  get latentSize(): number {
    return this.encoder.outputSize / 2;
  }

  /** Trains on labelled and unlabelled rows; returns the per-iteration losses (one optimizer step each). */
  fit(data: SemiSupervisedData, opts: SemiSupervisedFitOptions<SemiSupervisedVaeStep> = {}): { loss: number[] } {
    return { loss: this.fitSteps(data, opts).map((s) => s.loss) };
  }

  /** n rows of E[x|y,z] with z ~ N(0, I): of class `labels` (one for all, or one per row), from `seed` or the model's stream. */
  sample(n: number, opts: { labels: number | ArrayLike<number>; seed?: number | bigint }): Matrix {
    this.assertLive();
    checkKeys(opts, ['labels', 'seed'], 'SemiSupervisedVAE sample options');
    positiveInt(n, 'sample count');
    const labels = typeof opts?.labels === 'number' ? new Int32Array(n).fill(opts.labels) : opts?.labels;
    checkLabels(labels!, n, this.classCount, 'sample labels');
    const L = this.latentSize;
    const K = this.classCount;
    const rng = opts.seed === undefined ? this.rng : new Rng(opts.seed);
    const z = new Float32Array(n * (L + K));
    try {
      const block = heap.alloc(n * L, 'prior samples');
      try {
        rng.normal(block, 0, 1, n * L);
        const drawn = block.read();
        for (let r = 0; r < n; r++) {
          z.set(drawn.subarray(r * L, (r + 1) * L), r * (L + K));
          writeOneHot(z, r * (L + K) + L, K, labels![r]!);
        }
      } finally {
        heap.free(block);
      }
    } finally {
      if (rng !== this.rng) rng.dispose();
    }
    const out = this.decoder.predict({ data: z, shape: [n, L + K] });
    return expectation(out, this.lik, this.classifier.inputSize);
  }

  /** The labelled rows' bound against the unlabelled rows' mean: N_l/N_u. */
  private labelledWeight(): number {
    const { labelled, unlabelled } = this.bound!;
    return labelled.shape[0] / unlabelled.shape[0];
  }

  /** The mean cross-entropy's weight: α·N/N_u, N the labelled and unlabelled rows. */
  private classWeight(): number {
    const { labelled, unlabelled } = this.bound!;
    return (this.alpha * (labelled.shape[0] + unlabelled.shape[0])) / unlabelled.shape[0];
  }

  /** The next labelled batch as [x, one-hot y] in the encoder's input block, x in targetL, the one-hots in oneHotL. */
  private stageLabelled(n: number): number {
    const d = this.classifier.inputSize;
    const K = this.classCount;
    const x = this.labelledSource.next(n, this.targetL.reserve(n * d));
    assertFiniteBlock(x.ptr, n, d, 'labelled rows');
    const oneHot = this.labelledSource.copy(this.labelledSource.cursor - n, n, this.oneHotL.reserve(n * K), this.bound!.oneHot);
    if (this.labelsL.length < n) this.labelsL = new Int32Array(n);
    const f32 = heap.f32;
    for (let r = 0; r < n; r++) {
      let y = 0;
      while (f32[oneHot.index + r * K + y] !== 1) y++;
      this.labelsL[r] = y;
    }
    return joinLabels(x.ptr, n, d, K, (r) => this.labelsL[r]!, this.encoder.inputBlock(n));
  }

  /**
   * The next unlabelled batch: q(y|x) from the classifier (a training-mode pass), then each row once
   * per class as [x, one-hot y] in the encoder's input block, with the weights of those rows.
   */
  private stageUnlabelled(m: number): number {
    const d = this.classifier.inputSize;
    const K = this.classCount;
    const x = this.source.next(m, this.unlabelledX.reserve(m * d));
    assertFiniteBlock(x.ptr, m, d, 'unlabelled rows');
    const C = this.classifier;
    const logits = C.forward(copyRows(x, C.inputBlock(m), m * d), m, true);
    const q = this.q.reserve(m * K);
    heap.f32.copyWithin(q.index, logits >>> 2, (logits >>> 2) + m * K);
    softmaxRows(heap.f32.subarray(q.index, q.index + m * K), m, K);
    const qw = this.qWeights.reserve(m * K);
    const kw = this.klWeights.reserve(m * K);
    const target = this.targetU.reserve(m * K * d);
    // The view is taken after every reserve: one that grows the memory detaches the views before it.
    const f32 = heap.f32;
    for (let i = 0; i < m * K; i++) {
      f32[qw.index + i] = K * f32[q.index + i]!;
      f32[kw.index + i] = f32[q.index + i]! / m;
    }
    if (this.labelsU.length < m * K) this.labelsU = new Int32Array(m * K);
    for (let r = 0; r < m; r++) {
      for (let y = 0; y < K; y++) {
        this.labelsU[r * K + y] = y;
        f32.copyWithin(target.index + (r * K + y) * d, x.index + r * d, x.index + (r + 1) * d);
      }
    }
    return joinLabels(target.ptr, m * K, d, K, (i) => this.labelsU[i]!, this.encoder.inputBlock(m * K));
  }

  /**
   * The classifier's part of the unlabelled bound, Σ_y q(y|x)·(ℓ(x, y) + log q(y|x)) per row: the
   * ℓ-weighted part is counted by the unlabelled term already, so this returns the −H(q) part; the
   * gradient with respect to the logits a is q_j·(g_j − Σ_y q_y·g_y)/m, with g_y = ℓ_y + log q_y.
   */
  private unlabelledClassifier(out: number, rows: number, cols: number, grad: number): number {
    const f32 = heap.f32;
    const nll = new Float64Array(heap.memoryBuffer, this.nllRows.block.ptr, rows * cols);
    const kl = new Float64Array(heap.memoryBuffer, this.klRows.block.ptr, rows * cols);
    const q = new Float64Array(cols);
    const g = new Float64Array(cols);
    let negEntropy = 0;
    let bound = 0;
    for (let r = 0; r < rows; r++) {
      let mx = -Infinity;
      for (let j = 0; j < cols; j++) mx = Math.max(mx, f32[(out >>> 2) + r * cols + j]!);
      let s = 0;
      for (let j = 0; j < cols; j++) s += q[j] = Math.exp(f32[(out >>> 2) + r * cols + j]! - mx);
      let mean = 0;
      for (let j = 0; j < cols; j++) {
        q[j]! /= s;
        const logq = f32[(out >>> 2) + r * cols + j]! - mx - Math.log(s);
        g[j] = nll[r * cols + j]! + kl[r * cols + j]! + logq;
        mean += q[j]! * g[j]!;
        negEntropy += q[j]! * logq;
      }
      bound += mean;
      for (let j = 0; j < cols; j++) f32[(grad >>> 2) + r * cols + j] = (q[j]! * (g[j]! - mean)) / rows;
    }
    this.parts.unlabelled = bound / rows;
    return negEntropy / rows;
  }

  protected iteration(): SemiSupervisedVaeStep {
    const m = this.batchSize;
    const K = this.classCount;
    this.encoder.ensureCapacity(m * K);
    this.decoder.ensureCapacity(m * K);
    this.classifier.ensureCapacity(m);
    const loss = trainingStep(this.plan, m);
    this.stepCount++;
    return { iteration: this.stepCount, loss, ...this.parts, labelled: this.parts.labelled + this.labelledKl() };
  }
}

/** Copies the first n floats of `src` into `dst`; returns dst's offset. */
function copyRows(src: Block, dst: Block, n: number): number {
  copyFloats(src.ptr, dst.ptr, n);
  return dst.ptr;
}

function expectation(out: Matrix, lik: ResolvedLikelihood, d: number): Matrix {
  if (lik.kind === LIKELIHOOD.bernoulli) {
    for (let i = 0; i < out.data.length; i++) out.data[i] = 1 / (1 + Math.exp(-out.data[i]!));
    return out;
  }
  if (lik.kind === LIKELIHOOD['gaussian-fixed']) return out;
  const rows = out.shape[0];
  const means = new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) means.set(out.data.subarray(r * 2 * d, r * 2 * d + d), r * d);
  return { data: means, shape: [rows, d] };
}

export const semiSupervisedVaeKind: ModelKind<SemiSupervisedVAE> = {
  kind: 'semi-supervised-vae',
  type: SemiSupervisedVAE,
  modules: (m) => [['encoder', m.encoder], ['decoder', m.decoder], ['classifier', m.classifier], ...m.averageModules()],
  optimizers: (m) => [['optimizer', m.optimizer]],
  options: (m) => ({ likelihood: m.likelihood, alpha: m.alpha, batchSize: m.batchSize, ...(m.emaDecay !== null && { ema: { decay: m.emaDecay } }) }),
  build: (ctx, o) => {
    const model = new SemiSupervisedVAE({
      encoder: ctx.module('encoder'), decoder: ctx.module('decoder'), classifier: ctx.module('classifier'),
      likelihood: o.likelihood as VaeLikelihood, alpha: o.alpha as number, batchSize: o.batchSize as number, optimizer: o.optimizer as OptimizerSpec,
      ...(o.ema !== undefined && { ema: o.ema as ClassifierAverage }),
    });
    model.restoreAverage(ctx);
    return model;
  },
};
