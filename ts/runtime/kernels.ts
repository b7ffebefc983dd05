// Every kernel of the WebAssembly module, declared once.
//
// A declaration names the export (`crates/wasm/src/lib.rs`), its typed arguments and, for the
// kernels that threads share, how the work splits. Everything else follows from this table: the
// types of the module's exports (`KernelExports`), the callable `kernels` object
// (dispatch.ts), how the pool packs arguments into the control block and how a worker unpacks
// them and calls the export (control.ts, worker.ts), and the debug trace's line per call.
// A second module with the same exports (another tier, another backend) plugs in behind the
// same table. test/kernels.test.ts checks every declaration against the built module's
// export names and WebAssembly signatures, and every export against a declaration.
//
// Pointers are byte offsets into the module's memory; 0 is "none" where a kernel allows it.

import { PACK_A } from './codes.js';

/** WebAssembly i32 for every integer (pointers, sizes, codes); f32 and f64 as themselves. */
export type ArgType = 'ptr' | 'usize' | 'u32' | 'i32' | 'f32' | 'f64';

/**
 * How a kernel's work is shared by threads. Each part is computed by exactly the operations a
 * one-thread call would use, so the result does not depend on the split.
 * - `columns`: the export takes the arguments, then the unit range [a, b) of `over`, the
 *   packing space of the thread running it (0: the module's static one, see lib.rs) and how
 *   that thread packs the operand every part shares (PACK_A: whole in its first part of a job,
 *   reused in its later ones); a one-thread call is the range covering every unit.
 * - `elements`: the export runs on elements a..b when its `pointers` advance by 4·a bytes (a
 *   null pointer stays null) and its count `over` becomes b − a.
 */
export interface Split {
  readonly kind: 'columns' | 'elements';
  /** The argument counting the units that are split. */
  readonly over: string;
  /** Part boundaries fall on multiples of this many units. */
  readonly align: number;
  /** The work is the product of these arguments' values… */
  readonly work: readonly string[];
  /** …and below this much the call stays on the calling thread, where waking a worker costs more. */
  readonly minWork: number;
  /** Units a part has at least (default 32): 1 where a unit is a whole image or channel. */
  readonly minUnits?: number;
  /** `sqrt`: a triangle's columns (column j holds j + 1 entries), equal work at √-spaced boundaries. */
  readonly share?: 'sqrt';
  /** When `pointer` is 0 the kernel skips its product: then the work is `work`'s product, against `minWork`. */
  readonly without?: { readonly pointer: string; readonly work: readonly string[]; readonly minWork: number };
  readonly pointers?: readonly string[];
}

export interface KernelDeclaration {
  readonly export: string;
  /** `name:type`, in the export's order. */
  readonly args: readonly string[];
  readonly returns?: Exclude<ArgType, 'ptr'> | 'ptr';
  readonly split?: Split;
  /** The shapes for the debug trace, from the arguments by name. */
  readonly trace?: (a: Record<string, number>) => string;
}

/** Multiply-adds below which a dense pass stays on the calling thread. */
const DENSE_WORK = 1 << 19;
/** Elements below which an elementwise update stays on the calling thread. */
const ELEMENTS = 1 << 16;

const elements = (pointers: string[]): Split => ({ kind: 'elements', over: 'n', align: 4, work: ['n'], minWork: ELEMENTS, pointers });
const rows = (m: number, n: number) => `${m}×${n}`;
/** A convolution's geometry, first in every convolution kernel's arguments (crates/kernels/src/conv). */
const GEOMETRY = ['images:usize', 'channels:usize', 'height:usize', 'width:usize', 'outputs:usize', 'outHeight:usize', 'outWidth:usize', 'kh:usize', 'kw:usize', 'sh:usize', 'sw:usize', 'ph:usize', 'pw:usize'] as const;
/** The patches of a convolution's geometry: (N·OH·OW) rows of C·kh·kw. */
const patchRows = (a: Record<string, number>) => `${a.images! * a.outHeight! * a.outWidth!}×${a.channels! * a.kh! * a.kw!}`;
/** N×C×H×W of a convolution's input side, or N×O×OH×OW of its output side. */
const image = (a: Record<string, number>, side: 'in' | 'out') =>
  side === 'in' ? `${a.images}×${a.channels}×${a.height}×${a.width}` : `${a.images}×${a.outputs}×${a.outHeight}×${a.outWidth}`;

