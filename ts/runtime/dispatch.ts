// The kernels as the rest of latentkit calls them: each declared kernel (kernels.ts) runs on
// the calling thread, or, when its declaration says how its work splits and there is enough of
// it, as a job of the thread pool. With the debug trace on, every call is printed.
import { JOBS } from './control.js';
import { type KernelDeclaration, type KernelName, type Kernels, KERNELS, argIndex, argOf } from './kernels.js';
import { pool } from './threads.js';
import { trace } from './trace.js';
import { direct, onModuleReplaced, wasmExports } from './wasm.js';

type Fn = (...a: number[]) => number;

/** The split kernels: the pool when the work is large enough and there are threads, else direct. */
function threaded(name: KernelName): Fn {
  const job = JOBS.find((j) => j.name === name)!;
  const split = job.split;
  const work = split.work.map((w) => argIndex(name, w));
  const without = split.without && { pointer: argIndex(name, split.without.pointer), work: split.without.work.map((w) => argIndex(name, w)), minWork: split.without.minWork };
  const one = (direct as unknown as Record<string, Fn>)[name]!;
  const fn = (wasmExports as unknown as Record<string, Fn>)[job.exportName]!;
  return (...a: number[]) => {
    const light = without !== undefined && a[without.pointer] === 0;
    let w = 1;
    for (const i of light ? without.work : work) w *= a[i]!;
    if (!pool.parallel(w, light ? without.minWork : split.minWork)) return one(...a);
    lastParts = pool.run(job, a, a[job.over]!, fn);
    return undefined as unknown as number;
  };
}

/** Parts of the last split call (1: it ran on the calling thread), for the trace. */
let lastParts = 1;

function traced(name: KernelName, f: Fn): Fn {
  const d: KernelDeclaration = KERNELS[name];
  const names = d.args.map((a) => argOf(a).name);
  return (...a: number[]) => {
    lastParts = 1;
    const t0 = performance.now();
    const r = f(...a);
    const ms = performance.now() - t0;
    const args = Object.fromEntries(names.map((n, i) => [n, a[i]!]));
    const shape = d.trace ? d.trace(args) : names.map((n, i) => `${n} ${a[i]}`).join(', ');
    const split = d.split ? (lastParts > 1 ? ` · ${lastParts} parts over ${pool.count} threads` : ' · 1 thread') : '';
    trace.print(`${name} ${shape}${split} · ${ms.toFixed(3)} ms`);
    return r;
  };
}

const plain: Record<string, Fn> = {};

/** The callable kernels; their entries are swapped for traced ones while the trace is on. */
export const kernels: Kernels = {} as Kernels;

function retrace(on: boolean): void {
  const k = kernels as unknown as Record<string, Fn>;
  for (const name of Object.keys(plain) as KernelName[]) k[name] = on ? traced(name, plain[name]!) : plain[name]!;
}

/** Binds every kernel to the module in use (again after setPrecision replaces it). */
function bind(): void {
  for (const name of Object.keys(KERNELS) as KernelName[]) {
    plain[name] = 'split' in KERNELS[name] ? threaded(name) : (direct as unknown as Record<string, Fn>)[name]!;
  }
  retrace(trace.level > 0);
}
bind();
onModuleReplaced(bind);
trace.onChange(retrace);
