// A 2-D convolution, PyTorch's nn.Conv2d: images [C, H, W] → [O, OH, OW], OH = ⌊(H + 2p − k)/s⌋ + 1,
// weight [O, C, kh, kw], bias [O], then the fused activation. Forward is im2col into the packed
// GEMM, split by image across threads; the weight gradient is split by output channel.
import { LatentkitError } from '../../errors.js';
import { kernels } from '../../runtime/dispatch.js';
import type { ActivationSpec } from '../activation.js';
import { Convolution, checkKernelFits } from './convolution.js';
import { type LayerSpec, type OnnxBuilder, type Shape, checkSpecKeys, imageInput, pair } from './layer.js';

export class Conv2d extends Convolution {
  readonly type = 'conv2d';

  static fromSpec(spec: Extract<LayerSpec, { type: 'conv2d' }>, input: Shape, where: string): Conv2d {
    checkSpecKeys(spec, ['channels', 'kernel', 'stride', 'padding', 'activation', 'weightNorm'], `${where} (conv2d)`);
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
    return new Conv2d(input, [out, oh, ow], spec.activation, where, { channels: c, height: h, width: w, outputs: out, outHeight: oh, outWidth: ow, kernel, stride, padding }, out, spec.weightNorm === true);
  }

  private constructor(input: Shape, output: Shape, activation: ActivationSpec | undefined, where: string, g: Convolution['geometry'], bias: number, weightNorm: boolean) {
    super(input, output, activation, where, g, bias, weightNorm);
  }

  protected fans(): [number, number] {
    const g = this.geometry;
    const taps = g.kernel[0] * g.kernel[1];
    return [g.channels * taps, g.outputs * taps];
  }

  forward(x: number, y: number, rows: number): void {
    const w = this.weightForForward();
    kernels.conv2d_forward(...this.geometryArgs(rows), x, w, this.biasPtr, y, this.colsPtr, this.activation.code, this.activation.alpha);
  }

  backward(_x: number, y: number, dy: number, dx: number, rows: number, accumulate: boolean): void {
    const g = this.geometry;
    if (accumulate || this.activation.name !== 'linear') {
      kernels.bias_activation_backward(rows, g.outputs, g.outHeight * g.outWidth, y, dy, accumulate ? this.biasGradPtr : 0, this.activation.code, this.activation.alpha);
    }
    if (accumulate) {
      kernels.conv2d_backward_weight(...this.geometryArgs(rows), dy, this.colsPtr, this.startWeightGrad());
      this.finishWeightGrad();
    }
    // After the weight gradient: the input gradient overwrites cols.
    if (dx !== 0) kernels.conv2d_backward_input(...this.geometryArgs(rows), dy, this.weightPtr, dx, this.colsPtr, 0, 0, 0);
  }

  spec(): LayerSpec {
    return { type: 'conv2d', channels: this.geometry.outputs, ...this.commonSpec() };
  }

  onnx(b: OnnxBuilder, input: string, at: string): string {
    const g = this.geometry;
    const w = b.initializer(`${at}.weight`, this.weightShape, this.effectiveWeight());
    const bias = b.initializer(`${at}.bias`, [this.biasLength], this.bias());
    const out = b.node('Conv', [input, w, bias], { kernel_shape: { ints: [...g.kernel] }, strides: { ints: [...g.stride] }, pads: { ints: [g.padding[0], g.padding[1], g.padding[0], g.padding[1]] } }, `${at}.conv`);
    return b.activation(this.activation, out, at);
  }
}
