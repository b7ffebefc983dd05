import { LatentkitError } from '../errors.js';
import { Block, heap } from '../runtime/memory.js';
import { Rng } from '../runtime/rng.js';
import { kernels } from '../runtime/dispatch.js';
import { type ActivationSpec, type ResolvedActivation, activationToSpec, resolveActivation } from './activation.js';
import type { InitName } from './init.js';
import { BatchNorm } from './layers/batch-norm.js';
import { Dense, type TiedWeight } from './layers/dense.js';
import { Dropout } from './layers/dropout.js';
import { GaussianNoise } from './layers/gaussian-noise.js';
import { buildLayer } from './layers/index.js';
import { type Layer, type LayerSpec, type Shape, shapeText, sizeOf } from './layers/layer.js';
import { predictChain } from './chain.js';
import { type MatrixLike, type Matrix, asMatrix, positiveInt } from './matrix.js';
import type { ModelKind } from '../io/model-kind.js';

export interface StackOptions {
  /** Hidden layers' activation (default 'relu'). */
  activation?: ActivationSpec;
  /** Last layer's activation (default 'linear'). */
  outputActivation?: ActivationSpec;
  /** Weight initialiser (default: He for ReLU family, Glorot otherwise); biases start at 0. */
  init?: InitName;
  /** Seed of the initialisation (and of dropout masks; default 0). */
  seed?: number | bigint;
  /**
   * Inverted dropout on every hidden layer's output during training steps
   * (rate in [0, 1), default 0). Hidden layers must be ReLU, leaky ReLU or
   * linear, whose derivatives depend only on the output's sign.
   */
  dropout?: number;
}

export interface LayerInfo {
  inputs: number;
  outputs: number;
  activation: ResolvedActivation;
  /** Element offsets of W (inputs × outputs, row-major) and b within the flat parameter buffer; −1 for a tied W. */
  weightOffset: number;
  biasOffset: number;
}

/** A stack of layers of any kind: its input shape, then the layers in order. */
export interface StackDefinition {
  /** Values per row: a width, `[features]` or an image `[channels, height, width]` (NCHW). */
  input: number | readonly number[];
  layers: readonly LayerSpec[];
}

const disposeSymbol: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('Symbol.dispose');
// The training-noise stream (dropout masks, Gaussian noise) is decorrelated from the initialisation's.
const NOISE_SEED = 0xd5a61266f0c9392cn;

/**
 * A stack of layers: dense layers y = f(x·W + b) (`mlp(sizes)`), or layers of any kind
 * (`stack(input, [conv2d(…), batchNorm(…), flatten(), dense(…)])`). Parameters and their
 * gradients are two flat buffers in WebAssembly memory (one optimizer call updates them all),
 * running statistics a third; activations and their gradients are per-layer buffers sized for
 * the largest batch seen. Rows are flat: an image layer's rows are C·H·W values in NCHW order.
 * Call `dispose()` (or `using`) to free the memory.
 */
export class Stack {
  /** The width of the input, then of each layer's output. */
  readonly sizes: readonly number[];
  readonly layers: readonly Layer[];
  readonly inputShape: Shape;
  readonly outputShape: Shape;
  readonly parameterCount: number;
  /** Built from sizes: dense layers only, hidden and output activations (see describe()). */
  readonly isMlp: boolean;
  /** Frozen stacks pass gradients through to their input but never change. */
  frozen = false;
  /** @internal */ params: Block;
  /** @internal */ grads: Block;
  /** @internal Running statistics (batch norm), null when no layer keeps any. */
  state: Block | null = null;
  private outs: (Block | null)[] = [];
  private douts: (Block | null)[] = [];
  /** Per layer, the layer whose buffers hold its output (itself, or an earlier one for a reshape; −1: the stack's input). */
  private readonly owner: number[];
  private readonly outPtrs: number[];
  private stagedInput: Block | null = null;
  /** The stack whose weights this one reads transposed (tied weights), if any. */
  readonly tiedTo: Stack | null;
  private readonly hiddenActivation: ResolvedActivation;
  readonly dropout: number;
  /** @internal The generator of dropout masks and Gaussian noise (null without either). */
  dropoutRng: Rng | null = null;
  private masks: Block[] = [];
  private lastForwardDropped = false;
  private capacityRows = 0;
  private inputPtr = 0;
  private disposed = false;

