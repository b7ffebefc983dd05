import { LatentkitError } from '../errors.js';
import { heap } from '../runtime/memory.js';
import { kernels } from '../runtime/dispatch.js';
import type { ActivationSpec } from '../nn/activation.js';
import { assertChain } from '../nn/chain.js';
import type { BatchProgress, History } from '../nn/loop.js';
import { type LossName, lossCode, targetLoss } from '../nn/loss.js';
import { type ChainNode, type StepPlan } from '../nn/train-step.js';
import { TrainedModel } from '../nn/trained-model.js';
import { type Matrix, type MatrixLike, asMatrix } from '../nn/matrix.js';
import { Optimizer, type OptimizerConfig, type OptimizerSpec } from '../nn/optimizer.js';
import type { ModelKind } from '../io/model-kind.js';
import { checkKeys } from '../nn/sequential.js';
import { Stack, assertFiniteBlock } from '../nn/stack.js';

/** Input corruption of a denoising autoencoder; the target stays the clean input. */
export type Corruption = { type: 'gaussian'; std: number } | { type: 'masking'; rate: number };

export interface AutoencoderOptions {
  encoder: Stack;
  /** Omit with `tiedWeights: true` to get a decoder that shares the encoder's matrices. */
  decoder?: Stack;
  /** Build the decoder from the encoder's transposed matrices (biases of its own). */
  tiedWeights?: boolean;
  /** Activations of a decoder built by `tiedWeights` (default: hidden 'relu', output 'linear'). */
  decoderActivation?: ActivationSpec;
  decoderOutputActivation?: ActivationSpec;
  /** 'mse' (default) or 'bce-with-logits' (the decoder outputs logits; reconstructions are σ of them). */
  loss?: Extract<LossName, 'mse' | 'bce-with-logits'>;
  optimizer?: OptimizerSpec;
  seed?: number | bigint;
  /** Denoising: corrupt each training input, reconstruct the clean one. */
  denoising?: Corruption;
  /** Sparse autoencoder: adds sparsity · mean over the batch of Σ|code| to the loss. */
  sparsity?: number;
  guardNonFinite?: boolean;
}

export interface AutoencoderFitOptions {
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  /** Held-out inputs: their reconstruction loss is reported after every epoch. */
  validation?: MatrixLike;
  onEpoch?: (epoch: number, logs: { loss: number; valLoss?: number }) => void | boolean;
  /** After every minibatch, with where the run is (for progress); return false to stop. */
  onBatch?: (progress: BatchProgress) => void | boolean;
  signal?: AbortSignal;
}

const OPTION_KEYS = ['encoder', 'decoder', 'tiedWeights', 'decoderActivation', 'decoderOutputActivation', 'loss', 'optimizer', 'seed', 'denoising', 'sparsity', 'guardNonFinite'];
const FIT_KEYS = ['epochs', 'batchSize', 'shuffle', 'validation', 'onEpoch', 'onBatch', 'signal'];

/**
 * An encoder f and a decoder g trained so that g(f(x)) ≈ x. The encoder and
 * decoder remain ordinary stacks (usable, and disposable, on their own); a
 * decoder created through `tiedWeights` belongs to the autoencoder.
 */
export class Autoencoder extends TrainedModel {
  readonly encoder: Stack;
  readonly decoder: Stack;
  readonly optimizer: Optimizer;
  readonly lossName: 'mse' | 'bce-with-logits';
  readonly denoising: Corruption | null;
  readonly sparsity: number;
  private readonly lossKind: number;
  private readonly target = this.scratch('the clean targets of a denoising batch');
  private readonly plan: StepPlan;

