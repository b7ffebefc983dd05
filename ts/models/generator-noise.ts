// What a generator reads and how samples are drawn from it, shared by GAN and SemiSupervisedGAN:
// noise rows of N(0, 1) or U(−1, 1) values, and sampling in chunks so that any count fits the heap.
import { LatentkitError } from '../errors.js';
import { type Block, heap } from '../runtime/memory.js';
import type { Rng } from '../runtime/rng.js';
import type { Stack } from '../nn/stack.js';

export type NoiseDistribution = 'normal' | 'uniform';

export interface NoiseSpec {
  dim: number;
  distribution?: NoiseDistribution;
}

/** The noise distribution asked for, or `fallback`; anything else is refused. */
export function noiseDistribution(asked: unknown, fallback: NoiseDistribution): NoiseDistribution {
  const dist = asked ?? fallback;
  if (dist !== 'normal' && dist !== 'uniform') throw new LatentkitError(`noise.distribution must be 'normal' or 'uniform', got ${JSON.stringify(dist)}`);
  return dist;
}

/** Writes `count` noise values at `z` from `rng`. */
export function fillNoise(rng: Rng, z: Block, count: number, distribution: NoiseDistribution): void {
  if (distribution === 'normal') rng.normal(z, 0, 1, count);
  else rng.uniform(z, -1, 1, count);
}

const SAMPLE_CHUNK = 1024;

/**
 * n rows of G's output, computed in chunks of at most 1,024 rows; `input(m, first)` writes the
 * input block of the m rows from row `first` and returns it.
 */
export function generateRows(G: Stack, n: number, input: (m: number, first: number) => Block): Float32Array {
  const out = new Float32Array(n * G.outputSize);
  for (let r = 0; r < n; r += SAMPLE_CHUNK) {
    const m = Math.min(SAMPLE_CHUNK, n - r);
    const y = G.forward(input(m, r).ptr, m);
    out.set(heap.f32.subarray(y >>> 2, (y >>> 2) + m * G.outputSize), r * G.outputSize);
  }
  return out;
}
