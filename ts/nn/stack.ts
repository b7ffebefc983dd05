import { LatentkitError } from '../errors.js';
import { Block, heap } from '../runtime/memory.js';
import { Rng } from '../runtime/rng.js';
import { kernels } from '../runtime/dispatch.js';
import { type ActivationSpec, type ResolvedActivation, activationToSpec, resolveActivation } from './activation.js';
import { type InitName, defaultInit, initCode } from './init.js';
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

/** Where a layer's W lives: its own buffer, or (tied) another stack's, read transposed. */
interface WeightSource {
  params: Block;
  grads: Block;
  offset: number;
  transposed: boolean;
  owner: Stack;
}

const disposeSymbol: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('Symbol.dispose');

/**
 * A stack of dense layers y = f(x·W + b). Parameters and their gradients are
 * two flat buffers in WebAssembly memory (one optimizer call updates them
 * all); activations and their gradients are per-layer buffers sized for the
 * largest batch seen. Call `dispose()` (or `using`) to free the memory.
 */
export class Stack {
  readonly sizes: readonly number[];
  readonly layers: readonly LayerInfo[];
  readonly parameterCount: number;
  /** Frozen stacks pass gradients through to their input but never change. */
  frozen = false;
  /** @internal */ params: Block;
  /** @internal */ grads: Block;
  private outs: Block[] = [];
  private douts: Block[] = [];
  private stagedInput: Block | null = null;
  private readonly weightSources: WeightSource[];
  /** The stack whose weights this one reads transposed (tied weights), if any. */
  readonly tiedTo: Stack | null;
  private readonly hiddenActivation: ResolvedActivation;
  readonly dropout: number;
  /** @internal The dropout masks' generator (null without dropout). */
  dropoutRng: Rng | null = null;
  private masks: Block[] = [];
  private lastForwardDropped = false;
  private capacityRows = 0;
  private inputPtr = 0;
  private disposed = false;

  constructor(sizes: readonly number[], opts: StackOptions = {}, tiedTo: Stack | null = null) {
    if (!Array.isArray(sizes) || sizes.length < 2) {
      throw new LatentkitError(`layer sizes must list at least an input and an output size, got ${JSON.stringify(sizes)}`);
    }
    sizes.forEach((s, i) => positiveInt(s, `layer size ${i} of [${sizes.join(', ')}]`));
    const hidden = resolveActivation(opts.activation ?? 'relu', 'hidden layers');
    this.hiddenActivation = hidden;
    const rate = opts.dropout ?? 0;
    if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw new LatentkitError(`dropout must be a rate in [0, 1), got ${opts.dropout}`);
    if (rate > 0 && !['relu', 'leaky-relu', 'linear'].includes(hidden.name)) {
      throw new LatentkitError(`dropout needs hidden layers whose derivative depends only on the sign of the output (relu, leaky-relu, linear), not ${hidden.name}`);
    }
    this.dropout = rate;
    const output = resolveActivation(opts.outputActivation ?? 'linear', 'the output layer');
    const layers: LayerInfo[] = [];
    let offset = 0;
    const count = sizes.length - 1;
    for (let i = 0; i < count; i++) {
      const inputs = sizes[i]!;
      const outputs = sizes[i + 1]!;
      const ownW = tiedTo ? 0 : inputs * outputs;
      layers.push({ inputs, outputs, activation: i + 1 === count ? output : hidden, weightOffset: tiedTo ? -1 : offset, biasOffset: offset + ownW });
      offset += ownW + outputs;
    }
    this.sizes = [...sizes];
    this.layers = layers;
    this.parameterCount = offset;
    this.tiedTo = tiedTo;
    this.params = heap.alloc(offset, `the ${offset} parameters of a [${sizes.join(', ')}] stack`);
    try {
      this.grads = heap.alloc(offset, `the gradients of a [${sizes.join(', ')}] stack`);
    } catch (e) {
      heap.free(this.params);
      throw e;
    }
    this.weightSources = layers.map((l, i) => {
      if (!tiedTo) return { params: this.params, grads: this.grads, offset: l.weightOffset, transposed: false, owner: this };
      const mirror = tiedTo.layers[tiedTo.layers.length - 1 - i]!;
      return { params: tiedTo.params, grads: tiedTo.grads, offset: mirror.weightOffset, transposed: true, owner: tiedTo };
    });
    const rng = new Rng(opts.seed ?? 0);
    try {
      this.initialize(rng, opts.init);
    } finally {
      rng.dispose();
    }
    this.grads.fill(0);
    // Masks come from their own stream, decorrelated from the initialisation's.
    if (rate > 0) this.dropoutRng = new Rng(BigInt(opts.seed ?? 0) ^ 0xd5a61266f0c9392cn);
  }

