import { LatentkitError } from '../errors.js';
import { heap } from '../runtime/memory.js';
import type { Rng } from '../runtime/rng.js';
import type { ActivationSpec } from '../nn/activation.js';
import { MLP } from '../nn/mlp.js';
import type { Optimizer, OptimizerConfig } from '../nn/optimizer.js';
import { Stack } from '../nn/stack.js';
import { Autoencoder } from '../models/autoencoder.js';
import { Classifier } from '../models/classifier.js';
import { GAN } from '../models/gan.js';
import { type Tensor, decodeSafetensors, encodeSafetensors } from './safetensors.js';
import { layerTensorNames } from './torch-names.js';

export type SavableModel = Stack | Autoencoder | GAN | Classifier;

const FORMAT = 'latentkit';
// 2: tensors named as in PyTorch's nn.Sequential (see torch-names.ts). 1 is still read.
const VERSION = '2';
const READABLE = ['1', '2'];

interface StackArch {
  sizes: number[];
  activation: ActivationSpec;
  outputActivation: ActivationSpec;
  dropout?: number;
  tiedTo?: string;
}

interface Architecture {
  kind: 'stack' | 'autoencoder' | 'gan' | 'classifier';
  modules: Record<string, StackArch>;
  options: Record<string, unknown>;
}

function modulesOf(model: SavableModel): [string, Stack][] {
  if (model instanceof Autoencoder) return [['encoder', model.encoder], ['decoder', model.decoder]];
  if (model instanceof GAN) {
    const mods: [string, Stack][] = [['generator', model.generator], ['discriminator', model.discriminator]];
    return model.generatorEma ? [...mods, ['generatorEma', model.generatorEma]] : mods;
  }
  if (model instanceof Classifier) return [...model.body.map((s, i) => [`body${i}`, s] as [string, Stack]), ['head', model.head]];
  if (model instanceof Stack) return [['layers', model]];
  throw new LatentkitError('save: expected a stack (mlp), Autoencoder, GAN or Classifier');
}

function optimizersOf(model: SavableModel): [string, Optimizer][] {
  if (model instanceof Autoencoder) return [['optimizer', model.optimizer]];
  if (model instanceof GAN) return [['optimizerD', model.optimizerD], ['optimizerG', model.optimizerG]];
  if (model instanceof Classifier) return [['optimizer', model.model.optimizer]];
  return [];
}

function architecture(model: SavableModel): Architecture {
  const mods = modulesOf(model);
  const modules: Record<string, StackArch> = {};
  for (const [name, s] of mods) {
    const d = s.describe();
    modules[name] = { sizes: d.sizes, activation: d.activation, outputActivation: d.outputActivation, ...(d.dropout > 0 && { dropout: d.dropout }) };
    if (s.tiedTo) modules[name]!.tiedTo = mods.find(([, t]) => t === s.tiedTo)?.[0] ?? '?';
  }
  const opt = Object.fromEntries(optimizersOf(model).map(([n, o]) => [n, o.spec]));
  if (model instanceof Autoencoder) {
    return { kind: 'autoencoder', modules, options: { loss: model.lossName, denoising: model.denoising, sparsity: model.sparsity, ...opt } };
  }
  if (model instanceof GAN) {
    return {
      kind: 'gan', modules,
      options: {
        ...(model.conditions > 0 && { conditions: model.conditions }),
        noise: { dim: model.noiseDim, distribution: model.noiseDistribution }, k: model.k, batchSize: model.batchSize, generatorLoss: model.generatorLoss,
        labelSmoothing: model.labelSmoothing, ...(model.emaDecay !== null && { ema: { decay: model.emaDecay } }), ...opt,
      },
    };
  }
  if (model instanceof Classifier) return { kind: 'classifier', modules, options: { ...opt, frozenBody: model.body.map((s) => s.frozen) } };
  return { kind: 'stack', modules, options: {} };
}

