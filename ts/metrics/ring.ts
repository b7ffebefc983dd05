import { Rng } from '../runtime/rng.js';
import { heap } from '../runtime/memory.js';
import type { Matrix } from '../nn/matrix.js';

/** Centres of `modes` Gaussians evenly spaced on a circle of radius `radius`. */
export function ringCentres(modes = 8, radius = 2): [number, number][] {
  return Array.from({ length: modes }, (_, i) => [radius * Math.cos((2 * Math.PI * i) / modes), radius * Math.sin((2 * Math.PI * i) / modes)] as [number, number]);
}

/** n samples of the ring mixture (equal weights, isotropic σ), from `rng`. */
export function sampleRing(n: number, rng: Rng, opts: { modes?: number; radius?: number; sigma?: number } = {}): Matrix {
  const centres = ringCentres(opts.modes ?? 8, opts.radius ?? 2);
  const sigma = opts.sigma ?? 0.05;
  const noise = heap.alloc(2 * n, 'ring noise');
  try {
    rng.normal(noise, 0, sigma);
    const e = noise.read();
    const data = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const c = centres[rng.below(centres.length)]!;
      data[2 * i] = c[0] + e[2 * i]!;
      data[2 * i + 1] = c[1] + e[2 * i + 1]!;
    }
    return { data, shape: [n, 2] };
  } finally {
    heap.free(noise);
  }
}

/**
 * Mode coverage of 2-D samples against a ring mixture: each sample belongs to
 * its nearest centre; `modesCovered` counts centres holding ≥ `minShare` of the
 * samples, `highQuality` is the fraction within 3σ of some centre.
 */
export function ringQuality(samples: Float32Array, opts: { modes?: number; radius?: number; sigma?: number; minShare?: number } = {}): { modesCovered: number; highQuality: number; shares: number[] } {
  const centres = ringCentres(opts.modes ?? 8, opts.radius ?? 2);
  const sigma = opts.sigma ?? 0.05;
  const n = samples.length / 2;
  const counts = new Array(centres.length).fill(0);
  let good = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestD = Infinity;
    centres.forEach(([cx, cy], j) => {
      const d = Math.hypot(samples[2 * i]! - cx, samples[2 * i + 1]! - cy);
      if (d < bestD) {
        bestD = d;
        best = j;
      }
    });
    counts[best]++;
    if (bestD <= 3 * sigma) good++;
  }
  const shares = counts.map((c) => c / n);
  return { modesCovered: shares.filter((s) => s >= (opts.minShare ?? 0.02)).length, highQuality: good / n, shares };
}
