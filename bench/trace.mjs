#!/usr/bin/env node
// Where a training step's time goes: the kernel trace (setDebug) of --steps steps of a bench
// workload after a warm-up, summed per kernel and shape, with the share of the dense kernels (the
// GEMMs and their fused bias/activation passes) against everything else, and the step's GEMM work
// in GFLOP beside what the references in bench/results.json attain on it.
//   node bench/trace.mjs [gan64|gan256|ae784|vae] [--threads 1] [--fast] [--steps 20] [--lines]
// --lines also prints the trace of the last step as it is printed.
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setDebug, setThreads, threads } from 'latentkit';
import { pool } from '../dist/internal.js';
import { ae784Step, ganStep, useFastTier, vaeStep } from './workloads.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { threads: { type: 'string', default: '1' }, fast: { type: 'boolean', default: false }, steps: { type: 'string', default: '20' }, lines: { type: 'boolean', default: false } },
});
const workload = positionals[0] ?? 'gan256';
const steps = Number(values.steps);
if (!['gan64', 'gan256', 'ae784', 'vae'].includes(workload)) throw new Error(`workload must be gan64, gan256, ae784 or vae, got ${workload}`);
if (values.fast) await useFastTier();
setThreads(Number(values.threads));

const step = workload === 'ae784' ? ae784Step() : workload === 'vae' ? vaeStep() : ganStep(Number(workload.slice(3)));
const warm = performance.now();
while (performance.now() - warm < 1500) step();

// The trace goes to stderr: catch it for the traced steps only.
const lines = [];
const write = process.stderr.write.bind(process.stderr);
process.stderr.write = (chunk, ...rest) => {
  const text = String(chunk);
  if (!text.startsWith('latentkit: ')) return write(chunk, ...rest);
  lines.push(text.trim());
  return true;
};
let last = [];
pool.resetStats();
const t0 = performance.now();
for (let s = 0; s < steps; s++) {
  const from = lines.length;
  setDebug(1);
  step();
  setDebug(0);
  last = lines.slice(from);
}
const wall = (performance.now() - t0) / steps;
process.stderr.write = write;

/** 2·m·k·n of a dense kernel's GEMM, read from its trace shape (0 for other kernels, and for a
 * dense_backward_params that only passes the gradient on). */
function denseFlops(name, shape) {
  const dims = [...shape.matchAll(/(\d+)×(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  if (dims.length < 2 || shape.includes('no dW')) return 0;
  const [[m, a], [r, c]] = dims;
  if (name === 'dense_forward' || name === 'dense_backward_input') return 2 * m * a * c; // m×in → m×out, dz m×out → dx m×in
  if (name === 'dense_backward_params') return 2 * m * r * c; // dz m×out → dW in×out
  return 0;
}

const totals = new Map();
let traced = 0;
let flops = 0;
for (const line of lines) {
  const m = /^latentkit: (\S+) (.*?)(?: · (\d+ parts over \d+ threads|1 thread))? · ([\d.]+) ms$/.exec(line);
  if (!m) continue;
  const [, name, shape, split, ms] = m;
  const key = `${name} ${shape.replace(/, t \d+$/, '')}${split ? ` · ${split}` : ''}`;
  const e = totals.get(key) ?? { ms: 0, calls: 0, dense: name.startsWith('dense_') };
  e.ms += Number(ms);
  e.calls++;
  totals.set(key, e);
  traced += Number(ms);
  flops += denseFlops(name, shape);
}
const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
const dense = rows.filter(([, e]) => e.dense).reduce((s, [, e]) => s + e.ms, 0);
console.log(`${workload}, ${threads().count} thread${threads().count > 1 ? 's' : ''}, ${values.fast ? 'fast' : 'exact'} tier: ${wall.toFixed(2)} ms per step traced (${(traced / steps).toFixed(2)} ms inside kernels), ${steps} steps`);
console.log(`dense kernels (GEMM + bias + activation) ${(100 * dense / traced).toFixed(1)}%, everything else ${(100 * (1 - dense / traced)).toFixed(1)}%; outside kernels (JavaScript, dispatch) ${(100 * (1 - traced / steps / wall)).toFixed(1)}% of the step`);
if (threads().count > 1) {
  const st = pool.stats;
  console.log(`split kernels: ${st.jobs / steps} per step; the calling thread took ${(100 * st.partsHere / st.parts).toFixed(1)}% of their parts and waited ${(st.waitMs / steps).toFixed(3)} ms per step (${(100 * st.waitMs / steps / wall).toFixed(1)}%) for the other threads' last parts`);
}
const gflop = flops / steps / 1e9;
console.log(`dense GEMM work: ${gflop.toFixed(3)} GFLOP per step, ${(gflop / (wall / 1000)).toFixed(1)} GFLOP/s over the whole step`);
// What a reference's step time means on this machine: its GFLOP/s for the same GEMM work, beside
// the WebAssembly SIMD ceilings (per core) of the last npm run bench.
const resultsPath = new URL('./results.json', import.meta.url);
if (existsSync(resultsPath)) {
  const results = JSON.parse(readFileSync(resultsPath, 'utf8'));
  const w = results.workloads?.find((x) => x.name === workload);
  for (const [ref, cores] of [['torch', 1], ['torch-2t', 2], ['jax', 1]]) {
    const ms = w?.results?.[ref];
    if (!ms) continue;
    const rate = gflop / (ms / 1000);
    console.log(`${ref} in bench/results.json: ${ms.toFixed(1)} ms per step = ${rate.toFixed(1)} GFLOP/s = ${(100 * rate / (cores * results.fmaCeilingGflops)).toFixed(0)}% of ${cores} × the relaxed_madd ceiling (${results.fmaCeilingGflops.toFixed(1)}), ${(100 * rate / (cores * results.simdCeilingGflops)).toFixed(0)}% of ${cores} × the mul+add one (${results.simdCeilingGflops.toFixed(1)})`);
  }
}
for (const [key, e] of rows) console.log(`${(e.ms / steps).toFixed(3).padStart(8)} ms/step ${String(e.calls / steps).padStart(4)}×  ${key}`);
if (values.lines) {
  console.log('\nthe last step:');
  for (const line of last) console.log(line);
}
