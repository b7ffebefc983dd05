// What every layer kind declares once (ARCHITECTURE.md, "Layers"): its parameters and their
// PyTorch names and layouts, its input and output shapes, its forward and backward kernels and
// its ONNX node. A stack (../stack.ts) owns the memory — one flat parameter buffer, one flat
// gradient buffer, one buffer of statistics that are not trained, and each layer's output and
// output gradient — and drives the layers in order; the layers only say what to compute.
import { LatentkitError } from '../../errors.js';
import { type Block, heap } from '../../runtime/memory.js';
import { kernels } from '../../runtime/dispatch.js';
import type { Rng } from '../../runtime/rng.js';
import type { ActivationSpec, ResolvedActivation } from '../activation.js';
import { resolveActivation } from '../activation.js';
import type { InitName } from '../init.js';
import { INIT } from '../../runtime/codes.js';

/** A layer's input or output per row: `[features]`, or `[channels, height, width]` (NCHW, as PyTorch). */
export type Shape = readonly number[];

export const shapeText = (s: Shape): string => s.join('×');
export const sizeOf = (s: Shape): number => s.reduce((a, b) => a * b, 1);

/** Where a layer's memory lives: the stack that owns it. */
export interface LayerHost {
  readonly params: Block;
  readonly grads: Block;
  readonly state: Block | null;
  /** The generator of training-time noise (Gaussian noise and dropout layers, the `dropout` option). */
  readonly noiseRng: Rng | null;
}

/** A float tensor as PyTorch's module holds it (an int64 counter as `int`). */
export interface TorchTensor {
  shape: number[];
  data: Float32Array;
  int?: boolean;
}

/** An ONNX node attribute's value. */
export type OnnxAttribute = { int: number } | { ints: number[] } | { float: number };

/** The ONNX graph a layer's node is written into (ts/onnx.ts). */
export interface OnnxBuilder {
  /** Adds an initializer and returns its name. */
  initializer(name: string, dims: number[], data: Float32Array | BigInt64Array): string;
  /** Adds a node and returns its (first) output's name. */
  node(op: string, inputs: string[], attributes?: Record<string, OnnxAttribute>, name?: string): string;
  /** Applies an activation to `input`; returns the output's name. */
  activation(a: ResolvedActivation, input: string, at: string): string;
}

export abstract class Layer {
  /** The kind's name in specs and files ('conv2d', …). */
  abstract readonly type: string;
  /** The activation fused at the end of the layer (linear for none). */
  readonly activation: ResolvedActivation;
  /** Floats of trained parameters, of statistics that are not trained. */
  abstract readonly paramCount: number;
  readonly stateCount: number = 0;
  /** Offsets (in floats) of this layer's parameters and statistics in its stack's buffers. */
  paramOffset = 0;
  stateOffset = 0;
  /** The output is the input's memory, as is its gradient (reshape, flatten). */
  readonly aliasesInput: boolean = false;
  /** @internal Set by the stack that owns the layer. */
  host!: LayerHost;

  constructor(
    readonly inputShape: Shape,
    readonly outputShape: Shape,
    activation: ActivationSpec | undefined,
    readonly where: string,
  ) {
    this.activation = resolveActivation(activation ?? 'linear', where);
  }

  get inputSize(): number {
    return sizeOf(this.inputShape);
  }

  get outputSize(): number {
    return sizeOf(this.outputShape);
  }

  /** Byte offset of parameter float `i` of this layer. */
  protected paramPtr(i = 0): number {
    return this.host.params.ptr + (this.paramOffset + i) * 4;
  }

  protected gradPtr(i = 0): number {
    return this.host.grads.ptr + (this.paramOffset + i) * 4;
  }

  protected statePtr(i = 0): number {
    return this.host.state!.ptr + (this.stateOffset + i) * 4;
  }

  /** Throws, naming the layer and the shapes, if a batch of `rows` cannot run (before any kernel does). */
  checkBatch(_rows: number, _training: boolean): void {}

  /** Makes the layer's own per-batch buffers hold `rows` rows. */
  reserve(_rows: number): void {}

  /** Frees the per-batch buffers. */
  release(): void {}

  /** Frees everything the layer allocated itself (its stack frees its buffers). */
  dispose(): void {
    this.release();
  }

  /** Draws the parameters (biases and shifts start at 0, scales at 1). */
  abstract initialize(rng: Rng, init: InitName | undefined): void;

  /** y ← layer(x) for `rows` rows at byte offsets x and y; `training` uses batch statistics and noise. */
  abstract forward(x: number, y: number, rows: number, training: boolean): void;

  /**
   * From dy = ∂L/∂y (which it may overwrite) of the last forward pass: accumulates the
   * parameters' gradients when `accumulate`, and writes ∂L/∂x to `dx` unless it is 0.
   */
  abstract backward(x: number, y: number, dy: number, dx: number, rows: number, accumulate: boolean): void;

  /** The layer as a spec (for files and for building the same layer again). */
  abstract spec(): LayerSpec;

