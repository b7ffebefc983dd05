import { LatentkitError } from '../errors.js';
import { LIKELIHOOD } from '../runtime/codes.js';
import { type Block, heap } from '../runtime/memory.js';
import { Rng } from '../runtime/rng.js';
import { kernels } from '../runtime/dispatch.js';
import { GaussianLatent } from '../nn/gaussian-latent.js';
import { LabelColumns } from '../nn/label-columns.js';
import type { BatchProgress } from '../nn/loop.js';
import { likelihoodLoss } from '../nn/loss.js';
import { writeOneHot } from '../nn/minibatches.js';
import { type ChainNode, type StepPlan } from '../nn/train-step.js';
import { TrainedModel } from '../nn/trained-model.js';
import { type Matrix, type MatrixLike, asMatrix, positiveInt } from '../nn/matrix.js';
import { Optimizer, type OptimizerConfig, type OptimizerSpec } from '../nn/optimizer.js';
import type { ModelKind } from '../io/model-kind.js';
import { checkKeys } from '../nn/sequential.js';
import { Stack, assertFiniteBlock } from '../nn/stack.js';

/**
 * p(x|z): `'bernoulli'` (the decoder outputs one logit per feature; data in [0, 1]), or a
 * Gaussian whose means the decoder outputs, with one fixed `variance` or, with
 * `variance: 'learned'`, a log-variance per feature as the decoder's second half of outputs.
 */
export type VaeLikelihood = 'bernoulli' | { type: 'gaussian'; variance: number | 'learned' };

export interface VaeOptions {
  /** x (and the one-hot condition) → 2·latent values: the means of q(z|x), then their log-variances. */
  encoder: Stack;
  /** z (and the one-hot condition) → p(x|z)'s parameters (see `likelihood`). */
  decoder: Stack;
  likelihood?: VaeLikelihood;
  /** Weight of the KL term (β-VAE, Higgins et al. 2017); default 1, the ELBO. */
  beta?: number;
  /** KL warm-up: the weight rises linearly from 0 to β over this many steps (default 0: β from the start). */
  klWarmup?: number;
  /** Conditional VAE: classes whose one-hot follows x into the encoder and z into the decoder. */
  conditions?: number;
  optimizer?: OptimizerSpec;
  seed?: number | bigint;
  guardNonFinite?: boolean;
}

export interface VaeFitOptions {
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  /** A conditional VAE's class of each row. */
  labels?: ArrayLike<number>;
  /** Held-out rows (and labels): their ELBO is reported after every epoch. */
  validation?: MatrixLike;
  validationLabels?: ArrayLike<number>;
  onEpoch?: (epoch: number, logs: VaeEpochLogs) => void | boolean;
  /** After every minibatch, with where the run is (for progress); return false to stop. */
  onBatch?: (progress: BatchProgress) => void | boolean;
  signal?: AbortSignal;
}

/** Per-epoch means over the training rows, in nats per row. */
export interface VaeEpochLogs {
  /** The objective trained: reconstruction + weight·KL. */
  loss: number;
  /** −E_q log p(x|z). */
  reconstruction: number;
  /** KL(q(z|x) ‖ p(z)). */
  kl: number;
  /** The ELBO of the validation rows, if given. */
  valElbo?: number;
}

export interface VaeHistory {
  loss: number[];
  reconstruction: number[];
  kl: number[];
  valElbo: number[];
}

export interface VaeStep {
  loss: number;
  reconstruction: number;
  kl: number;
  /** The KL weight this step used (β, warmed up). */
  beta: number;
}

export interface ResolvedLikelihood {
  kind: number;
  /** Fixed Gaussian: ln σ²; otherwise unused. */
  logVar: number;
  spec: VaeLikelihood;
}

const OPTION_KEYS = ['encoder', 'decoder', 'likelihood', 'beta', 'klWarmup', 'conditions', 'optimizer', 'seed', 'guardNonFinite'];
const FIT_KEYS = ['epochs', 'batchSize', 'shuffle', 'labels', 'validation', 'validationLabels', 'onEpoch', 'onBatch', 'signal'];
/** Rows per decoder pass when scoring: big enough for the GEMMs, small enough for the heap. */
const SCORE_ROWS = 2048;

