// Additive Gaussian noise in training steps only (the semi-supervised GAN's discriminator,
// Salimans et al. 2016): y = x + N(0, std²) then, at inference, y = x. PyTorch has no such
// module; python/latentkit_torch.py defines the same one.
import { LatentkitError } from '../../errors.js';
import { kernels } from '../../runtime/dispatch.js';
import type { Rng } from '../../runtime/rng.js';
import { Layer, type LayerSpec, type OnnxBuilder, type Shape, type TorchTensor, checkSpecKeys, copyFloats } from './layer.js';

export class GaussianNoise extends Layer {
  readonly type = 'gaussian-noise';
  readonly paramCount = 0;

  static fromSpec(spec: Extract<LayerSpec, { type: 'gaussian-noise' }>, input: Shape, where: string): GaussianNoise {
    checkSpecKeys(spec, ['std'], `${where} (gaussianNoise)`);
    if (typeof spec.std !== 'number' || !(spec.std >= 0 && spec.std < 1e6)) throw new LatentkitError(`${where} (gaussianNoise): std must be a number ≥ 0, got ${JSON.stringify(spec.std)}`);
    return new GaussianNoise(input, where, spec.std);
  }

  private constructor(input: Shape, where: string, readonly std: number) {
    super(input, input, 'linear', where);
  }

  initialize(_rng: Rng): void {}

  forward(x: number, y: number, rows: number, training: boolean): void {
    const n = rows * this.inputSize;
    copyFloats(x, y, n);
    if (training && this.std > 0) kernels.rng_add_normal(this.host.noiseRng!.state.ptr, y, n, this.std);
  }

  backward(_x: number, _y: number, dy: number, dx: number, rows: number): void {
    if (dx !== 0) copyFloats(dy, dx, rows * this.inputSize);
  }

  spec(): LayerSpec {
    return { type: 'gaussian-noise', std: this.std };
  }

  tensors(): [string, TorchTensor][] {
    return [];
  }

  setTensors(): void {}

  onnx(_b: OnnxBuilder, input: string): string {
    return input;
  }
}
