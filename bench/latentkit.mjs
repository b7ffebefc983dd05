// latentkit's side of the benchmark suite; prints one JSON object.
import { GAN, Autoencoder, PCA, internal, memoryStats, mlp } from 'latentkit';
import { loadMnist } from '../examples/mnist.mjs';
import { measureCeiling } from './ceiling.mjs';
import { GAN_SIZES, GEMM, data, measure } from './timing.mjs';

const out = { workloads: {} };
const { kernels: K, heap } = internal;

// ae: 64-16-64, tanh code, linear output, MSE, Adam, batch 256.
{
  const encoder = mlp([64, 16], { outputActivation: 'tanh', seed: 1 });
  const decoder = mlp([16, 64], { seed: 2 });
  const ae = new Autoencoder({ encoder, decoder, loss: 'mse', optimizer: { type: 'adam', lr: 1e-3 } });
  const x = data(256 * 64, 3);
  out.workloads.ae = await measure(() => ae.trainStep(x), { inner: 200 });
  // Memory growth over 10,000 steps after the first (the first already ran in the warm-up).
  const before = memoryStats();
  for (let i = 0; i < 10_000; i++) ae.trainStep(x);
  const after = memoryStats();
  out.memoryGrowthBytes = after.memoryBytes - before.memoryBytes;
  out.liveAllocationGrowth = after.liveAllocations - before.liveAllocations;
}

// gan64, gan256: one iteration, k = 1.
for (const m of [64, 256]) {
  const leaky = { type: 'leaky-relu', alpha: 0.2 };
  const G = mlp(GAN_SIZES.g, { activation: leaky, outputActivation: 'tanh', seed: 1 });
  const D = mlp(GAN_SIZES.d, { activation: leaky, seed: 2 });
  const gan = new GAN({ generator: G, discriminator: D, noise: { dim: 100 }, batchSize: m, optimizerD: { type: 'adam', lr: 2e-4, beta1: 0.5 }, optimizerG: { type: 'adam', lr: 2e-4, beta1: 0.5 } });
  const real = data(m * 4 * 784, 5);
  out.workloads[`gan${m}`] = await measure(() => gan.fit(real, { iterations: 1 }), { inner: m === 64 ? 10 : 4 });
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
    const t = await measure(() => K.lk_gemm(layout, m, k, n, a.ptr, b.ptr, c.ptr, 0), { inner: 20 });
    out.workloads[name] = { median: flops / t.median / 1e6, min: flops / t.max / 1e6, max: flops / t.min / 1e6, unit: 'GFLOP/s' };
  }
}

// pca: 32 components of 10,000×784 MNIST images.
{
  const { x } = loadMnist('train', { limit: 10_000 });
  out.workloads.pca = await measure(() => PCA.fit(x, { components: 32 }).dispose(), { warmupMs: 1000, inner: 1 });
}

out.simd = await measureCeiling();
console.log(JSON.stringify(out));
