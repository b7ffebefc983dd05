// A worker thread: loads the worker variant of the module over the shared memory, then takes
// parts of jobs from the control block until told to stop. Bundled on its own (an IIFE with no
// imports left; see tsup.config.ts) and embedded in the main entry as text, so one file works
// as a node:worker_threads script (Node, Deno) and as a module Web Worker (browsers).
import { CONTROL as C, ControlViews, JOBS, PART_BITS, SPIN_MS, runPart } from './control.js';
import type { KernelExports } from './kernels.js';

/** What the pool sends a worker once. */
export interface WorkerStart {
  bytes: Uint8Array;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  /** Top of this worker's own stack in the shared memory. */
  stackTop: number;
  /** This worker's GEMM packing space (pack_floats floats). */
  pack: number;
  id: number;
}

/** What a worker posts back. */
export type WorkerReport = { ready: true } | { error: string };

interface Port {
  post(m: WorkerReport): void;
  onStart(f: (s: WorkerStart) => void): void;
  close(): void;
}

declare const require: ((id: string) => unknown) | undefined;

function port(): Port {
  // Node and Deno run this as a node:worker_threads script (require exists, postMessage does not).
  const g = globalThis as unknown as { postMessage?: (m: unknown) => void; close?: () => void; onmessage?: (e: { data: WorkerStart }) => void };
  if (typeof require === 'function' && typeof g.postMessage !== 'function') {
    const parent = (require('node:worker_threads') as { parentPort: { postMessage(m: unknown): void; once(e: 'message', f: (s: WorkerStart) => void): void; close(): void } }).parentPort;
    return { post: (m) => parent.postMessage(m), onStart: (f) => parent.once('message', f), close: () => parent.close() };
  }
  return { post: (m) => g.postMessage!(m), onStart: (f) => (g.onmessage = (e) => f(e.data)), close: () => g.close!() };
}

function start(s: WorkerStart, p: Port): void {
  let k: KernelExports;
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(s.bytes as Uint8Array<ArrayBuffer>), { env: { memory: s.memory } });
    k = instance.exports as unknown as KernelExports;
    k.__stack_pointer!.value = s.stackTop;
  } catch (e) {
    p.post({ error: String((e as Error)?.message ?? e) });
    return;
  }
  const exports = k as unknown as Record<string, (...a: number[]) => number>;
  const fns = JOBS.map((j) => exports[j.exportName]!);
  const ctl = new ControlViews(s.control);
  const I = ctl.I;
  const mask = (1 << PART_BITS) - 1;
  p.post({ ready: true });
  let seen = Atomics.load(I, C.GEN);
  // The job of this worker's last part: its next part of the same job reuses what that one packed.
  let lastJob = NaN;
  for (;;) {
    // Spin for up to SPIN_MS first: the next layer's job usually comes within it, and a
    // sleep costs a wake-up (tens of microseconds, more on a VM) on every job.
    const until = performance.now() + SPIN_MS;
    while (Atomics.load(I, C.GEN) === seen && performance.now() < until);
    if (Atomics.load(I, C.GEN) === seen) Atomics.wait(I, C.GEN, seen);
    seen = Atomics.load(I, C.GEN);
    if (Atomics.load(I, C.STOP) !== 0) break;
    for (;;) {
      const cur = Atomics.load(I, C.NEXT);
      const index = cur & mask;
      if (index >= cur >>> PART_BITS) break;
      if (Atomics.compareExchange(I, C.NEXT, cur, cur + 1) !== cur) continue;
      try {
        // The job and its arguments are read only after a claim succeeded: a claim can only
        // succeed once the thread that posted the job has written them (NEXT is stored last).
        const job = JOBS[I[C.OP]!];
        if (!job) throw new Error(`unknown job ${I[C.OP]}`);
        // JOB, written before NEXT, is this part's job's (the next job cannot start while this
        // part is unfinished); a claim can come from a newer job than `seen` without a wake-up.
        const jobNumber = I[C.JOB]!;
        const first = jobNumber !== lastJob;
        lastJob = jobNumber;
        runPart(job, ctl.readArgs(job), fns[job.op]!, I[C.BOUNDS + index]!, I[C.BOUNDS + index + 1]!, s.pack, first);
      } catch (e) {
        if (Atomics.compareExchange(I, C.ERROR, 0, s.id) === 0) ctl.writeError(`worker ${s.id}: ${String((e as Error)?.message ?? e)}`);
      }
      Atomics.add(I, C.DONE, 1);
      Atomics.notify(I, C.DONE);
    }
  }
  p.close();
}

const p = port();
p.onStart((s) => start(s, p));
