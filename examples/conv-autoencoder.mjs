// A convolutional autoencoder on MNIST beside the dense reduction recipe (784-512-128-k, the
// reduction example's) and PCA, at codes of k = 2, 8 and 32 numbers: test MSE per pixel on the
// 10,000 test images. The convolutional one is latentkit's default for 28 × 28 images
// (convAutoencoder): conv 32 and 64 (4 × 4, stride 2, batch norm, ReLU) → dense 256 (ReLU) →
// dense k, mirrored by a dense decoder to 64 × 7 × 7 and transposed convolutions to pixel logits,
// trained with the cross-entropy on the logits (bce-with-logits; the MSE is of the sigmoid's
// pixels); Adam 1e-3 on batches of 128 as the dense recipe, for --epochs passes (10: the dense
// recipe's 6 and the three codes' 10 fit in 20 minutes on 2 cores).
// Measured beside it, 3 epochs on 10,000 images at k = 8 (test MSE on 1,000): without the dense
// 256 layers 0.0356 (MSE loss) and 0.0340 (cross-entropy); with them 0.0274 and 0.0255. On all
// 60,000 images at k = 8 (1 thread each, side by side), test MSE after epochs 6, 8, 10: without
// batch norm 0.0154, 0.0150, 0.0146; with it 0.0142, 0.0139, 0.0134. The first full run, without
// the dense layers or batch norm (8 epochs, MSE loss): 0.0453 / 0.0189 / 0.0053 at k = 2 / 8 / 32,
// against the dense recipe's 0.0391 / 0.0170 / 0.0068.
//   node examples/conv-autoencoder.mjs [--epochs 10] [--dense-epochs 6] [--train N] [--test N] [--codes 2,8,32] [--threads N]
import { Autoencoder, convAutoencoder, grayToBytes, imageGrid, stack } from 'latentkit';
import { argFlag, argList, table, upscale, writeOutputs } from './common.mjs';
import { loadMnist } from './mnist.mjs';
import { runReduction } from './reduction.mjs';

const epochs = argFlag('epochs', 10);
const denseEpochs = argFlag('dense-epochs', 6);
const trainRows = argFlag('train', 60_000);
const testRows = argFlag('test', 10_000);
const codes = argList('codes', [2, 8, 32]);
const seed = argFlag('seed', 1);
const t0 = performance.now();

// The dense recipe and PCA, as the reduction example runs them.
const dense = runReduction({ epochs: denseEpochs, trainRows, testRows, seed, ks: codes });
const { train, test } = dense;
const denseSeconds = (performance.now() - t0) / 1000;

const mse = {};
const rows = [];
let reconstructions = null;
for (const k of codes) {
  const t = performance.now();
  const { encoder: e, decoder: d } = convAutoencoder([1, 28, 28], { code: k, output: 'linear' });
  const encoder = stack(e.input, e.layers, { seed });
  const decoder = stack(d.input, d.layers, { seed: seed + 1 });
  if (k === codes[0]) console.log(`encoder:\n  ${encoder.summary().join('\n  ')}\ndecoder:\n  ${decoder.summary().join('\n  ')}`);
  const ae = new Autoencoder({ encoder, decoder, loss: 'bce-with-logits', optimizer: { type: 'adam', lr: 1e-3 }, seed });
  ae.fit(train.x, { epochs, batchSize: 128, onEpoch: (ep, { loss }) => console.log(`conv k=${k} epoch ${ep + 1}/${epochs}: train cross-entropy ${loss.toFixed(5)} (${((performance.now() - t) / 1000).toFixed(0)} s)`) });
  mse[k] = ae.reconstructionError(test.x);
  const r = dense.results.find((x) => x.k === k);
  rows.push({ k, 'conv AE test MSE': mse[k], 'dense AE test MSE': r.aeTestMse, 'PCA test MSE': r.pcaTestMse, 'conv / dense': mse[k] / r.aeTestMse });
  if (k === codes.at(-1)) {
    // Ten test digits above their reconstructions at the largest code.
    const x = { data: test.x.data.subarray(0, 10 * 784), shape: [10, 784] };
    const rec = ae.reconstruct(x);
    const images = [...Array(10).keys()].map((i) => ({ data: x.data.subarray(i * 784, (i + 1) * 784), width: 28, height: 28 }))
      .concat([...Array(10).keys()].map((i) => ({ data: rec.data.subarray(i * 784, (i + 1) * 784), width: 28, height: 28 })));
    reconstructions = upscale(imageGrid(images, 10, 2, 1), 2);
  }
  ae.dispose();
  encoder.dispose();
  decoder.dispose();
}
const seconds = (performance.now() - t0) / 1000;
table(rows);
console.log(`targets: conv ≤ 0.8 × dense at k = 8 and 32; ${epochs} epochs (dense ${denseEpochs}) on ${train.x.shape[0]} images; ${seconds.toFixed(0)} s in all (dense and PCA ${denseSeconds.toFixed(0)} s)`);
const byCode = (f) => Object.fromEntries(codes.map((k) => [String(k), f(k)]));
writeOutputs('conv-autoencoder', {
  mse: byCode((k) => mse[k]),
  denseMse: byCode((k) => dense.results.find((x) => x.k === k).aeTestMse),
  pcaMse: byCode((k) => dense.results.find((x) => x.k === k).pcaTestMse),
  ratio: byCode((k) => mse[k] / dense.results.find((x) => x.k === k).aeTestMse),
  epochs, denseEpochs, trainImages: train.x.shape[0], testImages: test.x.shape[0], seed, seconds,
}, { pixels: grayToBytes(reconstructions), width: reconstructions.width, height: reconstructions.height, channels: 1 });
