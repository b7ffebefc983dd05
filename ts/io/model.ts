import { LatentkitError } from '../errors.js';
import { heap } from '../runtime/memory.js';
import type { ActivationSpec } from '../nn/activation.js';
import type { LayerSpec } from '../nn/layers/layer.js';
import { MLP } from '../nn/mlp.js';
import { Stack } from '../nn/stack.js';
import { MODEL_KINDS, type SavableModel } from './kinds.js';
import { type ModelKind, type TrainingState, isOfKind, trainedPart } from './model-kind.js';
import { type Tensor, decodeSafetensors, encodeSafetensors } from './safetensors.js';
import { layerIndices, layerPrefix, layerTensorNames } from './torch-names.js';

export type { SavableModel } from './kinds.js';

const FORMAT = 'latentkit';
// 2: tensors named as in PyTorch's nn.Sequential (see torch-names.ts). 1 is still read.
const VERSION = '2';
const READABLE = ['1', '2'];

/** A stack built from sizes (dense layers), or a stack of layers of any kind. */
type StackArch =
  | { sizes: number[]; activation: ActivationSpec; outputActivation: ActivationSpec; dropout?: number; tiedTo?: string; input?: undefined }
  | { input: number[]; layers: LayerSpec[]; sizes?: undefined; tiedTo?: undefined };

interface Architecture {
  kind: string;
  modules: Record<string, StackArch>;
  options: Record<string, unknown>;
}

type AnyKind = ModelKind<SavableModel>;

function kindOf(model: SavableModel): AnyKind {
  const k = MODEL_KINDS.find((kind) => isOfKind(model, kind));
  if (!k) throw new LatentkitError(`save: expected a model of a known kind (${MODEL_KINDS.map((kind) => kind.kind).join(', ')})`);
  return k as AnyKind;
}

function kindNamed(name: string): AnyKind {
  const k = MODEL_KINDS.find((kind) => kind.kind === name);
  if (!k) throw new LatentkitError(`unknown latentkit model kind ${JSON.stringify(name)}`);
  return k as AnyKind;
}

function architecture(model: SavableModel, k: AnyKind): Architecture {
  const mods = k.modules(model);
  const modules: Record<string, StackArch> = {};
  for (const [name, s] of mods) {
    if (!s.isMlp) {
      const def = s.definition();
      modules[name] = { input: [...(def.input as number[])], layers: [...def.layers] };
      continue;
    }
    const d = s.describe();
    modules[name] = { sizes: d.sizes, activation: d.activation, outputActivation: d.outputActivation, ...(d.dropout > 0 && { dropout: d.dropout }) };
    if (s.tiedTo) (modules[name] as { tiedTo?: string }).tiedTo = mods.find(([, t]) => t === s.tiedTo)?.[0] ?? '?';
  }
  const opt = Object.fromEntries(k.optimizers(model).map(([n, o]) => [n, o.spec]));
  return { kind: k.kind, modules, options: { ...k.options(model), ...opt } };
}

/** Each layer's prefix in the file: its index in the stack's idiomatic nn.Sequential, under the module's name. */
function layerPrefixes(version: '1' | '2', prefixed: boolean, name: string, s: Stack, arch: StackArch): string[] {
  if (arch.sizes) return s.layers.map((_, i) => layerTensorNames(version, prefixed, name, arch, i)[0].slice(0, -'.weight'.length));
  return layerIndices(s.layers.map((l) => l.torchModules())).map((at) => layerPrefix(prefixed, name, at));
}

function weightTensors(model: SavableModel, k: AnyKind, arch: Architecture): Record<string, Tensor> {
  const tensors: Record<string, Tensor> = {};
  for (const [name, s] of k.modules(model)) {
    const prefixes = layerPrefixes(VERSION, k.prefixed ?? true, name, s, arch.modules[name]!);
    s.layers.forEach((l, i) => {
      for (const [suffix, t] of l.tensors()) tensors[`${prefixes[i]}.${suffix}`] = t;
    });
  }
  return tensors;
}

