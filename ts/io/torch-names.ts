// Tensor names that load with `strict=True` into the nn.Sequential a PyTorch user writes for a
// stack: each layer's module (Linear, Conv2d, ConvTranspose2d, BatchNorm1d/2d, Flatten,
// Unflatten, latentkit_torch.GaussianNoise, Dropout), then its activation as a module when it is not
// linear, then Dropout after hidden layers that have it — so layer i sits at some index of the
// Sequential, not at i. The layer kinds name their own tensors (ts/nn/layers).
import type { ActivationSpec } from '../nn/activation.js';

export interface StackLayout {
  sizes: number[];
  activation: ActivationSpec;
  outputActivation: ActivationSpec;
  dropout?: number;
}

const isLinear = (a: ActivationSpec) => a === 'linear';

/** The index of each Linear in the stack's idiomatic nn.Sequential. */
export function sequentialIndices(s: StackLayout): number[] {
  const layers = s.sizes.length - 1;
  const indices: number[] = [];
  let next = 0;
  for (let i = 0; i < layers; i++) {
    indices.push(next++);
    const hidden = i < layers - 1;
    if (!isLinear(hidden ? s.activation : s.outputActivation)) next++;
    if (hidden && (s.dropout ?? 0) > 0) next++;
  }
  return indices;
}

/** The index of each layer in the nn.Sequential of a stack of layers: its module, then its activation's. */
export function layerIndices(modulesPerLayer: readonly number[]): number[] {
  let next = 0;
  return modulesPerLayer.map((m) => {
    const at = next;
    next += m;
    return at;
  });
}

/**
 * `[weight, bias]` names of layer i of module `name`. Version 2 files use Sequential indices,
 * under the module's name when `prefixed` (a lone stack's are not, as a bare nn.Sequential's); version 1
 * files numbered the layers 0, 1, 2, … under the module's name (`layers` for a lone stack).
 */
export function layerTensorNames(version: '1' | '2', prefixed: boolean, name: string, s: StackLayout, i: number): [string, string] {
  const prefix = version === '1' ? `${name}.${i}` : `${prefixed ? `${name}.` : ''}${sequentialIndices(s)[i]}`;
  return [`${prefix}.weight`, `${prefix}.bias`];
}

/** The prefix of a stack of layers' layer at Sequential index `index` (version 2 files). */
export function layerPrefix(prefixed: boolean, name: string, index: number): string {
  return `${prefixed ? `${name}.` : ''}${index}`;
}
