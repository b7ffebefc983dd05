// Reshape and flatten: the same values seen as another shape (a vector as an image [C, H, W] and
// back, in NCHW order as PyTorch's nn.Unflatten(1, shape) and nn.Flatten()). No copy: the output
// and its gradient are the input's memory.
import { LatentkitError } from '../../errors.js';
import { Layer, type LayerSpec, type OnnxBuilder, type Shape, type TorchTensor, checkSpecKeys, sizeOf } from './layer.js';

export class Reshape extends Layer {
  readonly paramCount = 0;
  override readonly aliasesInput = true;

  static fromSpec(spec: Extract<LayerSpec, { type: 'reshape' }> | Extract<LayerSpec, { type: 'flatten' }>, input: Shape, where: string): Reshape {
    if (spec.type === 'flatten') {
      checkSpecKeys(spec, [], `${where} (flatten)`);
      return new Reshape(input, [sizeOf(input)], where, 'flatten');
    }
    checkSpecKeys(spec, ['shape'], `${where} (reshape)`);
    const s = spec.shape;
    if (!Array.isArray(s) || (s.length !== 1 && s.length !== 3) || !s.every((d) => Number.isInteger(d) && d >= 1)) {
      throw new LatentkitError(`${where} (reshape): shape must be [features] or [channels, height, width] of positive integers, got ${JSON.stringify(s)}`);
    }
    if (sizeOf(s) !== sizeOf(input)) throw new LatentkitError(`${where} (reshape): [${input.join(', ')}] has ${sizeOf(input)} values, [${s.join(', ')}] needs ${sizeOf(s)}`);
    return new Reshape(input, [...s], where, 'reshape');
  }

  private constructor(input: Shape, output: Shape, where: string, readonly type: 'reshape' | 'flatten') {
    super(input, output, 'linear', where);
  }

  initialize(): void {}

  forward(): void {}

  backward(): void {}

  spec(): LayerSpec {
    return this.type === 'flatten' ? { type: 'flatten' } : { type: 'reshape', shape: [...this.outputShape] };
  }

  tensors(): [string, TorchTensor][] {
    return [];
  }

  setTensors(): void {}

  onnx(b: OnnxBuilder, input: string, at: string): string {
    const shape = b.initializer(`${at}.shape`, [this.outputShape.length + 1], BigInt64Array.from([-1, ...this.outputShape].map(BigInt)));
    return b.node('Reshape', [input, shape], {}, `${at}.reshape`);
  }
}
