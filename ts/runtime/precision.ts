// Two builds of the same kernels. The exact tier (the default) rounds every product before it is
// added, as wasm SIMD does, so a seed gives the same bits on every machine, runtime and thread
// count. The fast tier is built with relaxed SIMD: its GEMM micro-kernel uses f32x4.relaxed_madd,
// which the engine fuses into one instruction (and one rounding) on CPUs with FMA. Its results
// agree with the exact tier's to float rounding and are the same bits for every thread count, but
// only on one machine: another CPU, or an engine that does not fuse, may round differently.
//
// The tiers are separate WebAssembly modules, each with its own memory, so the tier is chosen
// while nothing lives in memory: before the first model, or after save() and dispose().
import { LatentkitError } from '../errors.js';
import { heap } from './memory.js';
import { pool } from './threads.js';
import { type Precision, embeddedModule, exactBytes, precisionInUse, prepareModule } from './wasm.js';

export type { Precision };

let fastBytes: Uint8Array<ArrayBuffer> | null = null;
let fastRefused: string | null = null;
let pending: Promise<Precision> = Promise.resolve('exact');

/** Why this engine cannot run the fast tier, or null where it can (said once on the console). */
async function fastUnavailable(): Promise<string | null> {
  if (fastRefused !== null || fastBytes !== null) return fastRefused;
  const bytes = await embeddedModule((await import('./fast-module.js')).default);
  if (!WebAssembly.validate(bytes)) {
    fastRefused = 'this engine cannot compile WebAssembly relaxed SIMD (Node 20 compiles it only with --experimental-wasm-relaxed-simd; Deno and Chromium-based browsers have it by default)';
    console.warn(`latentkit: staying on the exact tier: ${fastRefused}.`);
    return fastRefused;
  }
  fastBytes = bytes;
  return null;
}

function liveMemoryRefusal(p: Precision, live: number): LatentkitError {
  return new LatentkitError(
    `setPrecision('${p}'): ${live} allocation${live === 1 ? ' is' : 's are'} still live in the ${precisionInUse} tier's memory (models, layers, optimizers, Rngs or data). ` +
      `Each tier is a WebAssembly module with a memory of its own: choose the tier before building anything, or save() your models, dispose() them, switch, and load() them.`,
  );
}

async function switchTo(p: Precision): Promise<Precision> {
  if (p === precisionInUse) return p;
  // Refused before any work when the user's objects already hold memory (the pool's own blocks
  // are freed by the switch, so they do not count).
  const early = heap.liveAllocations - pool.heldAllocations;
  if (early > 0) throw liveMemoryRefusal(p, early);
  if (p === 'fast' && (await fastUnavailable()) !== null) return 'exact';
  const replace = await prepareModule(p === 'fast' ? fastBytes! : exactBytes, p);
  // Something may have been allocated during the awaits; from here to replace() nothing awaits.
  pool.stop();
  const live = heap.liveAllocations;
  if (live > 0) throw liveMemoryRefusal(p, live);
  replace();
  return p;
}

/**
 * Chooses the kernels' tier: `'exact'` (the default; the same bits on every machine, runtime and
 * thread count) or `'fast'` (fused multiply-adds in the GEMMs: faster, the same bits for every
 * thread count on one machine). Resolves to the tier in effect: `'exact'` where the engine cannot
 * compile relaxed SIMD, which is said once on the console. The fast module is loaded on first use.
 * Throws if models or other latentkit objects still hold memory (save, dispose, switch, load).
 */
export function setPrecision(p: Precision): Promise<Precision> {
  if (p !== 'exact' && p !== 'fast') {
    return Promise.reject(new LatentkitError(`precision must be 'exact' or 'fast', got ${JSON.stringify(p)}`));
  }
  // One switch at a time, in the order asked.
  const next = pending.then(() => switchTo(p), () => switchTo(p));
  pending = next.catch(() => precisionInUse);
  return next;
}

/** The tier in use: `'exact'` or `'fast'` (see setPrecision). */
export function precision(): Precision {
  return precisionInUse;
}