export const KERNELS = {
  // --- memory ---
  alloc: { export: 'lk_alloc', args: ['bytes:usize'], returns: 'ptr' },
  free: { export: 'lk_free', args: ['ptr:ptr', 'bytes:usize'] },
  live_allocations: { export: 'lk_live_allocations', args: [], returns: 'u32' },
  pack_floats: { export: 'lk_pack_floats', args: [], returns: 'usize' },
  // Zeroes every gradient at the start of a step: a pass over all parameters, shared like the optimizers'.
  fill: { export: 'lk_fill', args: ['p:ptr', 'n:usize', 'value:f32'], split: elements(['p']), trace: (a) => `${a.n} elements` },
  mul: { export: 'lk_mul', args: ['x:ptr', 'm:ptr', 'n:usize'] },
  find_nonfinite: { export: 'lk_find_nonfinite', args: ['p:ptr', 'n:usize'], returns: 'i32' },

  // --- GEMM and the dense layer ---
  gemm: {
    export: 'lk_gemm',
    args: ['layout:u32', 'm:usize', 'k:usize', 'n:usize', 'a:ptr', 'b:ptr', 'c:ptr', 'accumulate:u32'],
    trace: (a) => `layout ${a.layout} m ${a.m} k ${a.k} n ${a.n}`,
  },
  dense_forward: {
    export: 'lk_dense_forward_columns',
    args: ['m:usize', 'k:usize', 'n:usize', 'x:ptr', 'w:ptr', 'b:ptr', 'y:ptr', 'activation:u32', 'alpha:f32', 'transposed:u32'],
    split: { kind: 'columns', over: 'n', align: 8, work: ['m', 'k', 'n'], minWork: DENSE_WORK },
    trace: (a) => `${rows(a.m!, a.k!)} → ${rows(a.m!, a.n!)}`,
  },
  dense_backward_params: {
    export: 'lk_dense_backward_params_columns',
    args: ['m:usize', 'k:usize', 'n:usize', 'x:ptr', 'y:ptr', 'dy:ptr', 'dw:ptr', 'db:ptr', 'activation:u32', 'alpha:f32', 'transposed:u32'],
    // Without dW only dz = dy ⊙ f′ and db remain: elementwise work, seldom worth a worker's wake-up.
    split: { kind: 'columns', over: 'n', align: 8, work: ['m', 'k', 'n'], minWork: DENSE_WORK, without: { pointer: 'dw', work: ['m', 'n'], minWork: ELEMENTS } },
    trace: (a) => (a.dw === 0 ? `d${rows(a.m!, a.n!)}, no dW (passes the gradient on)` : `d${rows(a.m!, a.n!)} → dW ${rows(a.k!, a.n!)}`),
  },
  dense_backward_input: {
    export: 'lk_dense_backward_input_columns',
    args: ['m:usize', 'k:usize', 'n:usize', 'dz:ptr', 'w:ptr', 'dx:ptr', 'transposed:u32'],
    split: { kind: 'columns', over: 'k', align: 8, work: ['m', 'k', 'n'], minWork: DENSE_WORK },
    trace: (a) => `dz ${rows(a.m!, a.n!)} → dx ${rows(a.m!, a.k!)}`,
  },
  // --- convolutions (crates/kernels/src/conv): patch rows for the dense kernels' GEMMs; a
  // geometry C×H×W → O×OH×OW, which a transposed convolution runs backwards ---
  im2row: {
    export: 'lk_im2row_images',
    args: [...GEOMETRY, 'x:ptr', 'patches:ptr'],
    split: { kind: 'columns', over: 'images', align: 1, minUnits: 1, work: ['images', 'outHeight', 'outWidth', 'channels', 'kh', 'kw'], minWork: ELEMENTS },
    trace: (a) => `${image(a, 'in')} → ${patchRows(a)} patches`,
  },
  row2im: {
    export: 'lk_row2im_images',
    args: [...GEOMETRY, 'patches:ptr', 'x:ptr', 'b:ptr', 'activation:u32', 'alpha:f32'],
    split: { kind: 'columns', over: 'images', align: 1, minUnits: 1, work: ['images', 'outHeight', 'outWidth', 'channels', 'kh', 'kw'], minWork: ELEMENTS },
    trace: (a) => `${patchRows(a)} patches → ${image(a, 'in')}${a.b === 0 ? '' : ', bias'}`,
  },
  // Each image a rows×cols matrix, transposed: NCHW planes [C × S] to rows of channels [S × C] and back.
  transpose: {
    export: 'lk_transpose_images',
    args: ['images:usize', 'rows:usize', 'cols:usize', 'src:ptr', 'dst:ptr'],
    split: { kind: 'columns', over: 'images', align: 1, minUnits: 1, work: ['images', 'rows', 'cols'], minWork: ELEMENTS },
    trace: (a) => `${a.images}×${a.rows}×${a.cols} → ${a.images}×${a.cols}×${a.rows}`,
  },
  bias_activation_backward: {
    export: 'lk_bias_activation_backward_channels',
    args: ['images:usize', 'channels:usize', 'size:usize', 'y:ptr', 'dy:ptr', 'db:ptr', 'activation:u32', 'alpha:f32'],
    split: { kind: 'columns', over: 'channels', align: 1, minUnits: 1, work: ['images', 'channels', 'size'], minWork: ELEMENTS },
    trace: (a) => `${a.images}×${a.channels}×${a.size}`,
  },

  // --- normalisation (crates/kernels/src/norm) ---
  batch_norm_forward: {
    export: 'lk_batch_norm_forward_channels',
    args: ['images:usize', 'channels:usize', 'size:usize', 'x:ptr', 'y:ptr', 'gamma:ptr', 'beta:ptr', 'mean:ptr', 'invStd:ptr', 'runningMean:ptr', 'runningVar:ptr', 'train:u32', 'activation:u32', 'momentum:f32', 'eps:f32', 'alpha:f32'],
    split: { kind: 'columns', over: 'channels', align: 1, minUnits: 1, work: ['images', 'channels', 'size'], minWork: ELEMENTS },
    trace: (a) => `${a.images}×${a.channels}×${a.size}, ${a.train ? 'batch statistics' : 'running statistics'}`,
  },
  batch_norm_backward: {
    export: 'lk_batch_norm_backward_channels',
    args: ['images:usize', 'channels:usize', 'size:usize', 'x:ptr', 'y:ptr', 'dy:ptr', 'gamma:ptr', 'mean:ptr', 'invStd:ptr', 'dgamma:ptr', 'dbeta:ptr', 'dx:ptr', 'train:u32', 'activation:u32', 'alpha:f32'],
    split: { kind: 'columns', over: 'channels', align: 1, minUnits: 1, work: ['images', 'channels', 'size'], minWork: ELEMENTS },
    trace: (a) => `d${a.images}×${a.channels}×${a.size}`,
  },
  // Each unit alone: threads share the units (a dense layer's output columns).
  weight_norm_forward: {
    export: 'lk_weight_norm_forward', args: ['units:usize', 'len:usize', 'unitStride:usize', 'elemStride:usize', 'v:ptr', 'g:ptr', 'w:ptr', 'norms:ptr'],
    split: { kind: 'columns', over: 'units', align: 16, work: ['units', 'len'], minWork: ELEMENTS },
    trace: (a) => `${a.units} units of ${a.len}`,
  },
  weight_norm_backward: {
    export: 'lk_weight_norm_backward', args: ['units:usize', 'len:usize', 'unitStride:usize', 'elemStride:usize', 'v:ptr', 'g:ptr', 'norms:ptr', 'dw:ptr', 'dv:ptr', 'dg:ptr'],
    split: { kind: 'columns', over: 'units', align: 16, work: ['units', 'len'], minWork: ELEMENTS },
    trace: (a) => `${a.units} units of ${a.len}`,
  },
  activation_forward: { export: 'lk_activation_forward', args: ['activation:u32', 'alpha:f32', 'y:ptr', 'n:usize'] },
  activation_backward: { export: 'lk_activation_backward', args: ['activation:u32', 'alpha:f32', 'y:ptr', 'dy:ptr', 'n:usize'] },

  // --- losses ---
  loss: {
    export: 'lk_loss',
    args: ['kind:u32', 'pred:ptr', 'target:ptr', 'constTarget:f32', 'rows:usize', 'cols:usize', 'grad:ptr', 'weight:f32'],
    returns: 'f64',
    trace: (a) => `kind ${a.kind} ${rows(a.rows!, a.cols!)}`,
  },
  // The semi-supervised GAN (Salimans et al. 2016): K class logits with the fake class's fixed at 0, and feature matching.
  gan_classes: {
    export: 'lk_gan_classes', args: ['pred:ptr', 'rows:usize', 'cols:usize', 'real:u32', 'grad:ptr', 'weight:f32'], returns: 'f64',
    trace: (a) => `${a.real ? 'real' : 'generated'} ${rows(a.rows!, a.cols!)}`,
  },
  column_means: { export: 'lk_column_means', args: ['x:ptr', 'rows:usize', 'cols:usize', 'out:ptr'], trace: (a) => rows(a.rows!, a.cols!) },
  feature_matching: {
    export: 'lk_feature_matching', args: ['features:ptr', 'rows:usize', 'cols:usize', 'target:ptr', 'grad:ptr', 'weight:f32'], returns: 'f64',
    trace: (a) => rows(a.rows!, a.cols!),
  },
  l1_penalty: { export: 'lk_l1_penalty', args: ['h:ptr', 'dh:ptr', 'n:usize', 'scale:f32'], returns: 'f64' },

  // --- the variational autoencoder's latent and likelihoods (crates/kernels/src/gaussian.rs) ---
  vae_reparameterize: { export: 'lk_vae_reparameterize', args: ['stats:ptr', 'eps:ptr', 'z:ptr', 'rows:usize', 'latent:usize'], trace: (a) => rows(a.rows!, a.latent!) },
  vae_kl: {
    export: 'lk_vae_kl', args: ['stats:ptr', 'eps:ptr', 'dz:ptr', 'dstats:ptr', 'rows:usize', 'latent:usize', 'weight:f32'], returns: 'f64',
    trace: (a) => rows(a.rows!, a.latent!),
  },
  vae_kl_rows: {
    export: 'lk_vae_kl_rows', args: ['stats:ptr', 'eps:ptr', 'dz:ptr', 'dstats:ptr', 'rows:usize', 'latent:usize', 'weights:ptr', 'sums:ptr'],
    trace: (a) => `${rows(a.rows!, a.latent!)}, weighted per row`,
  },
  likelihood_nll: {
    export: 'lk_likelihood_nll', args: ['kind:u32', 'x:ptr', 'out:ptr', 'rows:usize', 'd:usize', 'logVar:f32', 'grad:ptr', 'weight:f32'], returns: 'f64',
    trace: (a) => `kind ${a.kind} ${rows(a.rows!, a.d!)}`,
  },
  likelihood_nll_rows: {
    export: 'lk_likelihood_nll_rows_columns',
    args: ['kind:u32', 'x:ptr', 'out:ptr', 'rows:usize', 'd:usize', 'logVar:f32', 'grad:ptr', 'weight:f32', 'rowWeights:ptr', 'sums:ptr'],
    // Rows are independent; each feature costs an exponential and a logarithm, so parts pay
    // from a quarter of importance_log_weights' threshold.
    split: { kind: 'columns', over: 'rows', align: 1, work: ['rows', 'd'], minWork: 1 << 14 },
    trace: (a) => `kind ${a.kind} ${rows(a.rows!, a.d!)}, by rows`,
  },
  importance_log_weights: {
    export: 'lk_importance_log_weights_columns',
    args: ['kind:u32', 'x:ptr', 'd:usize', 'logVar:f32', 'out:ptr', 'stats:ptr', 'z:ptr', 'eps:ptr', 'latent:usize', 'perInput:usize', 'lead:usize', 'rows:usize', 'w:ptr'],
    // Samples are independent: parts of rows, each weighing d features.
    split: { kind: 'columns', over: 'rows', align: 1, work: ['rows', 'd'], minWork: 1 << 16 },
    trace: (a) => `${a.rows} samples, ${a.perInput} per input`,
  },
  log_mean_exp: { export: 'lk_log_mean_exp', args: ['w:ptr', 'n:usize'], returns: 'f64' },

  // --- optimizers and the moving average ---
  sgd: {
    export: 'lk_sgd', args: ['p:ptr', 'g:ptr', 'vel:ptr', 'n:usize', 'lr:f32', 'momentum:f32', 'nesterov:u32'],
    split: elements(['p', 'g', 'vel']), trace: (a) => `${a.n} parameters`,
  },
  adam: {
    export: 'lk_adam', args: ['p:ptr', 'g:ptr', 'm:ptr', 'v:ptr', 'n:usize', 'lr:f32', 'b1:f64', 'b2:f64', 'eps:f32', 'weightDecay:f32', 't:u32'],
    split: elements(['p', 'g', 'm', 'v']), trace: (a) => `${a.n} parameters, t ${a.t}`,
  },
  rmsprop: {
    export: 'lk_rmsprop', args: ['p:ptr', 'g:ptr', 'nu:ptr', 'n:usize', 'lr:f32', 'decay:f64', 'eps:f32'],
    split: elements(['p', 'g', 'nu']), trace: (a) => `${a.n} parameters`,
  },
  ema: { export: 'lk_ema', args: ['avg:ptr', 'p:ptr', 'n:usize', 'decay:f64'], split: elements(['avg', 'p']), trace: (a) => `${a.n} parameters` },
  sum_squares: { export: 'lk_sum_squares', args: ['g:ptr', 'n:usize'], returns: 'f64' },
  scale: { export: 'lk_scale', args: ['g:ptr', 'n:usize', 'factor:f32'] },

  // --- random numbers (state: 16 bytes of xoshiro128**) ---
  rng_seed: { export: 'lk_rng_seed', args: ['state:ptr', 'lo:u32', 'hi:u32'] },
  rng_uniform: { export: 'lk_rng_uniform', args: ['state:ptr', 'out:ptr', 'n:usize', 'lo:f32', 'hi:f32'] },
  rng_normal: { export: 'lk_rng_normal', args: ['state:ptr', 'out:ptr', 'n:usize', 'mean:f32', 'std:f32'] },
  rng_below: { export: 'lk_rng_below', args: ['state:ptr', 'n:u32'], returns: 'u32' },
  rng_shuffle: { export: 'lk_rng_shuffle', args: ['state:ptr', 'idx:ptr', 'n:usize'] },
  rng_add_normal: { export: 'lk_rng_add_normal', args: ['state:ptr', 'x:ptr', 'n:usize', 'std:f32'] },
  rng_bernoulli: { export: 'lk_rng_bernoulli', args: ['state:ptr', 'p:ptr', 'n:usize'], returns: 'i32' },
  rng_mask: { export: 'lk_rng_mask', args: ['state:ptr', 'x:ptr', 'n:usize', 'rate:f32'] },
  rng_dropout: { export: 'lk_rng_dropout', args: ['state:ptr', 'y:ptr', 'mask:ptr', 'n:usize', 'rate:f32'] },
  init_weights: { export: 'lk_init_weights', args: ['state:ptr', 'kind:u32', 'w:ptr', 'fanIn:usize', 'fanOut:usize'] },

  // --- PCA's linear algebra ---
  column_stats: { export: 'lk_column_stats', args: ['x:ptr', 'rows:usize', 'd:usize', 'sum:ptr', 'nonzeros:ptr'], returns: 'i32' },
  covariance_prepare: {
    export: 'lk_covariance_prepare',
    args: ['x:ptr', 'rows:usize', 'd:usize', 'dense:ptr', 'nd:usize', 'sparse:ptr', 'ns:usize', 'shift:ptr', 'panel:ptr', 'rowBuf:ptr', 'ms:ptr', 'accumulate:u32'],
  },
  syrk_upper: {
    export: 'lk_syrk_upper_columns',
    args: ['panel:ptr', 'rows:usize', 'nd:usize', 'md:ptr', 'accumulate:u32'],
    // rows·nd² products, half of them in the upper triangle.
    split: { kind: 'columns', over: 'nd', align: 8, work: ['rows', 'nd', 'nd'], minWork: 2 * DENSE_WORK, share: 'sqrt' },
    trace: (a) => `${rows(a.rows!, a.nd!)}ᵀ·itself, upper`,
  },
  covariance_assemble: {
    export: 'lk_covariance_assemble',
    args: ['md:ptr', 'dense:ptr', 'nd:usize', 'ms:ptr', 'sparse:ptr', 'ns:usize', 'delta:ptr', 'n:usize', 'd:usize', 'c:ptr'],
  },
  top_eigen: {
    export: 'lk_top_eigen',
    args: ['c:ptr', 'd:usize', 'k:usize', 'state:ptr', 'tol:f64', 'maxSteps:usize', 'vals:ptr', 'vecs:ptr'],
    returns: 'i32',
  },
  symmetric_eigen: { export: 'lk_symmetric_eigen', args: ['a:ptr', 'p:usize', 'vals:ptr', 'vecs:ptr'] },
} as const satisfies Record<string, KernelDeclaration>;