  constructor(opts: AutoencoderOptions) {
    checkKeys(opts, OPTION_KEYS, 'Autoencoder options');
    const { encoder } = opts;
    if (!(encoder instanceof Stack)) throw new LatentkitError('Autoencoder needs an encoder stack (e.g. mlp([784, 128, 32]))');
    const given = opts.decoder;
    if (opts.tiedWeights && given && given.tiedTo !== encoder) throw new LatentkitError('tiedWeights: pass no decoder (one is built from the encoder) or one made by Stack.tied(encoder)');
    if (!opts.tiedWeights && !(given instanceof Stack)) throw new LatentkitError('Autoencoder needs a decoder stack, or tiedWeights: true');
    // A decoder built by Stack.tied mirrors the encoder, so only a given one can fail to fit it.
    if (given) {
      assertChain([encoder, given], 'Autoencoder (encoder → decoder)');
      if (given.outputSize !== encoder.inputSize) {
        throw new LatentkitError(`Autoencoder: the decoder ${given.label} outputs ${given.outputSize} values but the encoder ${encoder.label} takes ${encoder.inputSize}`);
      }
    }
    const lossName = opts.loss ?? 'mse';
    if (lossName !== 'mse' && lossName !== 'bce-with-logits') {
      lossCode(lossName, 'the autoencoder');
      throw new LatentkitError(`an autoencoder's loss is 'mse' or 'bce-with-logits', got '${lossName}'`);
    }
    const denoising = checkCorruption(opts.denoising);
    const sparsity = opts.sparsity ?? 0;
    if (typeof sparsity !== 'number' || !(sparsity >= 0) || !Number.isFinite(sparsity)) {
      throw new LatentkitError(`sparsity must be a non-negative number, got ${opts.sparsity}`);
    }
    const decoder = given ?? Stack.tied(encoder, { activation: opts.decoderActivation, outputActivation: opts.decoderOutputActivation });
    super({ what: 'autoencoder', seed: opts.seed, networks: [encoder, decoder], order: 'epochs' });
    this.encoder = encoder;
    this.decoder = decoder;
    if (!given) this.own(decoder);
    this.lossName = lossName;
    this.lossKind = lossCode(lossName, 'the autoencoder');
    this.denoising = denoising;
    this.sparsity = sparsity;
    this.optimizer = this.own(new Optimizer(opts.optimizer ?? 'adam', [encoder, this.decoder], 'the autoencoder'));
    const chain: ChainNode[] = sparsity > 0 ? [encoder, new CodePenalty(encoder, sparsity), this.decoder] : [encoder, this.decoder];
    this.plan = {
      optimizer: this.optimizer,
      terms: [{
        chain,
        input: (rows) => this.corruptedInput(rows),
        loss: targetLoss(lossName, () => (denoising ? this.target.block : encoder.inputBlock(0)).ptr, 'the autoencoder'),
      }],
      diverged: this.guard(opts.guardNonFinite),
    };
  }

  get inputSize(): number {
    return this.encoder.inputSize;
  }

  get codeSize(): number {
    return this.encoder.outputSize;
  }

  /** Passes over the data that `fit` has completed (an interrupted pass does not count). */
  get epochs(): number {
    return this.epochCount;
  }

  /** One optimizer step on a batch of inputs; returns the loss before the update. */
  trainStep(x: MatrixLike): number {
    this.assertLive();
    const m = asMatrix(x, this.inputSize, 'Autoencoder trainStep x');
    this.encoder.inputBlock(m.shape[0]).write(m.data);
    return this.stepOnStaged(m.shape[0]);
  }

  fit(x: MatrixLike, opts: AutoencoderFitOptions = {}): History {
    this.assertLive();
    checkKeys(opts, FIT_KEYS, 'Autoencoder fit options');
    const m = asMatrix(x, this.inputSize, 'Autoencoder fit x');
    const validation = opts.validation === undefined ? undefined : asMatrix(opts.validation, this.inputSize, 'Autoencoder validation');
    this.source.attach(m);
    return this.fitEpochs({
      epochs: opts.epochs, batchSize: opts.batchSize, shuffle: opts.shuffle, signal: opts.signal, onEpoch: opts.onEpoch, onBatch: opts.onBatch,
      step: (start, n) => {
        this.source.copy(start, n, this.encoder.inputBlock(n));
        return this.stepOnStaged(n);
      },
      validate: validation ? () => this.loss(validation) : undefined,
    });
  }

  /** The latent codes f(x). */
  encode(x: MatrixLike): Matrix {
    this.assertLive();
    return this.encoder.predict(x);
  }

  /** g(z): reconstructions from codes (σ of the logits with the BCE loss). */
  decode(z: MatrixLike): Matrix {
    this.assertLive();
    const out = this.decoder.predict(z);
    if (this.lossName === 'bce-with-logits') for (let i = 0; i < out.data.length; i++) out.data[i] = sigmoid(out.data[i]!);
    return out;
  }

  /** g(f(x)). */
  reconstruct(x: MatrixLike): Matrix {
    return this.decode(this.encode(x));
  }

