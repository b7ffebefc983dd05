import { LatentkitError } from '../errors.js';
import { Block, heap } from '../runtime/memory.js';
import { Rng } from '../runtime/rng.js';
import { kernels } from '../runtime/wasm.js';
import { gatherRows, identityOrder, orderFromFloats, orderToFloats } from '../nn/loop.js';
import { type MatrixLike, asMatrix, positiveInt } from '../nn/matrix.js';
import { Optimizer, type OptimizerSpec } from '../nn/optimizer.js';
import { MLP } from '../nn/mlp.js';
import { checkKeys } from '../nn/sequential.js';
import { Stack, assertFiniteBlock } from '../nn/stack.js';
import { ema } from '../runtime/threads.js';

const BCE = 1; // loss code of bce-with-logits (ts/nn/loss.ts)

export interface GanOptions {
  /** Maps noise z (width noise.dim) to samples. */
  generator: Stack;
  /** Maps a sample to one logit: D(x) = σ(logit) is the probability that x is real. */
  discriminator: Stack;
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
}

const KEYS = ['generator', 'discriminator', 'noise', 'k', 'batchSize', 'generatorLoss', 'optimizerD', 'optimizerG', 'labelSmoothing', 'seed', 'guardNonFinite', 'ema'];
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
  private iterationCount = 0;
  private disposed = false;

  constructor(opts: GanOptions) {
    checkKeys(opts, KEYS, 'GAN options');
    const { generator: G, discriminator: D } = opts;
    if (!(G instanceof Stack) || !(D instanceof Stack)) throw new LatentkitError('GAN needs a generator stack and a discriminator stack');
    G.assertLive();
    D.assertLive();
    if (G.outputSize !== D.inputSize) {
      throw new LatentkitError(`the generator [${G.sizes.join(', ')}] outputs ${G.outputSize} values but the discriminator [${D.sizes.join(', ')}] takes ${D.inputSize}`);
    }
    if (D.outputSize !== 1) throw new LatentkitError(`the discriminator [${D.sizes.join(', ')}] must output 1 logit, it outputs ${D.outputSize}`);
    const dim = opts.noise?.dim;
    positiveInt(dim, 'noise.dim');
    if (dim !== G.inputSize) throw new LatentkitError(`noise.dim is ${dim} but the generator [${G.sizes.join(', ')}] takes ${G.inputSize} inputs`);
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
    this.k = k;
    this.batchSize = positiveInt(opts.batchSize ?? 64, 'batchSize');
    this.generatorLoss = loss;
    this.labelSmoothing = s;
    this.guard = opts.guardNonFinite ?? true;
    this.rng = new Rng(opts.seed ?? 0);
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
    checkKeys(opts, ['iterations', 'epochs', 'onStep', 'onUpdate', 'signal'], 'GAN fit options');
    const x = asMatrix(real, this.discriminator.inputSize, 'GAN fit real samples');
    const rows = x.shape[0];
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
    for (let i = 0; i < iterations; i++) {
      if (opts.signal?.aborted) break;
      const step = this.iteration(x.data, rows, opts.onUpdate);
      history.lossD.push(step.lossD);
      history.lossG.push(step.lossG);
      if (opts.onStep?.(step) === false) break;
    }
    return history;
  }

  /**
   * n generated samples, from the GAN's own noise stream or from `seed`; from the moving-average
   * generator when the GAN keeps one (`raw: true` samples the trained generator itself).
   */
  sample(n: number, opts: { seed?: number | bigint; raw?: boolean } = {}): Float32Array {
    this.assertLive();
    checkKeys(opts, ['seed', 'raw'], 'GAN sample options');
    positiveInt(n, 'sample count');
    const rng = opts.seed === undefined ? this.rng : new Rng(opts.seed);
    const G = opts.raw || !this.generatorEma ? this.generator : this.generatorEma;
    const out = new Float32Array(n * G.outputSize);
    try {
      const chunk = Math.min(n, 1024);
      for (let r = 0; r < n; r += chunk) {
        const m = Math.min(chunk, n - r);
        const z = this.drawNoise(rng, m, G);
        const y = G.forward(z.ptr, m);
        out.set(heap.f32.subarray(y >>> 2, (y >>> 2) + m * G.outputSize), r * G.outputSize);
      }
    } finally {
      if (rng !== this.rng) rng.dispose();
    }
    return out;
  }

  private drawNoise(rng: Rng, m: number, into: Stack = this.generator): Block {
    const z = into.inputBlock(m);
    if (this.noiseDistribution === 'normal') rng.normal(z, 0, 1, m * this.noiseDim);
    else rng.uniform(z, -1, 1, m * this.noiseDim);
    return z;
  }

  private nextRealBatch(data: Float32Array, rows: number, m: number): Block {
    const order = this.order!;
    if (this.cursor + m > rows) {
      this.rng.shuffle(order, rows);
      this.cursor = 0;
    }
    const D = this.discriminator;
    const dst = D.inputBlock(m);
    gatherRows(data, D.inputSize, order, this.cursor, m, dst);
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
      const lossReal = kernels.lk_loss(BCE, logits, 0, 1 - this.labelSmoothing, m, 1, D.outputGradPtr, 1);
      dReal = meanSigmoid(logits, m);
      D.backward(m, 0);
      // Fake: descend −log(1 − D(G(z))) (target 0).
      const fake = G.forward(this.drawNoise(this.rng, m).ptr, m, true);
      logits = D.forward(fake, m, true);
      const lossFake = kernels.lk_loss(BCE, logits, 0, 0, m, 1, D.outputGradPtr, 1);
      dFake = meanSigmoid(logits, m);
      lossD = lossReal + lossFake;
      this.checkFinite(lossD, 'discriminator', it);
      D.backward(m, 0);
      this.optimizerD.step();
      onUpdate?.({ network: 'discriminator', iteration: it, step, realIndices });
    }
    // Generator step on fresh noise; D passes gradients through but is not updated.
    G.zeroGradients();
    const fake = G.forward(this.drawNoise(this.rng, m).ptr, m, true);
    const logits = D.forward(fake, m, true);
    const lossG = this.generatorLoss === 'non-saturating'
      ? kernels.lk_loss(BCE, logits, 0, 1, m, 1, D.outputGradPtr, 1) // −log σ(l)
      : kernels.lk_loss(BCE, logits, 0, 0, m, 1, D.outputGradPtr, -1); // log(1 − σ(l)) = −BCE(l, 0)
    this.checkFinite(lossG, 'generator', it);
    const wasFrozen = D.frozen;
    D.frozen = true;
    try {
      D.backward(m, G.outputGradPtr);
    } finally {
      D.frozen = wasFrozen;
    }
    G.backward(m, 0);
    this.optimizerG.step();
    if (this.generatorEma) ema(this.generatorEma.params.ptr, G.params.ptr, G.parameterCount, this.emaDecay!);
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

function meanSigmoid(ptr: number, m: number): number {
  const f32 = heap.f32;
  let s = 0;
  for (let i = 0; i < m; i++) s += 1 / (1 + Math.exp(-f32[(ptr >>> 2) + i]!));
  return s / m;
}
