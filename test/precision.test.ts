// The two tiers: the exact module (the default) and the fast one, built with relaxed SIMD, whose
// GEMM micro-kernel uses f32x4.relaxed_madd. The fast tier must agree with the exact one to float
// rounding, give the same bits on every thread count, and fall back to exact, saying so once,
// where the engine cannot compile it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as lk from '../dist/index.js';
import * as internal from '../dist/internal.js';
import { enableRelaxedSimd } from '../dist/node.js';
import { lcg, randomArray } from './helpers.js';
// @ts-expect-error plain JS fixture shared with the other runtimes
import { seededRun, untilRunning } from './runtimes/seeded-run.js';

const root = new URL('..', import.meta.url).pathname;
const { kernels, heap } = internal;
/** SHA-256s of the exact tier's seeded runs (test/threads.test.ts): every machine, every runtime. */
const EXACT = { small: '6e7139c08a9daf65e7a07319c6e45e75c23d95b27d4ea5415d8652096979ccf8', large: '6ecff5938a2953e3bde3340e08374a77903eb00265ad6a8cd48ec0de42f258bb' };
/** Whether this CPU fuses: V8 lowers relaxed_madd to vfmadd where the CPU has FMA, else to mul + add. */
const cpuHasFma = /\bfma\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));

afterAll(async () => {
  lk.setThreads('auto');
  await lk.setPrecision('exact');
});

/** C of op(A)·op(B) (layout 0 NN, 1 NT, 2 TN; dims as kernels.gemm takes them), through the tier in use. */
function gemm(layout: number, m: number, k: number, n: number, A: Float32Array, B: Float32Array): Float32Array {
  const [aLen, bLen, cLen] = layout === 0 ? [m * k, k * n, m * n] : layout === 1 ? [m * n, k * n, m * k] : [m * k, m * n, k * n];
  return heap.scoped((s) => {
    const a = s.alloc(aLen, 'A');
    const b = s.alloc(bLen, 'B');
    const c = s.alloc(cLen + 16, 'C');
    a.write(A);
    b.write(B);
    c.fill(NaN);
    kernels.gemm(layout, m, k, n, a.ptr, b.ptr, c.ptr + 32, 0);
    const all = c.read();
    const guard = [...all.subarray(0, 8), ...all.subarray(8 + cLen)];
    if (guard.some((v) => !Number.isNaN(v))) throw new Error(`layout ${layout} ${m}×${k}×${n}: wrote into the guard band`);
    return all.slice(8, 8 + cLen);
  });
}

const maxAbs = (x: Float32Array) => x.reduce((s, v) => Math.max(s, Math.abs(v)), 0);
const maxDiff = (x: Float32Array, y: Float32Array) => x.reduce((s, v, i) => Math.max(s, Math.abs(v - y[i]!)), 0);

