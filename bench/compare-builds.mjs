#!/usr/bin/env node
// Before/after for a change: latentkit's benchmark process (bench/latentkit.mjs) from git
// revision REV and from this working tree, alternately in fresh processes, paired per round so
// both see the same phases of the VM, and each build's cold start (a new process importing its
// dist/index.js, 11 times a round, the two builds alternately). Prints each round's figures and the
// after/before ratio of the per-round medians; writes bench/compare.json.
//   node bench/compare-builds.mjs --base REV [--rounds 5] [--cold-start-only]
// REV is checked out into a temporary git worktree (node_modules linked from here) and built
// with its own tsup; this tree must be built (npm run build) first.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { importMs } from './cold-start.mjs';
import { median } from './timing.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { base: { type: 'string' }, rounds: { type: 'string', default: '5' }, 'cold-start-only': { type: 'boolean', default: false } } });
const coldOnly = values['cold-start-only'];
if (!values.base) {
  console.error('usage: node bench/compare-builds.mjs --base REV [--rounds N] [--cold-start-only]');
  process.exit(2);
}
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`--rounds must be a positive integer, got ${values.rounds}`);
  process.exit(2);
}
if (!existsSync(join(root, 'dist/index.js'))) {
  console.error('build this tree first: npm run build');
  process.exit(2);
}

const baseDir = join(mkdtempSync(join(tmpdir(), 'lk-base-')), 'tree');
execFileSync('git', ['worktree', 'add', '--detach', baseDir, values.base], { cwd: root, stdio: 'ignore' });
try {
  symlinkSync(join(root, 'node_modules'), join(baseDir, 'node_modules'), 'dir');
  execFileSync('npx', ['tsup', '--silent'], { cwd: baseDir, stdio: 'inherit' });
  const run = (dir) => {
    const r = spawnSync('node', ['bench/latentkit.mjs'], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 26, timeout: 20 * 60_000 });
    if (r.status !== 0) throw new Error(`bench/latentkit.mjs in ${dir} failed: ${(r.stderr || '').split('\n').slice(-5).join(' ')}`);
    return JSON.parse(r.stdout.trim().split('\n').pop());
  };
  const names = ['ae', 'gan64', 'gan256', 'ae784', 'pca'];
  const rows = [];
  for (let round = 1; round <= rounds; round++) {
    // Alternate which build goes first, so neither always follows the other.
    const order = round % 2 ? ['before', 'after'] : ['after', 'before'];
    const got = { before: {}, after: {} };
    if (!coldOnly) {
      for (const which of order) {
        process.stderr.write(`round ${round} of ${rounds}: ${which} …\n`);
        got[which] = run(which === 'before' ? baseDir : root);
      }
    }
    const cold = { before: [], after: [] };
    for (let i = 0; i < 11; i++) for (const which of order) cold[which].push(importMs(join(which === 'before' ? baseDir : root, 'dist', 'index.js')));
    for (const which of order) got[which].coldStartMs = median(cold[which]);
    got.coldStartAfterFaster = cold.after.filter((t, i) => t < cold.before[i]).length;
    rows.push(got);
  }
  const table = [];
  const line = (label, pick, unit) => {
    const before = rows.map((r) => pick(r.before));
    const after = rows.map((r) => pick(r.after));
    table.push({ workload: label, unit, before, after, ratio: median(after) / median(before) });
    const f = (v) => (v >= 100 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));
    console.log(`| ${label} | ${rows.map((_, i) => `${f(before[i])} / ${f(after[i])}`).join(' | ')} | ${(median(after) / median(before)).toFixed(3)} |`);
  };
  console.log(`before = ${values.base}, after = this tree; per round before / after; last column after/before of the medians`);
  console.log(`| workload | ${rows.map((_, i) => `round ${i + 1}`).join(' | ')} | ratio |`);
  console.log(`|---|${rows.map(() => '---|').join('')}---|`);
  if (!coldOnly) {
    for (const n of names) {
      line(`${n} 1 thread (ms)`, (r) => r.workloads[n].median, 'ms');
      line(`${n} 2 threads (ms)`, (r) => r.workloads2t[n].median, 'ms');
    }
    for (const g of ['gemm-NN', 'gemm-NT', 'gemm-TN']) line(`${g} (GFLOP/s)`, (r) => r.workloads[g].median, 'GFLOP/s');
    line('SIMD ceiling (GFLOP/s)', (r) => r.simd.gflops, 'GFLOP/s');
  }
  line('cold start (ms, median of 11)', (r) => r.coldStartMs, 'ms');
  console.log(`cold start: after faster than before in ${rows.map((r) => r.coldStartAfterFaster).join(', ')} of 11 alternate pairs per round`);
  writeFileSync(join(root, 'bench/compare.json'), JSON.stringify({ base: values.base, rounds: rows, table }, null, 1));
} finally {
  execFileSync('git', ['worktree', 'remove', '--force', baseDir], { cwd: root, stdio: 'ignore' });
  rmSync(dirname(baseDir), { recursive: true, force: true });
}
