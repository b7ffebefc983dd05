// TensorFlow.js 4.22 side of the suite, written the idiomatic way for a custom
// training loop (layers models + optimizer.minimize, as the official GAN example
// does). Usage: node bench/tfjs.mjs cpu|wasm — prints one JSON object.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { GAN_SIZES, GEMM, data, measure } from './timing.mjs';

const backend = process.argv[2];
if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
await tf.setBackend(backend);
await tf.ready();
const out = { backend: tf.getBackend(), workloads: {} };

function dense(sizes, hidden, output) {
  const model = tfl.sequential();
  for (let i = 1; i < sizes.length; i++) {
    const last = i === sizes.length - 1;
    const act = last ? output : hidden;
    model.add(tfl.layers.dense({ units: sizes[i], inputShape: i === 1 ? [sizes[0]] : undefined, activation: act === 'leaky' ? 'linear' : act }));
    if (act === 'leaky') model.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  }
  return model;
}

// ae
{
  const enc = dense([64, 16], 'tanh', 'tanh');
  const dec = dense([16, 64], 'linear', 'linear');
  const opt = tf.train.adam(1e-3);
  const x = tf.tensor2d(data(256 * 64, 3), [256, 64]);
  out.workloads.ae = await measure(() => {
    const loss = opt.minimize(() => tf.losses.meanSquaredError(x, dec.apply(enc.apply(x))), true);
    loss.dataSync();
    loss.dispose();
  }, { inner: 50 });
}

// gan64, gan256
for (const m of [64, 256]) {
  const G = dense(GAN_SIZES.g, 'leaky', 'tanh');
  const D = dense(GAN_SIZES.d, 'leaky', 'linear');
  const optD = tf.train.adam(2e-4, 0.5);
  const optG = tf.train.adam(2e-4, 0.5);
  const real = tf.tensor2d(data(m * 784, 5), [m, 784]);
  const ones = tf.ones([m, 1]);
  const zeros = tf.zeros([m, 1]);
  const dVars = () => D.trainableWeights.map((w) => w.val);
  const gVars = () => G.trainableWeights.map((w) => w.val);
  out.workloads[`gan${m}`] = await measure(() => {
    const lossD = optD.minimize(() => {
      const z = tf.randomNormal([m, 100]);
      const fake = G.apply(z);
      return tf.add(tf.losses.sigmoidCrossEntropy(ones, D.apply(real)), tf.losses.sigmoidCrossEntropy(zeros, D.apply(fake)));
    }, true, dVars());
    const lossG = optG.minimize(() => tf.losses.sigmoidCrossEntropy(ones, D.apply(G.apply(tf.randomNormal([m, 100])))), true, gVars());
    lossD.dataSync();
    lossG.dataSync();
    lossD.dispose();
    lossG.dispose();
  }, { inner: m === 64 ? 3 : 2, reps: 5, warmupMs: 2000 });
}

// GEMM layouts
{
  const { m, k, n } = GEMM;
  const x = tf.tensor2d(data(m * k, 7), [m, k]);
  const w = tf.tensor2d(data(k * n, 8), [k, n]);
  const dy = tf.tensor2d(data(m * n, 9), [m, n]);
  const flops = 2 * m * k * n;
  const layouts = { 'gemm-NN': () => tf.matMul(x, w), 'gemm-NT': () => tf.matMul(dy, w, false, true), 'gemm-TN': () => tf.matMul(x, dy, true, false) };
  for (const [name, f] of Object.entries(layouts)) {
    const t = await measure(() => {
      const c = f();
      c.dataSync();
      c.dispose();
    }, { inner: backend === 'cpu' ? 2 : 5 });
    out.workloads[name] = { median: flops / t.median / 1e6, min: flops / t.max / 1e6, max: flops / t.min / 1e6, unit: 'GFLOP/s' };
  }
}
console.log(JSON.stringify(out));
