// A 2-D convolution, PyTorch's nn.Conv2d: images [C, H, W] → [O, OH, OW], OH = ⌊(H + 2p − k)/s⌋ + 1,
// weight [O, C, kh, kw], bias [O], then the fused activation. It is the dense layer over patch
// rows: forward f(patches·Wᵀ + b) then back to NCHW; backward the dense layer's two halves on
// those rows, the patches' gradient summed back into the image (crates/kernels/src/conv).
import { LatentkitError } from '../../errors.js';
import { kernels } from '../../runtime/dispatch.js';
import type { ActivationSpec } from '../activation.js';
import { Convolution, checkKernelFits } from './convolution.js';
import { type LayerSpec, type OnnxBuilder, type Shape, checkSpecKeys, imageInput, pair } from './layer.js';

export class Conv2d extends Convolution {
  readonly type = 'conv2d';

  static fromSpec(spec: Extract<LayerSpec, { type: 'conv2d' }>, input: Shape, where: string): Conv2d {
    checkSpecKeys(spec, ['channels', 'kernel', 'stride', 'padding', 'activation', 'weightNorm', 'bias'], `${where} (conv2d)`);
    const [c, h, w] = imageInput(input, `${where} (conv2d)`, 'reshape([c, h, w]) a vector into an image first');
    const out = spec.channels;
    if (!Number.isInteger(out) || out < 1 || out > 1 << 16) throw new LatentkitError(`${where} (conv2d): channels (out) must be a positive integer, got ${JSON.stringify(out)}`);
    if (spec.kernel === undefined) throw new LatentkitError(`${where} (conv2d): kernel is required`);
    const kernel = pair(spec.kernel, 1, 1, 'kernel', `${where} (conv2d)`);
    const stride = pair(spec.stride, 1, 1, 'stride', `${where} (conv2d)`);
    const padding = pair(spec.padding, 0, 0, 'padding', `${where} (conv2d)`);
    checkKernelFits(`${where} (conv2d)`, input, h, padding[0], kernel[0], 'height');
    checkKernelFits(`${where} (conv2d)`, input, w, padding[1], kernel[1], 'width');
    const oh = Math.floor((h + 2 * padding[0] - kernel[0]) / stride[0]) + 1;
    const ow = Math.floor((w + 2 * padding[1] - kernel[1]) / stride[1]) + 1;
    return new Conv2d(input, [out, oh, ow], spec.activation, where, { channels: c, height: h, width: w, outputs: out, outHeight: oh, outWidth: ow, kernel, stride, padding }, out, spec.bias !== false, spec.weightNorm === true);
  }

  private constructor(input: Shape, output: Shape, activation: ActivationSpec | undefined, where: string, g: Convolution['geometry'], out: number, bias: boolean, weightNorm: boolean) {
    super(input, output, activation, where, g, out, bias, weightNorm);
  }

  protected fans(): [number, number] {
    const g = this.geometry;
    const taps = g.kernel[0] * g.kernel[1];
    return [g.channels * taps, g.outputs * taps];
  }

  forward(x: number, y: number, rows: number): void {
    const g = this.geometry;
    const w = this.weightForForward();
    const m = this.pixelRows(rows);
    kernels.im2row(...this.geometryArgs(rows), x, this.patchesPtr);
    kernels.dense_forward(m, this.patch, g.outputs, this.patchesPtr, w, this.biasPtr, this.rowsPtr, this.activation.code, this.activation.alpha, 1);
    kernels.transpose(rows, g.outHeight * g.outWidth, g.outputs, this.rowsPtr, y);
  }

  backward(_x: number, _y: number, dy: number, dx: number, rows: number, accumulate: boolean): void {
    const g = this.geometry;
    const m = this.pixelRows(rows);
    const dz = this.rowsGradPtr;
    kernels.transpose(rows, g.outputs, g.outHeight * g.outWidth, dy, dz);
    const dw = accumulate ? this.startWeightGrad() : 0;
    kernels.dense_backward_params(m, this.patch, g.outputs, this.patchesPtr, this.rowsPtr, dz, dw, accumulate ? this.biasGradPtr : 0, this.activation.code, this.activation.alpha, 1);
    if (accumulate) this.finishWeightGrad();
    if (dx === 0) return;
    // The patches' gradient overwrites the patches (the weight gradient has used them).
    kernels.dense_backward_input(m, this.patch, g.outputs, dz, this.weightPtr, this.patchesPtr, 1);
    kernels.row2im(...this.geometryArgs(rows), this.patchesPtr, dx, 0, 0, 0);
  }

  spec(): LayerSpec {
    return { type: 'conv2d', channels: this.geometry.outputs, ...this.commonSpec() };
  }

  onnx(b: OnnxBuilder, input: string, at: string): string {
    const g = this.geometry;
    const w = b.initializer(`${at}.weight`, this.weightShape, this.effectiveWeight());
    const bias = b.initializer(`${at}.bias`, [this.outChannels], this.bias());
    const out = b.node('Conv', [input, w, bias], { kernel_shape: { ints: [...g.kernel] }, strides: { ints: [...g.stride] }, pads: { ints: [g.padding[0], g.padding[1], g.padding[0], g.padding[1]] } }, `${at}.conv`);
    return b.activation(this.activation, out, at);
  }
}
