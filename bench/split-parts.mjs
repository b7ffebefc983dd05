#!/usr/bin/env node
// What splitting a dense layer into column parts costs in work: the exact module's forward pass
// (wasm/latentkit.wasm, its own instance, no pool) on one thread, as one part, and as the parts the
// pool would give `--threads` threads (its own partCount and partBound) run back to back, each part
// packing the shared operand A again (`blocks`) or packing it once and reusing it (`whole`, as the
// pool does). The three take turns repetition by repetition, and each round keeps each one's best
// of `reps`; printed per round in ms.
//   node bench/split-parts.mjs [--rounds 5] [--threads 2]
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KERNELS, PACK_A, partBound, partCount } from '../dist/internal.js';
import { median } from './timing.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, threads: { type: 'string', default: '2' }, reps: { type: 'string', default: '8' } } });
const [rounds, threads, reps] = [values.rounds, values.threads, values.reps].map(Number);
for (const [name, v] of Object.entries({ rounds, threads, reps })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name}: expected a whole number ≥ 1, got ${values[name]}`);
}

const e = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(join(root, 'wasm', 'latentkit.wasm'))), {}).exports;
const block = (len) => {
  const p = e.lk_alloc(len * 4);
  const f = new Float32Array(e.memory.buffer, p, len);
  for (let i = 0; i < len; i++) f[i] = 0.1 * Math.sin(i);
  return p;
};
const pack = block(e.lk_pack_floats());
// The bench's layers: ae784's first (batch 128) and gan256's discriminator's first, and their mirrors.
const shapes = [[128, 784, 512], [128, 512, 784], [256, 784, 512], [256, 512, 784]].map(([m, k, n]) => ({ m, k, n, x: block(m * k), w: block(k * n), b: block(n), y: block(m * n) }));

const split = KERNELS.dense_forward.split;
/** The forward pass over columns [0, n) in `count` parts, as the pool bounds them. */
function run(s, count, mode) {
  for (let p = 0; p < count; p++) {
    const packA = mode === 'blocks' ? PACK_A.blocks : p === 0 ? PACK_A.whole : PACK_A.reuse;
    e.lk_dense_forward_columns(s.m, s.k, s.n, s.x, s.w, s.b, s.y, 0, 0, 0, partBound(s.n, p, count, split), partBound(s.n, p + 1, count, split), pack, packA);
  }
}
/** One part, then the pool's parts with A packed per part and packed once: [label, parts, mode]. */
function waysFor(s) {
  const parts = partCount(s.n, threads, split.align);
  return [['one part', 1, 'blocks'], [`${parts} parts, A packed per part`, parts, 'blocks'], [`${parts} parts, A packed once`, parts, 'whole']];
}
/** The best time of each way over `reps` repetitions, the ways taking turns so a phase of the VM hits all alike. */
function bestOfEach(s) {
  const ways = waysFor(s);
  const t = ways.map(() => Infinity);
  ways.forEach(([, count, mode]) => run(s, count, mode));
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < ways.length; i++) {
      const w = (i + r) % ways.length;
      const t0 = performance.now();
      run(s, ways[w][1], ways[w][2]);
      t[w] = Math.min(t[w], performance.now() - t0);
    }
  }
  return t;
}

const results = shapes.map(() => []);
for (let round = 0; round < rounds; round++) {
  shapes.forEach((s, i) => results[i].push(bestOfEach(s)));
  console.log(`round ${round + 1}: ` + shapes.map((s, i) => `${s.m}×${s.k}→${s.n} ${results[i][round].map((t) => t.toFixed(2)).join(' / ')}`).join('  ') + ' ms');
}
console.log(`ms per forward pass on one thread (${waysFor(shapes[0]).map((w) => w[0]).join(' / ')}, the parts ${threads} threads would share): medians of ${rounds} rounds, and the median of each round's ratio to one part`);
const pct = (xs) => { const v = 100 * (median(xs) - 1); return `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(1)}%`; };
shapes.forEach((s, i) => {
  const per = (w) => median(results[i].map((r) => r[w]));
  console.log(`  ${s.m}×${s.k}→${s.n} (${waysFor(s)[1][1]} parts): ${per(0).toFixed(2)} / ${per(1).toFixed(2)} / ${per(2).toFixed(2)}; A packed per part ${pct(results[i].map((r) => r[1] / r[0]))}, packed once ${pct(results[i].map((r) => r[2] / r[0]))}`);
});
