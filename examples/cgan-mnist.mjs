// A conditional GAN on MNIST (Mirza & Osindero 2014): the gan-mnist recipe with a one-hot digit
// appended to the generator's noise and to the discriminator's input: generator 110-256-512-784,
// discriminator 794-512-256-1 (leaky ReLU 0.2, dropout 0.3), Adam(2e-4, β1 = 0.5), batch 64,
// non-saturating loss, label smoothing 0.1, Glorot-uniform init, sampled from the generator's
// moving average. Scored by the gan-mnist feature classifier: the share of samples asked for
// each digit that it reads as that digit, and the Fréchet distance of samples conditioned on the
// test labels to the test images, beside the PCA-Gaussian baseline; and the Parzen-window
// log-likelihood of the test images under 10,000 samples (1,000 per digit), σ chosen on the last
// 1,000 training images, held out from training (Mirza & Osindero report 132 ± 1.8).
//   node examples/cgan-mnist.mjs [--iterations 40000] [--ema 0.999] [--train 60000] [--threads N]
import { GAN, grayToBytes, imageGrid, mlp, parzenWindow } from 'latentkit';
import { lineSpec, writeChart } from './charts.mjs';
import { argFlag, table, upscale, writeOutputs } from './common.mjs';
import { mnistScores, toSigned, toUnit } from './mnist-scores.mjs';
import { loadMnist } from './mnist.mjs';

const iterations = argFlag('iterations', 40_000);
const emaDecay = argFlag('ema', 0.999);
const seed = argFlag('seed', 1);
const checkpointEvery = argFlag('checkpoint-every', 1000);
const PER_CLASS = 1000;
const t0 = performance.now();

const HELD_OUT = 1000;
const all = loadMnist('train', { limit: argFlag('train', 60_000) });
const test = loadMnist('test');
const rows = all.x.shape[0] - HELD_OUT;
const heldOut = { data: all.x.data.slice(rows * 784), shape: [HELD_OUT, 784] };
const train = { x: { data: all.x.data.subarray(0, rows * 784), shape: [rows, 784] }, labels: all.labels.subarray(0, rows) };
const trainX = toSigned(train.x);
const testX = toSigned(test.x);
const { accuracy, distanceTo, baselines, predict } = mnistScores({ trainX, trainLabels: train.labels, testX, testLabels: test.labels, seed });

const leaky = { type: 'leaky-relu', alpha: 0.2 };
const init = 'glorot-uniform';
const gan = new GAN({
  generator: mlp([100 + 10, 256, 512, 784], { activation: leaky, outputActivation: 'tanh', init, seed }),
  discriminator: mlp([784 + 10, 512, 256, 1], { activation: leaky, outputActivation: 'linear', init, dropout: 0.3, seed: seed + 1 }),
  conditions: 10, noise: { dim: 100 }, k: 1, batchSize: 64, generatorLoss: 'non-saturating', labelSmoothing: 0.1,
  optimizerD: { type: 'adam', lr: 2e-4, beta1: 0.5 }, optimizerG: { type: 'adam', lr: 2e-4, beta1: 0.5 }, seed: seed + 2,
  ...(emaDecay > 0 && { ema: { decay: emaDecay } }),
});

const perDigit = Int32Array.from({ length: 10 * PER_CLASS }, (_, i) => Math.floor(i / PER_CLASS));
const samplesPerDigit = (raw = false) => ({ data: gan.sample(perDigit.length, { seed: 555, labels: perDigit, raw }), shape: [perDigit.length, 784] });
/** PER_CLASS samples of each digit: the share the feature classifier reads as the digit asked for. */
function classAccuracy(raw = false) {
  const predicted = predict(samplesPerDigit(raw));
  return Array.from({ length: 10 }, (_, c) => predicted.subarray(c * PER_CLASS, (c + 1) * PER_CLASS).filter((p) => p === c).length / PER_CLASS);
}
/** Samples conditioned on the test set's own labels, against the test images. */
const frechetOf = (raw = false) => distanceTo({ data: gan.sample(test.labels.length, { seed: 777, labels: test.labels, raw }), shape: [test.labels.length, 784] });
const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;