/** Builds module `name` of a file as its architecture says (a tied stack from the module it is tied to). */
function buildStack(name: string, m: StackArch, built: Map<string, Stack>): Stack {
  if (m.sizes === undefined) {
    if (!m || !Array.isArray(m.layers) || !Array.isArray(m.input)) throw new LatentkitError(`corrupt latentkit model: module ${name} has neither sizes nor an input and layers`);
    try {
      return new Stack({ input: m.input, layers: m.layers });
    } catch (e) {
      throw new LatentkitError(`corrupt latentkit model: module ${name}: ${(e as Error).message}`);
    }
  }
  if (!Array.isArray(m.sizes) || m.sizes.length < 2 || m.sizes.some((v) => !Number.isInteger(v) || v < 1 || v > 1 << 24)) {
    throw new LatentkitError(`corrupt latentkit model: module ${name} has invalid sizes ${JSON.stringify(m.sizes)}`);
  }
  if (m.tiedTo) {
    const enc = built.get(m.tiedTo);
    if (!enc) throw new LatentkitError(`corrupt latentkit model: module ${name} is tied to unknown module ${m.tiedTo}`);
    return Stack.tied(enc, { activation: m.activation, outputActivation: m.outputActivation });
  }
  return new MLP(m.sizes, { activation: m.activation, outputActivation: m.outputActivation, ...(m.dropout !== undefined && { dropout: m.dropout }) });
}

/**
 * The model's weights in the safetensors format, named and laid out as the idiomatic PyTorch
 * module: each stack an nn.Sequential of Linear ([out, in] weights) and activation modules,
 * under `encoder.`/`decoder.`, `generator.`/`discriminator.`, `body0.`…/`head.` (a lone stack
 * unprefixed), so `load_state_dict(strict=True)` takes it; the architecture and options are
 * in `__metadata__`. Runs in every runtime.
 */
export function save(model: SavableModel): Uint8Array {
  const k = kindOf(model);
  const arch = architecture(model, k);
  return encodeSafetensors(weightTensors(model, k, arch), { format: FORMAT, version: VERSION, kind: arch.kind, architecture: JSON.stringify(arch) });
}

/**
 * A checkpoint: the weights plus optimizer state, step counters, the RNG
 * state and the data order, so that training resumed from it continues
 * bit-identically.
 */
export function checkpoint(model: SavableModel): Uint8Array {
  const k = kindOf(model);
  const arch = architecture(model, k);
  const tensors = weightTensors(model, k, arch);
  const modules = k.modules(model);
  const state: Record<string, unknown> = { optimizers: {} };
  for (const [optName, opt] of k.optimizers(model)) {
    (state.optimizers as Record<string, unknown>)[optName] = { steps: opt.steps };
    for (const [modName, s] of modules) {
      opt.stateOf(s).forEach((b, slot) => {
        tensors[`${optName}.${modName}.state${slot}`] = { shape: [b.length], data: b.read() };
      });
    }
  }
  const trained = trainedPart(model, k);
  if (trained) {
    const t = trained.trainingState();
    state.steps = t.steps;
    if (t.cursor !== undefined) state.cursor = t.cursor;
    if (t.epochs !== undefined) state.epochs = t.epochs;
    if (t.order) tensors['state.order'] = { shape: [t.order.length], data: t.order };
    if (t.labelled) {
      state.labelledCursor = t.labelled.cursor;
      if (t.labelled.order) tensors['state.labelledOrder'] = { shape: [t.labelled.order.length], data: t.labelled.order };
    }
    state.rng = Array.from(trained.rng.getState());
  }
  const dropout = Object.fromEntries(modules.filter(([, s]) => s.dropoutRng).map(([n, s]) => [n, Array.from(s.dropoutRng!.getState())]));
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
  const kind = kindNamed(arch.kind);
  const expected = new Set<string>();
  const built = new Map<string, Stack>();
  const created: Stack[] = [];
  try {
    for (const [name, m] of Object.entries(arch.modules)) {
      const s = buildStack(name, m, built);
      created.push(s);
      built.set(name, s);
      const prefixes = layerPrefixes(version, kind.prefixed ?? true, name, s, m);
      s.layers.forEach((l, i) => {
        l.setTensors((suffix, shape) => {
          const tensorName = `${prefixes[i]}.${suffix}`;
          const t = tensors[tensorName];
          if (!t) throw new LatentkitError(`missing tensor ${tensorName}`);
          if (t.shape.length !== shape.length || t.shape.some((d, j) => d !== shape[j])) {
            throw new LatentkitError(`tensor ${tensorName} has shape [${t.shape}], the architecture needs [${shape.join(', ')}]`);
          }
          if (t.data.some((v) => !Number.isFinite(v))) throw new LatentkitError(`tensor ${tensorName} contains NaN or Inf`);
          expected.add(tensorName);
          return t;
        });
      });
    }
    const model = kind.build({
      module: (n) => {
        const st = built.get(n);
        if (!st) throw new LatentkitError(`corrupt latentkit model: a ${arch.kind} needs module ${n}`);
        return st;
      },
      optional: (n) => built.get(n),
      names: Object.keys(arch.modules),
      release: (st) => {
        st.dispose();
        created.splice(created.indexOf(st), 1);
      },
    }, arch.options ?? {});
    if (metadata.checkpoint !== undefined) restoreCheckpoint(model, kind, metadata.checkpoint, tensors, expected);
    for (const name of Object.keys(tensors)) if (!expected.has(name)) throw new LatentkitError(`unexpected tensor ${name} for this ${arch.kind}`);
    return model;
  } catch (e) {
    created.forEach((s) => s.dispose());
    throw e;
  }
}