/**
 * A variational autoencoder (Kingma & Welling 2014): an encoder that outputs q(z|x) = N(μ, σ²),
 * a reparameterised sample z = μ + σ·ε, and a decoder that defines p(x|z); trained on the
 * negative ELBO, −E_q log p(x|z) + β·KL(q(z|x) ‖ N(0, I)), with the KL term in closed form. The
 * decoder is a generator: `sample` decodes z ~ N(0, I).
 */
export class VAE extends TrainedModel {
  readonly encoder: Stack;
  readonly decoder: Stack;
  readonly optimizer: Optimizer;
  readonly conditions: number;
  readonly beta: number;
  readonly klWarmup: number;
  private readonly lik: ResolvedLikelihood;
  private readonly latent: GaussianLatent;
  private readonly plan: StepPlan;
  private readonly target = this.scratch('the VAE\'s target rows');
  /** A conditional VAE's ∂L/∂[z, y] (LabelColumns), sized to the batch. */
  private readonly joinGrad = this.scratch('a conditional VAE\'s ∂L/∂[z, y]');
  /** The reconstruction term of each row of a training batch, f64 (heap blocks are 16-byte aligned). */
  private readonly rowSums = this.scratch('the reconstruction term of each row');
  private readonly scoring = {
    x: this.scratch('the rows being scored'),
    stats: this.scratch('the posterior statistics being scored'),
    eps: this.scratch('the scoring noise ε'),
    z: this.scratch('the scoring samples'),
    w: this.scratch('the importance log-weights'),
  };
  private stepLabels = new Int32Array(0);
  private lastReconstruction = 0;

  constructor(opts: VaeOptions) {
    checkKeys(opts, OPTION_KEYS, 'VAE options');
    const { encoder, decoder } = opts;
    if (!(encoder instanceof Stack)) throw new LatentkitError('VAE needs an encoder stack whose output is 2·latent wide (means, then log-variances), e.g. mlp([784, 200, 100])');
    if (!(decoder instanceof Stack)) throw new LatentkitError('VAE needs a decoder stack from the latent to the likelihood\'s parameters, e.g. mlp([50, 200, 784])');
    if (encoder === decoder) throw new LatentkitError('VAE: the encoder and the decoder must be different stacks');
    encoder.assertLive();
    decoder.assertLive();
    const c = opts.conditions ?? 0;
    if (!Number.isInteger(c) || c < 0) throw new LatentkitError(`VAE conditions must be a non-negative integer (classes), got ${opts.conditions}`);
    if (c === 1) throw new LatentkitError('VAE conditions: one class conditions on nothing; use 0, or 2 or more classes');
    if (encoder.outputSize % 2 !== 0) {
      throw new LatentkitError(`VAE: the encoder ${encoder.label} outputs ${encoder.outputSize} values; it needs 2·latent (the means, then the log-variances)`);
    }
    const latentSize = encoder.outputSize / 2;
    const inputSize = encoder.inputSize - c;
    if (inputSize < 1) throw new LatentkitError(`VAE: the encoder ${encoder.label} takes ${encoder.inputSize} values, fewer than the ${c} condition columns plus one feature`);
    if (decoder.inputSize !== latentSize + c) {
      throw new LatentkitError(`VAE: the decoder ${decoder.label} takes ${decoder.inputSize} values; it needs the latent's ${latentSize}${c > 0 ? ` plus ${c} condition columns` : ''} (the encoder ${encoder.label} outputs 2 × ${latentSize})`);
    }
    const lik = resolveLikelihood(opts.likelihood ?? 'bernoulli');
    const width = lik.kind === LIKELIHOOD['gaussian-learned'] ? 2 * inputSize : inputSize;
    if (decoder.outputSize !== width) {
      throw new LatentkitError(`VAE: the decoder ${decoder.label} outputs ${decoder.outputSize} values; a ${describeLikelihood(lik.spec)} over ${inputSize} features needs ${width}`);
    }
    const beta = opts.beta ?? 1;
    if (typeof beta !== 'number' || !Number.isFinite(beta) || beta < 0) throw new LatentkitError(`VAE beta must be a non-negative number, got ${opts.beta}`);
    const klWarmup = opts.klWarmup ?? 0;
    if (!Number.isInteger(klWarmup) || klWarmup < 0) throw new LatentkitError(`VAE klWarmup must be a non-negative integer (steps), got ${opts.klWarmup}`);
    super({ what: 'VAE', seed: opts.seed, networks: [encoder, decoder], order: 'epochs' });
    this.encoder = encoder;
    this.decoder = decoder;
    this.optimizer = this.own(new Optimizer(opts.optimizer ?? 'adam', [encoder, decoder], 'the VAE'));
    this.conditions = c;
    this.lik = lik;
    this.beta = beta;
    this.klWarmup = klWarmup;
    this.latent = this.own(new GaussianLatent(latentSize, this.rng, () => this.klWeight()));
    const chain: ChainNode[] = [encoder, this.latent];
    if (c > 0) chain.push(new LabelColumns(latentSize, c, () => this.stepLabels, decoder, () => this.joinGrad.block));
    chain.push(decoder);
    const recon = likelihoodLoss(lik.kind, lik.logVar, () => this.target.block.ptr, inputSize, (rows) => this.rowSums.reserve(2 * rows).ptr);
    this.plan = {
      optimizer: this.optimizer,
      terms: [{
        chain,
        input: (rows) => encoder.inputBlock(rows).ptr,
        loss: { name: recon.name, apply: (out, rows, cols, grad) => (this.lastReconstruction = recon.apply(out, rows, cols, grad)) },
      }],
      diverged: this.guard(opts.guardNonFinite),
    };
  }

