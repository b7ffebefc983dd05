// The dense layer y = f(x·W + b): W is [inputs × outputs] row-major in latentkit's buffer (the
// transpose of nn.Linear's [out, in], which files and ONNX get), b is [outputs]. A tied layer
// reads another stack's W transposed (a tied autoencoder's decoder).
import { LatentkitError } from '../../errors.js';
import type { Block } from '../../runtime/memory.js';
import { heap } from '../../runtime/memory.js';
import { kernels } from '../../runtime/dispatch.js';
import type { Rng } from '../../runtime/rng.js';
import type { ActivationSpec } from '../activation.js';
import { activationToSpec } from '../activation.js';
import { type InitName, defaultInit, initCode } from '../init.js';
import { Layer, type LayerSpec, type OnnxBuilder, type Shape, type TorchTensor, checkSpecKeys } from './layer.js';
import { WeightNorm } from './weight-norm.js';

/** Where a tied layer's W lives: another stack's buffers, stored [outputs × inputs]. */
export interface TiedWeight {
  params: Block;
  grads: Block;
  /** Float offset of the matrix in those buffers. */
  offset: number;
}

export class Dense extends Layer {
  readonly type = 'dense';
  readonly inputs: number;
  readonly outputs: number;
  readonly paramCount: number;
  /** Float offsets within the layer's parameters; the weight's is −1 when tied. */
  private readonly normed: WeightNorm | null;

  constructor(inputShape: Shape, units: number, activation: ActivationSpec | undefined, where: string, readonly tied: TiedWeight | null = null, weightNorm = false) {
    if (inputShape.length !== 1) throw new LatentkitError(`${where} (dense) takes vectors, but its input is [${inputShape.join(', ')}]; put flatten() before it`);
    super(inputShape, [units], activation, where);
    this.inputs = inputShape[0]!;
    this.outputs = units;
    if (tied && weightNorm) throw new LatentkitError(`${where}: a tied layer cannot be weight-normalised`);
    const w = tied ? 0 : this.inputs * units;
    this.paramCount = w + units + (weightNorm ? units : 0);
    this.normed = weightNorm ? new WeightNorm({ units, len: this.inputs, unitStride: 1, elemStride: units }, where) : null;
  }

  static fromSpec(spec: Extract<LayerSpec, { type: 'dense' }>, input: Shape, where: string): Dense {
    checkSpecKeys(spec, ['units', 'activation', 'weightNorm'], `${where} (dense)`);
    if (!Number.isInteger(spec.units) || spec.units < 1 || spec.units > 1 << 24) throw new LatentkitError(`${where}: units must be a positive integer, got ${JSON.stringify(spec.units)}`);
    return new Dense(input, spec.units, spec.activation, where, null, spec.weightNorm === true);
  }

  /** Float offset of W within the stack's parameters (−1 when tied). */
  get weightOffset(): number {
    return this.tied ? -1 : this.paramOffset;
  }

  get biasOffset(): number {
    return this.paramOffset + (this.tied ? 0 : this.inputs * this.outputs);
  }

  private get gOffset(): number {
    return this.biasOffset + this.outputs;
  }

  /** The W the kernels read (w = g·v/‖v‖ with weight norm) and where its gradient goes. */
  private weight(): { w: number; dw: number; transposed: number } {
    if (this.tied) return { w: this.tied.params.ptr + this.tied.offset * 4, dw: this.tied.grads.ptr + this.tied.offset * 4, transposed: 1 };
    if (this.normed) return { w: this.normed.weightPtr, dw: this.normed.weightGradPtr, transposed: 0 };
    return { w: this.paramPtr(), dw: this.gradPtr(), transposed: 0 };
  }

  initialize(rng: Rng, init: InitName | undefined): void {
    if (!this.tied) {
      const kind = initCode(init ?? defaultInit(this.activation.name), this.where);
      kernels.init_weights(rng.state.ptr, kind, this.paramPtr(), this.inputs, this.outputs);
    }
    kernels.fill(this.host.params.ptr + this.biasOffset * 4, this.outputs, 0);
    this.normed?.initialize(this.paramPtr(), this.host.params.ptr + this.gOffset * 4);
  }

  forward(x: number, y: number, rows: number): void {
    if (this.normed) this.normed.forward(this.paramPtr(), this.host.params.ptr + this.gOffset * 4);
    const w = this.weight();
    kernels.dense_forward(rows, this.inputs, this.outputs, x, w.w, this.host.params.ptr + this.biasOffset * 4, y, this.activation.code, this.activation.alpha, w.transposed);
  }

