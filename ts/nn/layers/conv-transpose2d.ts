// A 2-D transposed convolution, PyTorch's nn.ConvTranspose2d: images [C, H, W] → [O, OH, OW],
// OH = (H − 1)·s − 2p + k + output padding, weight [C, O, kh, kw], bias [O], then the fused
// activation. It is the adjoint of the convolution from [O, OH, OW] to [C, H, W], so it runs
// that convolution backwards: forward is its input gradient (rows of input channels times W,
// summed back into the image), the input gradient is its forward without bias
// (crates/kernels/src/conv).
import { LatentkitError } from '../../errors.js';
import { kernels } from '../../runtime/dispatch.js';
import type { ActivationSpec } from '../activation.js';
import { Convolution, type Geometry } from './convolution.js';
import { type LayerSpec, type OnnxBuilder, type Shape, checkSpecKeys, imageInput, pair } from './layer.js';

export class ConvTranspose2d extends Convolution {
  readonly type = 'conv-transpose2d';
  readonly outputPadding: [number, number];

  static fromSpec(spec: Extract<LayerSpec, { type: 'conv-transpose2d' }>, input: Shape, where: string): ConvTranspose2d {
    const at = `${where} (convTranspose2d)`;
    checkSpecKeys(spec, ['channels', 'kernel', 'stride', 'padding', 'outputPadding', 'activation', 'weightNorm', 'bias'], at);
    const [c, h, w] = imageInput(input, at, 'reshape([c, h, w]) a vector into an image first');
    const out = spec.channels;
    if (!Number.isInteger(out) || out < 1 || out > 1 << 16) throw new LatentkitError(`${at}: channels (out) must be a positive integer, got ${JSON.stringify(out)}`);
    if (spec.kernel === undefined) throw new LatentkitError(`${at}: kernel is required`);
    const kernel = pair(spec.kernel, 1, 1, 'kernel', at);
    const stride = pair(spec.stride, 1, 1, 'stride', at);
    const padding = pair(spec.padding, 0, 0, 'padding', at);
    const outputPadding = pair(spec.outputPadding, 0, 0, 'outputPadding', at);
    if (outputPadding[0] >= stride[0] || outputPadding[1] >= stride[1]) {
      throw new LatentkitError(`${at}: outputPadding [${outputPadding}] must be smaller than the stride [${stride}] (as in PyTorch)`);
    }
    const oh = (h - 1) * stride[0] - 2 * padding[0] + kernel[0] + outputPadding[0];
    const ow = (w - 1) * stride[1] - 2 * padding[1] + kernel[1] + outputPadding[1];
    if (oh < 1 || ow < 1 || kernel[0] > oh + 2 * padding[0] || kernel[1] > ow + 2 * padding[1]) {
      throw new LatentkitError(`${at}: input [${input.join(', ')}] with kernel [${kernel}], stride [${stride}] and padding [${padding}] gives an output of ${oh}×${ow}, which the kernel does not fit`);
    }
    // The convolution this one is the adjoint of: from [out, oh, ow] to [c, h, w].
    const g: Geometry = { channels: out, height: oh, width: ow, outputs: c, outHeight: h, outWidth: w, kernel, stride, padding };
    return new ConvTranspose2d(input, [out, oh, ow], spec.activation, where, g, out, spec.bias !== false, spec.weightNorm === true, outputPadding);
  }

  private constructor(input: Shape, output: Shape, activation: ActivationSpec | undefined, where: string, g: Geometry, out: number, bias: boolean, weightNorm: boolean, outputPadding: [number, number]) {
    super(input, output, activation, where, g, out, bias, weightNorm);
    this.outputPadding = outputPadding;
  }

  protected fans(): [number, number] {
    // Each output value sums C·kh·kw/(sh·sw) inputs on average; each input reaches O·kh·kw outputs.
    const g = this.geometry;
    const taps = g.kernel[0] * g.kernel[1];
    return [Math.max(1, (g.outputs * taps) / (g.stride[0] * g.stride[1])), g.channels * taps];
  }

  forward(x: number, y: number, rows: number): void {
    const g = this.geometry;
    const w = this.weightForForward();
    const m = this.pixelRows(rows);
    // The input as rows of its channels, kept for the weight gradient; its patches are rows·W.
    kernels.transpose(rows, g.outputs, g.outHeight * g.outWidth, x, this.rowsPtr);
    kernels.dense_backward_input(m, this.patch, g.outputs, this.rowsPtr, w, this.patchesPtr, 1);
    kernels.row2im(...this.geometryArgs(rows), this.patchesPtr, y, this.biasPtr, this.activation.code, this.activation.alpha);
  }

  backward(_x: number, y: number, dy: number, dx: number, rows: number, accumulate: boolean): void {
    const g = this.geometry;
    const m = this.pixelRows(rows);
    if ((accumulate && this.biasLength) || this.activation.name !== 'linear') {
      kernels.bias_activation_backward(rows, g.channels, g.height * g.width, y, dy, accumulate ? this.biasGradPtr : 0, this.activation.code, this.activation.alpha);
    }
    kernels.im2row(...this.geometryArgs(rows), dy, this.patchesPtr);
    if (accumulate) {
      // dW += (input rows)ᵀ·patches of dz, W being [in × C·kh·kw]; linear, no bias: y is not read.
      kernels.dense_backward_params(m, g.outputs, this.patch, this.rowsPtr, 0, this.patchesPtr, this.startWeightGrad(), 0, 0, 0, 0);
      this.finishWeightGrad();
    }
    if (dx === 0) return;
    // dx = patches·Wᵀ as rows of input channels (over the input rows: the weight gradient has used them), then NCHW.
    kernels.dense_forward(m, this.patch, g.outputs, this.patchesPtr, this.weightPtr, 0, this.rowsPtr, 0, 0, 1);
    kernels.transpose(rows, g.outHeight * g.outWidth, g.outputs, this.rowsPtr, dx);
  }

  spec(): LayerSpec {
    const op = this.outputPadding;
    return { type: 'conv-transpose2d', channels: this.outChannels, ...this.commonSpec(), ...((op[0] > 0 || op[1] > 0) && { outputPadding: [...op] as [number, number] }) };
  }

  onnx(b: OnnxBuilder, input: string, at: string): string {
    const g = this.geometry;
    const w = b.initializer(`${at}.weight`, this.weightShape, this.effectiveWeight());
    const bias = b.initializer(`${at}.bias`, [this.outChannels], this.bias());
    const out = b.node('ConvTranspose', [input, w, bias], {
      kernel_shape: { ints: [...g.kernel] }, strides: { ints: [...g.stride] }, pads: { ints: [g.padding[0], g.padding[1], g.padding[0], g.padding[1]] }, output_padding: { ints: [...this.outputPadding] },
    }, `${at}.conv`);
    return b.activation(this.activation, out, at);
  }
}