  /** Dimensions of z. */
  get latentSize(): number {
    return this.encoder.outputSize / 2;
  }

  /** Values per row of data (the encoder's inputs less a conditional VAE's one-hot). */
  get inputSize(): number {
    return this.encoder.inputSize - this.conditions;
  }

  get likelihood(): VaeLikelihood {
    return this.lik.spec;
  }

  /** The KL term's weight at the next step: β·min(1, steps / klWarmup). */
  klWeight(): number {
    return this.klWarmup === 0 ? this.beta : this.beta * Math.min(1, this.stepCount / this.klWarmup);
  }

  /** Passes over the data that `fit` has completed. */
  get epochs(): number {
    return this.epochCount;
  }

  /** One optimizer step on a minibatch (and its labels, when conditional). */
  trainStep(x: MatrixLike, opts: { labels?: ArrayLike<number> } = {}): VaeStep {
    const { m, labels } = this.labelledRows(x, opts, ['labels'], 'VAE trainStep');
    const rows = m.shape[0];
    this.target.reserve(rows * this.inputSize).write(m.data);
    this.stageInputs(m, labels, 0, rows);
    if (labels) {
      if (this.stepLabels.length < rows) this.stepLabels = new Int32Array(rows);
      for (let r = 0; r < rows; r++) this.stepLabels[r] = labels[r]!;
    }
    return this.stepOnStaged(rows);
  }

  fit(x: MatrixLike, opts: VaeFitOptions = {}): VaeHistory {
    const { m, labels } = this.labelledRows(x, opts, FIT_KEYS, 'VAE fit');
    const validation = opts.validation === undefined ? undefined : asMatrix(opts.validation, this.inputSize, 'VAE validation');
    const validationLabels = validation ? this.checkLabels(opts.validationLabels, validation.shape[0], 'VAE validation') : null;
    this.source.attach(m, labels ? { labels, classes: this.conditions } : null);
    return this.fitEpochs<'reconstruction' | 'kl', 'valElbo'>({
      epochs: opts.epochs, batchSize: opts.batchSize ?? 100, shuffle: opts.shuffle, signal: opts.signal, onEpoch: opts.onEpoch, onBatch: opts.onBatch,
      step: (start, n) => {
        this.source.copy(start, n, this.encoder.inputBlock(n));
        this.source.copy(start, n, this.target.reserve(n * this.inputSize), m);
        if (this.conditions > 0) this.stepLabels = this.source.batchLabels;
        return this.stepOnStaged(n).loss;
      },
      track: { reconstruction: () => this.lastReconstruction, kl: () => this.latent.lastKl },
      validationKey: 'valElbo',
      validate: validation ? () => this.elbo(validation, validationLabels ? { labels: validationLabels } : {}) : undefined,
    });
  }