function weightTensors(model: SavableModel, arch: Architecture): Record<string, Tensor> {
  const tensors: Record<string, Tensor> = {};
  for (const [name, s] of modulesOf(model)) {
    s.layers.forEach((l, i) => {
      const { weight, bias } = s.layerParameters(i);
      const [wName, bName] = layerTensorNames(VERSION, arch.kind, name, arch.modules[name]!, i);
      if (!s.tiedTo) {
        // PyTorch nn.Linear layout: [out, in].
        const w = new Float32Array(l.inputs * l.outputs);
        for (let r = 0; r < l.inputs; r++) for (let c = 0; c < l.outputs; c++) w[c * l.inputs + r] = weight[r * l.outputs + c]!;
        tensors[wName] = { shape: [l.outputs, l.inputs], data: w };
      }
      tensors[bName] = { shape: [l.outputs], data: bias };
    });
  }
  return tensors;
}

/**
 * The model's weights in the safetensors format, named and laid out as the idiomatic PyTorch
 * module: each stack an nn.Sequential of Linear ([out, in] weights) and activation modules,
 * under `encoder.`/`decoder.`, `generator.`/`discriminator.`, `body0.`…/`head.` (a lone stack
 * unprefixed), so `load_state_dict(strict=True)` takes it; the architecture and options are
 * in `__metadata__`. Runs in every runtime.
 */
export function save(model: SavableModel): Uint8Array {
  const arch = architecture(model);
  return encodeSafetensors(weightTensors(model, arch), { format: FORMAT, version: VERSION, kind: arch.kind, architecture: JSON.stringify(arch) });
}

/**
 * A checkpoint: the weights plus optimizer state, step counters, the RNG
 * state and the data order, so that training resumed from it continues
 * bit-identically.
 */
export function checkpoint(model: Autoencoder | GAN | Classifier | MLP): Uint8Array {
  const arch = architecture(model);
  const tensors = weightTensors(model, arch);
  const state: Record<string, unknown> = { optimizers: {} };
  for (const [optName, opt] of optimizersOf(model)) {
    (state.optimizers as Record<string, unknown>)[optName] = { steps: opt.steps };
    for (const [modName, s] of modulesOf(model)) {
      opt.stateOf(s).forEach((b, slot) => {
        tensors[`${optName}.${modName}.state${slot}`] = { shape: [b.length], data: b.read() };
      });
    }
  }
  let rng: Rng | null = null;
  if (model instanceof Autoencoder || model instanceof GAN) {
    rng = model.rng;
    const t = model.trainingState();
    state.steps = t.steps;
    if ('cursor' in t) state.cursor = t.cursor;
    if ('epochs' in t) state.epochs = t.epochs;
    if (t.order) tensors['state.order'] = { shape: [t.order.length], data: t.order };
  }
  if (model instanceof Classifier) rng = model.model.rng;
  if (rng) state.rng = Array.from(rng.getState());
  const dropout = Object.fromEntries(modulesOf(model).filter(([, s]) => s.dropoutRng).map(([n, s]) => [n, Array.from(s.dropoutRng!.getState())]));
  if (Object.keys(dropout).length > 0) state.dropoutRng = dropout;
  return encodeSafetensors(tensors, { format: FORMAT, version: VERSION, kind: arch.kind, architecture: JSON.stringify(arch), checkpoint: JSON.stringify(state) });
}