  constructor(architecture: readonly number[] | StackDefinition, opts: StackOptions = {}, tiedTo: Stack | null = null) {
    let layers: Layer[];
    if (Array.isArray(architecture)) {
      const sizes = architecture as readonly number[];
      if (sizes.length < 2) throw new LatentkitError(`layer sizes must list at least an input and an output size, got ${JSON.stringify(sizes)}`);
      sizes.forEach((v, i) => positiveInt(v, `layer size ${i} of [${sizes.join(', ')}]`));
      this.hiddenActivation = resolveActivation(opts.activation ?? 'relu', 'hidden layers');
      const rate = opts.dropout ?? 0;
      if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw new LatentkitError(`dropout must be a rate in [0, 1), got ${opts.dropout}`);
      if (rate > 0 && !['relu', 'leaky-relu', 'linear'].includes(this.hiddenActivation.name)) {
        throw new LatentkitError(`dropout needs hidden layers whose derivative depends only on the sign of the output (relu, leaky-relu, linear), not ${this.hiddenActivation.name}`);
      }
      this.dropout = rate;
      const output = resolveActivation(opts.outputActivation ?? 'linear', 'the output layer');
      const count = sizes.length - 1;
      layers = [];
      for (let i = 0; i < count; i++) {
        const act = activationToSpec(i + 1 === count ? output : this.hiddenActivation);
        let tied: TiedWeight | null = null;
        if (tiedTo) {
          const mirror = tiedTo.layers[tiedTo.layers.length - 1 - i] as Dense;
          tied = { params: tiedTo.params, grads: tiedTo.grads, offset: mirror.weightOffset };
        }
        layers.push(new Dense([sizes[i]!], sizes[i + 1]!, act, `layer ${i}`, tied));
      }
      this.isMlp = true;
      this.inputShape = [sizes[0]!];
    } else {
      const def = architecture as StackDefinition;
      if (!def || typeof def !== 'object' || !Array.isArray(def.layers) || def.layers.length === 0) {
        throw new LatentkitError(`a stack needs an input shape and a list of layers, e.g. stack([1, 28, 28], [conv2d(32, { kernel: 3 }), flatten(), dense(10)]); got ${JSON.stringify(architecture)}`);
      }
      if (tiedTo) throw new LatentkitError('only stacks of dense layers built from sizes can be tied');
      for (const k of Object.keys(opts)) if (k !== 'init' && k !== 'seed') throw new LatentkitError(`a stack of layers takes the options init and seed (activations belong to each layer), got ${JSON.stringify(k)}`);
      const input = typeof def.input === 'number' ? [def.input] : def.input;
      if (!Array.isArray(input) || (input.length !== 1 && input.length !== 3) || !input.every((d) => Number.isInteger(d) && d >= 1 && d <= 1 << 24)) {
        throw new LatentkitError(`a stack's input must be a width, [features] or an image [channels, height, width], got ${JSON.stringify(def.input)}`);
      }
      let shape: Shape = [...input];
      layers = [];
      try {
        for (const [i, spec] of def.layers.entries()) {
          const l = buildLayer(spec, shape, `layer ${i}`);
          layers.push(l);
          shape = l.outputShape;
        }
      } catch (e) {
        // Layers built before the one refused may hold memory of their own (batch statistics, weight norm).
        layers.forEach((l) => l.dispose());
        throw e;
      }
      if (layers.every((l) => l.aliasesInput)) {
        layers.forEach((l) => l.dispose());
        throw new LatentkitError('a stack needs at least one layer that computes something (not only reshape and flatten)');
      }
      this.hiddenActivation = resolveActivation('linear', 'hidden layers');
      this.dropout = 0;
      this.isMlp = false;
      this.inputShape = [...input];
    }
    this.layers = layers;
    this.outputShape = layers[layers.length - 1]!.outputShape;
    this.sizes = [sizeOf(this.inputShape), ...layers.map((l) => l.outputSize)];
    this.tiedTo = tiedTo;
    this.owner = [];
    layers.forEach((l, i) => this.owner.push(l.aliasesInput ? (i === 0 ? -1 : this.owner[i - 1]!) : i));
    this.outPtrs = layers.map(() => 0);
    let offset = 0;
    let stateOffset = 0;
    for (const l of layers) {
      l.paramOffset = offset;
      l.stateOffset = stateOffset;
      l.host = this;
      offset += l.paramCount;
      stateOffset += l.stateCount;
    }
    this.parameterCount = offset;
    const what = this.isMlp ? `a [${this.sizes.join(', ')}] stack` : `a stack of ${layers.length} layers`;
    try {
      this.params = heap.alloc(offset, `the ${offset} parameters of ${what}`);
      this.grads = heap.alloc(offset, `the gradients of ${what}`);
      if (stateOffset > 0) this.state = heap.alloc(stateOffset, `the running statistics of ${what}`);
    } catch (e) {
      this.releaseOwn();
      throw e;
    }
    const rng = new Rng(opts.seed ?? 0);
    try {
      this.initialize(rng, opts.init);
    } catch (e) {
      this.releaseOwn();
      throw e;
    } finally {
      rng.dispose();
    }
    this.grads.fill(0);
    if (this.dropout > 0 || layers.some((l) => l instanceof GaussianNoise || l instanceof Dropout)) this.dropoutRng = new Rng(BigInt(opts.seed ?? 0) ^ NOISE_SEED);
  }