  /** The means of q(z|x): rows × latent. */
  encode(x: MatrixLike, opts: { labels?: ArrayLike<number> } = {}): Matrix {
    this.assertLive();
    checkKeys(opts, ['labels'], 'VAE encode options');
    const stats = this.encoder.predict(this.joined(x, opts.labels, this.inputSize, 'VAE encode x'));
    const rows = stats.shape[0];
    const L = this.latentSize;
    const out = new Float32Array(rows * L);
    for (let r = 0; r < rows; r++) out.set(stats.data.subarray(r * 2 * L, r * 2 * L + L), r * L);
    return { data: out, shape: [rows, L] };
  }

  /** E[x|z]: Bernoulli probabilities (σ of the logits), or the Gaussian's means. */
  decode(z: MatrixLike, opts: { labels?: ArrayLike<number> } = {}): Matrix {
    this.assertLive();
    checkKeys(opts, ['labels'], 'VAE decode options');
    const out = this.decoder.predict(this.joined(z, opts.labels, this.latentSize, 'VAE decode z'));
    return this.expectation(out);
  }

  /** decode(encode(x)): the reconstruction through the posterior mean. */
  reconstruct(x: MatrixLike, opts: { labels?: ArrayLike<number> } = {}): Matrix {
    return this.decode(this.encode(x, opts), opts);
  }

  /** n draws of z ~ N(0, I) decoded (E[x|z]); reproducible from `seed`. */
  sample(n: number, opts: { seed?: number | bigint; labels?: ArrayLike<number> | number } = {}): Matrix {
    this.assertLive();
    checkKeys(opts, ['seed', 'labels'], 'VAE sample options');
    positiveInt(n, 'sample count');
    const labels = typeof opts.labels === 'number' ? new Array<number>(n).fill(opts.labels) : opts.labels;
    if (labels !== undefined) this.checkLabels(labels, n, 'VAE sample');
    const rng = new Rng(opts.seed ?? 0);
    try {
      return this.decode({ data: rng.normalArray(n * this.latentSize), shape: [n, this.latentSize] }, labels === undefined ? {} : { labels });
    } finally {
      rng.dispose();
    }
  }