export type KernelName = keyof typeof KERNELS;

type Numbers<A extends readonly unknown[]> = { [I in keyof A]: number };
type Returns<D> = D extends { returns: string } ? number : void;

/** The callable kernels: one function per declaration, positional arguments as declared. */
export type Kernels = { [K in KernelName]: (...args: Numbers<(typeof KERNELS)[K]['args']>) => Returns<(typeof KERNELS)[K]> };

/** A module instance's exports: memory, the stack pointer workers set, and the declared functions. */
export type KernelExports = {
  memory: WebAssembly.Memory;
  __stack_pointer?: WebAssembly.Global;
} & { [K in KernelName as (typeof KERNELS)[K]['export']]: (...args: number[]) => number };

/** An argument's name and type. */
export function argOf(spec: string): { name: string; type: ArgType } {
  const [name, type] = spec.split(':') as [string, ArgType];
  return { name, type };
}

/** The declarations whose work threads share, in a fixed order: a job's op code is the index here. */
export const SPLIT_KERNELS: readonly KernelName[] = (Object.keys(KERNELS) as KernelName[]).filter((n) => 'split' in KERNELS[n]);

/** The argument index of each name, per declaration. */
export function argIndex(name: KernelName, arg: string): number {
  return (KERNELS[name].args as readonly string[]).findIndex((a) => argOf(a).name === arg);
}

/**
 * One instance's exports as the callable kernels, every call on the calling thread: a
 * `columns` kernel's export gets the range covering every unit and the static packing space,
 * packing A block by block.
 */
export function bindKernels(exports: KernelExports): Kernels {
  const out: Record<string, (...a: number[]) => number> = {};
  const raw = exports as unknown as Record<string, (...a: number[]) => number>;
  for (const name of Object.keys(KERNELS) as KernelName[]) {
    const d: KernelDeclaration = KERNELS[name];
    const fn = raw[d.export];
    if (typeof fn !== 'function') throw new Error(`the WebAssembly module has no export ${d.export}`);
    if (d.split?.kind === 'columns') {
      const over = argIndex(name, d.split.over);
      out[name] = (...a: number[]) => fn(...a, 0, a[over]!, 0, PACK_A.blocks);
    } else {
      out[name] = fn;
    }
  }
  return out as unknown as Kernels;
}