/** Rebuilds a model saved by `save` or `checkpoint`; predictions are bit-identical to the saved model's. */
export function load(bytes: Uint8Array): SavableModel {
  const { tensors, metadata } = decodeSafetensors(bytes);
  if (metadata.format !== FORMAT) throw new LatentkitError(`not a latentkit model: __metadata__.format is ${JSON.stringify(metadata.format)}`);
  if (!READABLE.includes(metadata.version!)) {
    throw new LatentkitError(`unsupported latentkit model version ${JSON.stringify(metadata.version)} (this library reads versions ${READABLE.join(' and ')})`);
  }
  const version = metadata.version as '1' | '2';
  let arch: Architecture;
  try {
    arch = JSON.parse(metadata.architecture ?? '') as Architecture;
  } catch {
    throw new LatentkitError('corrupt latentkit model: the architecture metadata is not JSON');
  }
  if (!arch || typeof arch.modules !== 'object' || !arch.modules) throw new LatentkitError('corrupt latentkit model: no modules in the architecture');
  const expected = new Set<string>();
  const built = new Map<string, Stack>();
  const created: Stack[] = [];
  try {
    for (const [name, m] of Object.entries(arch.modules)) {
      if (!Array.isArray(m.sizes) || m.sizes.length < 2 || m.sizes.some((v) => !Number.isInteger(v) || v < 1 || v > 1 << 24)) {
        throw new LatentkitError(`corrupt latentkit model: module ${name} has invalid sizes ${JSON.stringify(m.sizes)}`);
      }
      let s: Stack;
      if (m.tiedTo) {
        const enc = built.get(m.tiedTo);
        if (!enc) throw new LatentkitError(`corrupt latentkit model: module ${name} is tied to unknown module ${m.tiedTo}`);
        s = Stack.tied(enc, { activation: m.activation, outputActivation: m.outputActivation });
      } else {
        s = new MLP(m.sizes, { activation: m.activation, outputActivation: m.outputActivation, ...(m.dropout !== undefined && { dropout: m.dropout }) });
      }
      created.push(s);
      built.set(name, s);
      s.layers.forEach((l, i) => {
        const [wName, bName] = layerTensorNames(version, arch.kind, name, m, i);
        const b = tensors[bName];
        if (!b) throw new LatentkitError(`missing tensor ${bName}`);
        if (b.shape.length !== 1 || b.shape[0] !== l.outputs) throw new LatentkitError(`tensor ${bName} has shape [${b.shape}], the architecture needs [${l.outputs}]`);
        expected.add(bName);
        let wt: Float32Array | null = null;
        if (!m.tiedTo) {
          const w = tensors[wName];
          if (!w) throw new LatentkitError(`missing tensor ${wName}`);
          if (w.shape.length !== 2 || w.shape[0] !== l.outputs || w.shape[1] !== l.inputs) {
            throw new LatentkitError(`tensor ${wName} has shape [${w.shape}], the architecture needs [${l.outputs}, ${l.inputs}]`);
          }
          expected.add(wName);
          wt = new Float32Array(l.inputs * l.outputs);
          for (let r = 0; r < l.inputs; r++) for (let c = 0; c < l.outputs; c++) wt[r * l.outputs + c] = w.data[c * l.inputs + r]!;
          if (wt.some((v) => !Number.isFinite(v))) throw new LatentkitError(`tensor ${wName} contains NaN or Inf`);
        }
        if (b.data.some((v) => !Number.isFinite(v))) throw new LatentkitError(`tensor ${bName} contains NaN or Inf`);
        s.setLayerParameters(i, wt, b.data);
      });
    }
    const mod = (n: string) => {
      const s = built.get(n);
      if (!s) throw new LatentkitError(`corrupt latentkit model: a ${arch.kind} needs module ${n}`);
      return s;
    };
    const o = arch.options ?? {};
    let model: SavableModel;
    switch (arch.kind) {
      case 'stack':
        model = mod('layers');
        break;
      case 'autoencoder': {
        const decoder = mod('decoder');
        model = new Autoencoder({
          encoder: mod('encoder'), decoder, loss: o.loss as 'mse', optimizer: o.optimizer as OptimizerConfig,
          ...(o.denoising ? { denoising: o.denoising as never } : {}), sparsity: (o.sparsity as number) ?? 0,
        });
        break;
      }
      case 'gan': {
        const gan = new GAN({
          generator: mod('generator'), discriminator: mod('discriminator'), ...(o.conditions !== undefined && { conditions: o.conditions as number }), noise: o.noise as never, k: o.k as number, batchSize: o.batchSize as number,
          generatorLoss: o.generatorLoss as never, labelSmoothing: o.labelSmoothing as number, optimizerD: o.optimizerD as OptimizerConfig, optimizerG: o.optimizerG as OptimizerConfig,
          ...(o.ema !== undefined && { ema: o.ema as { decay: number } }),
        });
        model = gan;
        // The GAN owns its average: copy the saved one in, then let the loaded copy go.
        const saved = built.get('generatorEma');
        if (gan.generatorEma && !saved) throw new LatentkitError('corrupt latentkit model: a GAN with ema needs module generatorEma');
        if (saved) {
          gan.restoreEma(saved);
          saved.dispose();
          created.splice(created.indexOf(saved), 1);
        }
        break;
      }
      case 'classifier': {
        const bodies = Object.keys(arch.modules).filter((k) => /^body\d+$/.test(k)).sort((a, b) => Number(a.slice(4)) - Number(b.slice(4))).map(mod);
        model = new Classifier({ body: bodies, head: mod('head'), optimizer: o.optimizer as OptimizerConfig });
        ((o.frozenBody as boolean[]) ?? []).forEach((f, i) => { if (f && bodies[i]) bodies[i]!.freeze(); });
        break;
      }
      default:
        throw new LatentkitError(`unknown latentkit model kind ${JSON.stringify(arch.kind)}`);
    }
    if (metadata.checkpoint !== undefined) restoreCheckpoint(model, metadata.checkpoint, tensors, expected);
    for (const name of Object.keys(tensors)) if (!expected.has(name)) throw new LatentkitError(`unexpected tensor ${name} for this ${arch.kind}`);
    return model;
  } catch (e) {
    created.forEach((s) => s.dispose());
    throw e;
  }
}