  private releaseOwn(): void {
    for (const b of [this.params, this.grads, this.state]) if (b) heap.free(b);
    this.layers.forEach((l) => l.dispose());
  }

  /** @internal The generator of training-time noise (LayerHost). */
  get noiseRng(): Rng | null {
    return this.dropoutRng;
  }

  /**
   * A decoder that shares `encoder`'s weight matrices, transposed and in
   * reverse order, with biases of its own: sizes are the encoder's reversed.
   * Gradients of the shared matrices accumulate into the encoder's.
   */
  static tied(encoder: Stack, opts: Omit<StackOptions, 'init'> = {}): Stack {
    encoder.assertLive();
    if (encoder.tiedTo) throw new LatentkitError('cannot tie to a stack that is itself tied');
    // A stack built from sizes holds only plain dense layers (no weight norm), each with its own W.
    if (!encoder.isMlp) throw new LatentkitError('only a stack of dense layers built from sizes can be tied to');
    return new Stack([...encoder.sizes].reverse(), opts, encoder);
  }

  /** Values per input row. */
  get inputSize(): number {
    return this.sizes[0]!;
  }

  /** Values per output row. */
  get outputSize(): number {
    return this.sizes[this.sizes.length - 1]!;
  }

  /** The stack as text for messages: its sizes, or its shapes from input to output. */
  get label(): string {
    return this.isMlp ? `[${this.sizes.join(', ')}]` : `[${this.inputShape.join(', ')}] → [${this.outputShape.join(', ')}]`;
  }

  /** (Re)draws the weights from `rng`; biases are set to zero, batch-norm scales to one and its statistics reset. */
  initialize(rng: Rng, init?: InitName): void {
    this.assertLive();
    for (const l of this.layers) l.initialize(rng, init);
  }

