// The control block that the pool and its workers share, and how a split kernel's arguments
// travel through it: both sides derive the packing from the kernel's declaration (kernels.ts),
// so nothing about a kernel's arguments is written down twice.
import { PACK_A } from './codes.js';
import { type KernelName, KERNELS, SPLIT_KERNELS, type Split, argOf } from './kernels.js';

/** Int32 slots of the control block (its Float32 and Float64 views index the same bytes). */
export const CONTROL = {
  GEN: 0, // bumped for every job: sleeping workers wait on it
  NEXT: 1, // parts << PART_BITS | index of the next unclaimed part (claimed by compare-and-swap)
  DONE: 2, // parts finished
  OP: 3, // the job: an index into SPLIT_KERNELS
  STOP: 4, // 1: workers exit
  ERROR: 5, // 0, or the id of a worker whose part threw
  ERROR_LEN: 6, // length of the message at ERROR_TEXT
  JOB: 7, // the job's number, written before NEXT: a part's thread tells its first part of a job
  I32_ARGS: 8, // integer arguments (pointers, sizes, codes): Int32 slots 8..31
  I32_ARG_SLOTS: 24,
  F32_ARGS: 32, // f32 arguments: Float32 slots 32..39 (4-byte slots, numbered as the Int32 ones)
  F32_ARG_SLOTS: 8,
  F64_ARGS_BYTE: 160, // f64 arguments: bytes 160..191, Float64 slots 20..23, Int32 slots 40..47
  F64_ARG_SLOTS: 4,
  BOUNDS: 48, // part p covers units [BOUNDS + p, BOUNDS + p + 1)
  MAX_PARTS: 64,
  ERROR_TEXT: 113, // Uint16 message: Int32 slots 113.. hold 2 code units each
  ERROR_TEXT_UNITS: 256,
  INTS: 113 + 128 + 1, // even, so the block is a whole number of f64
} as const;

/** Parts are packed with their count in one word so a claim is one compare-and-swap. */
export const PART_BITS = 11;

/** How long an idle thread spins before it sleeps, in milliseconds. */
export const SPIN_MS = 2;

type Slot = { view: 'i' | 'f' | 'd'; index: number };

/** A split kernel as a job: where each argument travels, and the buffers a part call reuses. */
export interface Job {
  readonly op: number;
  readonly name: KernelName;
  readonly exportName: string;
  readonly split: Split;
  readonly slots: readonly Slot[];
  /** Argument index of the split count and of the pointers that advance (elements). */
  readonly over: number;
  readonly pointers: readonly number[];
  /** The job's arguments as read or written (reused: no allocation per job or part). */
  readonly args: number[];
  /** The arguments of one part's call (reused). */
  readonly call: number[];
}

function planJob(name: KernelName, op: number): Job {
  const d = KERNELS[name] as { export: string; args: readonly string[]; split: Split };
  const counts = { i: 0, f: 0, d: 0 };
  const names = d.args.map((a) => argOf(a).name);
  const slots = d.args.map((spec): Slot => {
    const { type } = argOf(spec);
    if (type === 'f32') return { view: 'f', index: CONTROL.F32_ARGS + counts.f++ };
    if (type === 'f64') return { view: 'd', index: CONTROL.F64_ARGS_BYTE / 8 + counts.d++ };
    return { view: 'i', index: CONTROL.I32_ARGS + counts.i++ };
  });
  if (counts.i > CONTROL.I32_ARG_SLOTS || counts.f > CONTROL.F32_ARG_SLOTS || counts.d > CONTROL.F64_ARG_SLOTS) {
    throw new Error(`kernel ${name} has more arguments than the control block holds`);
  }
  const extra = d.split.kind === 'columns' ? 4 : 0; // the range, the packing space and how it packs A
  return {
    op, name, exportName: d.export, split: d.split, slots,
    over: names.indexOf(d.split.over),
    pointers: (d.split.pointers ?? []).map((p) => names.indexOf(p)),
    args: new Array<number>(d.args.length).fill(0),
    call: new Array<number>(d.args.length + extra).fill(0),
  };
}

/** Every split kernel as a job, indexed by op code. */
export const JOBS: readonly Job[] = SPLIT_KERNELS.map(planJob);

/** Typed views over a control block's bytes, shared by the pool and every worker. */
export class ControlViews {
  readonly I: Int32Array;
  readonly F: Float32Array;
  readonly D: Float64Array;

  constructor(readonly buffer: ArrayBufferLike) {
    this.I = new Int32Array(buffer);
    this.F = new Float32Array(buffer);
    this.D = new Float64Array(buffer);
  }

  /** Writes `args` (the declaration's order) into the job's slots. */
  writeArgs(job: Job, args: ArrayLike<number>): void {
    job.slots.forEach((s, i) => {
      (s.view === 'i' ? this.I : s.view === 'f' ? this.F : this.D)[s.index] = args[i]!;
    });
  }

  /** Reads the job's arguments into `job.args`. */
  readArgs(job: Job): number[] {
    const out = job.args;
    job.slots.forEach((s, i) => {
      out[i] = (s.view === 'i' ? this.I : s.view === 'f' ? this.F : this.D)[s.index]!;
    });
    return out;
  }

  /** Writes a message of `text` for the thread that started the job to read. */
  writeError(text: string): void {
    const t = text.slice(0, CONTROL.ERROR_TEXT_UNITS);
    const U = new Uint16Array(this.buffer, CONTROL.ERROR_TEXT * 4, CONTROL.ERROR_TEXT_UNITS);
    for (let i = 0; i < t.length; i++) U[i] = t.charCodeAt(i);
    Atomics.store(this.I, CONTROL.ERROR_LEN, t.length);
  }

  readError(): string {
    return String.fromCharCode(...new Uint16Array(this.buffer, CONTROL.ERROR_TEXT * 4, this.I[CONTROL.ERROR_LEN]!));
  }
}

/**
 * Runs units [a, b) of `job` (arguments in `args`) through the export `fn`, with packing space
 * `pack` (0: the module's static one); `first` says whether it is this thread's first part of
 * the job, which packs the parts' shared operand for the thread's later parts to reuse. The
 * calling thread and the workers run parts through this one function.
 */
export function runPart(job: Job, args: readonly number[], fn: (...a: number[]) => number, a: number, b: number, pack: number, first: boolean): void {
  const call = job.call;
  for (let i = 0; i < args.length; i++) call[i] = args[i]!;
  if (job.split.kind === 'columns') {
    call[args.length] = a;
    call[args.length + 1] = b;
    call[args.length + 2] = pack;
    call[args.length + 3] = first ? PACK_A.whole : PACK_A.reuse;
  } else {
    for (const p of job.pointers) if (call[p] !== 0) call[p] = call[p]! + 4 * a;
    call[job.over] = b - a;
  }
  fn(...call);
}
