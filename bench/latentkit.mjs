// latentkit's side of the benchmark suite; prints one JSON object. The training workloads run
// at 1 thread (`workloads`) and at 2 (`workloads2t`), measured alternately rep by rep so both
// see the same phases of this VM; `speedup2t` is the median of the per-rep ratios. `pool2t` says
// how the 2-thread steps shared their parts: the calling thread's share of the parts, and the
// share of the step it spent waiting for the other thread's last part. `twoCores` (exact tier's
// process only) is how far this machine scales independent work from one core to two, a memory
// copy and the exact GEMM (bench/two-cores.mjs): the bound on `speedup2t`.
//   node bench/latentkit.mjs [--fast]   --fast: the fast tier (and the relaxed_madd ceiling)
import { Autoencoder, PCA, conv2d, memoryStats, mlp, setThreads, stack } from 'latentkit';
import * as internal from '../dist/internal.js';
import { loadMnist } from '../examples/mnist.mjs';
import { measureTwoCores } from './two-cores.mjs';
import { measureCeiling, measureTileLoop } from './ceiling.mjs';
import { GEMM, data, measure } from './timing.mjs';
import { ae784Step, dcganConvMacs, dcganStep, ganStep, useFastTier } from './workloads.mjs';

const out = { workloads: {}, workloads2t: {}, speedup2t: {}, pool2t: {} };
const { kernels: K, heap, pool } = internal;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** `fn` at 1 and 2 threads, alternating, `reps` timed blocks of `inner` calls each. */
async function measureThreads(name, fn, { inner, reps = 5, warmupMs = 1500 }) {
  const times = { 1: [], 2: [] };
  const shared = { parts: 0, partsHere: 0, waitMs: 0, ms: 0 };
  for (const t of [1, 2]) {
    setThreads(t);
    const s = performance.now();
    while (performance.now() - s < warmupMs) fn();
  }
  for (let r = 0; r < reps; r++) {
    for (const t of [1, 2]) {
      setThreads(t);
      fn();
      pool.resetStats();
      const t0 = performance.now();
      for (let i = 0; i < inner; i++) fn();
      const ms = performance.now() - t0;
      times[t].push(ms / inner);
      if (t === 2) {
        const st = pool.stats;
        shared.parts += st.parts;
        shared.partsHere += st.partsHere;
        shared.waitMs += st.waitMs;
        shared.ms += ms;
      }
    }
  }
  if (shared.parts > 0) out.pool2t[name] = { hereShare: shared.partsHere / shared.parts, waitShare: shared.waitMs / shared.ms };
  const summary = (ts) => ({ median: median(ts), min: Math.min(...ts), max: Math.max(...ts), reps, inner });
  out.workloads[name] = summary(times[1]);
  out.workloads2t[name] = summary(times[2]);
  out.speedup2t[name] = median(times[1].map((v, i) => v / times[2][i]));
  setThreads(1);
}

const fast = process.argv.includes('--fast');
if (fast) await useFastTier();
out.precision = fast ? 'fast' : 'exact';

// Start the worker thread so every 2-thread measurement finds it up.
setThreads(2);
{
  const warm = mlp([512, 1024], { seed: 1 });
  warm.predict(data(512 * 512, 1));
  warm.dispose();
  while (pool.readyWorkers < 1) await new Promise((r) => setTimeout(r, 10));
}
setThreads(1);

// ae: 64-16-64, tanh code, linear output, MSE, Adam, batch 256.
{
  const encoder = mlp([64, 16], { outputActivation: 'tanh', seed: 1 });
  const decoder = mlp([16, 64], { seed: 2 });
  const ae = new Autoencoder({ encoder, decoder, loss: 'mse', optimizer: { type: 'adam', lr: 1e-3 } });
  const x = data(256 * 64, 3);
  await measureThreads('ae', () => ae.trainStep(x), { inner: 200 });
  // Memory growth over 10,000 steps after the first (the first already ran in the warm-up).
  const before = memoryStats();
  for (let i = 0; i < 10_000; i++) ae.trainStep(x);
  const after = memoryStats();
  out.memoryGrowthBytes = after.memoryBytes - before.memoryBytes;
  out.liveAllocationGrowth = after.liveAllocations - before.liveAllocations;
}

