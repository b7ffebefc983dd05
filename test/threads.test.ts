// Worker threads: the same bits for every thread count, no per-step allocation, no process kept
// alive, and a dead worker reported as an error instead of a hang.
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import * as lk from '../dist/index.js';
import { Autoencoder, Classifier, GAN, LatentkitError, PCA, Sequential, memoryStats, mlp, setThreads, threads } from '../dist/index.js';
import * as internal from '../dist/internal.js';
import { randomArray } from './helpers.js';
// @ts-expect-error plain JS fixture shared with the other runtimes
import { seededRun, untilRunning } from './runtimes/seeded-run.js';

const { heap, pool } = internal;
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
/** Waits until the pool's workers have loaded the module, so parts really run on them. */
async function workersReady(n: number): Promise<void> {
  await untilRunning(lk, n + 1);
  expect(pool.readyWorkers, 'worker threads up').toBe(n);
}

/** Trains `make()` once per thread count and returns the final weights of each run. */
async function weightsPerThreadCount(make: () => { train: () => void; weights: () => Float32Array; dispose: () => void }, counts = [1, 2, 3]) {
  const out: number[][] = [];
  for (const t of counts) {
    setThreads(t);
    if (t > 1) {
      // Start the pool with a large op, then train with every worker up.
      const warm = mlp([512, 1024], { seed: 1 });
      warm.predict(new Float32Array(512 * 512));
      warm.dispose();
      await workersReady(t - 1);
    }
    const m = make();
    m.train();
    out.push(bits(m.weights()));
    m.dispose();
  }
  return out;
}

afterAll(() => {
  setThreads('auto');
});

