#!/usr/bin/env node
// npm run bench: latentkit's exact and fast tiers (1 and 2 threads each), TensorFlow.js (wasm and cpu backends), JAX
// (one thread and default threads), PyTorch (1 and 2 threads) and scikit-learn on the same
// workloads in one run. Prints a markdown table, the targets, and writes bench/results.json. Each figure is the median of 5
// timed repetitions after a warm-up (for latentkit and the Python references,
// and tfjs-wasm, the median over 5 processes of that); min and max are kept in the JSON.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { consumerBundleBytes } from './bundle-size.mjs';
import { coldStart } from './cold-start.mjs';
import { median } from './timing.mjs';
import { twoCoresLabel } from './two-cores.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (s) => process.stderr.write(s + '\n');

function runJson(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26, timeout: 20 * 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr || '').split('\n').slice(-5).join(' ')}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

function findPython() {
  const candidates = [join(root, '.venv/bin/python'), join(root, 'bench/.venv/bin/python')];
  for (const py of candidates) {
    if (existsSync(py) && spawnSync(py, ['-c', 'import jax, optax, sklearn, torch'], { encoding: 'utf8' }).status === 0) return { py };
  }
  // Try to make one: the wheels are served locally on these machines.
  const venv = join(root, 'bench/.venv');
  try {
    if (!existsSync(venv)) execFileSync('python3', ['-m', 'venv', venv], { stdio: 'ignore' });
    execFileSync(join(venv, 'bin/pip'), ['install', '-q', '--retries', '0', 'jax', 'jaxlib', 'optax', 'scikit-learn', 'numpy', 'torch'], { stdio: 'ignore', timeout: 10 * 60_000 });
    const py = join(venv, 'bin/python');
    if (spawnSync(py, ['-c', 'import jax, optax, sklearn, torch'], { encoding: 'utf8' }).status === 0) return { py };
    return { missing: 'jax/optax/scikit-learn/torch did not import after pip install' };
  } catch (e) {
    return { missing: `no Python with jax, optax, scikit-learn and torch (${e.message.split('\n')[0]})` };
  }
}


// Cold start first, on a quiet machine: a new process imports the package
// (instantiating the module). Median of 11.
const cold = coldStart(11);