  /**
   * A 2-D latent's learned manifold (Kingma & Welling 2014, figure 4): E[x|z] over an n × n grid
   * of z at the standard Gaussian's quantiles ((i + ½)/n), row by row from the top (z₂ high) and
   * left to right (z₁ low to high).
   */
  manifold(n = 20, opts: { labels?: number } = {}): Matrix {
    this.assertLive();
    checkKeys(opts, ['labels'], 'VAE manifold options');
    positiveInt(n, 'manifold size');
    if (this.latentSize !== 2) throw new LatentkitError(`manifold draws a 2-D latent; this VAE's latent has ${this.latentSize} dimensions`);
    const z = new Float32Array(n * n * 2);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        z[(i * n + j) * 2] = normalQuantile((j + 0.5) / n);
        z[(i * n + j) * 2 + 1] = normalQuantile(1 - (i + 0.5) / n);
      }
    }
    const labels = opts.labels === undefined ? undefined : new Array<number>(n * n).fill(opts.labels);
    return this.decode({ data: z, shape: [n * n, 2] }, labels === undefined ? {} : { labels });
  }

  /**
   * The ELBO, E_q log p(x|z) − KL(q ‖ p), mean over rows in nats per row, with one seeded sample
   * of z per row (the KL term in closed form).
   */
  elbo(x: MatrixLike, opts: { labels?: ArrayLike<number>; seed?: number | bigint } = {}): number {
    const { m, labels } = this.labelledRows(x, opts, ['labels', 'seed'], 'VAE elbo');
    const rng = new Rng(opts.seed ?? 0);
    const rows = m.shape[0];
    const L = this.latentSize;
    let total = 0;
    try {
      for (let r0 = 0; r0 < rows; r0 += SCORE_ROWS) {
        const n = Math.min(SCORE_ROWS, rows - r0);
        const { stats, x: xs } = this.encodeRows(m, labels, r0, n, 'VAE elbo x');
        rng.normal(this.scoring.eps.reserve(n * L), 0, 1, n * L);
        const out = this.decodeSamples(stats, labels, r0, 1, 0, n);
        total -= n * kernels.likelihood_nll(this.lik.kind, xs, out, n, this.inputSize, this.lik.logVar, 0, 1);
        total -= kernels.vae_kl(stats, 0, 0, 0, n, L, 0);
      }
    } finally {
      rng.dispose();
    }
    return total / rows;
  }

  /** KL(q(z|x) ‖ N(0, I)), mean over rows in nats per row (closed form). */
  kl(x: MatrixLike, opts: { labels?: ArrayLike<number> } = {}): number {
    const { m, labels } = this.labelledRows(x, opts, ['labels'], 'VAE kl');
    const rows = m.shape[0];
    let total = 0;
    for (let r0 = 0; r0 < rows; r0 += SCORE_ROWS) {
      const n = Math.min(SCORE_ROWS, rows - r0);
      total += kernels.vae_kl(this.encodeRows(m, labels, r0, n, 'VAE kl x').stats, 0, 0, 0, n, this.latentSize, 0);
    }
    return total / rows;
  }

  /**
   * log p(x) by importance sampling with q(z|x) as the proposal (Burda et al. 2016):
   * log (1/k) Σ_j p(x, z_j)/q(z_j|x), mean over rows (nats per row), with k = `samples`
   * (default 5,000) seeded draws per row; `perRow` returns each row's estimate instead. A lower
   * bound on log p(x) that tightens as k grows; the log-mean-exp is taken stably.
   */
  logLikelihood(x: MatrixLike, opts?: { samples?: number; seed?: number | bigint; labels?: ArrayLike<number>; perRow?: false }): number;
  logLikelihood(x: MatrixLike, opts: { samples?: number; seed?: number | bigint; labels?: ArrayLike<number>; perRow: true }): Float64Array;
  logLikelihood(x: MatrixLike, opts: { samples?: number; seed?: number | bigint; labels?: ArrayLike<number>; perRow?: boolean } = {}): number | Float64Array {
    const { m, labels } = this.labelledRows(x, opts, ['samples', 'seed', 'labels', 'perRow'], 'VAE logLikelihood');
    const k = positiveInt(opts.samples ?? 5000, 'logLikelihood samples');
    if (k > 1_000_000) throw new LatentkitError(`logLikelihood samples: ${k} is more than 1,000,000 per row`);
    const rows = m.shape[0];
    const rng = new Rng(opts.seed ?? 0);
    const per = new Float64Array(rows);
    const L = this.latentSize;
    const f = this.inputSize;
    const s = this.scoring;
    // Inputs go through the encoder a group at a time; their k samples each through the decoder
    // in passes of at most SCORE_ROWS, the log weights kept (f64) until the group's are all in.
    const group = Math.max(1, Math.floor(SCORE_ROWS / k));
    try {
      for (let g0 = 0; g0 < rows; g0 += group) {
        const inputs = Math.min(group, rows - g0);
        const { stats, x: xs } = this.encodeRows(m, labels, g0, inputs, 'VAE logLikelihood x');
        // f64 weights: two 4-byte elements each, in a 16-byte-aligned block.
        const w = s.w.reserve(2 * inputs * k).ptr;
        for (let t0 = 0; t0 < inputs * k; t0 += SCORE_ROWS) {
          const n = Math.min(SCORE_ROWS, inputs * k - t0);
          const eps = s.eps.reserve(n * L);
          rng.normal(eps, 0, 1, n * L);
          const out = this.decodeSamples(stats, labels, g0, k, t0, n);
          const first = Math.floor(t0 / k);
          kernels.importance_log_weights(this.lik.kind, xs + first * f * 4, f, this.lik.logVar, out, stats + first * 2 * L * 4, s.z.block.ptr, eps.ptr, L, k, t0 - first * k, n, w + t0 * 8);
        }
        for (let i = 0; i < inputs; i++) per[g0 + i] = kernels.log_mean_exp(w + i * k * 8, k);
      }
    } finally {
      rng.dispose();
    }
    if (opts.perRow) return per;
    let total = 0;
    for (const v of per) total += v;
    return total / rows;
  }

  /** Rows r0 .. r0+n of m, each followed by its label's one-hot when conditional, in the encoder's input block. */
  private stageInputs(m: Matrix, labels: ArrayLike<number> | null, r0: number, n: number): Block {
    const f = this.inputSize;
    const c = this.conditions;
    const input = this.encoder.inputBlock(n);
    // The view after the allocation: a growing heap replaces the views of its memory.
    const f32 = heap.f32;
    for (let i = 0; i < n; i++) {
      f32.set(m.data.subarray((r0 + i) * f, (r0 + i + 1) * f), input.index + i * (f + c));
      if (c > 0) writeOneHot(f32, input.index + i * (f + c) + f, c, labels![r0 + i]!);
    }
    return input;
  }

  /**
   * Rows r0 .. r0+n of m (with their labels) through the encoder; returns the byte offsets of
   * their q(z|x) statistics and of the rows themselves, both copied to scratch blocks.
   */
  private encodeRows(m: Matrix, labels: ArrayLike<number> | null, r0: number, n: number, what: string): { stats: number; x: number } {
    const f = this.inputSize;
    const c = this.conditions;
    const L = this.latentSize;
    const x = this.scoring.x.reserve(n * f);
    const copy = this.scoring.stats.reserve(n * 2 * L);
    const input = this.stageInputs(m, labels, r0, n);
    assertFiniteBlock(input.ptr, n, f + c, what);
    x.write(m.data.subarray(r0 * f, (r0 + n) * f));
    const stats = this.encoder.forward(input.ptr, n);
    heap.f32.copyWithin(copy.index, stats >>> 2, (stats >>> 2) + n * 2 * L);
    return { stats: copy.ptr, x: x.ptr };
  }

  /**
   * Samples t0 .. t0+n (k per input; sample t of input t / k, inputs counted from `g0` for the
   * labels) of z = μ + σ·ε from the statistics at `stats` and the noise in scoring.eps, into
   * scoring.z, then through the decoder; returns the decoder output's byte offset.
   */
  private decodeSamples(stats: number, labels: ArrayLike<number> | null, g0: number, k: number, t0: number, n: number): number {
    const L = this.latentSize;
    const c = this.conditions;
    const z = this.scoring.z.reserve(3 * n * L);
    const input = this.decoder.inputBlock(n);
    const f32 = heap.f32;
    // Each sample's statistics (its input's row), then z over them.
    const rep = z.index + n * L;
    for (let t = 0; t < n; t++) {
      const i = Math.floor((t0 + t) / k);
      f32.copyWithin(rep + t * 2 * L, (stats >>> 2) + i * 2 * L, (stats >>> 2) + (i + 1) * 2 * L);
    }
    kernels.vae_reparameterize(rep * 4, this.scoring.eps.block.ptr, z.ptr, n, L);
    for (let t = 0; t < n; t++) {
      f32.copyWithin(input.index + t * (L + c), z.index + t * L, z.index + (t + 1) * L);
      if (c > 0) writeOneHot(f32, input.index + t * (L + c) + L, c, labels![g0 + Math.floor((t0 + t) / k)]!);
    }
    return this.decoder.forward(input.ptr, n);
  }

  private stepOnStaged(rows: number): VaeStep {
    assertFiniteBlock(this.encoder.inputBlock(rows).ptr, rows, this.inputSize + this.conditions, 'VAE input');
    if (this.conditions > 0) this.joinGrad.reserve(rows * (this.latentSize + this.conditions));
    const beta = this.klWeight();
    const loss = this.step(this.plan, rows);
    return { loss, reconstruction: this.lastReconstruction, kl: this.latent.lastKl, beta };
  }

  private expectation(out: Matrix): Matrix {
    const rows = out.shape[0];
    const f = this.inputSize;
    if (this.lik.kind === LIKELIHOOD.bernoulli) {
      for (let i = 0; i < out.data.length; i++) out.data[i] = 1 / (1 + Math.exp(-out.data[i]!));
      return out;
    }
    if (this.lik.kind === LIKELIHOOD['gaussian-fixed']) return out;
    const means = new Float32Array(rows * f);
    for (let r = 0; r < rows; r++) means.set(out.data.subarray(r * 2 * f, r * 2 * f + f), r * f);
    return { data: means, shape: [rows, f] };
  }

  /** x (rows × width) with each row's one-hot label appended, for a conditional VAE. */
  private joined(x: MatrixLike, labels: ArrayLike<number> | undefined, width: number, what: string): Matrix {
    const m = asMatrix(x, width, what);
    const rows = m.shape[0];
    const checked = this.checkLabels(labels, rows, what);
    if (!checked) return m;
    const c = this.conditions;
    const out = new Float32Array(rows * (width + c));
    for (let r = 0; r < rows; r++) {
      out.set(m.data.subarray(r * width, r * width + width), r * (width + c));
      out[r * (width + c) + width + checked[r]!] = 1;
    }
    return { data: out, shape: [rows, width + c] };
  }

  /** What every call on rows checks first: the VAE is live, the options known, the rows of the input's width, their labels. */
  private labelledRows(x: MatrixLike, opts: { labels?: ArrayLike<number> }, keys: readonly string[], what: string): { m: Matrix; labels: ArrayLike<number> | null } {
    this.assertLive();
    checkKeys(opts, keys, `${what} options`);
    const m = asMatrix(x, this.inputSize, `${what} x`);
    return { m, labels: this.checkLabels(opts.labels, m.shape[0], what) };
  }

  private checkLabels(labels: ArrayLike<number> | undefined, rows: number, what: string): ArrayLike<number> | null {
    const c = this.conditions;
    if (c === 0) {
      if (labels !== undefined) throw new LatentkitError(`${what}: labels are for a conditional VAE (conditions: n); this VAE is unconditional`);
      return null;
    }
    if (labels === undefined) throw new LatentkitError(`${what}: this VAE is conditioned on ${c} classes: pass labels, one per row of the ${rows} rows`);
    if (!labels || typeof labels.length !== 'number') throw new LatentkitError(`${what}: labels must be an array of class indices`);
    if (labels.length !== rows) throw new LatentkitError(`${what}: ${labels.length} labels for ${rows} rows`);
    for (let i = 0; i < rows; i++) {
      const l = labels[i]!;
      if (!Number.isInteger(l) || l < 0 || l >= c) throw new LatentkitError(`${what}: label ${i} is ${l}, expected an integer in [0, ${c})`);
    }
    return labels;
  }

}

