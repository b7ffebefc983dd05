// Worker threads over the one shared WebAssembly memory.
//
// A parallel op is split into parts by output columns (dense layers) or by element ranges
// (optimizer updates). Every element is computed by the same operations whichever thread runs
// its part, so results are bit-identical for any thread count; the calling thread takes parts
// too, and a worker that is not up yet simply takes none. Posting a job writes its arguments
// to a control block, opens the parts and wakes the workers; nothing is allocated and no
// tensor crosses a postMessage.
import { LatentkitError } from '../errors.js';
import { heap, type Block } from './memory.js';
import { kernels, memoryMode } from './wasm.js';
import { CONTROL as C, OP, PART_BITS, SPIN_MS, workerSource } from './worker.js';

/** Multiply-adds below which a dense pass stays on the calling thread (waking a worker costs more). */
const MIN_DENSE_WORK = 1 << 19;
/** Elements below which an optimizer update stays on the calling thread. */
const MIN_ELEMENTS = 1 << 16;
const STACK_BYTES = 256 * 1024;
const PARTS_PER_THREAD = 2;
/** A job whose parts make no progress for this long means a worker died mid-part. */
const HANG_MS = 60_000;

type ThreadSetting = number | 'auto';

interface PoolWorker {
  terminate(): void;
  ready: boolean;
}

