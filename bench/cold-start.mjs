// Cold start: a new Node process imports the package's main entry (the module compiled and
// instantiated, shared memory included), timed from inside. The median of `runs` processes, and
// every run. Run on its own, `node bench/cold-start.mjs [--runs 11]`; npm run bench takes it first.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './timing.mjs';

const entry = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'index.js');

export function coldStart(runs = 11) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync('node', ['--input-type=module', '-e', `const t0 = performance.now(); await import(${JSON.stringify(entry)}); console.log(performance.now() - t0);`], { encoding: 'utf8' });
    const ms = Number(r.stdout.trim());
    if (r.status !== 0 || !Number.isFinite(ms)) throw new Error(`importing ${entry} failed (${r.status}): ${r.stderr.split('\n').slice(-3).join(' ')}`);
    times.push(ms);
  }
  return { medianMs: median(times), times };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '11' } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: expected a whole number ≥ 1, got ${values.runs}`);
  const { medianMs, times } = coldStart(runs);
  console.log(`cold start (new process, import + instantiate): ${medianMs.toFixed(1)} ms, the median of ${runs} (${times.map((t) => t.toFixed(1)).join(', ')})`);
}
