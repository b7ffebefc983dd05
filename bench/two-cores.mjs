// How far this machine itself scales independent work from one core to two: worker threads run
// a loop for `ms` milliseconds, one thread alone, then two at once, alternately `rounds` times.
// No memory is shared and nothing is synchronised, so the ratio is the machine's, not latentkit's:
//   copy  a 64 MB array copied over another (TypedArray.set, a memcpy): memory bandwidth, which
//         bounds every memory-bound pass (optimizers, activations, packing);
//   gemm  the exact tier's GEMM (wasm/latentkit.wasm, its own private memory, no thread pool) at
//         the bench's 256×784×512 NN shape: the most a split dense kernel can gain from a second
//         thread on this machine.
//   node bench/two-cores.mjs [--rounds 3] [--ms 600]
import { Worker } from 'node:worker_threads';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GEMM, median } from './timing.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// Each loop body runs in a worker (CommonJS, `eval`), after `setup`; `step()` returns its unit
// count (bytes or flops), and the worker reports units per second ÷ 10⁹ (GB/s, GFLOP/s).
const WORKLOADS = {
  copy: {
    unit: 'GB/s',
    setup: `
const n = 16 << 20; // 64 MB per array: far beyond every cache
const a = new Float32Array(n), b = new Float32Array(n).fill(1);
a.set(b); // fault the pages in before timing
const step = () => { a.set(b); return 2 * 4 * n; };`,
  },
  gemm: {
    unit: 'GFLOP/s',
    setup: `
const e = new WebAssembly.Instance(new WebAssembly.Module(require('node:fs').readFileSync(workerData.wasm)), {}).exports;
const [m, k, n] = workerData.gemm;
const block = (len) => {
  const p = e.lk_alloc(len * 4);
  const f = new Float32Array(e.memory.buffer, p, len);
  for (let i = 0; i < len; i++) f[i] = Math.sin(i);
  return p;
};
const x = block(m * k), w = block(k * n), c = block(m * n);
const step = () => { e.lk_gemm(0, m, k, n, x, w, c, 0); return 2 * m * k * n; };
step();`,
  },
};

const worker = (setup) => `
const { parentPort, workerData } = require('node:worker_threads');
${setup}
const go = new Int32Array(workerData.go);
Atomics.add(go, 1, 1);
Atomics.wait(go, 0, 0);
let units = 0;
const t0 = performance.now();
while (performance.now() - t0 < workerData.ms) units += step();
parentPort.postMessage(units / (performance.now() - t0) / 1e6);
`;

/** The rate of each of `threads` threads running workload `name` at once, started together. */
async function rates(name, threads, ms) {
  const go = new SharedArrayBuffer(8);
  const flags = new Int32Array(go);
  const workerData = { go, ms, wasm: join(root, 'wasm', 'latentkit.wasm'), gemm: [GEMM.m, GEMM.k, GEMM.n] };
  const workers = Array.from({ length: threads }, () => new Worker(worker(WORKLOADS[name].setup), { eval: true, workerData }));
  const out = workers.map((w) => new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  }));
  while (Atomics.load(flags, 1) < threads) await new Promise((r) => setTimeout(r, 1));
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
  const got = await Promise.all(out);
  await Promise.all(workers.map((w) => w.terminate()));
  return got;
}

/**
 * Workload `name` on one thread alone and on two at once (their sum), alternately: the medians,
 * the ratio of the medians (`scaling`), and every round's pair.
 */
export async function measureTwoCores(name, { rounds = 3, ms = 600 } = {}) {
  if (!(name in WORKLOADS)) throw new Error(`unknown workload ${name}: expected one of ${Object.keys(WORKLOADS).join(', ')}`);
  const one = [];
  const two = [];
  for (let r = 0; r < rounds; r++) {
    one.push((await rates(name, 1, ms))[0]);
    two.push((await rates(name, 2, ms)).reduce((s, v) => s + v, 0));
  }
  return { unit: WORKLOADS[name].unit, one: median(one), two: median(two), scaling: median(two) / median(one), rounds: one.map((v, i) => ({ one: v, two: two[i] })) };
}

/** What workload `name` runs, as the summaries name it. */
export function twoCoresLabel(name) {
  return `${name === 'copy' ? 'memory copy' : `exact GEMM ${GEMM.m}×${GEMM.k}×${GEMM.n}`}, independent threads`;
}

/** One line for a measureTwoCores result. */
function describeTwoCores(name, r) {
  return `${twoCoresLabel(name)}: ${r.one.toFixed(1)} ${r.unit} on one thread, ${r.two.toFixed(1)} on two at once: ${r.scaling.toFixed(2)}× (rounds ${r.rounds.map((x) => `${x.one.toFixed(1)}/${x.two.toFixed(1)}`).join(', ')})`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, ms: { type: 'string', default: '600' } } });
  const rounds = Number(values.rounds);
  const ms = Number(values.ms);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: expected a whole number ≥ 1, got ${values.rounds}`);
  if (!(ms > 0)) throw new Error(`--ms: expected a positive number, got ${values.ms}`);
  for (const name of Object.keys(WORKLOADS)) console.log(describeTwoCores(name, await measureTwoCores(name, { rounds, ms })));
}