  /**
   * A decoder that shares `encoder`'s weight matrices, transposed and in
   * reverse order, with biases of its own: sizes are the encoder's reversed.
   * Gradients of the shared matrices accumulate into the encoder's.
   */
  static tied(encoder: Stack, opts: Omit<StackOptions, 'init'> = {}): Stack {
    encoder.assertLive();
    if (encoder.tiedTo) throw new LatentkitError('cannot tie to a stack that is itself tied');
    return new Stack([...encoder.sizes].reverse(), opts, encoder);
  }

  /** Width of the input. */
  get inputSize(): number {
    return this.sizes[0]!;
  }

  /** Width of the output. */
  get outputSize(): number {
    return this.sizes[this.sizes.length - 1]!;
  }

  /** (Re)draws the weights from `rng`; biases are set to zero. */
  initialize(rng: Rng, init?: InitName): void {
    this.assertLive();
    for (const [i, l] of this.layers.entries()) {
      if (!this.tiedTo) {
        const kind = initCode(init ?? defaultInit(l.activation.name), `layer ${i}`);
        kernels.init_weights(rng.state.ptr, kind, this.params.ptr + l.weightOffset * 4, l.inputs, l.outputs);
      }
      kernels.fill(this.params.ptr + l.biasOffset * 4, l.outputs, 0);
    }
  }

  /** The architecture: sizes and the hidden and output activations. */
  describe(): { sizes: number[]; activation: ActivationSpec; outputActivation: ActivationSpec; tied: boolean; dropout: number } {
    const last = this.layers[this.layers.length - 1]!;
    const hidden = this.layers.length > 1 ? this.layers[0]!.activation : this.hiddenActivation;
    return { sizes: [...this.sizes], activation: activationToSpec(hidden), outputActivation: activationToSpec(last.activation), tied: this.tiedTo !== null, dropout: this.dropout };
  }

  /** @internal Writes W (as [inputs × outputs]) and b of layer i; a tied layer's W must be null. */
  setLayerParameters(i: number, weight: Float32Array | null, bias: Float32Array): void {
    const l = this.layers[i]!;
    const f32 = heap.f32;
    if (weight) f32.set(weight, this.params.index + l.weightOffset);
    f32.set(bias, this.params.index + l.biasOffset);
  }

  /**
   * Layer i's weight matrix as [inputs × outputs] row-major (a copy; for a
   * tied stack, the transpose of the shared matrix) and its bias.
   */
  layerParameters(i: number): { weight: Float32Array; bias: Float32Array } {
    this.assertLive();
    const l = this.layers[i];
    if (!l) throw new LatentkitError(`layer ${i} does not exist in a stack of ${this.layers.length} layers`);
    const src = this.weightSources[i]!;
    const f32 = heap.f32;
    const base = src.params.index + src.offset;
    let weight: Float32Array;
    if (!src.transposed) {
      weight = f32.slice(base, base + l.inputs * l.outputs);
    } else {
      // Stored as [outputs × inputs]: transpose into [inputs × outputs].
      weight = new Float32Array(l.inputs * l.outputs);
      for (let r = 0; r < l.outputs; r++) for (let c = 0; c < l.inputs; c++) weight[c * l.outputs + r] = f32[base + r * l.inputs + c]!;
    }
    const b = this.params.index + l.biasOffset;
    return { weight, bias: f32.slice(b, b + l.outputs) };
  }

  /** A copy of this stack's own parameters, layer by layer: W0 (in×out, row-major), b0, W1, b1, … (biases only when tied) */
  getWeights(): Float32Array {
    this.assertLive();
    return this.params.read();
  }

  setWeights(values: Float32Array): void {
    this.assertLive();
    if (!(values instanceof Float32Array) || values.length !== this.parameterCount) {
      throw new LatentkitError(`setWeights: expected a Float32Array of ${this.parameterCount} values for a [${this.sizes.join(', ')}] stack, got ${values?.length}`);
    }
    const bad = firstNonFinite(values);
    if (bad >= 0) throw new LatentkitError(`setWeights: value ${bad} is ${values[bad]}`);
    this.params.write(values);
  }