function restoreCheckpoint(model: SavableModel, k: AnyKind, json: string, tensors: Record<string, Tensor>, expected: Set<string>): void {
  let state: { optimizers?: Record<string, { steps: number }>; rng?: number[]; steps?: number; epochs?: number; cursor?: number; labelledCursor?: number; dropoutRng?: Record<string, number[]> };
  try {
    state = JSON.parse(json);
  } catch {
    throw new LatentkitError('corrupt checkpoint: its state metadata is not JSON');
  }
  const modules = k.modules(model);
  for (const [optName, opt] of k.optimizers(model)) {
    const steps = state.optimizers?.[optName]?.steps;
    if (!Number.isInteger(steps) || steps! < 0) throw new LatentkitError(`corrupt checkpoint: no step count for ${optName}`);
    opt.steps = steps!;
    for (const [modName, s] of modules) {
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
  for (const [name, s] of modules) {
    if (!s.dropoutRng) continue;
    const w = state.dropoutRng?.[name];
    if (!words(w)) throw new LatentkitError(`corrupt checkpoint: no dropout RNG state for ${name}`);
    s.dropoutRng.setState(w!);
  }
  const trained = trainedPart(model, k);
  if (trained) {
    if (!words(state.rng)) throw new LatentkitError('corrupt checkpoint: the RNG state is not four 32-bit words');
    trained.rng.setState(state.rng!);
    const permutation = (name: string) => {
      const t = tensors[name];
      if (!t) return null;
      expected.add(name);
      const n = t.data.length;
      const seen = new Uint8Array(n);
      for (const v of t.data) {
        if (!Number.isInteger(v) || v < 0 || v >= n || seen[v]) throw new LatentkitError(`corrupt checkpoint: ${name} is not a permutation`);
        seen[v] = 1;
      }
      return t.data;
    };
    const order = permutation('state.order');
    const labelledOrder = permutation('state.labelledOrder');
    for (const counter of ['steps', 'epochs', 'cursor', 'labelledCursor'] as const) {
      const v = state[counter];
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw new LatentkitError(`corrupt checkpoint: ${counter} is ${JSON.stringify(v)}, not a count`);
    }
    const restored: TrainingState = {
      steps: state.steps ?? 0, epochs: state.epochs, cursor: state.cursor, order,
      ...(state.labelledCursor !== undefined && { labelled: { cursor: state.labelledCursor, order: labelledOrder } }),
    };
    trained.restoreTrainingState(restored);
  }
}
