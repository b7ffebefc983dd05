// Worker threads over the one shared WebAssembly memory.
//
// A split kernel (see `split` in kernels.ts) is run as a job: its parts are column or element
// ranges that the calling thread and the workers take as they are free. Every element is
// computed by the same operations whichever thread runs its part, so results are
// bit-identical for any thread count; a worker that is not up yet simply takes none. Posting a
// job writes its arguments to the control block, opens the parts and wakes the workers;
// nothing is allocated and no tensor crosses a postMessage.
import workerSource from './worker.ts?worker-source';
import { LatentkitError } from '../errors.js';
import { CONTROL as C, ControlViews, type Job, PART_BITS, SPIN_MS, runPart } from './control.js';
import type { WorkerReport, WorkerStart } from './worker.js';
import { heap, type Block } from './memory.js';
import { direct, memoryMode } from './wasm.js';
import type { Split } from './kernels.js';

const STACK_BYTES = 256 * 1024;
/**
 * Parts per thread in a job. On this VM a core can stall for a while mid-part, and the job then
 * waits for its last part: with 4 parts per thread instead of 2 the calling thread waited 5% of
 * a 2-thread step instead of 11–14% (gan256, gan64), and those steps ran 9–10% faster (20 rounds
 * side by side); ae784 was unchanged (1.6%, faster in 10 of 20 rounds). Parts stay ≥ 32 units.
 */
const PARTS_PER_THREAD = 4;

/**
 * How many parts a job over `units` columns or elements has on `threads` threads: several per
 * thread, so whoever finishes first takes the next and a worker that wakes late or a slower core
 * does not leave the others waiting; each at least `minUnits` (default 32) and `align` units wide.
 */
export function partCount(units: number, threads: number, align: number, minUnits = 32): number {
  return Math.max(1, Math.min(PARTS_PER_THREAD * threads, C.MAX_PARTS, Math.floor(units / Math.max(align, minUnits))));
}

/**
 * Where part `p` of `parts` starts (p = parts: the end), on a multiple of the split's alignment. A
 * triangle's columns are shared at √-spaced boundaries, so each part has equal work.
 */
export function partBound(units: number, p: number, parts: number, { align, share }: Pick<Split, 'align' | 'share'>): number {
  const fraction = share === 'sqrt' ? Math.sqrt(p / parts) : p / parts;
  return Math.min(units, Math.ceil((units * fraction) / align) * align);
}
/** A job whose parts make no progress for this long means a worker died mid-part. */
const HANG_MS = 60_000;

type ThreadSetting = number | 'auto';

/** Jobs, their parts, the parts the calling thread took, and its milliseconds waiting for the others. */
type PoolCounts = { jobs: number; parts: number; partsHere: number; waitMs: number };
const noCounts = (): PoolCounts => ({ jobs: 0, parts: 0, partsHere: 0, waitMs: 0 });

interface PoolWorker {
  terminate(): void;
  ready: boolean;
}

interface WorkerHandle {
  post(message: unknown): void;
  terminate(): void;
  onMessage(f: (m: WorkerReport) => void): void;
  onExit(f: (why: string) => void): void;
}

function availableCores(): number {
  const proc = (globalThis as { process?: { getBuiltinModule?: (m: string) => { availableParallelism?: () => number } } }).process;
  const os = proc?.getBuiltinModule?.('node:os');
  if (os?.availableParallelism) return os.availableParallelism();
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return Math.max(1, nav?.hardwareConcurrency ?? 1);
}

type NodeWorker = { postMessage(m: unknown): void; terminate(): Promise<number>; unref(): void; on(e: string, f: (x: never) => void): void };

/**
 * A worker running `workerSource`: node:worker_threads where the runtime has it (Node, and Deno,
 * whose workers there can be unref'd so they never keep the process alive), else a Web Worker.
 */
