// The code each worker thread runs, as source text: it loads the worker variant of the module
// over the shared memory and takes parts of jobs from the control block until told to stop.
// It is a string, not a stringified function, so that no bundler's transform of the
// package (helpers such as keepNames' __name) can reach into it.

/** Slots of the Int32Array control block shared by the pool and its workers. */
export const CONTROL = {
  GEN: 0, // bumped for every job: sleeping workers wait on it
  NEXT: 1, // parts << 11 | index of the next unclaimed part (claimed by compare-and-swap)
  DONE: 2, // parts finished
  OP: 3, // what the job computes (OP below)
  STOP: 4, // 1: workers exit
  ERROR: 5, // 0, or the id of a worker whose part threw
  ERROR_LEN: 6, // length of the message at ERROR_TEXT
  ARGS: 8, // i32 arguments, 16 slots
  F32: 24, // f32 arguments (a Float32Array view over the same bytes), 8 slots
  F64: 16, // f64 arguments at Float64Array index 16 (Int32 slots 32..39), 4 slots
  BOUNDS: 40, // part p covers [BOUNDS + p, BOUNDS + p + 1)
  MAX_PARTS: 64,
  ERROR_TEXT: 105, // Uint16 message: Int32 slots 105.. hold 2 code units each
  ERROR_TEXT_UNITS: 256,
  INTS: 105 + 128 + 1, // even, so the block is a whole number of f64
} as const;

export const OP = { DENSE_FORWARD: 1, DENSE_BACKWARD_PARAMS: 2, DENSE_BACKWARD_INPUT: 3, ADAM: 4, SGD: 5, RMSPROP: 6, SYRK: 7, EMA: 8 } as const;

/** Parts are packed with their count in one word so a claim is one compare-and-swap. */
export const PART_BITS = 11;

/** How long an idle thread spins before it sleeps, in milliseconds. */
export const SPIN_MS = 2;

/** Source text of a worker: Node runs it with `eval: true`, browsers and Deno as a module from a Blob URL. */
export const workerSource = `const C = ${JSON.stringify(CONTROL)};
const OP = ${JSON.stringify(OP)};
const BITS = ${PART_BITS};
const MASK = (1 << BITS) - 1;
const node = typeof require === 'function' && typeof postMessage !== 'function';
const port = node ? require('node:worker_threads').parentPort : null;
const post = (d) => (port ? port.postMessage(d) : postMessage(d));

function start(s) {
  let k;
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(s.bytes), { env: { memory: s.memory } });
    k = instance.exports;
    k.__stack_pointer.value = s.stackTop;
  } catch (e) {
    post({ error: String((e && e.message) || e) });
    return;
  }
  const I = new Int32Array(s.control);
  const F = new Float32Array(s.control);
  const D = new Float64Array(s.control);
  const A = (i) => I[C.ARGS + i];
  const p = s.pack;
  const run = (op, a, b) => {
    switch (op) {
      case OP.DENSE_FORWARD:
        return k.lk_dense_forward_columns(A(0), A(1), A(2), A(3), A(4), A(5), A(6), A(7), F[C.F32], A(8), a, b, p);
      case OP.DENSE_BACKWARD_PARAMS:
        return k.lk_dense_backward_params_columns(A(0), A(1), A(2), A(3), A(4), A(5), A(6), A(7), A(8), F[C.F32], A(9), a, b, p);
      case OP.DENSE_BACKWARD_INPUT:
        return k.lk_dense_backward_input_columns(A(0), A(1), A(2), A(3), A(4), A(5), A(6), a, b, p);
      case OP.ADAM: // elements a..b of p, g, m, v
        return k.lk_adam(A(0) + 4 * a, A(1) + 4 * a, A(2) + 4 * a, A(3) + 4 * a, b - a, F[C.F32], D[C.F64], D[C.F64 + 1], F[C.F32 + 1], F[C.F32 + 2], A(4));
      case OP.SGD: // p, g, velocity (0: none)
        return k.lk_sgd(A(0) + 4 * a, A(1) + 4 * a, A(2) === 0 ? 0 : A(2) + 4 * a, b - a, F[C.F32], F[C.F32 + 1], A(3));
      case OP.RMSPROP: // p, g, nu
        return k.lk_rmsprop(A(0) + 4 * a, A(1) + 4 * a, A(2) + 4 * a, b - a, F[C.F32], D[C.F64], F[C.F32 + 1]);
      case OP.EMA: // avg, p
        return k.lk_ema(A(0) + 4 * a, A(1) + 4 * a, b - a, D[C.F64]);
      case OP.SYRK: // panel, rows, nd, md, accumulate
        return k.lk_syrk_upper_columns(A(0), A(1), A(2), A(3), A(4), a, b, p);
      default:
        throw new Error('unknown job ' + op);
    }
  };
  post({ ready: true });
  let seen = Atomics.load(I, C.GEN);
  for (;;) {
    // Spin for up to SPIN_MS first: the next layer's job usually comes within it, and a
    // sleep costs a wake-up (tens of microseconds, more on a VM) on every job.
    const until = performance.now() + ${SPIN_MS};
    while (Atomics.load(I, C.GEN) === seen && performance.now() < until);
    if (Atomics.load(I, C.GEN) === seen) Atomics.wait(I, C.GEN, seen);
    seen = Atomics.load(I, C.GEN);
    if (Atomics.load(I, C.STOP) !== 0) break;
    for (;;) {
      const cur = Atomics.load(I, C.NEXT);
      const index = cur & MASK;
      if (index >= cur >>> BITS) break;
      if (Atomics.compareExchange(I, C.NEXT, cur, cur + 1) !== cur) continue;
      try {
        run(I[C.OP], I[C.BOUNDS + index], I[C.BOUNDS + index + 1]);
      } catch (e) {
        if (Atomics.compareExchange(I, C.ERROR, 0, s.id) === 0) {
          const text = ('worker ' + s.id + ': ' + String((e && e.message) || e)).slice(0, C.ERROR_TEXT_UNITS);
          const U = new Uint16Array(s.control, C.ERROR_TEXT * 4, C.ERROR_TEXT_UNITS);
          for (let i = 0; i < text.length; i++) U[i] = text.charCodeAt(i);
          Atomics.store(I, C.ERROR_LEN, text.length);
        }
      }
      Atomics.add(I, C.DONE, 1);
      Atomics.notify(I, C.DONE);
    }
  }
  if (port) port.close();
  else close();
}

if (port) port.once('message', start);
else onmessage = (e) => start(e.data);
`;