const results = {};
const missing = {};
// This VM has slow phases of seconds to minutes in which memory-bound code runs
// up to 1.6× slower (the same GEMM binary: 29 or 48 GFLOP/s), so latentkit,
// tfjs-wasm and the Python references run in ROUNDS fresh processes each,
// interleaved; each figure is the median over processes of per-process medians,
// and the tight ratios are also given per round (neighbouring processes).
// tfjs-cpu, 40–200× slower, runs once.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
// BENCH_REFERENCES=torch (say) runs only those references beside latentkit, for a quicker paired
// run; the others are reported as left out, never silently.
const REFERENCES = ['tfjs', 'jax', 'torch', 'sklearn'];
const wanted = new Set((process.env.BENCH_REFERENCES ?? REFERENCES.join(',')).split(',').map((r) => r.trim()));
for (const r of wanted) if (!REFERENCES.includes(r)) throw new Error(`BENCH_REFERENCES: unknown reference '${r}' (known: ${REFERENCES.join(', ')})`);
const leftOut = 'left out by BENCH_REFERENCES';
const runs = { latentkit: [], 'latentkit-2t': [], 'latentkit-fast': [], 'latentkit-fast-2t': [], 'tfjs-wasm': [], jax: [], 'jax-mt': [], torch: [], 'torch-2t': [], sklearn: [] };
const speedups = [];
const python = findPython();
const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const lkRuns = [];
const fastRuns = [];
const speedupsFast = [];
for (let round = 1; round <= ROUNDS; round++) {
  log(`latentkit (round ${round} of ${ROUNDS}) …`);
  const lk = runJson('node', ['bench/latentkit.mjs']);
  lkRuns.push(lk);
  runs.latentkit.push(lk.workloads);
  runs['latentkit-2t'].push(lk.workloads2t);
  speedups.push(lk.speedup2t);
  log(`latentkit, fast tier (round ${round}) …`);
  const lkf = runJson('node', ['bench/latentkit.mjs', '--fast']);
  fastRuns.push(lkf);
  runs['latentkit-fast'].push(lkf.workloads);
  runs['latentkit-fast-2t'].push(lkf.workloads2t);
  speedupsFast.push(lkf.speedup2t);
  if (wanted.has('tfjs')) {
    log(`tfjs-wasm (round ${round}) …`);
    try {
      runs['tfjs-wasm'].push(runJson('node', ['bench/tfjs.mjs', 'wasm']).workloads);
    } catch (e) {
      missing['tfjs-wasm'] = e.message;
    }
  } else missing['tfjs-wasm'] = leftOut;
  if (!python.py) continue;
  if (!wanted.has('jax')) missing.jax = missing['jax-mt'] = leftOut;
  if (!wanted.has('torch')) missing.torch = missing['torch-2t'] = leftOut;
  if (!wanted.has('sklearn')) missing.sklearn = leftOut;
  if (wanted.has('jax')) try {
    log(`jax, one thread (round ${round}) …`);
    const env = { XLA_FLAGS: '--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1', OMP_NUM_THREADS: '1' };
    const args = ['bench/jax_bench.py'];
    runs.jax.push((hasTaskset ? runJson('taskset', ['-c', '0', python.py, ...args], env) : runJson(python.py, args, env)).workloads);
  } catch (e) {
    missing.jax = e.message;
  }
  for (const [name, threads] of wanted.has('torch') ? [['torch', 1], ['torch-2t', 2]] : []) {
    log(`${name} (round ${round}) …`);
    try {
      const env = { OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
      runs[name].push(runJson(python.py, ['bench/torch_bench.py', String(threads)], env).workloads);
    } catch (e) {
      missing[name] = e.message;
    }
  }
  if (wanted.has('jax') || wanted.has('sklearn')) try {
    log(`jax-mt and scikit-learn (round ${round}) …`);
    const mt = runJson(python.py, ['bench/jax_bench.py', '--pca']).workloads;
    runs.sklearn.push({ pca: mt.pca });
    delete mt.pca;
    runs['jax-mt'].push(mt);
  } catch (e) {
    missing['jax-mt'] = missing.sklearn = e.message;
  }
}
/** Per workload: the median over processes of each process's median, min and max over all. */
function combine(perProcess) {
  const out = {};
  for (const name of Object.keys(perProcess[0] ?? {})) {
    const rs = perProcess.map((w) => w[name]).filter(Boolean);
    out[name] = { median: median(rs.map((r) => r.median)), min: Math.min(...rs.map((r) => r.min)), max: Math.max(...rs.map((r) => r.max)), processes: rs.map((r) => r.median) };
  }
  return out;
}
for (const [name, list] of Object.entries(runs)) if (list.length) results[name] = combine(list);
if (wanted.has('tfjs')) {
  log('tfjs-cpu …');
  try {
    results['tfjs-cpu'] = runJson('node', ['bench/tfjs.mjs', 'cpu']).workloads;
  } catch (e) {
    missing['tfjs-cpu'] = e.message;
  }
} else missing['tfjs-cpu'] = leftOut;
if (!python.py) {
  missing.jax = missing['jax-mt'] = missing.sklearn = python.missing;
}

/**
 * The CPU, as far as the figures depend on it: its model name and, on Linux, its x86 family and
 * model and which of the wide vector extensions the references use it has (AVX2, FMA, AVX-512).
 * These machines differ from one boot to the next; a run's figures only compare within it.
 */
function describeCpu() {
  const model = cpus()[0]?.model?.trim() || 'unknown CPU';
  let info;
  try {
    info = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return model;
  }
  const field = (name) => info.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm'))?.[1]?.trim();
  const flags = new Set((field('flags') ?? '').split(/\s+/));
  const extensions = [['avx2', 'AVX2'], ['fma', 'FMA'], ['avx512f', 'AVX-512']].filter(([f]) => flags.has(f)).map(([, name]) => name);
  const family = field('cpu family');
  return `${model}${family ? ` (family ${family}, model ${field('model')})` : ''}${extensions.length ? `; ${extensions.join(', ')}` : ''}`;
}

// What a browser app downloads: the main entry bundled and minified by esbuild, gzip -9.
const bundleBytes = await consumerBundleBytes();
const report = {
  simdCeilingGflops: median(lkRuns.map((r) => r.simd.gflops)),
  simdCeilingChains: lkRuns[0].simd.chains,
  simdCeilingPerProcess: lkRuns.map((r) => r.simd.gflops),
  fmaCeilingGflops: median(fastRuns.map((r) => r.simdFma.gflops)),
  fmaCeilingChains: fastRuns[0].simdFma.chains,
  fmaCeilingPerProcess: fastRuns.map((r) => r.simdFma.gflops),
  tileLoopGflops: median(lkRuns.map((r) => r.tileLoop.gflops)),
  tileLoopPerProcess: lkRuns.map((r) => r.tileLoop.gflops),
  tileLoopFmaGflops: median(fastRuns.map((r) => r.tileLoop.gflops)),
  tileLoopFmaPerProcess: fastRuns.map((r) => r.tileLoop.gflops),
  workloads: [],
  // The largest over the processes (each should be 0).
  memoryGrowthBytes: Math.max(...lkRuns.map((r) => r.memoryGrowthBytes)),
  liveAllocationGrowth: Math.max(...lkRuns.map((r) => r.liveAllocationGrowth)),
  coldStartMs: cold.medianMs,
  coldStartEmptyModuleMs: cold.emptyModuleMs,
  bundleBytes,
  missing,
  machine: { node: process.version, cpus: cpus().length, cpu: describeCpu() },
};
const names = ['ae', 'gan64', 'gan256', 'ae784', 'dcgan', 'conv-passes', 'gemm-NN', 'gemm-NT', 'gemm-TN', 'pca'];
const columns = ['latentkit', 'latentkit-2t', 'latentkit-fast', 'latentkit-fast-2t', 'tfjs-wasm', 'tfjs-cpu', 'jax', 'jax-mt', 'torch', 'torch-2t', 'sklearn'];
for (const name of names) {
  const unit = name.startsWith('gemm') || name === 'conv-passes' ? 'GFLOP/s' : 'ms';
  const w = { name, unit, results: {}, min: {}, max: {}, perProcess: {} };
  for (const c of columns) {
    const r = results[c]?.[name];
    if (r) {
      w.results[c] = r.median;
      w.min[c] = r.min;
      w.max[c] = r.max;
      if (r.processes) w.perProcess[c] = r.processes;
    }
  }
  report.workloads.push(w);
}

const fmt = (v, unit) => (v === undefined ? '—' : unit === 'ms' ? (v < 1 ? v.toFixed(3) : v.toFixed(1)) : v.toFixed(1));
const lines = [];
lines.push(`| workload | unit | ${columns.join(' | ')} | vs tfjs-wasm | vs tfjs-cpu | vs jax |`);
lines.push(`|${'---|'.repeat(columns.length + 5)}`);
for (const w of report.workloads) {
  const r = w.results;
  const ratio = (other) => {
    if (r.latentkit === undefined || r[other] === undefined) return '—';
    const x = w.unit === 'ms' ? r[other] / r.latentkit : r.latentkit / r[other];
    return `${x.toFixed(2)}×`;
  };
  const vsJax = w.name === 'pca' ? `${(r.sklearn / r.latentkit).toFixed(2)}× (sklearn)` : ratio('jax');
  lines.push(`| ${w.name} | ${w.unit} | ${columns.map((c) => fmt(r[c], w.unit)).join(' | ')} | ${ratio('tfjs-wasm')} | ${ratio('tfjs-cpu')} | ${vsJax} |`);
}
console.log(`machine: ${report.machine.cpu}, ${report.machine.cpus} cores, Node ${report.machine.node}`);
console.log(lines.join('\n'));
console.log();
const perProcess = (v, unit) => v.map((x) => fmt(x, unit)).join(', ');
// Slow phases on this VM last seconds to minutes, so a round's latentkit and
// reference processes, run back to back, are the fairest pairs.
report.pairedRatios = {};
for (const [name, ref] of [['ae', 'tfjs-wasm'], ['gan64', 'tfjs-wasm'], ['gan256', 'tfjs-wasm'], ['ae', 'jax'], ['gan64', 'jax'], ['gan256', 'jax'], ['pca', 'sklearn']]) {
  const w = report.workloads.find((x) => x.name === name);
  const a = w?.perProcess.latentkit;
  const b = w?.perProcess[ref];
  if (!a || !b || a.length !== b.length) continue;
  // Always "how many times faster latentkit is" (below 1: slower).
  const ratios = a.map((v, i) => b[i] / v);
  report.pairedRatios[`${name} vs ${ref}`] = { perRound: ratios, median: median(ratios) };
  const what = `${ref} time / latentkit time`;
  console.log(`${name} paired by round (${what}): ${ratios.map((r) => r.toFixed(2)).join(', ')}; median ${median(ratios).toFixed(2)}`);
}
for (const w of report.workloads) {
  const cols = Object.entries(w.perProcess);
  if (cols.length) console.log(`${w.name} per process: ${cols.map(([c, v]) => `${c} ${perProcess(v, w.unit)}`).join('; ')}`);
}
console.log();
// Speed-up of 2 threads over 1: per round, the median of latentkit's alternating reps.
report.speedup2t = {};
for (const name of ['ae', 'gan64', 'gan256', 'ae784', 'dcgan', 'pca']) {
  const perRound = speedups.map((s) => s[name]).filter((v) => v !== undefined);
  if (perRound.length) report.speedup2t[name] = { perRound, median: median(perRound) };
}
const wl = (name) => report.workloads.find((x) => x.name === name)?.results ?? {};
const check = (what, ok, detail) => {
  report.targets.push({ what, met: ok, detail });
  console.log(`${ok === undefined ? '?' : ok ? 'met' : 'MISSED'}  ${what}: ${detail}`);
};
report.targets = [];
console.log('targets:');
for (const [name, target] of [['gan256', 1.8], ['ae784', 1.8], ['gan64', 1.6]]) {
  const s = report.speedup2t[name];
  check(`2 threads ≥ ${target}× faster than 1 on ${name}`, s ? s.median >= target : undefined, s ? `${s.median.toFixed(2)}× (rounds ${s.perRound.map((v) => v.toFixed(2)).join(', ')})` : 'not measured');
}
for (const name of ['ae', 'gan64', 'gan256', 'ae784']) {
  const r = wl(name);
  for (const [lk, pt] of [['latentkit', 'torch'], ['latentkit-2t', 'torch-2t']]) {
    const ok = r[lk] !== undefined && r[pt] !== undefined ? r[lk] <= r[pt] : undefined;
    check(`${lk} ≤ ${pt} on ${name}`, ok, ok === undefined ? 'not measured' : `${fmt(r[lk], 'ms')} vs ${fmt(r[pt], 'ms')} ms (${(r[pt] / r[lk]).toFixed(2)}× faster)`);
  }
}
for (const name of ['gan64', 'gan256']) {
  const r = wl(name);
  const ok = r['latentkit-2t'] !== undefined && r.jax !== undefined ? r['latentkit-2t'] <= 1.5 * r.jax : undefined;
  check(`latentkit-2t ≤ 1.5× one-thread JAX on ${name}`, ok, ok === undefined ? 'not measured' : `${fmt(r['latentkit-2t'], 'ms')} vs ${fmt(r.jax, 'ms')} ms (${(r['latentkit-2t'] / r.jax).toFixed(2)}×)`);
}
{
  const s = report.speedup2t.ae;
  check('ae no slower at 2 threads than at 1', s ? s.median >= 0.97 : undefined, s ? `speed-up ${s.median.toFixed(2)}× (within 3% counts as equal)` : 'not measured');
}
check('bundle ≤ 80 KB gzip', report.bundleBytes.gzip <= 80 * 1024, `${(report.bundleBytes.gzip / 1024).toFixed(1)} KB, and ${(report.bundleBytes.onDemand.gzip / 1024).toFixed(1)} KB more loaded on demand by setPrecision('fast')`);
// The fast tier and the exact tier's efficiency, paired within a round (the same process for the
// ceiling, neighbouring processes for the tiers).
const rounds = (xs) => xs.map((v) => v.toFixed(2)).join(', ');
report.fastOverExact = {};
for (const g of ['gemm-NN', 'gemm-NT', 'gemm-TN']) {
  const perRound = fastRuns.map((f, i) => f.workloads[g].median / lkRuns[i].workloads[g].median);
  report.fastOverExact[g] = { perRound, median: median(perRound) };
  check(`fast tier GEMM ≥ 1.4× the exact tier's on ${g} 256×784×512`, median(perRound) >= 1.4, `${median(perRound).toFixed(2)}× (rounds ${rounds(perRound)})`);
}
for (const g of ['gemm-NN', 'gemm-NT', 'gemm-TN']) {
  const perRound = lkRuns.map((r) => r.workloads[g].median / r.simd.gflops);
  const ofLoop = lkRuns.map((r) => r.workloads[g].median / r.tileLoop.gflops);
  check(`exact ${g} ≥ 85% of the same process's SIMD ceiling in every round`, perRound.every((v) => v >= 0.85), `rounds ${perRound.map((v) => `${(100 * v).toFixed(0)}%`).join(', ')}; of the micro-kernel's loop alone in the same process: ${ofLoop.map((v) => `${(100 * v).toFixed(0)}%`).join(', ')}`);
}
for (const name of ['gan64', 'gan256', 'ae784']) {
  const w = report.workloads.find((x) => x.name === name);
  for (const [lk, pt] of [['latentkit-fast', 'torch'], ['latentkit-fast-2t', 'torch-2t']]) {
    const a = w?.perProcess[lk];
    const b = w?.perProcess[pt];
    const perRound = a && b && a.length === b.length ? a.map((v, i) => b[i] / v) : null;
    check(`${lk} ≤ ${pt} on ${name}`, perRound ? median(perRound) >= 1 : undefined, perRound ? `${median(perRound).toFixed(2)}× PyTorch's speed (rounds ${rounds(perRound)})` : 'not measured');
  }
  for (const [lk, pt] of [['latentkit', 'torch'], ['latentkit-2t', 'torch-2t']]) {
    const a = w?.perProcess[lk];
    const b = w?.perProcess[pt];
    const perRound = a && b && a.length === b.length ? a.map((v, i) => v / b[i]) : null;
    check(`${lk} within 1.25× of ${pt} on ${name}`, perRound ? median(perRound) <= 1.25 : undefined, perRound ? `${median(perRound).toFixed(2)}× PyTorch's time (rounds ${rounds(perRound)})` : 'not measured');
  }
}
// The DCGAN (layers beyond dense): PyTorch uses oneDNN with the CPU's widest vectors; latentkit 128-bit WebAssembly SIMD.
{
  const w = report.workloads.find((x) => x.name === 'dcgan');
  for (const [lk, pt] of [['latentkit', 'torch'], ['latentkit-2t', 'torch-2t'], ['latentkit-fast', 'torch'], ['latentkit-fast-2t', 'torch-2t']]) {
    const a = w?.perProcess[lk];
    const b = w?.perProcess[pt];
    const perRound = a && b && a.length === b.length ? a.map((v, i) => v / b[i]) : null;
    check(`${lk} within 1.5× of ${pt} on dcgan`, perRound ? median(perRound) <= 1.5 : undefined, perRound ? `${median(perRound).toFixed(2)}× PyTorch's time (rounds ${rounds(perRound)})` : 'not measured');
  }
  const passes = lkRuns.map((r) => r.workloads['conv-passes'].median / r.simd.gflops);
  check('the DCGAN\'s convolution passes (forward, weight and input gradients, with their patches) ≥ 80% of the same process\'s SIMD ceiling', median(passes) >= 0.8, `${(100 * median(passes)).toFixed(0)}% (rounds ${passes.map((v) => `${(100 * v).toFixed(0)}%`).join(', ')})`);
  const whole = lkRuns.map((r) => (2 * r.dcganConvMacs) / r.workloads.dcgan.median / 1e6 / r.simd.gflops);
  console.log(`      dcgan: the whole iteration's convolution FLOPs over its time, all else included: ${(100 * median(whole)).toFixed(0)}% of the ceiling (rounds ${whole.map((v) => `${(100 * v).toFixed(0)}%`).join(', ')})`);
  const s = report.speedup2t.dcgan;
  check('2 threads ≥ 1.8× faster than 1 on dcgan', s ? s.median >= 1.8 : undefined, s ? `${s.median.toFixed(2)}× (rounds ${rounds(s.perRound)})` : 'not measured');
  const grow = Math.max(...lkRuns.map((r) => r.dcganMemoryGrowthBytes));
  const live = Math.max(...lkRuns.map((r) => r.dcganLiveAllocationGrowth));
  check('0 bytes of memory growth over 200 dcgan iterations', grow === 0 && live === 0, `${grow} bytes, live allocations ${live >= 0 ? '+' : ''}${live}`);
}
check('cold start ≤ 20 ms', report.coldStartMs <= 20, `${report.coldStartMs.toFixed(1)} ms`);
check('0 bytes of memory growth over 10,000 ae steps', report.memoryGrowthBytes === 0 && report.liveAllocationGrowth === 0, `${report.memoryGrowthBytes} bytes, live allocations ${report.liveAllocationGrowth >= 0 ? '+' : ''}${report.liveAllocationGrowth}`);
report.speedup2tFast = {};
for (const name of ['ae', 'gan64', 'gan256', 'ae784', 'dcgan', 'pca']) {
  const perRound = speedupsFast.map((s) => s[name]).filter((v) => v !== undefined);
  if (perRound.length) report.speedup2tFast[name] = { perRound, median: median(perRound) };
}
console.log(`fast tier, 2 threads over 1: ${Object.entries(report.speedup2tFast).map(([n, s]) => `${n} ${s.median.toFixed(2)}×`).join(', ')}`);
if (report.speedup2t.pca) console.log(`PCA on 2 threads (only the covariance's dense syrk is split): ${report.speedup2t.pca.median.toFixed(2)}× (rounds ${report.speedup2t.pca.perRound.map((v) => v.toFixed(2)).join(', ')})`);
// Amdahl: the serial fraction f that explains the measured 2-thread speed-up S, and what 8 cores would give.
for (const name of ['gan64', 'gan256', 'ae784']) {
  const s = report.speedup2t[name]?.median;
  if (!s) continue;
  const f = Math.max(0, 2 / s - 1);
  console.log(`${name}: serial fraction ${(100 * f).toFixed(0)}% (from 2 threads ${s.toFixed(2)}×) → projected 8 cores ${(1 / (f + (1 - f) / 8)).toFixed(2)}×`);
}
// Why 2 threads fall short of 2×: how evenly the exact tier's split kernels shared their parts,
// the share of the 2-thread step the calling thread waited for the other's last part, and how far
// the machine itself scales independent work (a memory copy, the exact GEMM) from one
// core to two (bench/two-cores.mjs).
report.pool2t = {};
for (const name of ['gan64', 'gan256', 'ae784']) {
  const perRound = lkRuns.map((r) => r.pool2t?.[name]).filter(Boolean);
  if (!perRound.length) continue;
  const here = perRound.map((p) => p.hereShare);
  const wait = perRound.map((p) => p.waitShare);
  report.pool2t[name] = { hereShare: { perRound: here, median: median(here) }, waitShare: { perRound: wait, median: median(wait) } };
  const pct = (xs) => xs.map((v) => `${(100 * v).toFixed(1)}%`).join(', ');
  console.log(`${name} on 2 threads: this thread took ${(100 * median(here)).toFixed(1)}% of the parts (rounds ${pct(here)}) and waited ${(100 * median(wait)).toFixed(1)}% of the step for the other's last part (rounds ${pct(wait)})`);
}
{
  const perRound = lkRuns.map((r) => r.twoCores).filter(Boolean);
  if (perRound.length) {
    report.twoCores = {};
    for (const kind of ['copy', 'gemm']) {
      const rs = perRound.map((t) => t[kind]);
      report.twoCores[kind] = { unit: rs[0].unit, one: median(rs.map((r) => r.one)), two: median(rs.map((r) => r.two)), scalingPerRound: rs.map((r) => r.scaling), scaling: median(rs.map((r) => r.scaling)) };
      const t = report.twoCores[kind];
      console.log(`${twoCoresLabel(kind)}: ${t.one.toFixed(1)} ${t.unit} on one thread, ${t.two.toFixed(1)} on two at once: ${t.scaling.toFixed(2)}× (rounds ${rounds(t.scalingPerRound)})`);
    }
    // A split step against the same round's independent GEMMs: the part of the shortfall that is ours.
    for (const name of ['gan64', 'gan256', 'ae784']) {
      const s = report.speedup2t[name]?.perRound;
      if (!s || s.length !== perRound.length) continue;
      const share = s.map((v, i) => v / perRound[i].gemm.scaling);
      report.twoCores[name] = { ofMachinePerRound: share, ofMachine: median(share) };
      console.log(`${name}: 2 threads over 1 is ${(100 * median(share)).toFixed(0)}% of what independent GEMMs gained in the same round (rounds ${share.map((v) => `${(100 * v).toFixed(0)}%`).join(', ')})`);
    }
  }
}
console.log();
console.log(`WASM SIMD ceiling (independent f32x4 mul+add chains, best of 4–14 accumulators): ${report.simdCeilingGflops.toFixed(1)} GFLOP/s with ${report.simdCeilingChains} chains`);
console.log(`relaxed_madd ceiling (the same chains, one f32x4.relaxed_madd per step): ${report.fmaCeilingGflops.toFixed(1)} GFLOP/s with ${report.fmaCeilingChains} chains (per process ${rounds(report.fmaCeilingPerProcess)})`);
console.log(`the 4 × 8 micro-kernel's loop alone, operands in L1 (bench/ceiling.mjs): exact ${report.tileLoopGflops.toFixed(1)} GFLOP/s = ${(100 * report.tileLoopGflops / report.simdCeilingGflops).toFixed(0)}% of the mul+add ceiling (per process ${rounds(report.tileLoopPerProcess)}); fast ${report.tileLoopFmaGflops.toFixed(1)} GFLOP/s = ${(100 * report.tileLoopFmaGflops / report.fmaCeilingGflops).toFixed(0)}% of the relaxed_madd ceiling (per process ${rounds(report.tileLoopFmaPerProcess)})`);
for (const g of ['gemm-NN', 'gemm-NT', 'gemm-TN']) {
  const w = report.workloads.find((x) => x.name === g);
  console.log(`${g}: exact ${(100 * w.results.latentkit / report.simdCeilingGflops).toFixed(0)}% of the mul+add ceiling, fast ${(100 * w.results['latentkit-fast'] / report.fmaCeilingGflops).toFixed(0)}% of the relaxed_madd ceiling; ${w.results['tfjs-wasm'] ? (w.results.latentkit / report.workloads.find((x) => x.name === 'gemm-NN').results['tfjs-wasm']).toFixed(2) + '× tfjs-wasm forward GEMM' : ''}`);
}
console.log(`memory growth over 10,000 ae steps after the first: ${report.memoryGrowthBytes} bytes (live allocations ${report.liveAllocationGrowth >= 0 ? '+' : ''}${report.liveAllocationGrowth})`);
console.log(`cold start (new process, import + instantiate): ${report.coldStartMs.toFixed(1)} ms (median of 11, measured before the workloads); Node importing an empty module file: ${report.coldStartEmptyModuleMs.toFixed(1)} ms`);
console.log(`browser bundle (esbuild --bundle --minify of a consumer of the main entry, wasm embedded): ${(report.bundleBytes.raw / 1024).toFixed(1)} KB raw, ${(report.bundleBytes.gzip / 1024).toFixed(1)} KB gzip`);
for (const [k, v] of Object.entries(missing)) console.log(`${k}: not measured — ${v}`);
writeFileSync(join(root, 'bench/results.json'), JSON.stringify(report, null, 2) + '\n');
console.log('wrote bench/results.json');