// gan64, gan256: one iteration, k = 1.
for (const m of [64, 256]) await measureThreads(`gan${m}`, ganStep(m), { inner: m === 64 ? 10 : 4 });

// ae784: 784-512-128-32-128-512-784 ReLU, sigmoid output, MSE, Adam, batch 128.
await measureThreads('ae784', ae784Step(), { inner: 10 });

// dcgan: one Algorithm-1 iteration (k = 1) of the DCGAN on batches of 64; then its memory growth
// over 200 iterations after the first.
{
  const step = dcganStep(64);
  await measureThreads('dcgan', step, { inner: 2, warmupMs: 2000 });
  const before = memoryStats();
  for (let i = 0; i < 200; i++) step();
  const after = memoryStats();
  out.dcganMemoryGrowthBytes = after.memoryBytes - before.memoryBytes;
  out.dcganLiveAllocationGrowth = after.liveAllocations - before.liveAllocations;
  out.dcganConvMacs = dcganConvMacs(64);
}

// The DCGAN's largest convolution (D's 64 → 128 channels, 4×4, stride 2, on 14×14 images, batch
// 64) as a layer on one thread: forward (patches, GEMM, back to NCHW) and backward (the weight and
// the input gradient, the patches' gradient summed back): 3 GEMMs of 3136×1024×128.
{
  setThreads(1);
  const s = stack([64, 14, 14], [conv2d(128, { kernel: 4, stride: 2, padding: 1, activation: { type: 'leaky-relu', alpha: 0.2 } })], { seed: 1 });
  const x = s.inputBlock(64);
  x.write(data(64 * 64 * 196, 11));
  const dx = heap.alloc(64 * 64 * 196, 'dx');
  s.forward(x.ptr, 64, true);
  heap.f32.set(data(64 * 128 * 49, 12), s.outputGradPtr >>> 2);
  const t = await measure(() => {
    s.forward(x.ptr, 64, true);
    s.backward(64, dx.ptr, true);
  }, { inner: 5 });
  const flops = 3 * 2 * 3136 * 1024 * 128;
  out.workloads['conv-passes'] = { median: flops / t.median / 1e6, min: flops / t.max / 1e6, max: flops / t.min / 1e6, unit: 'GFLOP/s' };
}

// GEMM layouts at X[256×784], W[784×512].
{
  const { m, k, n } = GEMM;
  const x = heap.alloc(m * k, 'x'), w = heap.alloc(k * n, 'w'), dy = heap.alloc(m * n, 'dy'), c = heap.alloc(Math.max(m * n, m * k, k * n), 'c');
  x.write(data(m * k, 7));
  w.write(data(k * n, 8));
  dy.write(data(m * n, 9));
  const flops = 2 * m * k * n;
  const layouts = { 'gemm-NN': [0, x, w], 'gemm-NT': [1, dy, w], 'gemm-TN': [2, x, dy] };
  for (const [name, [layout, a, b]] of Object.entries(layouts)) {
    const t = await measure(() => K.gemm(layout, m, k, n, a.ptr, b.ptr, c.ptr, 0), { inner: 20 });
    out.workloads[name] = { median: flops / t.median / 1e6, min: flops / t.max / 1e6, max: flops / t.min / 1e6, unit: 'GFLOP/s' };
  }
}

// pca: 32 components of 10,000×784 MNIST images.
{
  const { x } = loadMnist('train', { limit: 10_000 });
  await measureThreads('pca', () => PCA.fit(x, { components: 32 }).dispose(), { warmupMs: 1000, inner: 1, reps: 7 });
}

out.simd = await measureCeiling();
// The micro-kernel's own loop with its operands in L1: this tier's kernel with nothing around it.
out.tileLoop = await measureTileLoop({ fma: fast });
// A property of the machine, not the tier: measured once per round, in the exact tier's process.
if (!fast) out.twoCores = { copy: await measureTwoCores('copy'), gemm: await measureTwoCores('gemm') };
if (fast) out.simdFma = await measureCeiling({ fma: true });
console.log(JSON.stringify(out));