function spawn(): WorkerHandle {
  const proc = (globalThis as { process?: { getBuiltinModule?: (m: string) => unknown } }).process;
  const wt = proc?.getBuiltinModule?.('node:worker_threads') as { Worker: new (src: string, o: { eval: true; execArgv: string[] }) => NodeWorker } | undefined;
  if (wt) {
    // execArgv: [] — a worker inherits the parent's flags, and --input-type=module would run
    // this CommonJS source as a module.
    const w = new wt.Worker(workerSource, { eval: true, execArgv: [] });
    // An idle pool never keeps the process alive: unref after every listener is on, since
    // adding a 'message' listener refs the worker's port again.
    return {
      post: (m) => w.postMessage(m),
      terminate: () => void w.terminate(),
      onMessage: (f) => {
        w.on('message', f as (x: never) => void);
        w.unref();
      },
      onExit: (f) => {
        w.on('error', ((e: Error) => f(e.message)) as (x: never) => void);
        w.on('exit', ((code: number) => f(`exited with code ${code}`)) as (x: never) => void);
        w.unref();
      },
    };
  }
  const WebWorker = (globalThis as { Worker?: new (url: string, o: { type: 'module' }) => Worker }).Worker;
  if (typeof WebWorker !== 'function') throw new Error('this runtime has neither node:worker_threads nor Web Workers');
  const url = URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }));
  const w = new WebWorker(url, { type: 'module' });
  URL.revokeObjectURL(url);
  return {
    post: (m) => w.postMessage(m),
    terminate: () => w.terminate(),
    onMessage: (f) => w.addEventListener('message', (e) => f((e as MessageEvent).data)),
    onExit: (f) => w.addEventListener('error', (e) => f((e as ErrorEvent).message ?? 'error')),
  };
}

class Pool {
  private setting: ThreadSetting = 'auto';
  private workers: PoolWorker[] = [];
  private blocks: Block[] = [];
  // Made only where memory can be shared: elsewhere SharedArrayBuffer may not even exist.
  private readonly control = memoryMode.shared ? new SharedArrayBuffer(C.INTS * 4) : new ArrayBuffer(C.INTS * 4);
  private readonly views = new ControlViews(this.control);
  private readonly I = this.views.I;
  /** Read on first use: loading node:os costs about 0.5 ms of every import's cold start. */
  private cores = 0;
  /** What the jobs since the last `resetStats()` cost the calling thread (see `stats`). */
  private counts = noCounts();
  /** Set when a worker failed outside a job (exit, load error): the next parallel op reports it. */
  private failure: string | null = null;
  private warned = false;
  private readonly canWait: boolean;

  constructor() {
    // A browser's main thread may not block; it spins instead.
    let canWait = memoryMode.shared;
    try {
      if (canWait) Atomics.wait(this.I, C.STOP, 1, 0);
    } catch {
      canWait = false;
    }
    this.canWait = canWait;
  }

  get requested(): ThreadSetting {
    return this.setting;
  }

  /** Threads that work on a parallel op, this one included. */
  get count(): number {
    if (!memoryMode.shared) return 1;
    if (this.setting !== 'auto') return this.setting;
    if (this.cores === 0) this.cores = availableCores();
    return this.cores;
  }

  set(n: ThreadSetting): number {
    if (n !== 'auto' && (!Number.isInteger(n) || n < 1 || n > C.MAX_PARTS)) {
      throw new LatentkitError(`threads must be 'auto' or an integer from 1 to ${C.MAX_PARTS}, got ${JSON.stringify(n)}`);
    }
    this.setting = n;
    // Going down to 1 only stops dispatching: idle workers sleep (and never keep a process
    // alive), so switching back costs nothing. Any other change starts the right number.
    if (this.count > 1 && this.workers.length !== this.count - 1) this.stop();
    if (n !== 1) this.warnOnce();
    return this.count;
  }

