// The wasm GEMM (the shipped simd128 kernel) against a naive reference, over
// m, n, k swept around the 4×8 tile, KC = 256 and NC = 512, with NaN guard bands
// around the output. Inputs are small integers, so results are exact. (The scalar twin is
// compared with the SIMD kernel bit for bit by the native cargo tests.)
import { describe, expect, it } from 'vitest';
import * as internal from '../dist/internal.js';
import { lcg, randomArray } from './helpers.js';

const { kernels, heap } = internal;
const GUARD = 8;
const LAYOUTS = ['NN', 'NT', 'TN'] as const;

function ints(n: number, seed: number): Float32Array {
  const r = lcg(seed);
  return Float32Array.from({ length: n }, () => Math.floor(r() * 9) - 4);
}

/** Dimensions of A, B, C for a layout, with (m, k, n) as kernels.gemm takes them. */
function dims(layout: number, m: number, k: number, n: number) {
  if (layout === 0) return { a: m * k, b: k * n, rows: m, cols: n, inner: k };
  if (layout === 1) return { a: m * n, b: k * n, rows: m, cols: k, inner: n };
  return { a: m * k, b: m * n, rows: k, cols: n, inner: m };
}

function reference(layout: number, m: number, k: number, n: number, A: Float32Array, B: Float32Array, C0: Float32Array | null): Float64Array {
  const d = dims(layout, m, k, n);
  const C = new Float64Array(d.rows * d.cols);
  for (let i = 0; i < d.rows; i++) {
    for (let j = 0; j < d.cols; j++) {
      let s = C0 ? C0[i * d.cols + j]! : 0;
      for (let p = 0; p < d.inner; p++) {
        const a = layout === 2 ? A[p * k + i]! : A[i * d.inner + p]!;
        const b = layout === 1 ? B[j * n + p]! : B[p * d.cols + j]!;
        s += a * b;
      }
      C[i * d.cols + j] = s;
    }
  }
  return C;
}

function runGemm(layout: number, m: number, k: number, n: number, A: Float32Array, B: Float32Array, C0: Float32Array | null): Float32Array {
  const d = dims(layout, m, k, n);
  const a = heap.alloc(d.a, 'A');
  const b = heap.alloc(d.b, 'B');
  const cLen = d.rows * d.cols;
  const c = heap.alloc(cLen + 2 * GUARD, 'C');
  try {
    a.write(A);
    b.write(B);
    c.fill(NaN);
    if (C0) c.write(C0, GUARD);
    kernels.gemm(layout, m, k, n, a.ptr, b.ptr, c.ptr + GUARD * 4, C0 ? 1 : 0);
    const all = c.read();
    for (let g = 0; g < GUARD; g++) {
      if (!Number.isNaN(all[g]!) || !Number.isNaN(all[GUARD + cLen + g]!)) {
        throw new Error(`${LAYOUTS[layout]} m=${m} k=${k} n=${n}: wrote into the guard band (${all[g]}, ${all[GUARD + cLen + g]})`);
      }
    }
    return all.slice(GUARD, GUARD + cLen);
  } finally {
    heap.free(a);
    heap.free(b);
    heap.free(c);
  }
}

describe('GEMM in wasm', () => {
  for (const layout of [0, 1, 2]) {
    it(`${LAYOUTS[layout]}: exact on integer sweeps around the tile and block sizes`, () => {
      const ms = [1, 2, 3, 4, 5, 7, 8, 9, 17, 65];
      const ns = [1, 3, 7, 8, 9, 16, 17, 33];
      const ks = [1, 4, 9, 255, 256, 257];
      let seed = 1;
      const cases: [number, number, number][] = [];
      for (const m of ms) for (const n of ns) for (const k of ks) cases.push([m, k, n]);
      cases.push([3, 520, 513], [9, 300, 1030], [1, 784, 512], [70, 33, 520]);
      for (const [m, k, n] of cases) {
        const d = dims(layout, m, k, n);
        const A = ints(d.a, seed++);
        const B = ints(d.b, seed++);
        const C0 = seed % 2 === 0 ? ints(d.rows * d.cols, seed++) : null;
        const want = reference(layout, m, k, n, A, B, C0);
        const got = runGemm(layout, m, k, n, A, B, C0);
        for (let i = 0; i < want.length; i++) {
          if (got[i] !== want[i]) {
            throw new Error(`${LAYOUTS[layout]} m=${m} k=${k} n=${n} accumulate=${!!C0}: C[${Math.floor(i / d.cols)}, ${i % d.cols}] = ${got[i]}, want ${want[i]}`);
          }
        }
      }
    });

    it(`${LAYOUTS[layout]}: random floats agree with an f64 reference to f32 accuracy`, () => {
      const [m, k, n] = [37, 300, 45];
      const d = dims(layout, m, k, n);
      const A = randomArray(d.a, 11);
      const B = randomArray(d.b, 12);
      const got = runGemm(layout, m, k, n, A, B, null);
      const want = reference(layout, m, k, n, A, B, null);
      for (let i = 0; i < want.length; i++) {
        expect(Math.abs(got[i]! - want[i]!), `C[${Math.floor(i / d.cols)}, ${i % d.cols}] = ${got[i]}, want ${want[i]}`).toBeLessThan(1e-4);
      }
    });
  }
});
