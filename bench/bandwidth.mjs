// How far memory bandwidth scales from one core to two on this machine: worker threads copy a
// 64 MB array over another (TypedArray.set, a memcpy) for `ms` milliseconds, one thread alone,
// then two at once, alternately `rounds` times. Memory-bound passes (optimizers, activations,
// packing) cannot run faster on two threads than this ratio allows, whatever the split.
//   node bench/bandwidth.mjs [--rounds 3] [--ms 600]
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './timing.mjs';

const COPIER = `
const { parentPort, workerData } = require('node:worker_threads');
const n = 16 << 20; // 64 MB per array: far beyond every cache
const a = new Float32Array(n), b = new Float32Array(n).fill(1);
a.set(b); // fault the pages in before timing
const go = new Int32Array(workerData.go);
Atomics.add(go, 1, 1);
Atomics.wait(go, 0, 0);
let bytes = 0;
const t0 = performance.now();
while (performance.now() - t0 < workerData.ms) { a.set(b); bytes += 2 * 4 * n; }
parentPort.postMessage(bytes / (performance.now() - t0) / 1e6);
`;

/** GB/s copied by each of `threads` threads running at once. */
async function copyRates(threads, ms) {
  const go = new SharedArrayBuffer(8);
  const flags = new Int32Array(go);
  const workers = Array.from({ length: threads }, () => new Worker(COPIER, { eval: true, workerData: { go, ms } }));
  const rates = workers.map((w) => new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  }));
  while (Atomics.load(flags, 1) < threads) await new Promise((r) => setTimeout(r, 1));
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
  const out = await Promise.all(rates);
  await Promise.all(workers.map((w) => w.terminate()));
  return out;
}

/** Copy bandwidth of one thread alone and of two at once (their sum), and the ratio. */
export async function measureBandwidth({ rounds = 3, ms = 600 } = {}) {
  const one = [];
  const two = [];
  for (let r = 0; r < rounds; r++) {
    one.push((await copyRates(1, ms))[0]);
    two.push((await copyRates(2, ms)).reduce((s, v) => s + v, 0));
  }
  const oneGBs = median(one);
  const twoGBs = median(two);
  return { oneThreadGBs: oneGBs, twoThreadsGBs: twoGBs, scaling: twoGBs / oneGBs, rounds: one.map((v, i) => ({ one: v, two: two[i] })) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, ms: { type: 'string', default: '600' } } });
  const rounds = Number(values.rounds);
  const ms = Number(values.ms);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: expected a whole number ≥ 1, got ${values.rounds}`);
  if (!(ms > 0)) throw new Error(`--ms: expected a positive number, got ${values.ms}`);
  const r = await measureBandwidth({ rounds, ms });
  console.log(`memory copy: ${r.oneThreadGBs.toFixed(1)} GB/s on one thread, ${r.twoThreadsGBs.toFixed(1)} GB/s on two at once: ${r.scaling.toFixed(2)}× (rounds ${r.rounds.map((x) => `${x.one.toFixed(1)}/${x.two.toFixed(1)}`).join(', ')})`);
}
