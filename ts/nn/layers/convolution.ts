// What a convolution and a transposed convolution share: a geometry (crates/kernels/src/conv:
// a convolution from C×H×W to O×OH×OW, which a transposed convolution runs backwards), a
// weight [O, C·kh·kw] — PyTorch's Conv2d.weight [out, in, kh, kw], and ConvTranspose2d.weight
// [in, out, kh, kw], are both that matrix — a bias per output channel of the layer, optional
// weight normalisation over the weight's first dimension, and the batch's buffers: its patches
// ((N·OH·OW) rows of C·kh·kw, for the dense kernels' GEMMs) and two of (N·OH·OW) rows of O.
import { LatentkitError } from '../../errors.js';
import { type Block, heap } from '../../runtime/memory.js';
import { kernels } from '../../runtime/dispatch.js';
import type { Rng } from '../../runtime/rng.js';
import type { ActivationSpec } from '../activation.js';
import { activationToSpec } from '../activation.js';
import { type InitName, defaultInit } from '../init.js';
import { Layer, type Shape, type TorchTensor, drawWeights } from './layer.js';
import { WeightNorm } from './weight-norm.js';

/** The kernels' geometry (C, H, W, O, OH, OW, kh, kw, sh, sw, ph, pw). */
export interface Geometry {
  channels: number;
  height: number;
  width: number;
  outputs: number;
  outHeight: number;
  outWidth: number;
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
}

export abstract class Convolution extends Layer {
  readonly paramCount: number;
  /** Output channels of the layer. */
  readonly outChannels: number;
  /** Floats of the bias: the output channels, or 0 without one (PyTorch's bias=False). */
  readonly biasLength: number;
  protected readonly normed: WeightNorm | null;
  private patches: Block | null = null;
  private rowsA: Block | null = null;
  private rowsB: Block | null = null;
  private reserved = 0;

  constructor(
    inputShape: Shape,
    outputShape: Shape,
    activation: ActivationSpec | undefined,
    where: string,
    readonly geometry: Geometry,
    outChannels: number,
    bias: boolean,
    weightNorm: boolean,
  ) {
    super(inputShape, outputShape, activation, where);
    this.outChannels = outChannels;
    const biasLength = bias ? outChannels : 0;
    this.biasLength = biasLength;
    this.paramCount = this.weightCount + biasLength + (weightNorm ? geometry.outputs : 0);
    this.normed = weightNorm ? new WeightNorm({ units: geometry.outputs, len: this.patch, unitStride: this.patch, elemStride: 1 }, where) : null;
  }

  /** Columns of the weight matrix: C·kh·kw of the geometry. */
  get patch(): number {
    const g = this.geometry;
    return g.channels * g.kernel[0] * g.kernel[1];
  }

  get weightCount(): number {
    return this.geometry.outputs * this.patch;
  }

  /** The weight's shape in PyTorch's layout. */
  get weightShape(): number[] {
    const g = this.geometry;
    return [g.outputs, g.channels, g.kernel[0], g.kernel[1]];
  }

  /** The bias, or 0 (none) for the kernels. */
  protected get biasPtr(): number {
    return this.biasLength ? this.paramPtr(this.weightCount) : 0;
  }

  protected get biasGradPtr(): number {
    return this.biasLength ? this.gradPtr(this.weightCount) : 0;
  }

  private get gIndex(): number {
    return this.weightCount + this.biasLength;
  }

  /** The geometry as the kernels' first 13 arguments, for `rows` images. */
  protected geometryArgs(rows: number): [number, number, number, number, number, number, number, number, number, number, number, number, number] {
    const g = this.geometry;
    return [rows, g.channels, g.height, g.width, g.outputs, g.outHeight, g.outWidth, g.kernel[0], g.kernel[1], g.stride[0], g.stride[1], g.padding[0], g.padding[1]];
  }

  /** The weight the kernels read (g·v/‖v‖ with weight norm, computed here) and where its gradient goes. */
  protected weightForForward(): number {
    if (!this.normed) return this.paramPtr();
    this.normed.forward(this.paramPtr(), this.paramPtr(this.gIndex));
    return this.normed.weightPtr;
  }

  protected get weightPtr(): number {
    return this.normed ? this.normed.weightPtr : this.paramPtr();
  }

  /** Where the kernels accumulate ∂L/∂W; `finishWeightGrad` turns it into ∂L/∂g and ∂L/∂v with weight norm. */
  protected startWeightGrad(): number {
    if (!this.normed) return this.gradPtr();
    this.normed.startBackward();
    return this.normed.weightGradPtr;
  }

  protected finishWeightGrad(): void {
    this.normed?.backward(this.paramPtr(), this.paramPtr(this.gIndex), this.gradPtr(), this.gradPtr(this.gIndex));
  }