/** The standard normal's inverse CDF for p ∈ (0, 1): Acklam's rational approximation (relative error < 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  if (p > 1 - 0.02425) return -normalQuantile(1 - p);
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** @internal The likelihood's kernel code and fixed log-variance (shared with the semi-supervised VAE). */
export function resolveLikelihood(spec: VaeLikelihood): ResolvedLikelihood {
  if (spec === 'bernoulli') return { kind: LIKELIHOOD.bernoulli, logVar: 0, spec };
  if (spec && typeof spec === 'object' && spec.type === 'gaussian') {
    checkKeys(spec, ['type', 'variance'], 'VAE likelihood');
    if (spec.variance === 'learned') return { kind: LIKELIHOOD['gaussian-learned'], logVar: 0, spec: { type: 'gaussian', variance: 'learned' } };
    if (typeof spec.variance === 'number' && spec.variance > 0 && Number.isFinite(spec.variance)) {
      return { kind: LIKELIHOOD['gaussian-fixed'], logVar: Math.log(spec.variance), spec: { type: 'gaussian', variance: spec.variance } };
    }
    throw new LatentkitError(`VAE likelihood: a Gaussian's variance must be a positive number or 'learned', got ${JSON.stringify(spec.variance)}`);
  }
  throw new LatentkitError(`unknown VAE likelihood ${JSON.stringify(spec)}; expected 'bernoulli' or { type: 'gaussian', variance: number | 'learned' }`);
}

/** @internal */
export function describeLikelihood(spec: VaeLikelihood): string {
  if (spec === 'bernoulli') return 'Bernoulli likelihood (one logit per feature)';
  return spec.variance === 'learned' ? 'Gaussian with learned variances (means, then log-variances)' : 'Gaussian with a fixed variance (one mean per feature)';
}

export const vaeKind: ModelKind<VAE> = {
  kind: 'vae',
  type: VAE,
  modules: (vae) => [['encoder', vae.encoder], ['decoder', vae.decoder]],
  optimizers: (vae) => [['optimizer', vae.optimizer]],
  options: (vae) => ({ likelihood: vae.likelihood, beta: vae.beta, klWarmup: vae.klWarmup, ...(vae.conditions > 0 && { conditions: vae.conditions }) }),
  build: (ctx, o) => new VAE({
    encoder: ctx.module('encoder'), decoder: ctx.module('decoder'), likelihood: o.likelihood as VaeLikelihood, beta: o.beta as number,
    klWarmup: o.klWarmup as number, ...(o.conditions !== undefined && { conditions: o.conditions as number }), optimizer: o.optimizer as OptimizerConfig,
  }),
};