describe('precision tiers', () => {
  it('starts exact and refuses an unknown tier', async () => {
    expect(lk.precision()).toBe('exact');
    await expect(lk.setPrecision('medium' as never)).rejects.toThrow(/precision must be 'exact' or 'fast', got "medium"/);
  });

  it("where the engine lacks relaxed SIMD, setPrecision('fast') stays exact, says so once, and the seeded run keeps its bits", () => {
    // A process of its own, without the V8 flag that Node 20 needs (this file sets it below).
    const script = `
      const warnings = [];
      console.warn = (m) => warnings.push(String(m));
      const lk = await import(${JSON.stringify(`${root}dist/index.js`)});
      const { seededRun } = await import(${JSON.stringify(`${root}test/runtimes/seeded-run.js`)});
      const first = await lk.setPrecision('fast');
      const second = await lk.setPrecision('fast');
      const run = await seededRun(lk, { size: 'small' });
      console.log(JSON.stringify({ first, second, now: lk.precision(), warnings, sha256: run.sha256 }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim().split('\n').at(-1)!);
    expect(out.first).toBe('exact');
    expect(out.second).toBe('exact');
    expect(out.now).toBe('exact');
    expect(out.warnings, JSON.stringify(out.warnings)).toHaveLength(1);
    expect(out.warnings[0]).toMatch(/staying on the exact tier: this engine cannot compile WebAssembly relaxed SIMD \(Node 20 compiles it only with --experimental-wasm-relaxed-simd/);
    expect(out.sha256).toBe(EXACT.small);
  });

  it("latentkit/node's enableRelaxedSimd() lets Node 20 compile the fast tier in a process started without the flag", () => {
    const script = `
      const lk = await import(${JSON.stringify(`${root}dist/index.js`)});
      const { enableRelaxedSimd } = await import(${JSON.stringify(`${root}dist/node.js`)});
      const exactFirst = lk.precision();
      const enabled = enableRelaxedSimd();
      const again = enableRelaxedSimd();
      const tier = await lk.setPrecision('fast');
      console.log(JSON.stringify({ exactFirst, enabled, again, tier }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim().split('\n').at(-1)!);
    expect(out).toEqual({ exactFirst: 'exact', enabled: true, again: true, tier: 'fast' });
  });

  describe('with relaxed SIMD (V8 flag on in this process)', () => {
    const shapes = [
      [0, 256, 784, 512],
      [1, 256, 784, 512],
      [2, 256, 784, 512],
    ] as const;
    const exact: Float32Array[] = [];
    const inputs = shapes.map(([layout, m, k, n], i) => {
      const [aLen, bLen] = layout === 0 ? [m * k, k * n] : layout === 1 ? [m * n, k * n] : [m * k, m * n];
      return { A: randomArray(aLen, 10 + i), B: randomArray(bLen, 20 + i) };
    });

    it('the exact tier first, for reference', () => {
      shapes.forEach(([layout, m, k, n], i) => exact.push(gemm(layout, m, k, n, inputs[i]!.A, inputs[i]!.B)));
      expect(heap.liveAllocations).toBe(0);
    });

    it('the fast tier loads on demand', async () => {
      expect(enableRelaxedSimd()).toBe(true);
      expect(await lk.setPrecision('fast')).toBe('fast');
      expect(lk.precision()).toBe('fast');
    });

    it('fast GEMMs agree with the exact ones to 1e-5 of the largest |C| (and differ, on a CPU with FMA)', () => {
      shapes.forEach(([layout, m, k, n], i) => {
        const fast = gemm(layout, m, k, n, inputs[i]!.A, inputs[i]!.B);
        const rel = maxDiff(fast, exact[i]!) / maxAbs(exact[i]!);
        console.log(`fast vs exact GEMM, layout ${layout} ${m}×${k}×${n}: max |Δ| / max |C| = ${rel.toExponential(2)}`);
        expect(rel, `layout ${layout} ${m}×${k}×${n}: max |fast − exact| / max |exact|`).toBeLessThanOrEqual(1e-5);
        const same = fast.every((v, j) => Object.is(v, exact[i]![j]));
        expect(same, `layout ${layout}: bit-identical to exact, so nothing fused (CPU has FMA: ${cpuHasFma})`).toBe(!cpuHasFma);
      });
    });

    it('fast GEMMs are exact on small integers, around the 4×8 tile and the blocks, with guard bands intact', () => {
      const r = lcg(5);
      const ints = (len: number) => Float32Array.from({ length: len }, () => Math.floor(r() * 9) - 4);
      for (const layout of [0, 1, 2]) {
        for (const [m, k, n] of [[1, 1, 1], [3, 7, 9], [4, 8, 8], [5, 257, 17], [13, 300, 513], [33, 64, 7]] as const) {
          const [aLen, bLen] = layout === 0 ? [m * k, k * n] : layout === 1 ? [m * n, k * n] : [m * k, m * n];
          const A = ints(aLen);
          const B = ints(bLen);
          const got = gemm(layout, m, k, n, A, B);
          const [rows, cols, inner] = layout === 0 ? [m, n, k] : layout === 1 ? [m, k, n] : [k, n, m];
          for (let i = 0; i < rows; i++) {
            for (let j = 0; j < cols; j++) {
              let s = 0;
              for (let p = 0; p < inner; p++) s += (layout === 2 ? A[p * k + i]! : A[i * inner + p]!) * (layout === 1 ? B[j * n + p]! : B[p * cols + j]!);
              if (got[i * cols + j] !== s) throw new Error(`layout ${layout} m=${m} k=${k} n=${n}: C[${i},${j}] = ${got[i * cols + j]}, want ${s}`);
            }
          }
        }
      }
    });

    it('a training run agrees with the exact tier', async () => {
      const x = randomArray(512 * 64, 3, 0, 1);
      const train = () => {
        const enc = lk.mlp([64, 128, 16], { activation: 'tanh', seed: 1 });
        const dec = lk.mlp([16, 128, 64], { activation: 'tanh', outputActivation: 'sigmoid', seed: 2 });
        const ae = new lk.Autoencoder({ encoder: enc, decoder: dec, loss: 'mse', optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 }, seed: 3 });
        const loss = ae.fit(x, { epochs: 5, batchSize: 64 }).loss;
        const weights = new Float32Array([...enc.getWeights(), ...dec.getWeights()]);
        ae.dispose();
        enc.dispose();
        dec.dispose();
        return { loss, weights };
      };
      const fast = train();
      expect(await lk.setPrecision('exact')).toBe('exact');
      const exactRun = train();
      expect(await lk.setPrecision('fast')).toBe('fast');
      fast.loss.forEach((l, e) => expect(Math.abs(l - exactRun.loss[e]!) / exactRun.loss[e]!, `epoch ${e + 1}: loss ${l} vs ${exactRun.loss[e]}`).toBeLessThanOrEqual(1e-5));
      const rel = maxDiff(fast.weights, exactRun.weights) / maxAbs(exactRun.weights);
      const lossRel = Math.max(...fast.loss.map((l, e) => Math.abs(l - exactRun.loss[e]!) / exactRun.loss[e]!));
      console.log(`fast vs exact training (40 SGD steps): weights max |Δ| / max |w| = ${rel.toExponential(2)}, losses max relative ${lossRel.toExponential(2)}`);
      expect(rel, 'weights after 40 steps: max |fast − exact| / max |exact|').toBeLessThanOrEqual(1e-5);
      expect(exactRun.loss.at(-1)!).toBeLessThan(exactRun.loss[0]!);
    });

    it('the fast tier gives the same bits on 1, 2 and 3 threads (and not the exact bits, on a CPU with FMA), and in Deno on this machine, convolutions included', async () => {
      const runs: string[] = [];
      for (const t of [1, 2, 3]) {
        lk.setThreads(t);
        const warm = lk.mlp([512, 1024], { seed: 1 });
        warm.predict(new Float32Array(512 * 512));
        warm.dispose();
        await untilRunning(lk, t);
        expect(lk.threads().running, 'worker threads running the fast module').toBe(t);
        const r = await seededRun(lk, { size: 'large' });
        runs.push(`${r.sha256} ${r.vaeSha256} ${r.convSha256} ${r.ssganSha256} ${r.m2Sha256}`);
      }
      expect(new Set(runs).size, runs.join('\n')).toBe(1);
      expect(runs[0]!.startsWith(EXACT.large), 'the fast run hashes like the exact one').toBe(!cpuHasFma);
      lk.setThreads('auto');
      // Deno on the same machine: its own engine build, relaxed SIMD on by default.
      const out = execFileSync(join(root, 'node_modules', '.bin', 'deno'), ['run', '--allow-read', '--no-prompt', join(root, 'test/runtimes/deno-fast.js')], {
        encoding: 'utf8',
        env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
      });
      const deno = JSON.parse(out.trim().split('\n').at(-1)!);
      expect(deno.tier).toBe('fast');
      expect(`${deno.sha256} ${deno.vaeSha256} ${deno.convSha256} ${deno.ssganSha256} ${deno.m2Sha256}`, 'Deno\'s fast tier on this machine').toBe(runs[0]);
    });

    it('switching refuses while memory is live, names the way out, and a saved model crosses tiers', async () => {
      const enc = lk.mlp([256, 128], { seed: 1 });
      const dec = lk.mlp([128, 256], { seed: 2 });
      const ae = new lk.Autoencoder({ encoder: enc, decoder: dec, seed: 3 });
      const x = randomArray(256 * 256, 4, 0, 1);
      ae.fit(x, { epochs: 2, batchSize: 128 });
      expect(internal.pool.heldAllocations, 'the worker pool is running').toBeGreaterThan(0);
      const live = heap.liveAllocations;
      await expect(lk.setPrecision('exact')).rejects.toThrow(/setPrecision\('exact'\): \d+ allocations are still live in the fast tier's memory .*save\(\) your models, dispose\(\) them, switch, and load\(\) them/);
      expect(lk.precision()).toBe('fast');
      expect(heap.liveAllocations, 'a refused switch leaves the pool (and everything else) as it was').toBe(live);
      const saved = lk.checkpoint(ae);
      const before = ae.reconstruct(x);
      ae.dispose();
      enc.dispose();
      dec.dispose();
      expect(await lk.setPrecision('exact')).toBe('exact');
      const back = lk.load(saved) as InstanceType<typeof lk.Autoencoder>;
      const after = back.reconstruct(x);
      expect(maxDiff(after.data, before.data) / maxAbs(before.data), 'the same model, rebuilt on the exact tier').toBeLessThanOrEqual(1e-5);
      back.fit(x, { epochs: 1, batchSize: 128 });
      back.dispose();
      back.encoder.dispose();
      back.decoder.dispose();
      expect(heap.liveAllocations - internal.pool.heldAllocations, 'only the worker pool\'s own blocks are left').toBe(0);
    });
  });
});
