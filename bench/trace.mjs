#!/usr/bin/env node
// Where a training step's time goes: the kernel trace (setDebug) of --steps steps of a bench
// workload after a warm-up, summed per kernel and shape, with the share of the dense kernels (the
// GEMMs and their fused bias/activation passes) against everything else.
//   node bench/trace.mjs [gan64|gan256|ae784|vae] [--threads 1] [--fast] [--steps 20] [--lines]
// --lines also prints the trace of the last step as it is printed.
import { parseArgs } from 'node:util';
import { setDebug, setThreads, threads } from 'latentkit';
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

const totals = new Map();
let traced = 0;
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
}
const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
const dense = rows.filter(([, e]) => e.dense).reduce((s, [, e]) => s + e.ms, 0);
console.log(`${workload}, ${threads().count} thread${threads().count > 1 ? 's' : ''}, ${values.fast ? 'fast' : 'exact'} tier: ${wall.toFixed(2)} ms per step traced (${(traced / steps).toFixed(2)} ms inside kernels), ${steps} steps`);
console.log(`dense kernels (GEMM + bias + activation) ${(100 * dense / traced).toFixed(1)}%, everything else ${(100 * (1 - dense / traced)).toFixed(1)}%; outside kernels (JavaScript, dispatch) ${(100 * (1 - traced / steps / wall)).toFixed(1)}% of the step`);
for (const [key, e] of rows) console.log(`${(e.ms / steps).toFixed(3).padStart(8)} ms/step ${String(e.calls / steps).padStart(4)}×  ${key}`);
if (values.lines) {
  console.log('\nthe last step:');
  for (const line of last) console.log(line);
}