  /** The module's tensors in PyTorch's names (after the module's index) and layouts. */
  abstract tensors(): [string, TorchTensor][];

  /** Sets the parameters and statistics from tensors in PyTorch's layouts, each checked by `take`. */
  abstract setTensors(take: (suffix: string, shape: number[]) => TorchTensor): void;

  /** The PyTorch modules this layer is in an nn.Sequential: the layer's own, then its activation's. */
  torchModules(): number {
    return 1 + (this.activation.name === 'linear' ? 0 : 1);
  }

  /** Writes the layer's ONNX node(s) from `input`; returns the output's name. */
  abstract onnx(g: OnnxBuilder, input: string, at: string): string;

  /** Reads `count` floats of this layer's parameters from float `i` (a copy). */
  protected readParams(i: number, count: number): Float32Array {
    const at = this.host.params.index + this.paramOffset + i;
    return heap.f32.slice(at, at + count);
  }

  protected writeParams(i: number, data: Float32Array): void {
    heap.f32.set(data, this.host.params.index + this.paramOffset + i);
  }

  protected readState(i: number, count: number): Float32Array {
    const at = this.host.state!.index + this.stateOffset + i;
    return heap.f32.slice(at, at + count);
  }

  protected writeState(i: number, data: Float32Array): void {
    heap.f32.set(data, this.host.state!.index + this.stateOffset + i);
  }
}

/** Copies `n` floats from byte offset `src` to `dst` (no allocation). */
export function copyFloats(src: number, dst: number, n: number): void {
  if (src !== dst) heap.f32.copyWithin(dst >>> 2, src >>> 2, (src >>> 2) + n);
}

/**
 * Draws a weight of `count` floats at byte offset `ptr` with fans `fanIn` and `fanOut` (the
 * initialisers of nn/init.ts: He from the fan-in, Glorot from both).
 */
export function drawWeights(rng: Rng, init: InitName, ptr: number, count: number, fanIn: number, fanOut: number, where: string): void {
  const code = (INIT as Record<string, number>)[init];
  if (code === undefined) throw new LatentkitError(`unknown initialiser ${JSON.stringify(init)} for ${where}; expected one of ${Object.keys(INIT).join(', ')}`);
  const state = rng.state.ptr;
  switch (init) {
    case 'glorot-uniform': {
      const limit = Math.fround(Math.sqrt(6 / (fanIn + fanOut)));
      return kernels.rng_uniform(state, ptr, count, -limit, limit);
    }
    case 'glorot-normal':
      return kernels.rng_normal(state, ptr, count, 0, Math.sqrt(2 / (fanIn + fanOut)));
    case 'he-normal':
      return kernels.rng_normal(state, ptr, count, 0, Math.sqrt(2 / fanIn));
    case 'he-uniform': {
      const limit = Math.sqrt(6 / fanIn);
      return kernels.rng_uniform(state, ptr, count, -limit, limit);
    }
  }
}

/** A side as `[h, w]` from a number or a pair, checked. */
export function pair(v: number | readonly number[] | undefined, fallback: number, min: number, what: string, where: string): [number, number] {
  const p = v === undefined ? [fallback, fallback] : typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= min && x <= 1 << 16)) {
    throw new LatentkitError(`${where}: ${what} must be an integer ≥ ${min} or a pair of them [h, w], got ${JSON.stringify(v)}`);
  }
  return [p[0]!, p[1]!];
}

/** Throws unless `input` is an image [C, H, W]. */
export function imageInput(input: Shape, where: string, hint: string): [number, number, number] {
  if (input.length !== 3) throw new LatentkitError(`${where} takes images [channels, height, width], but its input is [${input.join(', ')}]; ${hint}`);
  return [input[0]!, input[1]!, input[2]!];
}

/** Every layer kind's spec: what a user writes, and what a file keeps. */
export type LayerSpec =
  | { type: 'dense'; units: number; activation?: ActivationSpec; weightNorm?: boolean }
  | { type: 'conv2d'; channels: number; kernel: number | [number, number]; stride?: number | [number, number]; padding?: number | [number, number]; activation?: ActivationSpec; weightNorm?: boolean; bias?: boolean }
  | {
      type: 'conv-transpose2d'; channels: number; kernel: number | [number, number]; stride?: number | [number, number]; padding?: number | [number, number];
      outputPadding?: number | [number, number]; activation?: ActivationSpec; weightNorm?: boolean; bias?: boolean;
    }
  | { type: 'batch-norm'; momentum?: number; eps?: number; activation?: ActivationSpec }
  | { type: 'gaussian-noise'; std: number }
  | { type: 'dropout'; rate: number }
  | { type: 'reshape'; shape: number[] }
  | { type: 'flatten' };

/** Throws unless `spec` has only the keys its kind knows. */
export function checkSpecKeys(spec: object, keys: readonly string[], where: string): void {
  for (const k of Object.keys(spec)) {
    if (k !== 'type' && !keys.includes(k)) throw new LatentkitError(`${where}: unknown option ${JSON.stringify(k)} (expected ${keys.join(', ')})`);
  }
}