  /** The architecture of a stack built from sizes: sizes and the hidden and output activations. */
  describe(): { sizes: number[]; activation: ActivationSpec; outputActivation: ActivationSpec; tied: boolean; dropout: number } {
    if (!this.isMlp) throw new LatentkitError(`describe() covers stacks of dense layers built from sizes; this ${this.label} stack's layers are in definition()`);
    const dense = this.layers as readonly Dense[];
    const last = dense[dense.length - 1]!;
    const hidden = dense.length > 1 ? dense[0]!.activation : this.hiddenActivation;
    return { sizes: [...this.sizes], activation: activationToSpec(hidden), outputActivation: activationToSpec(last.activation), tied: this.tiedTo !== null, dropout: this.dropout };
  }

  /** One line per layer: its spec's options and its output shape, as the command line prints an architecture. */
  summary(): string[] {
    this.assertLive();
    const value = (v: unknown): string => (Array.isArray(v) ? v.join('×') : v && typeof v === 'object' ? Object.values(v).join(' ') : String(v));
    const options = (spec: LayerSpec) => Object.entries(spec).filter(([k]) => k !== 'type').map(([k, v]) => `${k} ${value(v)}`).join(', ');
    return [`input ${shapeText(this.inputShape)}`, ...this.layers.map((l) => {
      const spec = l.spec();
      return `${spec.type}${Object.keys(spec).length > 1 ? `(${options(spec)})` : ''} → ${shapeText(l.outputShape)}`;
    })];
  }

  /** The stack as its input shape and layer specs: `new Stack(s.definition())` builds the same architecture. */
  definition(): StackDefinition {
    return { input: [...this.inputShape], layers: this.layers.map((l) => l.spec()) };
  }

  private denseLayer(i: number): Dense {
    const l = this.layers[i];
    if (!l) throw new LatentkitError(`layer ${i} does not exist in a stack of ${this.layers.length} layers`);
    if (!(l instanceof Dense)) throw new LatentkitError(`layer ${i} of this stack is ${l.type}, not dense`);
    return l;
  }

  /** @internal Writes W (as [inputs × outputs]) and b of dense layer i; a tied layer's W must be null. */
  setLayerParameters(i: number, weight: Float32Array | null, bias: Float32Array): void {
    this.denseLayer(i).setParameters(weight, bias);
  }

  /**
   * Dense layer i's weight matrix as [inputs × outputs] row-major (a copy; for a
   * tied stack, the transpose of the shared matrix) and its bias.
   */
  layerParameters(i: number): { weight: Float32Array; bias: Float32Array } {
    this.assertLive();
    return this.denseLayer(i).parameters();
  }

  /** A copy of this stack's own parameters, layer by layer: W0 (in×out, row-major), b0, W1, b1, … (biases only when tied) */
  getWeights(): Float32Array {
    this.assertLive();
    return this.params.read();
  }

  setWeights(values: Float32Array): void {
    this.assertLive();
    if (!(values instanceof Float32Array) || values.length !== this.parameterCount) {
      throw new LatentkitError(`setWeights: expected a Float32Array of ${this.parameterCount} values for a ${this.label} stack, got ${values?.length}`);
    }
    const bad = firstNonFinite(values);
    if (bad >= 0) throw new LatentkitError(`setWeights: value ${bad} is ${values[bad]}`);
    this.params.write(values);
  }

  /** @internal Copies another stack's parameters and running statistics (same architecture) into this one, in place. */
  copyFrom(other: Stack): void {
    heap.f32.copyWithin(this.params.index, other.params.index, other.params.index + this.parameterCount);
    this.copyStateFrom(other);
  }

  /** @internal Copies another stack's running statistics (same architecture) into this one, in place. */
  copyStateFrom(other: Stack): void {
    if (this.state && other.state) heap.f32.copyWithin(this.state.index, other.state.index, other.state.index + this.state.length);
    this.layers.forEach((l, i) => {
      if (l instanceof BatchNorm) l.batchesTracked = (other.layers[i] as BatchNorm).batchesTracked;
    });
  }

  /** A copy of the running statistics of the stack's batch-norm layers, layer by layer: running means, then variances (empty without any). */
  getStatistics(): Float32Array {
    this.assertLive();
    return this.state ? this.state.read() : new Float32Array(0);
  }