const checkpoints = [];
gan.fit(trainX, {
  iterations, labels: train.labels,
  onStep: (s) => {
    if (s.iteration % checkpointEvery !== 0) return;
    const acc = classAccuracy();
    const point = { iteration: s.iteration, frechetRatio: frechetOf() / baselines.pcaGaussian, meanClassAccuracy: mean(acc), minClassAccuracy: Math.min(...acc) };
    checkpoints.push(point);
    console.log(`iteration ${s.iteration} (${(s.iteration / ((performance.now() - t0) / 1000)).toFixed(0)} it/s): Fréchet ratio ${point.frechetRatio.toFixed(3)}, class accuracy mean ${(100 * point.meanClassAccuracy).toFixed(1)}% min ${(100 * point.minClassAccuracy).toFixed(1)}%`);
  },
});

const perClass = classAccuracy();
const perClassRaw = classAccuracy(true);
const frechet = { gan: frechetOf(), ganRawGenerator: frechetOf(true), ...baselines };
const parzen = parzenWindow(toUnit(samplesPerDigit()), { validation: heldOut, test: test.x });
table(perClass.map((a, c) => ({ digit: c, 'read as asked (average generator)': a, 'raw generator': perClassRaw[c] })));
console.log(`class accuracy: mean ${(100 * mean(perClass)).toFixed(2)}% (target ≥ 95%), lowest ${(100 * Math.min(...perClass)).toFixed(1)}% (target every class ≥ 85%); raw generator mean ${(100 * mean(perClassRaw)).toFixed(2)}%`);
console.log(`Parzen-window log-likelihood of the test set: ${parzen.logLikelihood.toFixed(1)} ± ${parzen.stderr.toFixed(1)} (σ ${parzen.sigma.toFixed(3)}; Mirza & Osindero 2014: 132 ± 1.8)`);
console.log(`Fréchet distance ${frechet.gan.toFixed(2)} vs PCA-Gaussian ${frechet.pcaGaussian.toFixed(2)}: ratio ${(frechet.gan / frechet.pcaGaussian).toFixed(3)} (target ≤ 0.25); raw generator ${(frechet.ganRawGenerator / frechet.pcaGaussian).toFixed(3)}`);

// A 10 × 10 grid, one row per digit.
const rowsOfDigits = Int32Array.from({ length: 100 }, (_, i) => Math.floor(i / 10));
const s = gan.sample(100, { seed: 12345, labels: rowsOfDigits });
const g = upscale(imageGrid(Array.from({ length: 100 }, (_, i) => ({ data: s.subarray(i * 784, (i + 1) * 784), width: 28, height: 28 })), 10, 2, -1), 2);
const seconds = (performance.now() - t0) / 1000;
writeOutputs('cgan-mnist', {
  classAccuracy: perClass, meanClassAccuracy: mean(perClass), classAccuracyRawGenerator: perClassRaw,
  frechet, ratio: frechet.gan / frechet.pcaGaussian, classifierAccuracy: accuracy,
  parzen: { logLikelihood: parzen.logLikelihood, stderr: parzen.stderr, sigma: parzen.sigma },
  iterations: gan.iterations, ema: emaDecay > 0 ? emaDecay : null, trainImages: rows, heldOutImages: HELD_OUT, checkpoints, seconds,
}, { pixels: grayToBytes(g, -1, 1), width: g.width, height: g.height, channels: 1 });
if (checkpoints.length) {
  await writeChart('cgan-mnist-checkpoints', {
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
    vconcat: [
      lineSpec({ title: 'Conditional GAN on MNIST: Fréchet ratio (÷ PCA-Gaussian)', xTitle: 'iteration', yTitle: 'Fréchet ratio (log scale)', yScale: { type: 'log' }, series: { 'sample()': checkpoints.map((c) => ({ x: c.iteration, y: c.frechetRatio })) }, target: { value: 0.25, label: 'target 0.25' } }),
      lineSpec({
        title: 'Share of samples the classifier reads as the digit asked for', xTitle: 'iteration', yTitle: 'class accuracy',
        series: { mean: checkpoints.map((c) => ({ x: c.iteration, y: c.meanClassAccuracy })), 'lowest class': checkpoints.map((c) => ({ x: c.iteration, y: c.minClassAccuracy })) },
        target: { value: 0.95, label: 'target mean 0.95' },
      }),
    ],
  });
}
console.log(`${gan.iterations} iterations in ${seconds.toFixed(0)} s`);
