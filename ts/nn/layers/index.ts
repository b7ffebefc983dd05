// The layer kinds, and the functions a user builds specs with:
//   stack([1, 28, 28], [conv2d(64, { kernel: 4, stride: 2, padding: 1, activation: 'leaky-relu' }), flatten(), dense(1)])
import { LatentkitError } from '../../errors.js';
import type { ActivationSpec } from '../activation.js';
import { BatchNorm } from './batch-norm.js';
import { ConvTranspose2d } from './conv-transpose2d.js';
import { Conv2d } from './conv2d.js';
import { Dense } from './dense.js';
import { Dropout } from './dropout.js';
import { GaussianNoise } from './gaussian-noise.js';
import type { Layer, LayerSpec, Shape } from './layer.js';
import { Reshape } from './reshape.js';

export type { LayerSpec, Shape } from './layer.js';

type Side = number | [number, number];

/** Builds the layer `spec` describes on input `input`; `where` names it in errors. */
export function buildLayer(spec: LayerSpec, input: Shape, where: string): Layer {
  if (!spec || typeof spec !== 'object') throw new LatentkitError(`${where}: expected a layer spec such as dense(64) or conv2d(32, { kernel: 3 }), got ${JSON.stringify(spec)}`);
  switch (spec.type) {
    case 'dense':
      return Dense.fromSpec(spec, input, where);
    case 'conv2d':
      return Conv2d.fromSpec(spec, input, where);
    case 'conv-transpose2d':
      return ConvTranspose2d.fromSpec(spec, input, where);
    case 'batch-norm':
      return BatchNorm.fromSpec(spec, input, where);
    case 'gaussian-noise':
      return GaussianNoise.fromSpec(spec, input, where);
    case 'dropout':
      return Dropout.fromSpec(spec, input, where);
    case 'reshape':
    case 'flatten':
      return Reshape.fromSpec(spec, input, where);
    default:
      throw new LatentkitError(`${where}: unknown layer type ${JSON.stringify((spec as { type?: unknown }).type)} (expected dense, conv2d, conv-transpose2d, batch-norm, gaussian-noise, dropout, reshape, flatten)`);
  }
}

/** A dense layer of `units` outputs: y = f(x·W + b) (nn.Linear). */
export function dense(units: number, opts: { activation?: ActivationSpec; weightNorm?: boolean } = {}): LayerSpec {
  return { type: 'dense', units, ...opts };
}

/**
 * A 2-D convolution to `channels` output channels (nn.Conv2d); stride 1 and padding 0 by default;
 * `bias: false` for none (as before a batch norm, which cancels it).
 */
export function conv2d(channels: number, opts: { kernel: Side; stride?: Side; padding?: Side; activation?: ActivationSpec; weightNorm?: boolean; bias?: boolean }): LayerSpec {
  return { type: 'conv2d', channels, ...opts };
}

/** A 2-D transposed convolution to `channels` output channels (nn.ConvTranspose2d); `bias: false` for none. */
export function convTranspose2d(channels: number, opts: { kernel: Side; stride?: Side; padding?: Side; outputPadding?: Side; activation?: ActivationSpec; weightNorm?: boolean; bias?: boolean }): LayerSpec {
  return { type: 'conv-transpose2d', channels, ...opts };
}

/** Batch normalisation per feature of a vector or per channel of an image (nn.BatchNorm1d/2d): momentum 0.1, ε 1e-5 by default. */
export function batchNorm(opts: { momentum?: number; eps?: number; activation?: ActivationSpec } = {}): LayerSpec {
  return { type: 'batch-norm', ...opts };
}

/** N(0, std²) added in training steps only. */
export function gaussianNoise(std: number): LayerSpec {
  return { type: 'gaussian-noise', std };
}

/** Inverted dropout in training steps only (nn.Dropout): zeroes each value with probability `rate`, scales the rest by 1/(1 − rate). */
export function dropout(rate: number): LayerSpec {
  return { type: 'dropout', rate };
}

/** The same values as `shape` ([features] or [channels, height, width]). */
export function reshape(shape: number[]): LayerSpec {
  return { type: 'reshape', shape };
}

/** An image as a vector (channels, then rows, then columns: NCHW). */
export function flatten(): LayerSpec {
  return { type: 'flatten' };
}
