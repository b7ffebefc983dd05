import { LatentkitError } from '../errors.js';
import { Block, heap } from '../runtime/memory.js';
import { Rng } from '../runtime/rng.js';
import { kernels } from '../runtime/dispatch.js';
import { gatherRows, identityOrder, orderFromFloats, orderToFloats } from '../nn/loop.js';
import { type MatrixLike, asMatrix, positiveInt } from '../nn/matrix.js';
import { Optimizer, type OptimizerSpec } from '../nn/optimizer.js';
import { MLP } from '../nn/mlp.js';
import { checkKeys } from '../nn/sequential.js';
import { Stack, assertFiniteBlock } from '../nn/stack.js';

const BCE = 1; // loss code of bce-with-logits (ts/nn/loss.ts)

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
  noise: { dim: number; distribution?: 'normal' | 'uniform' };
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

export interface GanSampleOptions {
  seed?: number | bigint;
  /** Sample the trained generator itself rather than its moving average. */
  raw?: boolean;
  /** Conditional GANs: one class for every sample, or one per sample (default: uniformly random classes). */
  labels?: number | ArrayLike<number>;
}

const KEYS = ['generator', 'discriminator', 'conditions', 'noise', 'k', 'batchSize', 'generatorLoss', 'optimizerD', 'optimizerG', 'labelSmoothing', 'seed', 'guardNonFinite', 'ema'];
const disposeSymbol: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('Symbol.dispose');
const DEFAULT_OPT: OptimizerSpec = { type: 'adam', lr: 2e-4, beta1: 0.5 };

/**
 * A generative adversarial network trained by the algorithm of Goodfellow et
 * al. (2014): each iteration takes k discriminator steps, each on its own
 * minibatch of m real samples and m noise vectors, then one generator step on
 * fresh noise. Generator and discriminator stay the caller's stacks.
 */
