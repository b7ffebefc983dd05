// The deep autoencoder of Hinton & Salakhutdinov (Science, 2006) on MNIST: 784-1000-500-250-30
// with a mirrored decoder, trained from random initialisation with what a user has today (leaky
// ReLU with slope 0.2, a linear 30-number code, logistic output units with the cross-entropy
// loss, AdamW (decoupled weight decay 0.05) whose learning rate follows a cosine to zero, batch
// 128) instead of their RBM pretraining. Reported as they report it: the average squared
// reconstruction error per test image (their figure 2: autoencoder 3.00, logistic PCA 8.01,
// PCA 13.87), beside latentkit's PCA with 30 components;
// examples/out/deep-autoencoder-curve.svg plots the test error per epoch.
// Leaky units and weight decay were chosen by 8-epoch trials (see the README); 74 epochs fill the
// 30-minute budget on 2 cores.
//   node examples/deep-autoencoder.mjs [--epochs 74] [--lr 0.001] [--batch 128] [--slope 0.2 (0: ReLU)] [--weight-decay 0.05 (0: Adam)] [--threads N]
import { Autoencoder, PCA, grayToBytes, imageGrid, mlp } from 'latentkit';
import { lineSpec, writeChart } from './charts.mjs';
import { argFlag, table, upscale, writeOutputs } from './common.mjs';
import { loadMnist } from './mnist.mjs';

const SIZES = [784, 1000, 500, 250, 30];
const EPOCHS = 74;
const BATCH = 128;
const SLOPE = 0.2;
const WEIGHT_DECAY = 0.05;

/** Σ over pixels of (x − x̂)², averaged over the images. */
function squaredErrorPerImage(x, rec) {
  let s = 0;
  for (let i = 0; i < x.data.length; i++) s += (x.data[i] - rec.data[i]) ** 2;
  return s / x.shape[0];
}

export function runDeepAutoencoder({ epochs = EPOCHS, lr = 1e-3, batchSize = BATCH, slope = SLOPE, weightDecay = WEIGHT_DECAY, trainRows = 60_000, testRows = 10_000, seed = 1, log = console.log } = {}) {
  const train = loadMnist('train', { limit: trainRows });
  const test = loadMnist('test', { limit: testRows });
  const t0 = performance.now();
  const activation = slope > 0 ? { type: 'leaky-relu', alpha: slope } : 'relu';
  const encoder = mlp(SIZES, { activation, outputActivation: 'linear', seed });
  const decoder = mlp([...SIZES].reverse(), { activation, outputActivation: 'linear', seed: seed + 1 });
  const ae = new Autoencoder({ encoder, decoder, loss: 'bce-with-logits', optimizer: weightDecay > 0 ? { type: 'adamw', lr, weightDecay } : { type: 'adam', lr }, seed: seed + 2 });
  const curve = [];
  for (let e = 0; e < epochs; e++) {
    // Cosine decay, set before each epoch.
    ae.optimizer.lr = Math.max(1e-9, lr * 0.5 * (1 + Math.cos((Math.PI * e) / epochs)));
    const h = ae.fit(train.x, { epochs: 1, batchSize });
    const testError = squaredErrorPerImage(test.x, ae.reconstruct(test.x));
    curve.push({ epoch: e + 1, trainLoss: h.loss[0], testSquaredErrorPerImage: testError });
    log(`epoch ${e + 1}/${epochs}: train cross-entropy ${h.loss[0].toFixed(4)}, test squared error per image ${testError.toFixed(3)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  const aeRec = ae.reconstruct(test.x);
  const trainSample = { data: train.x.data.subarray(0, test.x.data.length), shape: test.x.shape };
  const pca = PCA.fit(train.x, { components: 30 });
  const pcaRec = pca.inverseTransform(pca.transform(test.x));
  const result = {
    aeSquaredErrorPerImage: squaredErrorPerImage(test.x, aeRec),
    pcaSquaredErrorPerImage: squaredErrorPerImage(test.x, pcaRec),
    // The same measure on training images the AE learned from: the gap is what it overfits.
    aeTrainSquaredErrorPerImage: squaredErrorPerImage(trainSample, ae.reconstruct(trainSample)),
    seconds: (performance.now() - t0) / 1000,
    epochs, lr, batchSize, leakySlope: slope, weightDecay, trainRows: train.x.shape[0], testRows: test.x.shape[0], curve,
    paper: { autoencoder: 3.0, logisticPca: 8.01, pca: 13.87 },
  };
  const digits = (m) => Array.from({ length: 10 }, (_, i) => ({ data: m.data.subarray(i * 784, (i + 1) * 784), width: 28, height: 28 }));
  const grid = upscale(imageGrid([...digits(test.x), ...digits(aeRec), ...digits(pcaRec)], 10, 2, 1), 2);
  ae.dispose();
  encoder.dispose();
  decoder.dispose();
  pca.dispose();
  return { result, grid };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { result, grid } = runDeepAutoencoder({ epochs: argFlag('epochs', EPOCHS), lr: argFlag('lr', 1e-3), batchSize: argFlag('batch', BATCH), slope: argFlag('slope', SLOPE), weightDecay: argFlag('weight-decay', WEIGHT_DECAY) });
  table([
    { model: 'deep autoencoder 784-1000-500-250-30 (latentkit)', 'squared error per test image': result.aeSquaredErrorPerImage, paper: 3.0 },
    { model: 'PCA, 30 components (latentkit)', 'squared error per test image': result.pcaSquaredErrorPerImage, paper: 13.87 },
  ]);
  console.log(`target: ≤ 3.00 per test image in ≤ 30 minutes; took ${(result.seconds / 60).toFixed(1)} minutes`);
  console.log('image rows: test digits, autoencoder reconstructions, PCA-30 reconstructions');
  writeOutputs('deep-autoencoder', result, { pixels: grayToBytes(grid), width: grid.width, height: grid.height, channels: 1 });
  const flat = (y) => [{ x: 1, y }, { x: result.epochs, y }];
  await writeChart('deep-autoencoder-curve', lineSpec({
    title: 'Deep autoencoder 784-1000-500-250-30 on MNIST: squared error per test image',
    xTitle: 'epoch', yTitle: 'squared error per test image (log scale)', yScale: { type: 'log' },
    series: {
      'autoencoder (latentkit)': result.curve.map((c) => ({ x: c.epoch, y: c.testSquaredErrorPerImage })),
      'PCA, 30 components (latentkit)': flat(result.pcaSquaredErrorPerImage),
    },
    target: { value: 3.0, label: 'target and paper: 3.00' },
  }));
}