interface WorkerHandle {
  post(message: unknown): void;
  terminate(): void;
  onMessage(f: (m: { ready?: boolean; error?: string }) => void): void;
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
  private readonly I = new Int32Array(this.control);
  private readonly F = new Float32Array(this.control);
  private readonly D = new Float64Array(this.control);
  private readonly cores = availableCores();
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
    return this.setting === 'auto' ? this.cores : this.setting;
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
    const packBytes = kernels.lk_pack_floats() * 4;
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
        if (m.ready) worker.ready = true;
        if (m.error) this.failure = `worker thread ${id} could not start: ${m.error}`;
      });
      handle.onExit((why) => {
        if (this.workers.includes(worker)) this.failure = `worker thread ${id} ${why}`;
      });
      handle.post({ bytes: memoryMode.workerBytes, memory: memoryMode.memory, control: this.control, stackTop: (stack.ptr + STACK_BYTES) & ~15, pack: pack.ptr, id });
      this.workers.push(worker);
    }
    return true;
  }

  /** Whether a pass of `work` multiply-adds (or elements) is worth splitting. */
  parallel(work: number, min: number): boolean {
    return work >= min && this.count > 1 && this.ensure();
  }

  /**
   * Runs job `op` (arguments already written) over `units` columns or elements, split into
   * PARTS_PER_THREAD parts per thread with boundaries on multiples of `align`; `local(a, b)`
   * runs a part on this thread.
   */
  run(op: number, units: number, align: number, local: (a: number, b: number) => void, share: (fraction: number) => number = (f) => f): void {
    if (this.failure) this.fail(this.failure);
    const I = this.I;
    // Several parts per thread: whoever finishes first takes the next, so a worker that wakes
    // late or a slower core does not leave the others waiting. Parts stay ≥ 32 units wide.
    // `share` maps a fraction of the work to a fraction of the units (√ for a triangle).
    const parts = Math.max(1, Math.min(PARTS_PER_THREAD * this.count, C.MAX_PARTS, Math.floor(units / Math.max(align, 32))));
    for (let p = 0; p <= parts; p++) I[C.BOUNDS + p] = Math.min(units, Math.ceil((units * share(p / parts)) / align) * align);
    I[C.OP] = op;
    Atomics.store(I, C.DONE, 0);
    Atomics.store(I, C.NEXT, parts << PART_BITS);
    Atomics.add(I, C.GEN, 1);
    Atomics.notify(I, C.GEN);
    // Take parts like any worker. A part that throws here still lets the others finish
    // before the error leaves, so no worker is left reading arguments the next job overwrites.
    let thrown: unknown = null;
    for (;;) {
      const cur = Atomics.load(I, C.NEXT);
      const index = cur & ((1 << PART_BITS) - 1);
      if (index >= parts) break;
      if (Atomics.compareExchange(I, C.NEXT, cur, cur + 1) !== cur) continue;
      try {
        local(I[C.BOUNDS + index]!, I[C.BOUNDS + index + 1]!);
      } catch (e) {
        thrown ??= e;
      }
      Atomics.add(I, C.DONE, 1);
    }
    let done = Atomics.load(I, C.DONE);
    let last = performance.now();
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
    if (thrown !== null) {
      Atomics.store(I, C.ERROR, 0);
      throw thrown;
    }
    if (Atomics.load(I, C.ERROR) !== 0) {
      const len = I[C.ERROR_LEN]!;
      const text = String.fromCharCode(...new Uint16Array(this.control, C.ERROR_TEXT * 4, len));
      Atomics.store(I, C.ERROR, 0);
      this.fail(text);
    }
  }

  private fail(why: string): never {
    this.stop();
    throw new LatentkitError(`${why}; the worker threads were stopped (they restart with the next parallel step)`);
  }

  args(i32: number[], f32: number[] = [], f64: number[] = []): void {
    this.I.set(i32, C.ARGS);
    this.F.set(f32, C.F32);
    this.D.set(f64, C.F64);
  }

  /** @internal For tests: ends worker `i` (from 0) as a crash would. */
  killWorker(i: number): void {
    this.workers[i]?.terminate();
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

/** The thread count in effect, what was asked for, and why it is 1 where memory cannot be shared. */
export function threads(): { count: number; requested: number | 'auto'; shared: boolean; why?: string } {
  return { count: pool.count, requested: pool.requested, shared: memoryMode.shared, ...(!memoryMode.shared && { why: memoryMode.why }) };
}

/** Stops the worker threads (they restart on the next parallel op while the setting asks for them). */
export function stopThreads(): void {
  pool.stop();
}

// --- the parallel passes: each falls back to the one-thread kernel, which computes the same bits ---

export function denseForward(m: number, k: number, n: number, x: number, w: number, b: number, y: number, act: number, alpha: number, transposed: number): void {
  if (!pool.parallel(m * k * n, MIN_DENSE_WORK)) {
    kernels.lk_dense_forward(m, k, n, x, w, b, y, act, alpha, transposed);
    return;
  }
  pool.args([m, k, n, x, w, b, y, act, transposed], [alpha]);
  pool.run(OP.DENSE_FORWARD, n, 8, (j0, j1) => kernels.lk_dense_forward_columns(m, k, n, x, w, b, y, act, alpha, transposed, j0, j1, 0));
}

export function denseBackward(
  m: number, k: number, n: number, x: number, w: number, y: number, dy: number, dx: number, dw: number, db: number, act: number, alpha: number, transposed: number,
): void {
  if (!pool.parallel(m * k * n, MIN_DENSE_WORK)) {
    kernels.lk_dense_backward(m, k, n, x, w, y, dy, dx, dw, db, act, alpha, transposed);
    return;
  }
  pool.args([m, k, n, x, y, dy, dw, db, act, transposed], [alpha]);
  pool.run(OP.DENSE_BACKWARD_PARAMS, n, 8, (j0, j1) => kernels.lk_dense_backward_params_columns(m, k, n, x, y, dy, dw, db, act, alpha, transposed, j0, j1, 0));
  if (dx === 0) return;
  pool.args([m, k, n, dy, w, dx, transposed]);
  pool.run(OP.DENSE_BACKWARD_INPUT, k, 8, (i0, i1) => kernels.lk_dense_backward_input_columns(m, k, n, dy, w, dx, transposed, i0, i1, 0));
}

export function adam(p: number, g: number, mom: number, vel: number, n: number, lr: number, b1: number, b2: number, eps: number, wd: number, t: number): void {
  if (!pool.parallel(n, MIN_ELEMENTS)) {
    kernels.lk_adam(p, g, mom, vel, n, lr, b1, b2, eps, wd, t);
    return;
  }
  pool.args([p, g, mom, vel, t], [lr, eps, wd], [b1, b2]);
  pool.run(OP.ADAM, n, 4, (a, b) => kernels.lk_adam(p + 4 * a, g + 4 * a, mom + 4 * a, vel + 4 * a, b - a, lr, b1, b2, eps, wd, t));
}

export function sgd(p: number, g: number, vel: number, n: number, lr: number, momentum: number, nesterov: number): void {
  if (!pool.parallel(n, MIN_ELEMENTS)) {
    kernels.lk_sgd(p, g, vel, n, lr, momentum, nesterov);
    return;
  }
  pool.args([p, g, vel, nesterov], [lr, momentum]);
  pool.run(OP.SGD, n, 4, (a, b) => kernels.lk_sgd(p + 4 * a, g + 4 * a, vel === 0 ? 0 : vel + 4 * a, b - a, lr, momentum, nesterov));
}

export function rmsprop(p: number, g: number, nu: number, n: number, lr: number, decay: number, eps: number): void {
  if (!pool.parallel(n, MIN_ELEMENTS)) {
    kernels.lk_rmsprop(p, g, nu, n, lr, decay, eps);
    return;
  }
  pool.args([p, g, nu], [lr, eps], [decay]);
  pool.run(OP.RMSPROP, n, 4, (a, b) => kernels.lk_rmsprop(p + 4 * a, g + 4 * a, nu + 4 * a, b - a, lr, decay, eps));
}

export function ema(avg: number, p: number, n: number, decay: number): void {
  if (!pool.parallel(n, MIN_ELEMENTS)) {
    kernels.lk_ema(avg, p, n, decay);
    return;
  }
  pool.args([avg, p], [], [decay]);
  pool.run(OP.EMA, n, 4, (a, b) => kernels.lk_ema(avg + 4 * a, p + 4 * a, b - a, decay));
}

/** One chunk of PCA's split covariance (see linalg.ts); the dense block's syrk is split by column strips. */
export function covarianceChunk(
  x: number, rows: number, d: number, dense: number, nd: number, sparse: number, ns: number, shift: number, panel: number, rowBuf: number, md: number, ms: number, accumulate: number,
): void {
  // The upper triangle of nd×nd over `rows` rows: rows·nd²/2 multiply-adds.
  if (!pool.parallel((rows * nd * nd) / 2, MIN_DENSE_WORK)) {
    kernels.lk_covariance_chunk(x, rows, d, dense, nd, sparse, ns, shift, panel, rowBuf, md, ms, accumulate);
    return;
  }
  kernels.lk_covariance_prepare(x, rows, d, dense, nd, sparse, ns, shift, panel, rowBuf, ms, accumulate);
  pool.args([panel, rows, nd, md, accumulate]);
  // Column j of the upper triangle holds j + 1 entries: equal work per part at √-spaced boundaries.
  pool.run(OP.SYRK, nd, 8, (j0, j1) => kernels.lk_syrk_upper_columns(panel, rows, nd, md, accumulate, j0, j1, 0), Math.sqrt);
}
