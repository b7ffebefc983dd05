// Every kind of model that save, load and checkpoint know: one line per kind, each declared in
// its own file (see model-kind.ts).
import { autoencoderKind } from '../models/autoencoder.js';
import { classifierKind } from '../models/classifier.js';
import { ganKind } from '../models/gan.js';
import { semiSupervisedGanKind } from '../models/semi-supervised-gan.js';
import { semiSupervisedVaeKind } from '../models/semi-supervised-vae.js';
import { vaeKind } from '../models/vae.js';
import { stackKind } from '../nn/stack.js';
import type { ModelKind } from './model-kind.js';

export const MODEL_KINDS = [stackKind, autoencoderKind, ganKind, classifierKind, vaeKind, semiSupervisedGanKind, semiSupervisedVaeKind] as const;

/** A model `save`, `load` and `checkpoint` handle: one of the registered kinds. */
export type SavableModel = (typeof MODEL_KINDS)[number] extends infer K ? (K extends ModelKind<infer M> ? M : never) : never;
