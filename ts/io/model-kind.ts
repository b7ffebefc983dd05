// What save, load and checkpoint need to know about a kind of model. Each model's own file
// declares its kind; ts/io/kinds.ts lists them (adding a kind: its file and one line there).
import type { Optimizer } from '../nn/optimizer.js';
import type { Stack } from '../nn/stack.js';
import { TrainedModel } from '../nn/trained-model.js';

/** Counters and the data order a resumed run needs beyond weights, optimizer and RNG states. */
export interface TrainingState {
  steps: number;
  epochs?: number;
  cursor?: number;
  order: Float32Array | null;
  /** A second minibatch source's place (a semi-supervised model's labelled rows). */
  labelled?: { cursor: number; order: Float32Array | null };
}

/** What `build` gets from the loader: the file's modules, already holding their weights. */
export interface BuildContext {
  /** The module of this name; a file without it is corrupt. */
  module(name: string): Stack;
  /** The module of this name, if the file has one. */
  optional(name: string): Stack | undefined;
  /** Every module name in the file. */
  readonly names: readonly string[];
  /** Frees a module the model copied from and does not keep. */
  release(stack: Stack): void;
}

export interface ModelKind<M extends object> {
  /** The name in a file's metadata. */
  readonly kind: string;
  /** The class of this kind's models. */
  readonly type: abstract new (...args: never[]) => M;
  /** The stacks to save, by module name (PyTorch's module names: `encoder`, `generator`, …). */
  modules(model: M): [string, Stack][];
  /** Whether tensor names carry the module name (default true; a lone stack's are a bare nn.Sequential's). */
  readonly prefixed?: boolean;
  optimizers(model: M): [string, Optimizer][];
  /** The options that rebuild it (JSON). */
  options(model: M): Record<string, unknown>;
  build(ctx: BuildContext, options: Record<string, unknown>): M;
  /**
   * The part whose generator, counters and data order a checkpoint captures and restores: by
   * default the model itself when it is a TrainedModel.
   */
  trained?(model: M): TrainedModel;
}

/** Whether `model` is of kind `k`. */
export function isOfKind(model: unknown, k: { readonly type: abstract new (...args: never[]) => object }): boolean {
  return model instanceof k.type;
}

/** The part of `model` whose training state a checkpoint keeps (see ModelKind.trained). */
export function trainedPart<M extends object>(model: M, k: Pick<ModelKind<M>, 'trained'>): TrainedModel | undefined {
  return k.trained?.(model) ?? (model instanceof TrainedModel ? model : undefined);
}