  /** The patches of the batch: (rows·OH·OW) × (C·kh·kw). */
  protected get patchesPtr(): number {
    return this.patches!.ptr;
  }

  /** Two buffers of (rows·OH·OW) × O: the O side as rows of channels, and its gradient. */
  protected get rowsPtr(): number {
    return this.rowsA!.ptr;
  }

  protected get rowsGradPtr(): number {
    return this.rowsB!.ptr;
  }

  /** Rows of the dense GEMMs for `rows` images: one per image and output pixel of the geometry. */
  protected pixelRows(rows: number): number {
    return rows * this.geometry.outHeight * this.geometry.outWidth;
  }

  /** Fan-in and fan-out for the initialisers: the inputs and outputs one output and one input value see. */
  protected abstract fans(): [number, number];

  override reserve(rows: number): void {
    if (rows <= this.reserved) return;
    const r = this.pixelRows(rows);
    this.patches = heap.reserve(this.patches, r * this.patch, `the patches of ${this.where} for ${rows} images`);
    this.rowsA = heap.reserve(this.rowsA, r * this.geometry.outputs, `the rows of ${this.where} for ${rows} images`);
    this.rowsB = heap.reserve(this.rowsB, r * this.geometry.outputs, `their gradients`);
    this.reserved = rows;
  }

  override release(): void {
    for (const b of [this.patches, this.rowsA, this.rowsB]) if (b) heap.free(b);
    this.patches = this.rowsA = this.rowsB = null;
    this.reserved = 0;
  }

  override dispose(): void {
    this.release();
    this.normed?.dispose();
  }

  initialize(rng: Rng, init: InitName | undefined): void {
    const [fanIn, fanOut] = this.fans();
    drawWeights(rng, init ?? defaultInit(this.activation.name), this.paramPtr(), this.weightCount, fanIn, fanOut, this.where);
    if (this.biasLength) kernels.fill(this.biasPtr, this.biasLength, 0);
    this.normed?.initialize(this.paramPtr(), this.paramPtr(this.gIndex));
  }

  /** The options every convolution's spec has. */
  protected commonSpec(): { kernel: [number, number]; stride: [number, number]; padding: [number, number]; activation?: ActivationSpec; weightNorm?: true; bias?: false } {
    const g = this.geometry;
    return {
      kernel: [...g.kernel], stride: [...g.stride], padding: [...g.padding],
      ...(this.activation.name !== 'linear' && { activation: activationToSpec(this.activation) }),
      ...(this.normed && { weightNorm: true as const }),
      ...(this.biasLength === 0 && { bias: false as const }),
    };
  }

  tensors(): [string, TorchTensor][] {
    const w = { shape: this.weightShape, data: this.readParams(0, this.weightCount) };
    const bias: [string, TorchTensor][] = this.biasLength ? [['bias', { shape: [this.biasLength], data: this.readParams(this.weightCount, this.biasLength) }]] : [];
    if (!this.normed) return [['weight', w], ...bias];
    const gShape = [this.geometry.outputs, 1, 1, 1];
    return [['parametrizations.weight.original0', { shape: gShape, data: this.readParams(this.gIndex, this.geometry.outputs) }], ['parametrizations.weight.original1', w], ...bias];
  }

  setTensors(take: (suffix: string, shape: number[]) => TorchTensor): void {
    if (this.normed) {
      this.writeParams(this.gIndex, take('parametrizations.weight.original0', [this.geometry.outputs, 1, 1, 1]).data);
      this.writeParams(0, take('parametrizations.weight.original1', this.weightShape).data);
    } else {
      this.writeParams(0, take('weight', this.weightShape).data);
    }
    if (this.biasLength) this.writeParams(this.weightCount, take('bias', [this.biasLength]).data);
  }

  /** The weight as the kernels use it (w = g·v/‖v‖ with weight norm), in PyTorch's layout. */
  effectiveWeight(): Float32Array {
    const p = this.weightForForward();
    return heap.f32.slice(p >>> 2, (p >>> 2) + this.weightCount);
  }

  /** The bias (zeros without one). */
  bias(): Float32Array {
    return this.biasLength ? this.readParams(this.weightCount, this.biasLength) : new Float32Array(this.outChannels);
  }
}

/** Throws unless the kernel fits the padded input. */
export function checkKernelFits(where: string, input: Shape, side: number, padding: number, kernel: number, axis: string): void {
  if (kernel > side + 2 * padding) {
    throw new LatentkitError(`${where}: the ${kernel}-wide kernel is larger than the input's ${axis} ${side} with padding ${padding} on each side (input [${input.join(', ')}])`);
  }
}