  /** A copy of the accumulated gradients, same layout as getWeights(). */
  getGradients(): Float32Array {
    this.assertLive();
    return this.grads.read();
  }

  /** Forward pass on a batch (inference: running statistics, no noise); returns the outputs as a new Matrix. */
  predict(x: MatrixLike): Matrix {
    this.assertLive();
    return predictChain([this], asMatrix(x, this.inputSize, `predict input of a ${this.label} stack`), 'predict input');
  }

  // ---- the training-step path: pointers only, no allocation once capacity is reached ----

  /** @internal Makes every per-batch buffer hold `rows` rows. Allocates only when rows grow. */
  ensureCapacity(rows: number): void {
    this.assertLive();
    if (rows <= this.capacityRows) return;
    this.freeActivations();
    for (const [i, l] of this.layers.entries()) {
      const own = !l.aliasesInput;
      this.outs.push(own ? heap.alloc(rows * l.outputSize, `activations of a ${rows}-row batch`) : null);
      this.douts.push(own ? heap.alloc(rows * l.outputSize, `activation gradients of a ${rows}-row batch`) : null);
      if (this.dropout > 0 && i + 1 < this.layers.length) this.masks.push(heap.alloc(rows * l.outputSize, `dropout masks of a ${rows}-row batch`));
      l.reserve(rows);
    }
    this.capacityRows = rows;
  }

  /** @internal Copies rows of user data into this stack's input buffer, checking for NaN/Inf. */
  stageInput(data: Float32Array, rows: number, what: string): Block {
    const block = this.inputBlock(rows);
    block.write(data);
    assertFiniteBlock(block.ptr, rows, this.inputSize, what);
    return block;
  }

  /** @internal The staged-input block (for gathering minibatches in place). */
  inputBlock(rows: number): Block {
    this.ensureCapacity(rows);
    this.stagedInput = heap.reserve(this.stagedInput, this.capacityRows * this.inputSize, 'a staged input batch');
    return this.stagedInput;
  }

  /**
   * @internal Forward from the batch at byte offset `x`; returns the output's
   * byte offset. `training` applies dropout and noise (when configured), normalises by the
   * batch's statistics and records what the backward pass needs.
   */
  forward(x: number, rows: number, training = false): number {
    this.ensureCapacity(rows);
    for (const l of this.layers) l.checkBatch(rows, training);
    this.inputPtr = x;
    const drop = training && this.dropout > 0;
    this.lastForwardDropped = drop;
    let input = x;
    for (const [i, l] of this.layers.entries()) {
      const y = l.aliasesInput ? input : this.outs[i]!.ptr;
      l.forward(input, y, rows, training);
      if (drop && i + 1 < this.layers.length) kernels.rng_dropout(this.dropoutRng!.state.ptr, y, this.masks[i]!.ptr, rows * l.outputSize, this.dropout);
      this.outPtrs[i] = y;
      input = y;
    }
    return input;
  }

  /** @internal Where the loss (or the next stack) writes ∂L/∂output. */
  get outputGradPtr(): number {
    return this.douts[this.owner[this.owner.length - 1]!]!.ptr;
  }

  /** @internal Output of the last forward pass. */
  get outputPtr(): number {
    return this.outs[this.owner[this.owner.length - 1]!]!.ptr;
  }