function restoreCheckpoint(model: SavableModel, json: string, tensors: Record<string, Tensor>, expected: Set<string>): void {
  let state: { optimizers?: Record<string, { steps: number }>; rng?: number[]; steps?: number; epochs?: number; cursor?: number; dropoutRng?: Record<string, number[]> };
  try {
    state = JSON.parse(json);
  } catch {
    throw new LatentkitError('corrupt checkpoint: its state metadata is not JSON');
  }
  for (const [optName, opt] of optimizersOf(model)) {
    const steps = state.optimizers?.[optName]?.steps;
    if (!Number.isInteger(steps) || steps! < 0) throw new LatentkitError(`corrupt checkpoint: no step count for ${optName}`);
    opt.steps = steps!;
    for (const [modName, s] of modulesOf(model)) {
      opt.stateOf(s).forEach((b, slot) => {
        const name = `${optName}.${modName}.state${slot}`;
        const t = tensors[name];
        if (!t) throw new LatentkitError(`missing tensor ${name}`);
        if (t.data.length !== b.length) throw new LatentkitError(`tensor ${name} has ${t.data.length} values, the optimizer state needs ${b.length}`);
        heap.f32.set(t.data, b.index);
        expected.add(name);
      });
    }
  }
  const words = (w: unknown) => Array.isArray(w) && w.length === 4 && w.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32);
  for (const [name, s] of modulesOf(model)) {
    if (!s.dropoutRng) continue;
    const w = state.dropoutRng?.[name];
    if (!words(w)) throw new LatentkitError(`corrupt checkpoint: no dropout RNG state for ${name}`);
    s.dropoutRng.setState(w!);
  }
  const rng = model instanceof Autoencoder || model instanceof GAN ? model.rng : model instanceof Classifier ? model.model.rng : null;
  if (rng) {
    if (!Array.isArray(state.rng) || state.rng.length !== 4 || !state.rng.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32)) {
      throw new LatentkitError('corrupt checkpoint: the RNG state is not four 32-bit words');
    }
    rng.setState(state.rng);
  }
  if (model instanceof Autoencoder || model instanceof GAN) {
    const order = tensors['state.order'];
    if (order) {
      expected.add('state.order');
      const n = order.data.length;
      const seen = new Uint8Array(n);
      for (const v of order.data) {
        if (!Number.isInteger(v) || v < 0 || v >= n || seen[v]) throw new LatentkitError('corrupt checkpoint: state.order is not a permutation');
        seen[v] = 1;
      }
    }
    for (const counter of ['steps', 'epochs', 'cursor'] as const) {
      const v = state[counter];
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw new LatentkitError(`corrupt checkpoint: ${counter} is ${JSON.stringify(v)}, not a count`);
    }
    model.restoreTrainingState({ steps: state.steps ?? 0, epochs: state.epochs, cursor: state.cursor, order: order?.data ?? null });
  }
}
