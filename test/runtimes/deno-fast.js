import * as lk from '../../dist/index.js';
import { seededRun } from './seeded-run.js';

// deno run deno-fast.js: the large seeded run on Deno's fast tier (Deno compiles relaxed SIMD by default).
const tier = await lk.setPrecision('fast');
lk.setThreads(1);
const r = await seededRun(lk, { size: 'large' });
console.log(JSON.stringify({ tier, sha256: r.sha256, vaeSha256: r.vaeSha256, convSha256: r.convSha256, ssganSha256: r.ssganSha256, m2Sha256: r.m2Sha256 }));