  backward(x: number, y: number, dy: number, dx: number, rows: number, accumulate: boolean): void {
    const w = this.weight();
    if (accumulate && this.normed) this.normed.startBackward();
    kernels.dense_backward_params(
      rows, this.inputs, this.outputs, x, y, dy,
      accumulate ? w.dw : 0, accumulate ? this.host.grads.ptr + this.biasOffset * 4 : 0,
      this.activation.code, this.activation.alpha, w.transposed,
    );
    if (accumulate && this.normed) this.normed.backward(this.paramPtr(), this.host.params.ptr + this.gOffset * 4, this.gradPtr(), this.host.grads.ptr + this.gOffset * 4);
    if (dx !== 0) kernels.dense_backward_input(rows, this.inputs, this.outputs, dy, w.w, dx, w.transposed);
  }

  /** W as [inputs × outputs] (for a tied layer, the transpose of the shared matrix; with weight norm, g·v/‖v‖) and b. */
  parameters(): { weight: Float32Array; bias: Float32Array } {
    const f32 = heap.f32;
    let weight: Float32Array;
    if (this.tied) {
      const base = this.tied.params.index + this.tied.offset;
      weight = new Float32Array(this.inputs * this.outputs);
      for (let r = 0; r < this.outputs; r++) for (let c = 0; c < this.inputs; c++) weight[c * this.outputs + r] = f32[base + r * this.inputs + c]!;
    } else if (this.normed) {
      this.normed.forward(this.paramPtr(), this.host.params.ptr + this.gOffset * 4);
      weight = heap.f32.slice(this.normed.weightPtr >>> 2, (this.normed.weightPtr >>> 2) + this.inputs * this.outputs);
    } else {
      weight = this.readParams(0, this.inputs * this.outputs);
    }
    return { weight, bias: this.readParams(this.biasOffset - this.paramOffset, this.outputs) };
  }

  /** Writes W ([inputs × outputs]; null for a tied layer) and b. */
  setParameters(weight: Float32Array | null, bias: Float32Array): void {
    if (weight) this.writeParams(0, weight);
    this.writeParams(this.biasOffset - this.paramOffset, bias);
  }

  spec(): LayerSpec {
    return { type: 'dense', units: this.outputs, ...(this.activation.name !== 'linear' && { activation: activationToSpec(this.activation) }), ...(this.normed && { weightNorm: true }) };
  }

  /** [in × out] ↔ nn.Linear's [out, in]. */
  private static transpose(w: Float32Array, rows: number, cols: number): Float32Array {
    const t = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c]!;
    return t;
  }

  tensors(): [string, TorchTensor][] {
    const out: [string, TorchTensor][] = [];
    const linear = (w: Float32Array) => ({ shape: [this.outputs, this.inputs], data: Dense.transpose(w, this.inputs, this.outputs) });
    if (this.normed) {
      out.push(['parametrizations.weight.original0', { shape: [this.outputs, 1], data: this.readParams(this.gOffset - this.paramOffset, this.outputs) }]);
      out.push(['parametrizations.weight.original1', linear(this.readParams(0, this.inputs * this.outputs))]);
    } else if (!this.tied) {
      out.push(['weight', linear(this.readParams(0, this.inputs * this.outputs))]);
    }
    out.push(['bias', { shape: [this.outputs], data: this.readParams(this.biasOffset - this.paramOffset, this.outputs) }]);
    return out;
  }

  setTensors(take: (suffix: string, shape: number[]) => TorchTensor): void {
    if (this.normed) {
      this.writeParams(this.gOffset - this.paramOffset, take('parametrizations.weight.original0', [this.outputs, 1]).data);
      this.writeParams(0, Dense.transpose(take('parametrizations.weight.original1', [this.outputs, this.inputs]).data, this.outputs, this.inputs));
    } else if (!this.tied) {
      this.writeParams(0, Dense.transpose(take('weight', [this.outputs, this.inputs]).data, this.outputs, this.inputs));
    }
    this.writeParams(this.biasOffset - this.paramOffset, take('bias', [this.outputs]).data);
  }

  onnx(g: OnnxBuilder, input: string, at: string): string {
    const { weight, bias } = this.parameters();
    const w = g.initializer(`${at}.weight`, [this.inputs, this.outputs], weight);
    const b = g.initializer(`${at}.bias`, [this.outputs], bias);
    return g.activation(this.activation, g.node('Gemm', [input, w, b], {}, `${at}.gemm`), at);
  }

  override dispose(): void {
    this.normed?.dispose();
  }
}
