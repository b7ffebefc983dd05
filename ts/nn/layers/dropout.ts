// Inverted dropout in training steps only (nn.Dropout): each value is zeroed with probability
// `rate` and the kept ones scaled by 1/(1 − rate); at inference, y = x. Unlike a stack's
// `dropout` option (after every hidden dense layer), it goes wherever it is placed, e.g. after
// each convolution of a DCGAN's discriminator.
import { LatentkitError } from '../../errors.js';
import { type Block, heap } from '../../runtime/memory.js';
import { kernels } from '../../runtime/dispatch.js';
import type { Rng } from '../../runtime/rng.js';
import { Layer, type LayerSpec, type OnnxBuilder, type Shape, type TorchTensor, checkSpecKeys, copyFloats } from './layer.js';

export class Dropout extends Layer {
  readonly type = 'dropout';
  readonly paramCount = 0;
  /** The last forward pass's mask: 0 where dropped, 1/(1 − rate) where kept. */
  private mask: Block | null = null;
  private masked = false;

  static fromSpec(spec: Extract<LayerSpec, { type: 'dropout' }>, input: Shape, where: string): Dropout {
    checkSpecKeys(spec, ['rate'], `${where} (dropout)`);
    if (typeof spec.rate !== 'number' || !(spec.rate >= 0 && spec.rate < 1)) throw new LatentkitError(`${where} (dropout): rate must be a number in [0, 1), got ${JSON.stringify(spec.rate)}`);
    return new Dropout(input, where, spec.rate);
  }

  private constructor(input: Shape, where: string, readonly rate: number) {
    super(input, input, 'linear', where);
  }

  initialize(_rng: Rng): void {}

  override reserve(rows: number): void {
    if (this.rate > 0) this.mask = heap.reserve(this.mask, rows * this.inputSize, `the dropout mask of ${this.where}`);
  }

  override release(): void {
    if (this.mask) heap.free(this.mask);
    this.mask = null;
  }

  forward(x: number, y: number, rows: number, training: boolean): void {
    const n = rows * this.inputSize;
    copyFloats(x, y, n);
    this.masked = training && this.rate > 0;
    if (this.masked) kernels.rng_dropout(this.host.noiseRng!.state.ptr, y, this.mask!.ptr, n, this.rate);
  }

  backward(_x: number, _y: number, dy: number, dx: number, rows: number): void {
    if (dx === 0) return;
    const n = rows * this.inputSize;
    copyFloats(dy, dx, n);
    if (this.masked) kernels.mul(dx, this.mask!.ptr, n);
  }

  spec(): LayerSpec {
    return { type: 'dropout', rate: this.rate };
  }

  tensors(): [string, TorchTensor][] {
    return [];
  }

  setTensors(): void {}

  onnx(_b: OnnxBuilder, input: string): string {
    return input;
  }
}
