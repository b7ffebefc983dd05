// Batch normalisation, PyTorch's nn.BatchNorm1d after a dense layer (per feature) and
// nn.BatchNorm2d after a convolution (per channel): y = f(γ·(x − μ)/√(σ² + ε) + β). Training
// steps normalise by the batch's statistics and move the running ones by `momentum` (PyTorch's
// convention: r ← (1 − m)·r + m·batch, the variance unbiased); inference uses the running ones.
// Statistics are reduced in one fixed order per channel, whichever thread computes it.
import { LatentkitError } from '../../errors.js';
import { type Block, heap } from '../../runtime/memory.js';
import { kernels } from '../../runtime/dispatch.js';
import type { ActivationSpec } from '../activation.js';
import { activationToSpec } from '../activation.js';
import { Layer, type LayerSpec, type OnnxBuilder, type Shape, type TorchTensor, checkSpecKeys } from './layer.js';

export class BatchNorm extends Layer {
  readonly type = 'batch-norm';
  readonly channels: number;
  /** Values per channel in one row: 1 after a dense layer, H·W after a convolution. */
  readonly size: number;
  readonly paramCount: number;
  override readonly stateCount: number;
  readonly momentum: number;
  readonly eps: number;
  /** Training steps taken (PyTorch's num_batches_tracked). */
  batchesTracked = 0;
  /** The statistics of the last forward pass (μ and 1/√(σ² + ε) per channel), for its backward. */
  private readonly saved: Block;
  private lastTraining = false;

  static fromSpec(spec: Extract<LayerSpec, { type: 'batch-norm' }>, input: Shape, where: string): BatchNorm {
    const at = `${where} (batchNorm)`;
    checkSpecKeys(spec, ['momentum', 'eps', 'activation'], at);
    const momentum = spec.momentum ?? 0.1;
    const eps = spec.eps ?? 1e-5;
    if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) throw new LatentkitError(`${at}: momentum must be in [0, 1], got ${JSON.stringify(spec.momentum)}`);
    if (typeof eps !== 'number' || !(eps > 0 && eps < 1)) throw new LatentkitError(`${at}: eps must be in (0, 1), got ${JSON.stringify(spec.eps)}`);
    if (input.length !== 1 && input.length !== 3) throw new LatentkitError(`${at} normalises vectors [features] or images [channels, height, width], not [${input.join(', ')}]`);
    return new BatchNorm(input, spec.activation, where, momentum, eps);
  }

  private constructor(input: Shape, activation: ActivationSpec | undefined, where: string, momentum: number, eps: number) {
    super(input, input, activation, where);
    this.channels = input[0]!;
    this.size = input.length === 3 ? input[1]! * input[2]! : 1;
    this.paramCount = 2 * this.channels;
    this.stateCount = 2 * this.channels;
    this.momentum = momentum;
    this.eps = eps;
    this.saved = heap.alloc(2 * this.channels, `the batch statistics of ${where}`);
  }

  override checkBatch(rows: number, training: boolean): void {
    if (training && rows * this.size < 2) {
      throw new LatentkitError(
        `${this.where} (batchNorm) needs more than one value per channel in a training step, but a batch of ${rows} row${rows === 1 ? '' : 's'} of [${this.inputShape.join(', ')}] gives ${rows * this.size}`,
      );
    }
  }

  initialize(): void {
    kernels.fill(this.paramPtr(), this.channels, 1);
    kernels.fill(this.paramPtr(this.channels), this.channels, 0);
    kernels.fill(this.statePtr(), this.channels, 0);
    kernels.fill(this.statePtr(this.channels), this.channels, 1);
    this.batchesTracked = 0;
  }

  forward(x: number, y: number, rows: number, training: boolean): void {
    const c = this.channels;
    this.lastTraining = training;
    kernels.batch_norm_forward(
      rows, c, this.size, x, y, this.paramPtr(), this.paramPtr(c), this.saved.ptr, this.saved.ptr + c * 4, this.statePtr(), this.statePtr(c),
      training ? 1 : 0, this.activation.code, this.momentum, this.eps, this.activation.alpha,
    );
    if (training) this.batchesTracked++;
  }

  backward(x: number, y: number, dy: number, dx: number, rows: number, accumulate: boolean): void {
    const c = this.channels;
    kernels.batch_norm_backward(
      rows, c, this.size, x, y, dy, this.paramPtr(), this.saved.ptr, this.saved.ptr + c * 4,
      accumulate ? this.gradPtr() : 0, accumulate ? this.gradPtr(c) : 0, dx, this.lastTraining ? 1 : 0, this.activation.code, this.activation.alpha,
    );
  }

  spec(): LayerSpec {
    return {
      type: 'batch-norm',
      ...(this.momentum !== 0.1 && { momentum: this.momentum }),
      ...(this.eps !== 1e-5 && { eps: this.eps }),
      ...(this.activation.name !== 'linear' && { activation: activationToSpec(this.activation) }),
    };
  }

  tensors(): [string, TorchTensor][] {
    const c = this.channels;
    return [
      ['weight', { shape: [c], data: this.readParams(0, c) }],
      ['bias', { shape: [c], data: this.readParams(c, c) }],
      ['running_mean', { shape: [c], data: this.readState(0, c) }],
      ['running_var', { shape: [c], data: this.readState(c, c) }],
      ['num_batches_tracked', { shape: [], data: Float32Array.of(this.batchesTracked), int: true }],
    ];
  }

  setTensors(take: (suffix: string, shape: number[]) => TorchTensor): void {
    const c = this.channels;
    this.writeParams(0, take('weight', [c]).data);
    this.writeParams(c, take('bias', [c]).data);
    this.writeState(0, take('running_mean', [c]).data);
    const v = take('running_var', [c]).data;
    const bad = v.findIndex((x) => !(x >= 0));
    if (bad >= 0) throw new LatentkitError(`${this.where} (batchNorm): running_var[${bad}] is ${v[bad]}, a variance must be ≥ 0`);
    this.writeState(c, v);
    this.batchesTracked = take('num_batches_tracked', []).data[0]!;
  }

  onnx(b: OnnxBuilder, input: string, at: string): string {
    const c = this.channels;
    const names = (['weight', 'bias', 'running_mean', 'running_var'] as const).map((n, i) =>
      b.initializer(`${at}.${n}`, [c], i < 2 ? this.readParams(i * c, c) : this.readState((i - 2) * c, c)));
    // ONNX's BatchNormalization wants [N, C, …]: a vector's features are its channels already.
    const out = b.node('BatchNormalization', [input, ...names], { epsilon: { float: this.eps }, momentum: { float: 1 - this.momentum } }, `${at}.bn`);
    return b.activation(this.activation, out, at);
  }

  override dispose(): void {
    heap.free(this.saved);
  }
}