  /**
   * @internal Backward through the last forward pass from ∂L/∂output at outputGradPtr.
   * Accumulates into the gradients when `accumulate` (a frozen stack, or a discriminator
   * during the generator's step, only passes the gradient on); writes ∂L/∂input to `dInput`
   * when non-zero. Adds no loss of its own (returns 0).
   */
  backward(rows: number, dInput: number, accumulate = !this.frozen): number {
    const last = this.layers.length - 1;
    for (let i = last; i >= 0; i--) {
      const l = this.layers[i]!;
      if (l.aliasesInput) continue;
      const below = i === 0 ? -1 : this.owner[i - 1]!;
      const x = below < 0 ? this.inputPtr : this.outs[below]!.ptr;
      const dx = below < 0 ? dInput : this.douts[below]!.ptr;
      if (!accumulate && dx === 0) return 0;
      // Dropped units pass no gradient; kept ones keep the output's sign, so f′ from y stays right.
      if (this.lastForwardDropped && i < last) kernels.mul(this.douts[i]!.ptr, this.masks[i]!.ptr, rows * l.outputSize);
      l.backward(x, this.outs[i]!.ptr, this.douts[i]!.ptr, dx, rows, accumulate);
    }
    return 0;
  }

  /** @internal */
  zeroGradients(): void {
    // Through the dispatched kernel, not Block.fill: a pass over every parameter, shared by the threads.
    kernels.fill(this.grads.ptr, this.grads.length, 0);
  }

  /** Freezes the stack: its parameters stop changing; gradients still flow through it. */
  freeze(): this {
    this.frozen = true;
    return this;
  }

  unfreeze(): this {
    this.frozen = false;
    return this;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Frees the stack's WebAssembly memory; any later use throws. */
  dispose(): void {
    if (this.disposed) return;
    this.freeActivations();
    if (this.stagedInput) heap.free(this.stagedInput);
    this.releaseOwn();
    this.dropoutRng?.dispose();
    this.disposed = true;
  }

  [disposeSymbol](): void {
    this.dispose();
  }

  /** @internal */
  assertLive(): void {
    if (this.disposed) throw new LatentkitError(`this ${this.label} stack was disposed`);
    if (this.tiedTo?.disposed) throw new LatentkitError(`the encoder this tied ${this.label} stack shares weights with was disposed`);
  }

  /** @internal Output of layer i in the last forward pass (byte offset). */
  layerOutputPtr(i: number): number {
    return this.outPtrs[i]!;
  }

  private freeActivations(): void {
    for (const b of [...this.outs, ...this.douts, ...this.masks]) if (b) heap.free(b);
    this.layers.forEach((l) => l.release());
    this.outs = [];
    this.douts = [];
    this.masks = [];
    this.capacityRows = 0;
  }
}

/** A stack of layers of any kind on rows of `input` values (a width, or an image [channels, height, width]). */
export function stack(input: number | readonly number[], layers: readonly LayerSpec[], opts: Pick<StackOptions, 'init' | 'seed'> = {}): Stack {
  return new Stack({ input, layers }, opts);
}

/**
 * The stacks of several definitions (a model's parts, as dcgan() and convAutoencoder() return
 * them), the i-th seeded `seed + i`; if one is refused, those built before it are freed.
 */
export function stacks(definitions: readonly StackDefinition[], opts: { seed?: number } = {}): Stack[] {
  const built: Stack[] = [];
  try {
    definitions.forEach((d, i) => built.push(new Stack(d, { seed: (opts.seed ?? 0) + i })));
  } catch (e) {
    built.forEach((s) => s.dispose());
    throw e;
  }
  return built;
}

/** Throws naming the first NaN/Inf of a rows×cols block. */
export function assertFiniteBlock(ptr: number, rows: number, cols: number, what: string): void {
  const i = kernels.find_nonfinite(ptr, rows * cols);
  if (i >= 0) {
    const v = heap.f32[(ptr >>> 2) + i];
    throw new LatentkitError(`${what} [${rows}, ${cols}] contains ${v} at row ${Math.floor(i / cols)}, column ${i % cols}`);
  }
}

function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return i;
  return -1;
}

/** A lone stack in a file: module `layers`, its tensors named as a bare nn.Sequential's. */
export const stackKind: ModelKind<Stack> = {
  kind: 'stack',
  prefixed: false,
  type: Stack,
  modules: (s) => [['layers', s]],
  optimizers: () => [],
  options: () => ({}),
  build: (ctx) => ctx.module('layers'),
};
