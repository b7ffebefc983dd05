import * as lk from '../../dist/index.js';
import { seededRun, threadedRun } from './seeded-run.js';

// deno run deno-main.js [threads]: the small run, or the large one on that many threads.
const threads = Number(Deno.args[0] ?? 0);
console.log(JSON.stringify(threads > 0 ? await threadedRun(lk, threads) : await seededRun(lk)));