  /**
   * Mean squared error per element between x and its reconstruction; with
   * `perSample`, one value per row instead.
   */
  reconstructionError(x: MatrixLike, opts: { perSample: true }): Float32Array;
  reconstructionError(x: MatrixLike, opts?: { perSample?: false }): number;
  reconstructionError(x: MatrixLike, opts: { perSample?: boolean } = {}): number | Float32Array {
    const m = asMatrix(x, this.inputSize, 'reconstructionError x');
    const r = this.reconstruct(m);
    const rows = m.shape[0];
    const cols = this.inputSize;
    const per = new Float32Array(rows);
    let total = 0;
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let j = 0; j < cols; j++) {
        const d = r.data[i * cols + j]! - m.data[i * cols + j]!;
        s += d * d;
      }
      per[i] = s / cols;
      total += s;
    }
    return opts.perSample ? per : total / (rows * cols);
  }

  /** The training loss (without corruption or sparsity) on x, in batches. */
  loss(x: MatrixLike, batchSize = 1024): number {
    this.assertLive();
    const m = asMatrix(x, this.inputSize, 'Autoencoder loss x');
    const rows = m.shape[0];
    let total = 0;
    for (let r = 0; r < rows; r += batchSize) {
      const n = Math.min(batchSize, rows - r);
      const input = this.encoder.stageInput(m.data.subarray(r * this.inputSize, (r + n) * this.inputSize), n, 'Autoencoder input');
      const code = this.encoder.forward(input.ptr, n);
      const out = this.decoder.forward(code, n);
      total += n * kernels.loss(this.lossKind, out, input.ptr, 0, n, this.inputSize, this.decoder.outputGradPtr, 1);
    }
    return total / rows;
  }

  private stepOnStaged(rows: number): number {
    assertFiniteBlock(this.encoder.inputBlock(rows).ptr, rows, this.inputSize, 'Autoencoder input');
    return this.step(this.plan, rows);
  }

  /** The step's input: the staged batch, corrupted in place for a denoising autoencoder (the clean copy is the target). */
  private corruptedInput(rows: number): number {
    const input = this.encoder.inputBlock(rows);
    if (!this.denoising) return input.ptr;
    const n = rows * this.inputSize;
    const target = this.target.reserve(n);
    heap.f32.copyWithin(target.index, input.index, input.index + n);
    if (this.denoising.type === 'gaussian') kernels.rng_add_normal(this.rng.state.ptr, input.ptr, n, this.denoising.std);
    else kernels.rng_mask(this.rng.state.ptr, input.ptr, n, this.denoising.rate);
    return input.ptr;
  }
}

/**
 * The sparse autoencoder's penalty, sparsity · mean over the batch of Σ|code|, as a link between
 * encoder and decoder: forward passes the code through; backward adds its gradient to ∂L/∂code
 * in place and returns the penalty.
 */
class CodePenalty implements ChainNode {
  private code = 0;

  constructor(
    private readonly encoder: Stack,
    private readonly sparsity: number,
  ) {}

  get outputSize(): number {
    return this.encoder.outputSize;
  }

  get outputGradPtr(): number {
    return this.encoder.outputGradPtr;
  }

  forward(x: number): number {
    this.code = x;
    return x;
  }

  backward(rows: number, dInput: number): number {
    const scale = this.sparsity / rows;
    return scale * kernels.l1_penalty(this.code, dInput, rows * this.encoder.outputSize, scale);
  }
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

function checkCorruption(c: Corruption | undefined): Corruption | null {
  if (c === undefined) return null;
  if (c?.type === 'gaussian') {
    if (typeof c.std !== 'number' || !(c.std > 0) || !Number.isFinite(c.std)) throw new LatentkitError(`gaussian corruption std must be a positive number, got ${c.std}`);
    return { type: 'gaussian', std: c.std };
  }
  if (c?.type === 'masking') {
    if (typeof c.rate !== 'number' || !(c.rate > 0 && c.rate < 1)) throw new LatentkitError(`masking corruption rate must be in (0, 1), got ${c.rate}`);
    return { type: 'masking', rate: c.rate };
  }
  throw new LatentkitError(`unknown corruption ${JSON.stringify(c)}; expected { type: 'gaussian', std } or { type: 'masking', rate }`);
}

export const autoencoderKind: ModelKind<Autoencoder> = {
  kind: 'autoencoder',
  type: Autoencoder,
  modules: (ae) => [['encoder', ae.encoder], ['decoder', ae.decoder]],
  optimizers: (ae) => [['optimizer', ae.optimizer]],
  options: (ae) => ({ loss: ae.lossName, denoising: ae.denoising, sparsity: ae.sparsity }),
  build: (ctx, o) => new Autoencoder({
    encoder: ctx.module('encoder'), decoder: ctx.module('decoder'), loss: o.loss as 'mse', optimizer: o.optimizer as OptimizerConfig,
    ...(o.denoising ? { denoising: o.denoising as Corruption } : {}), sparsity: (o.sparsity as number) ?? 0,
  }),
};