describe('threads', () => {
  it('uses shared memory in Node and defaults to every core', () => {
    const t = threads();
    expect(t.shared).toBe(true);
    expect(t.requested).toBe('auto');
    expect(t.count).toBeGreaterThanOrEqual(1);
    expect(() => setThreads(0)).toThrow(/threads must be 'auto' or an integer from 1 to 64, got 0/);
    expect(() => setThreads(2.5)).toThrow(LatentkitError);
  });

  it('threads().running counts the threads that take parts: back on 1 thread it is 1, though the workers of 3 threads still sleep in the pool', async () => {
    setThreads(3);
    const warm = mlp([512, 1024], { seed: 1 });
    warm.predict(new Float32Array(512 * 512));
    await workersReady(2);
    setThreads(1);
    expect(pool.readyWorkers, 'the idle workers are kept').toBe(2);
    expect(threads().running, `threads taking parts on 1 (pool: ${pool.readyWorkers} ready workers)`).toBe(1);
    setThreads(3);
    warm.predict(new Float32Array(512 * 512));
    expect(threads().running, 'the same workers take parts again on 3').toBe(3);
    warm.dispose();
    setThreads('auto');
  });

  it('1 thread reproduces the pre-threads build bit for bit, and 2 and 3 threads give the same bits', async () => {
    // SHA-256 of the final weights from the single-threaded build before threads existed.
    const before = { small: '6e7139c08a9daf65e7a07319c6e45e75c23d95b27d4ea5415d8652096979ccf8', large: '6ecff5938a2953e3bde3340e08374a77903eb00265ad6a8cd48ec0de42f258bb' };
    const vae: string[] = [];
    for (const t of [1, 2, 3]) {
      setThreads(t);
      expect((await seededRun(lk, { size: 'small' })).sha256, `small run, ${t} threads`).toBe(before.small);
      const large = await seededRun(lk, { size: 'large' });
      expect(large.sha256, `large run, ${t} threads`).toBe(before.large);
      vae.push(large.vaeSha256);
      if (t > 1) await workersReady(t - 1);
    }
    expect(new Set(vae).size, `the VAE on 1, 2, 3 threads: ${vae.join(' ')}`).toBe(1);
  });

  it('autoencoders (plain, tied, denoising with SGD), GANs (plain and conditional) and classifiers with a frozen body train to the same bits on 1, 2 and 3 threads', async () => {
    const x = randomArray(256 * 256, 1, 0, 1);
    const runs = {
      autoencoder: () => {
        const ae = new Autoencoder({ encoder: mlp([256, 512, 64], { seed: 1 }), decoder: mlp([64, 512, 256], { outputActivation: 'sigmoid', seed: 2 }), optimizer: 'adam', seed: 3 });
        return { train: () => ae.fit(x, { epochs: 2, batchSize: 128 }), weights: () => new Float32Array([...ae.encoder.getWeights(), ...ae.decoder.getWeights()]), dispose: () => ae.dispose() };
      },
      tied: () => {
        const enc = mlp([256, 512, 32], { activation: 'tanh', seed: 4 });
        const ae = new Autoencoder({ encoder: enc, tiedWeights: true, optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 }, denoising: { type: 'masking', rate: 0.3 }, seed: 5 });
        return { train: () => ae.fit(x, { epochs: 2, batchSize: 128 }), weights: () => new Float32Array([...enc.getWeights(), ...ae.decoder.getWeights()]), dispose: () => ae.dispose() };
      },
      gan: () => {
        const leaky = { type: 'leaky-relu', alpha: 0.2 } as const;
        const gan = new GAN({
          generator: mlp([64, 512, 256], { activation: leaky, outputActivation: 'tanh', seed: 6 }),
          discriminator: mlp([256, 512, 1], { activation: leaky, dropout: 0.3, seed: 7 }),
          noise: { dim: 64 }, k: 2, batchSize: 128, optimizerD: { type: 'rmsprop', lr: 1e-3 }, seed: 8, ema: { decay: 0.99 },
        });
        return { train: () => gan.fit(x, { iterations: 10 }), weights: () => new Float32Array([...gan.generator.getWeights(), ...gan.discriminator.getWeights(), ...gan.generatorEma!.getWeights()]), dispose: () => gan.dispose() };
      },
      conditionalGan: () => {
        const gan = new GAN({
          generator: mlp([64 + 10, 512, 256], { activation: 'relu', outputActivation: 'tanh', seed: 11 }),
          discriminator: mlp([256 + 10, 512, 1], { activation: 'relu', seed: 12 }),
          conditions: 10, noise: { dim: 64 }, batchSize: 128, seed: 13,
        });
        const labels = Int32Array.from({ length: 256 }, (_, i) => (i * 7) % 10);
        return { train: () => gan.fit(x, { iterations: 10, labels }), weights: () => new Float32Array([...gan.generator.getWeights(), ...gan.discriminator.getWeights()]), dispose: () => gan.dispose() };
      },
      classifier: () => {
        const body = mlp([256, 1024], { outputActivation: 'relu', seed: 9 });
        const clf = new Classifier({ body, head: mlp([1024, 512, 10], { seed: 10 }), freezeBody: true });
        const labels = Uint32Array.from({ length: 256 }, (_, i) => i % 10);
        return { train: () => clf.fit(x, labels, { epochs: 2, batchSize: 128 }), weights: () => new Float32Array([...body.getWeights(), ...clf.head.getWeights()]), dispose: () => { clf.dispose(); body.dispose(); } };
      },
    };
    for (const [name, make] of Object.entries(runs)) {
      const [one, two, three] = await weightsPerThreadCount(make);
      expect(two, `${name}: 2 threads vs 1`).toEqual(one);
      expect(three, `${name}: 3 threads vs 1`).toEqual(one);
    }
  });

  it('PCA (covariance split by column strips) and inference give the same bits on 1 and 2 threads', async () => {
    const x = randomArray(3000 * 300, 5);
    const fits = [];
    for (const t of [1, 2]) {
      setThreads(t);
      if (t > 1) {
        const warm = mlp([512, 1024], { seed: 1 });
        warm.predict(new Float32Array(512 * 512));
        warm.dispose();
        await workersReady(1);
      }
      const pca = PCA.fit({ data: x, shape: [3000, 300] }, { components: 8 });
      const z = pca.transform({ data: x, shape: [3000, 300] });
      const net = mlp([300, 1024, 64], { seed: 3 });
      fits.push({ components: bits(pca.components), variance: Array.from(pca.explainedVariance), z: bits(z.data), predict: bits(net.predict(x).data) });
      pca.dispose();
      net.dispose();
    }
    expect(fits[1]).toEqual(fits[0]);
  });

  it('grows WebAssembly memory by 0 bytes over 10,000 steps on 2 threads, with no new allocations', async () => {
    setThreads(2);
    const net = new Sequential([mlp([64, 128], { activation: 'tanh', seed: 1 }), mlp([128, 64], { seed: 2 })], { loss: 'mse', optimizer: 'adam' });
    const x = randomArray(64 * 64, 2);
    net.trainStep(x, x);
    await workersReady(1);
    const before = memoryStats();
    const live = heap.liveAllocations;
    for (let i = 0; i < 10_000; i++) net.trainStep(x, x);
    expect(memoryStats().wasmBytes - before.wasmBytes).toBe(0);
    expect(heap.liveAllocations).toBe(live);
    net.dispose();
  });

  it('zeroing a large block (a step zeroes every gradient) is shared by the threads and touches nothing outside it; the pool counts its jobs, parts and waits', async () => {
    setThreads(2);
    const warm = mlp([512, 1024], { seed: 1 });
    warm.predict(new Float32Array(512 * 512));
    warm.dispose();
    await workersReady(1);
    const n = 200_003; // not a multiple of the parts' alignment
    const guard = 16;
    const blk = heap.alloc(n + 2 * guard, 'filled');
    blk.fill(Number.NaN);
    pool.resetStats();
    expect(pool.stats).toEqual({ jobs: 0, parts: 0, partsHere: 0, waitMs: 0 });
    internal.kernels.fill(blk.ptr + guard * 4, n, 0);
    const st = pool.stats;
    expect(st.jobs, 'one job for the fill').toBe(1);
    expect(st.parts, 'parts of the fill').toBeGreaterThan(1);
    expect(st.partsHere).toBeLessThanOrEqual(st.parts);
    expect(st.waitMs).toBeGreaterThanOrEqual(0);
    const all = blk.read();
    const wrong = all.findIndex((v, i) => (i < guard || i >= guard + n ? !Number.isNaN(v) : v !== 0));
    expect(wrong, `element ${wrong} of ${n} + 2 × ${guard} guard: ${all[wrong]}`).toBe(-1);
    heap.free(blk);
  });

  it('a worker that dies surfaces as an error from the training call, and the next call restarts the pool', async () => {
    setThreads(2);
    const net = mlp([512, 1024], { seed: 1, loss: 'mse' });
    const x = randomArray(512 * 512, 3);
    const y = randomArray(512 * 1024, 4);
    net.trainStep(x, y);
    await workersReady(1);
    pool.killWorker(0);
    // The exit arrives as an event: wait for it (a limit only a lost event reaches), then the call reports it.
    for (const t0 = Date.now(); pool.pendingFailure === null && Date.now() - t0 < 120_000;) await new Promise((r) => setTimeout(r, 10));
    expect(pool.pendingFailure).toMatch(/worker thread 1/);
    expect(() => net.trainStep(x, y)).toThrow(LatentkitError);
    expect(() => net.trainStep(x, y)).not.toThrow();
    await workersReady(1);
    net.dispose();
  });

  it('a kernel that traps on a worker or on this thread is an error, not a hang', async () => {
    setThreads(2);
    const k = 32768;
    const n = 16;
    const x = heap.alloc(k, 'x');
    const w = heap.alloc(k * n, 'w');
    const b = heap.alloc(n, 'b');
    await workersReady(1);
    // One row of 16 outputs placed so that its last 8 columns (one part) fall outside memory.
    const y = heap.f32.byteLength - 8 * 4;
    expect(() => internal.kernels.dense_forward(1, k, n, x.ptr, w.ptr, b.ptr, y, 0, 0, 0)).toThrow(/out of bounds/);
    [x, w, b].forEach((blk) => heap.free(blk));
  });

  it('worker threads never keep a Node process alive', () => {
    const script = `import * as lk from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      import { pool } from ${JSON.stringify(new URL('../dist/internal.js', import.meta.url).href)};
      lk.setThreads(2);
      const net = lk.mlp([512, 1024], { loss: 'mse' });
      const x = new lk.Rng(1).uniformArray(512 * 512);
      const y = new lk.Rng(2).uniformArray(512 * 1024);
      for (let i = 0; i < 20; i++) net.trainStep(x, y);
      while (pool.readyWorkers < 1) await new Promise((r) => setTimeout(r, 20));
      for (let i = 0; i < 20; i++) net.trainStep(x, y);
      console.log('trained on', pool.readyWorkers + 1, 'threads');`;
    // A process that a worker keeps alive never exits: the limit kills it (status null), however loaded the machine.
    const r = spawnSync('node', ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 110_000 });
    expect(r.signal, 'the process was killed at the limit: something kept it alive').toBe(null);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/trained on 2 threads/);
  });
});