  /** A copy of the accumulated gradients, same layout as getWeights(). */
  getGradients(): Float32Array {
    this.assertLive();
    return this.grads.read();
  }

  /** Forward pass on a batch; returns the outputs as a new Matrix. */
  predict(x: MatrixLike): Matrix {
    this.assertLive();
    return predictChain([this], asMatrix(x, this.inputSize, `predict input of a [${this.sizes.join(', ')}] stack`), 'predict input');
  }

  // ---- the training-step path: pointers only, no allocation once capacity is reached ----

  /** @internal Makes every per-batch buffer hold `rows` rows. Allocates only when rows grow. */
  ensureCapacity(rows: number): void {
    this.assertLive();
    if (rows <= this.capacityRows) return;
    this.freeActivations();
    for (const [i, l] of this.layers.entries()) {
      this.outs.push(heap.alloc(rows * l.outputs, `activations of a ${rows}-row batch`));
      this.douts.push(heap.alloc(rows * l.outputs, `activation gradients of a ${rows}-row batch`));
      if (this.dropout > 0 && i + 1 < this.layers.length) this.masks.push(heap.alloc(rows * l.outputs, `dropout masks of a ${rows}-row batch`));
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
   * byte offset. `training` applies dropout (when configured) and records the
   * masks for the backward pass.
   */
  forward(x: number, rows: number, training = false): number {
    this.ensureCapacity(rows);
    this.inputPtr = x;
    const drop = training && this.dropout > 0;
    this.lastForwardDropped = drop;
    let input = x;
    for (const [i, l] of this.layers.entries()) {
      const y = this.outs[i]!.ptr;
      const w = this.weightSources[i]!;
      kernels.dense_forward(rows, l.inputs, l.outputs, input, w.params.ptr + w.offset * 4, this.params.ptr + l.biasOffset * 4, y, l.activation.code, l.activation.alpha, w.transposed ? 1 : 0);
      if (drop && i + 1 < this.layers.length) kernels.rng_dropout(this.dropoutRng!.state.ptr, y, this.masks[i]!.ptr, rows * l.outputs, this.dropout);
      input = y;
    }
    return input;
  }

  /** @internal Where the loss (or the next stack) writes ∂L/∂output. */
  get outputGradPtr(): number {
    return this.douts[this.douts.length - 1]!.ptr;
  }

  /** @internal Output of the last forward pass. */
  get outputPtr(): number {
    return this.outs[this.outs.length - 1]!.ptr;
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
      const x = i === 0 ? this.inputPtr : this.outs[i - 1]!.ptr;
      const dx = i === 0 ? dInput : this.douts[i - 1]!.ptr;
      if (!accumulate && dx === 0) return 0;
      // Dropped units pass no gradient; kept ones keep the output's sign, so f′ from y stays right.
      if (this.lastForwardDropped && i < last) kernels.mul(this.douts[i]!.ptr, this.masks[i]!.ptr, rows * l.outputs);
      const w = this.weightSources[i]!;
      const transposed = w.transposed ? 1 : 0;
      kernels.dense_backward_params(
        rows, l.inputs, l.outputs, x, this.outs[i]!.ptr, this.douts[i]!.ptr,
        accumulate ? w.grads.ptr + w.offset * 4 : 0, accumulate ? this.grads.ptr + l.biasOffset * 4 : 0,
        l.activation.code, l.activation.alpha, transposed,
      );
      if (dx !== 0) kernels.dense_backward_input(rows, l.inputs, l.outputs, this.douts[i]!.ptr, w.params.ptr + w.offset * 4, dx, transposed);
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
    heap.free(this.params);
    heap.free(this.grads);
    this.dropoutRng?.dispose();
    this.disposed = true;
  }

  [disposeSymbol](): void {
    this.dispose();
  }

  /** @internal */
  assertLive(): void {
    if (this.disposed) throw new LatentkitError(`this [${this.sizes.join(', ')}] stack was disposed`);
    if (this.tiedTo?.disposed) throw new LatentkitError(`the encoder this tied [${this.sizes.join(', ')}] stack shares weights with was disposed`);
  }

  /** @internal Output of layer i in the last forward pass (byte offset). */
  layerOutputPtr(i: number): number {
    return this.outs[i]!.ptr;
  }

  private freeActivations(): void {
    for (const b of [...this.outs, ...this.douts, ...this.masks]) heap.free(b);
    this.outs = [];
    this.douts = [];
    this.masks = [];
    this.capacityRows = 0;
  }
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
