// Cold start: a new Node process imports the package's main entry (the module compiled and
// instantiated, shared memory included), timed from inside. The median of `runs` processes, every
// run, and Node's floor (an empty module file imported the same way). Run on its own,
// `node bench/cold-start.mjs [--runs 11]`; npm run bench takes it first.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './timing.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'index.js');

/** Milliseconds a new Node process takes to import `file`, timed from inside. */
export function importMs(file) {
  const r = spawnSync('node', ['--input-type=module', '-e', `const t0 = performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now() - t0);`], { encoding: 'utf8' });
  const ms = Number(r.stdout.trim());
  if (r.status !== 0 || !Number.isFinite(ms)) throw new Error(`importing ${file} failed (${r.status}): ${r.stderr.split('\n').slice(-3).join(' ')}`);
  return ms;
}

/**
 * The median of `runs` cold starts, and beside it, alternating, Node's own floor: importing an
 * empty module file, which no package can go below.
 */
export function coldStart(runs = 11) {
  // Beside the package, not in the system's temporary folder, which may sit on another file system.
  mkdirSync(join(root, 'target'), { recursive: true });
  const empty = join(mkdtempSync(join(root, 'target', 'cold-start-')), 'empty.mjs');
  writeFileSync(empty, 'export {};\n');
  const times = [];
  const floor = [];
  try {
    for (let i = 0; i < runs; i++) {
      times.push(importMs(entry));
      floor.push(importMs(empty));
    }
  } finally {
    rmSync(dirname(empty), { recursive: true, force: true });
  }
  return { medianMs: median(times), times, emptyModuleMs: median(floor) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '11' } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: expected a whole number ≥ 1, got ${values.runs}`);
  const { medianMs, times, emptyModuleMs } = coldStart(runs);
  console.log(`cold start (new process, import + instantiate): ${medianMs.toFixed(1)} ms, the median of ${runs} (${times.map((t) => t.toFixed(1)).join(', ')}); importing an empty module file: ${emptyModuleMs.toFixed(1)} ms`);
}