  private warnOnce(): void {
    if (this.warned || memoryMode.shared) return;
    this.warned = true;
    console.warn(`latentkit: training on 1 thread: ${memoryMode.why}.`);
  }

  /** Blocks the pool itself holds (worker stacks and packing space), freed by stop(). */
  get heldAllocations(): number {
    return this.blocks.length;
  }

  /** Stops the workers and frees their stacks and packing space. */
  stop(): void {
    if (this.workers.length > 0) {
      Atomics.store(this.I, C.STOP, 1);
      Atomics.add(this.I, C.GEN, 1);
      Atomics.notify(this.I, C.GEN);
      for (const w of this.workers) w.terminate();
    }
    this.workers = [];
    this.blocks.forEach((b) => heap.free(b));
    this.blocks = [];
    Atomics.store(this.I, C.STOP, 0);
    this.failure = null;
  }

  /** Starts the workers if the setting asks for more threads than are running. */
  private ensure(): boolean {
    const want = this.count - 1;
    if (want <= 0) {
      if (this.setting !== 1) this.warnOnce();
      return false;
    }
    if (this.workers.length === want) return true;
    this.stop();
    // Never true here (count is 1 without shared memory), but it narrows memoryMode's type.
    if (!memoryMode.shared) return false;
    const packBytes = direct.pack_floats() * 4;
    for (let id = 1; id <= want; id++) {
      const stack = heap.alloc(STACK_BYTES / 4, `the stack of worker thread ${id}`);
      const pack = heap.alloc(packBytes / 4, `the GEMM packing space of worker thread ${id}`);
      this.blocks.push(stack, pack);
      let handle: WorkerHandle;
      try {
        handle = spawn();
      } catch (e) {
        this.stop();
        this.setting = 1;
        console.warn(`latentkit: training on 1 thread: cannot start worker threads (${(e as Error).message}).`);
        return false;
      }
      const worker: PoolWorker = { terminate: () => handle.terminate(), ready: false };
      handle.onMessage((m) => {
        if ('ready' in m) worker.ready = true;
        else this.failure = `worker thread ${id} could not start: ${m.error}`;
      });
      handle.onExit((why) => {
        if (this.workers.includes(worker)) this.failure = `worker thread ${id} ${why}`;
      });
      const start: WorkerStart = { bytes: memoryMode.workerBytes(), memory: memoryMode.memory, control: this.control as SharedArrayBuffer, stackTop: (stack.ptr + STACK_BYTES) & ~15, pack: pack.ptr, id };
      handle.post(start);
      this.workers.push(worker);
    }
    return true;
  }

  /** Whether a pass of `work` multiply-adds (or elements) is worth splitting. */
  parallel(work: number, min: number): boolean {
    return work >= min && this.count > 1 && this.ensure();
  }