export class GAN {
  readonly generator: Stack;
  readonly discriminator: Stack;
  readonly noiseDim: number;
  readonly noiseDistribution: 'normal' | 'uniform';
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
  readonly rng: Rng;
  /** The generator's moving average (`ema` option), owned by the GAN; null without it. */
  readonly generatorEma: Stack | null = null;
  readonly emaDecay: number | null = null;
  private readonly guard: boolean;
  private order: Block | null = null;
  private cursor = 0;
  /** Conditional GANs: ∂L/∂[x, y] from the discriminator, before the label columns are dropped. */
  private dInput: Block | null = null;
  private batchLabels: Int32Array = new Int32Array(0);
  private labels: ArrayLike<number> | null = null;
  private iterationCount = 0;
  private disposed = false;

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
        ? `the generator [${G.sizes.join(', ')}] outputs ${G.outputSize} values but the discriminator [${D.sizes.join(', ')}] takes ${D.inputSize}`
        : `the discriminator [${D.sizes.join(', ')}] takes ${D.inputSize} inputs but a sample and its one-hot label are ${G.outputSize} + ${c} = ${G.outputSize + c}`);
    }
    if (D.outputSize !== 1) throw new LatentkitError(`the discriminator [${D.sizes.join(', ')}] must output 1 logit, it outputs ${D.outputSize}`);
    const dim = opts.noise?.dim;
    positiveInt(dim, 'noise.dim');
    if (dim + c !== G.inputSize) {
      throw new LatentkitError(c === 0
        ? `noise.dim is ${dim} but the generator [${G.sizes.join(', ')}] takes ${G.inputSize} inputs`
        : `the generator [${G.sizes.join(', ')}] takes ${G.inputSize} inputs but noise and a one-hot label are ${dim} + ${c} = ${dim + c}`);
    }
    const dist = opts.noise.distribution ?? 'normal';
    if (dist !== 'normal' && dist !== 'uniform') throw new LatentkitError(`noise.distribution must be 'normal' or 'uniform', got ${JSON.stringify(dist)}`);
    const k = opts.k ?? 1;
    if (!Number.isInteger(k) || k < 1) throw new LatentkitError(`k (discriminator steps per iteration) must be an integer ≥ 1, got ${k}`);
    const loss = opts.generatorLoss ?? 'non-saturating';
    if (loss !== 'minimax' && loss !== 'non-saturating') throw new LatentkitError(`generatorLoss must be 'minimax' or 'non-saturating', got ${JSON.stringify(loss)}`);
    const s = opts.labelSmoothing ?? 0;
    if (typeof s !== 'number' || !(s >= 0 && s < 0.5)) throw new LatentkitError(`labelSmoothing must be in [0, 0.5), got ${s}`);
    this.generator = G;
    this.discriminator = D;
    this.noiseDim = dim;
    this.noiseDistribution = dist;
    this.conditions = c;
    this.sampleSize = G.outputSize;
    this.k = k;
    this.batchSize = positiveInt(opts.batchSize ?? 64, 'batchSize');
    this.generatorLoss = loss;
    this.labelSmoothing = s;
    this.guard = opts.guardNonFinite ?? true;
    this.rng = new Rng(opts.seed ?? 0);
    if (c > 0) {
      this.dInput = heap.alloc(this.batchSize * D.inputSize, 'the discriminator input gradient');
      this.batchLabels = new Int32Array(this.batchSize);
    }
    this.optimizerD = new Optimizer(opts.optimizerD ?? DEFAULT_OPT, [D], 'the discriminator');
    this.optimizerG = new Optimizer(opts.optimizerG ?? DEFAULT_OPT, [G], 'the generator');
    if (opts.ema !== undefined) {
      checkKeys(opts.ema, ['decay'], 'GAN ema options');
      const decay = opts.ema?.decay;
      if (typeof decay !== 'number' || !(decay > 0 && decay < 1)) throw new LatentkitError(`ema.decay must be a number in (0, 1), got ${decay}`);
      if (G.tiedTo) throw new LatentkitError('ema needs a generator with its own weights (this one is tied to another stack)');
      const d = G.describe();
      const avg = new MLP(G.sizes, { activation: d.activation, outputActivation: d.outputActivation });
      avg.params.write(G.params.read());
      this.generatorEma = avg;
      this.emaDecay = decay;
    }
  }

  get iterations(): number {
    return this.iterationCount;
  }

  /** Runs training iterations on `real` (rows = samples); returns the per-iteration losses. */
  fit(real: MatrixLike, opts: GanFitOptions = {}): { lossD: number[]; lossG: number[] } {
    this.assertLive();
    checkKeys(opts, ['iterations', 'epochs', 'onStep', 'onUpdate', 'signal', 'labels'], 'GAN fit options');
    const x = asMatrix(real, this.sampleSize, 'GAN fit real samples');
    const rows = x.shape[0];
    this.labels = this.checkLabels(opts.labels, rows, x.shape[1]);
    if (rows < this.batchSize) throw new LatentkitError(`the training set [${rows}, ${x.shape[1]}] has fewer rows than the batch size ${this.batchSize}`);
    if (opts.iterations !== undefined && opts.epochs !== undefined) throw new LatentkitError('give iterations or epochs, not both');
    const iterations = opts.iterations !== undefined
      ? positiveInt(opts.iterations, 'iterations')
      : Math.max(1, Math.round((positiveInt(opts.epochs ?? 1, 'epochs') * rows) / (this.k * this.batchSize)));
    const history = { lossD: [] as number[], lossG: [] as number[] };
    if (!this.order || this.order.length !== rows) {
      this.order = identityOrder(this.order, rows);
      this.cursor = rows; // reshuffle before the first minibatch
    }
    try {
      for (let i = 0; i < iterations; i++) {
        if (opts.signal?.aborted) break;
        const step = this.iteration(x.data, rows, opts.onUpdate);
        history.lossD.push(step.lossD);
        history.lossG.push(step.lossG);
        if (opts.onStep?.(step) === false) break;
      }
    } finally {
      this.labels = null;
    }
    return history;
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
    const out = new Float32Array(n * G.outputSize);
    try {
      const chunk = Math.min(n, 1024);
      for (let r = 0; r < n; r += chunk) {
        const m = Math.min(chunk, n - r);
        const z = this.drawNoise(rng, m, G, labels ? (i) => labels(r + i, rng) : undefined);
        const y = G.forward(z.ptr, m);
        out.set(heap.f32.subarray(y >>> 2, (y >>> 2) + m * G.outputSize), r * G.outputSize);
      }
    } finally {
      if (rng !== this.rng) rng.dispose();
    }
    return out;
  }

  /**
   * m noise rows in the generator's input block; for a conditional GAN each row is followed by
   * the one-hot of label(row). The noise values are the same as an unconditional GAN's.
   */
  private drawNoise(rng: Rng, m: number, into: Stack = this.generator, label?: (row: number) => number): Block {
    const z = into.inputBlock(m);
    const d = this.noiseDim;
    if (this.noiseDistribution === 'normal') rng.normal(z, 0, 1, m * d);
    else rng.uniform(z, -1, 1, m * d);
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

  /** Conditional GANs: the generator's output rows, each followed by its one-hot label, as the discriminator's input. */
  private withLabels(samples: number, m: number, labels: Int32Array): number {
    const D = this.discriminator;
    const dst = D.inputBlock(m);
    const f = this.sampleSize;
    const c = this.conditions;
    const f32 = heap.f32;
    for (let r = 0; r < m; r++) {
      const at = (dst.ptr >>> 2) + r * (f + c);
      f32.copyWithin(at, (samples >>> 2) + r * f, (samples >>> 2) + r * f + f);
      writeOneHot(f32, at + f, c, labels[r]!);
    }
    return dst.ptr;
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

  private nextRealBatch(data: Float32Array, rows: number, m: number): Block {
    const order = this.order!;
    if (this.cursor + m > rows) {
      this.rng.shuffle(order, rows);
      this.cursor = 0;
    }
    const D = this.discriminator;
    const dst = D.inputBlock(m);
    const c = this.conditions;
    if (c === 0) gatherRows(data, D.inputSize, order, this.cursor, m, dst);
    else {
      const f = this.sampleSize;
      const f32 = heap.f32;
      const u32 = heap.u32;
      for (let r = 0; r < m; r++) {
        const row = u32[order.index + this.cursor + r]!;
        const at = (dst.ptr >>> 2) + r * (f + c);
        f32.set(data.subarray(row * f, row * f + f), at);
        const l = this.labels![row]!;
        writeOneHot(f32, at + f, c, l);
        this.batchLabels[r] = l;
      }
    }
    assertFiniteBlock(dst.ptr, m, D.inputSize, 'real samples');
    this.cursor += m;
    return dst;
  }

  private iteration(data: Float32Array, rows: number, onUpdate?: (u: GanUpdate) => void): GanStep {
    const G = this.generator;
    const D = this.discriminator;
    const m = this.batchSize;
    G.ensureCapacity(m);
    D.ensureCapacity(m);
    const it = this.iterationCount + 1;
    let lossD = 0;
    let dReal = 0;
    let dFake = 0;
    for (let step = 0; step < this.k; step++) {
      const real = this.nextRealBatch(data, rows, m);
      const realIndices = onUpdate ? heap.u32.slice(this.order!.index + this.cursor - m, this.order!.index + this.cursor) : undefined;
      D.zeroGradients();
      // Real: descend −log D(x) (target 1, or 1 − smoothing).
      let logits = D.forward(real.ptr, m, true);
      const lossReal = kernels.loss(BCE, logits, 0, 1 - this.labelSmoothing, m, 1, D.outputGradPtr, 1);
      dReal = meanSigmoid(logits, m);
      D.backward(m, 0);
      // Fake: descend −log(1 − D(G(z))) (target 0); a conditional GAN's fakes get the real batch's labels.
      const labels = this.batchLabels;
      const fake = G.forward(this.drawNoise(this.rng, m, G, this.conditions ? (r) => labels[r]! : undefined).ptr, m, true);
      logits = D.forward(this.conditions ? this.withLabels(fake, m, labels) : fake, m, true);
      const lossFake = kernels.loss(BCE, logits, 0, 0, m, 1, D.outputGradPtr, 1);
      dFake = meanSigmoid(logits, m);
      lossD = lossReal + lossFake;
      this.checkFinite(lossD, 'discriminator', it);
      D.backward(m, 0);
      this.optimizerD.step();
      onUpdate?.({ network: 'discriminator', iteration: it, step, realIndices });
    }
    // Generator step on fresh noise (and, conditional, labels drawn from the training labels);
    // D passes gradients through but is not updated.
    G.zeroGradients();
    const c = this.conditions;
    // Labels are drawn after the noise, so the noise stream is the unconditional GAN's up to here.
    const drawLabel = (r: number) => (this.batchLabels[r] = this.labels![this.rng.below(rows)]!);
    const fake = G.forward(this.drawNoise(this.rng, m, G, c ? drawLabel : undefined).ptr, m, true);
    const logits = D.forward(c ? this.withLabels(fake, m, this.batchLabels) : fake, m, true);
    const lossG = this.generatorLoss === 'non-saturating'
      ? kernels.loss(BCE, logits, 0, 1, m, 1, D.outputGradPtr, 1) // −log σ(l)
      : kernels.loss(BCE, logits, 0, 0, m, 1, D.outputGradPtr, -1); // log(1 − σ(l)) = −BCE(l, 0)
    this.checkFinite(lossG, 'generator', it);
    const wasFrozen = D.frozen;
    D.frozen = true;
    try {
      D.backward(m, c ? this.dInput!.ptr : G.outputGradPtr);
    } finally {
      D.frozen = wasFrozen;
    }
    if (c) {
      // Keep ∂L/∂x, drop the gradient with respect to the label columns.
      const f = this.sampleSize;
      const f32 = heap.f32;
      const src = this.dInput!.ptr >>> 2;
      const dst = G.outputGradPtr >>> 2;
      for (let r = 0; r < m; r++) f32.copyWithin(dst + r * f, src + r * (f + c), src + r * (f + c) + f);
    }
    G.backward(m, 0);
    this.optimizerG.step();
    if (this.generatorEma) kernels.ema(this.generatorEma.params.ptr, G.params.ptr, G.parameterCount, this.emaDecay!);
    onUpdate?.({ network: 'generator', iteration: it, step: 0 });
    this.iterationCount = it;
    return { iteration: it, lossD, lossG, dReal, dFake };
  }

  /** @internal Everything beyond the weights that a resumed run needs. */
  trainingState(): { steps: number; cursor: number; order: Float32Array | null } {
    return {
      steps: this.iterationCount,
      cursor: this.cursor,
      order: orderToFloats(this.order),
    };
  }

  /** @internal */
  restoreTrainingState(s: { steps: number; cursor?: number; order: Float32Array | null }): void {
    this.iterationCount = s.steps;
    this.cursor = s.cursor ?? 0;
    if (s.order) this.order = orderFromFloats(this.order, s.order);
  }

  /** @internal Loads the moving average's weights from `saved` (a stack of the same shape). */
  restoreEma(saved: Stack): void {
    if (!this.generatorEma || saved.parameterCount !== this.generatorEma.parameterCount) {
      throw new LatentkitError(`corrupt latentkit model: the generator average [${saved.sizes.join(', ')}] does not match this GAN`);
    }
    this.generatorEma.params.write(saved.params.read());
  }

  private checkFinite(loss: number, who: string, it: number): void {
    if (this.guard && !Number.isFinite(loss)) {
      throw new LatentkitError(`training diverged: the ${who} loss is ${loss} at iteration ${it}; the ${who} was left as it was before this step`);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.optimizerD.dispose();
    this.optimizerG.dispose();
    this.generatorEma?.dispose();
    this.rng.dispose();
    if (this.dInput) heap.free(this.dInput);
    if (this.order) heap.free(this.order);
    this.disposed = true;
  }

  [disposeSymbol](): void {
    this.dispose();
  }

  private assertLive(): void {
    if (this.disposed) throw new LatentkitError('this GAN was disposed');
    this.generator.assertLive();
    this.discriminator.assertLive();
  }
}

/** The one-hot of `label` over `classes` floats of f32, from index `at`. */
function writeOneHot(f32: Float32Array, at: number, classes: number, label: number): void {
  f32.fill(0, at, at + classes);
  f32[at + label] = 1;
}

function meanSigmoid(ptr: number, m: number): number {
  const f32 = heap.f32;
  let s = 0;
  for (let i = 0; i < m; i++) s += 1 / (1 + Math.exp(-f32[(ptr >>> 2) + i]!));
  return s / m;
}