  /**
   * Runs `job` with `args` over `units` columns or elements through `fn` (the export on this
   * thread), split into PARTS_PER_THREAD parts per thread with boundaries on multiples of the
   * job's alignment. Returns the number of parts.
   */
  run(job: Job, args: readonly number[], units: number, fn: (...a: number[]) => number): number {
    if (this.failure) this.fail(this.failure);
    const I = this.I;
    const parts = partCount(units, this.count, job.split.align, job.split.minUnits);
    for (let p = 0; p <= parts; p++) I[C.BOUNDS + p] = partBound(units, p, parts, job.split);
    this.views.writeArgs(job, args);
    I[C.OP] = job.op;
    I[C.JOB] = (I[C.JOB]! + 1) | 0;
    Atomics.store(I, C.DONE, 0);
    Atomics.store(I, C.NEXT, parts << PART_BITS);
    Atomics.add(I, C.GEN, 1);
    Atomics.notify(I, C.GEN);
    // Take parts like any worker. A part that throws here still lets the others finish
    // before the error leaves, so no worker is left reading arguments the next job overwrites.
    let thrown: unknown = null;
    let here = 0;
    for (;;) {
      const cur = Atomics.load(I, C.NEXT);
      const index = cur & ((1 << PART_BITS) - 1);
      if (index >= parts) break;
      if (Atomics.compareExchange(I, C.NEXT, cur, cur + 1) !== cur) continue;
      try {
        runPart(job, args, fn, I[C.BOUNDS + index]!, I[C.BOUNDS + index + 1]!, 0, here === 0);
      } catch (e) {
        thrown ??= e;
      }
      Atomics.add(I, C.DONE, 1);
      here++;
    }
    let done = Atomics.load(I, C.DONE);
    const idleFrom = performance.now();
    let last = idleFrom;
    // Spin first (the workers' parts usually end within it), then sleep in short waits.
    while (done < parts && performance.now() - last < SPIN_MS) done = Atomics.load(I, C.DONE);
    while (done < parts) {
      if (this.canWait) Atomics.wait(I, C.DONE, done, 50);
      const now = Atomics.load(I, C.DONE);
      if (now !== done) {
        done = now;
        last = performance.now();
      } else if (performance.now() - last > HANG_MS) {
        this.fail(`a worker thread stopped responding (no progress for ${HANG_MS / 1000} s)`);
      }
    }
    const c = this.counts;
    c.jobs++;
    c.parts += parts;
    c.partsHere += here;
    c.waitMs += performance.now() - idleFrom;
    if (thrown !== null) {
      Atomics.store(I, C.ERROR, 0);
      throw thrown;
    }
    if (Atomics.load(I, C.ERROR) !== 0) {
      const text = this.views.readError();
      Atomics.store(I, C.ERROR, 0);
      this.fail(text);
    }
    return parts;
  }

  private fail(why: string): never {
    this.stop();
    throw new LatentkitError(`${why}; the worker threads were stopped (they restart with the next parallel step)`);
  }

  /** @internal For tests: ends worker `i` (from 0) as a crash would. */
  killWorker(i: number): void {
    this.workers[i]?.terminate();
  }

  /** @internal Why a worker stopped or could not start, once its exit is seen and until the next call reports it. */
  get pendingFailure(): string | null {
    return this.failure;
  }

  /**
   * Since the last `resetStats()`: jobs run, their parts, the parts the calling thread took, and
   * the milliseconds it waited, its own parts done, for the other threads to finish theirs. For
   * the benchmarks: a thread that takes half the parts and seldom waits means the split is even.
   */
  get stats(): PoolCounts {
    return { ...this.counts };
  }

  resetStats(): void {
    this.counts = noCounts();
  }

  /** Workers that have loaded the module and take parts. */
  get readyWorkers(): number {
    return this.workers.filter((w) => w.ready).length;
  }
}

export const pool = new Pool();

/**
 * How many threads latentkit computes on: `'auto'` (the default) uses every core the runtime
 * reports, a number fixes it, 1 keeps everything on the calling thread. Results are
 * bit-identical for every setting. Returns the count in effect: 1 where the runtime cannot
 * share WebAssembly memory (a browser page that is not cross-origin isolated), which is said
 * once on the console.
 */
export function setThreads(n: number | 'auto'): number {
  return pool.set(n);
}

/**
 * The thread count in effect, what was asked for, how many threads are taking parts right now
 * (workers start on the first large layer), and why the count is 1 where memory cannot be shared.
 */
export function threads(): { count: number; requested: number | 'auto'; running: number; shared: boolean; why?: string } {
  // At a count of 1 the workers of an earlier setting still sleep in the pool but take no parts.
  const running = pool.count > 1 ? pool.readyWorkers + 1 : 1;
  return { count: pool.count, requested: pool.requested, running, shared: memoryMode.shared, ...(!memoryMode.shared && { why: memoryMode.why }) };
}

/** Stops the worker threads (they restart on the next parallel op while the setting asks for them). */
export function stopThreads(): void {
  pool.stop();
}
