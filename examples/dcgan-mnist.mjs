// A DCGAN on MNIST: Radford et al. (2016)'s recipe scaled to 28 × 28 (latentkit's dcgan([1, 28, 28]),
// the architecture PyTorch's DCGAN example builds for 64 × 64, two stages instead of four) —
// transposed convolutions with batch norm and ReLU in the generator, strided convolutions with
// leaky ReLU 0.2 (batch norm after all but the first) in the discriminator, tanh output,
// Adam(2e-4, β1 = 0.5) for both, batches of 64 — plus the generator's moving average (decay 0.999)
// that sample() draws from, as gan-mnist. Weights start from latentkit's defaults (He for the ReLU
// family, Glorot otherwise).
//   G: z(100) → dense 2w·7·7 → batch norm, ReLU → convT 2w→w (4×4, stride 2) → batch norm, ReLU → convT w→1 (4×4, stride 2) → tanh
//   D: conv 1→w (4×4, stride 2) → leaky ReLU → conv w→2w (4×4, stride 2) → batch norm, leaky ReLU → dense 1
// w = 32 by default: a third of the time per iteration of w = 64 (66.5 against 219.9 ms on 2 threads
// of the Xeon this was measured on), so the 30-minute budget holds 22,000 iterations instead of
// 7,000 — and in runs side by side the Fréchet distance per iteration was close (raw generator at
// 1,000 / 3,000 / 5,000 iterations: 80 / 65 / 52 with w = 32, 88 / 51 / 47 with w = 64). One-sided
// label smoothing 0.1 and N(0, 0.1²) instance noise on D's input changed it by less than that spread.
// Dropout 0.3 after each of D's stages (as gan-mnist's dense D) is the default: over the full run it
// gave a Fréchet distance of 24.51 against 36.94 without, lower at every checkpoint, and a rarest
// digit of 6.3% against 3.8% (--dropout 0 is Radford's recipe as published).
// Scored like gan-mnist: the Fréchet distance in the penultimate features of the same latentkit
// MNIST classifier (examples/mnist-scores.mjs) every --checkpoint-every iterations, and the class
// shares of 10,000 samples. fdDense is the dense gan-mnist recipe's distance in that same
// classifier, read from examples/out/gan-mnist.json (run `npm run example:gan-mnist` first; the
// classifier is trained from the same seed on the same images, on the exact tier: the same bits).
//   node examples/dcgan-mnist.mjs [--iterations 22000] [--width 32] [--dropout 0.3] [--ema 0.999] [--checkpoint-every 1000] [--train N] [--test N] [--threads N]
//   node examples/dcgan-mnist.mjs --score-samples FILE: scores 10,000 samples written as float32 rows in
//     [−1, 1] (the PyTorch peer, examples/dcgan-mnist-torch.py) in the same classifier, and trains nothing
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { join } from 'node:path';
import { GAN, dcgan, grayToBytes, imageGrid, stack } from 'latentkit';
import { lineSpec, writeChart } from './charts.mjs';
import { argFlag, outDir, table, upscale, writeOutputs } from './common.mjs';
import { mnistScores, toSigned } from './mnist-scores.mjs';
import { loadMnist } from './mnist.mjs';

const maxIterations = argFlag('iterations', 22_000);
const minutes = argFlag('minutes', Infinity);
const emaDecay = argFlag('ema', 0.999);
const checkpointEvery = argFlag('checkpoint-every', 1000);
const name = process.env.DCGAN_MNIST_NAME ?? 'dcgan-mnist';
const seed = argFlag('seed', 1);
const width = argFlag('width', 32);
const dropout = argFlag('dropout', 0.3);
const HELD_OUT = 1000; // as gan-mnist: the classifier and the baselines see the same 59,000 training images
const train = loadMnist('train', { limit: argFlag('train', 60_000) });
const test = loadMnist('test', { limit: argFlag('test', 10_000) });
const trainRows = train.x.shape[0] - Math.min(HELD_OUT, train.x.shape[0] >> 1);
const trainX = toSigned({ data: train.x.data.subarray(0, trainRows * 784), shape: [trainRows, 784] });
const trainLabels = train.labels.subarray(0, trainRows);
const testX = toSigned(test.x);
const samples = Math.min(10_000, testX.shape[0]);

const { accuracy, score, distanceTo, baselines } = mnistScores({ trainX, trainLabels, testX, testLabels: test.labels, seed });

const scoring = process.argv.indexOf('--score-samples');
if (scoring >= 0) {
  const file = process.argv[scoring + 1];
  const bytes = readFileSync(file);
  if (bytes.length % (4 * 784) !== 0) throw new Error(`${file}: ${bytes.length} bytes is not a whole number of float32 rows of 784 values`);
  const rows = { data: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4), shape: [bytes.length / (4 * 784), 784] };
  const shares = score.classHistogram(rows);
  const fdSamples = distanceTo(rows);
  console.log(`${basename(file)}: ${rows.shape[0]} samples, Fréchet distance ${fdSamples.toFixed(3)}; class shares ${shares.map((f) => (100 * f).toFixed(1) + '%').join(' ')} (classifier accuracy ${(100 * accuracy).toFixed(2)}%)`);
  writeOutputs(`${name}-scored`, { file: basename(file), samples: rows.shape[0], fd: fdSamples, minClassShare: Math.min(...shares), classHistogram: shares, baselines, classifierAccuracy: accuracy });
  process.exit(0);
}

const { generator: g, discriminator: d } = dcgan([1, 28, 28], { width, dropout });
const generator = stack(g.input, g.layers, { seed });
const discriminator = stack(d.input, d.layers, { seed: seed + 1 });
const gan = new GAN({
  generator, discriminator, noise: { dim: 100, distribution: 'normal' }, batchSize: 64, generatorLoss: 'non-saturating',
  optimizerD: { type: 'adam', lr: 2e-4, beta1: 0.5 }, optimizerG: { type: 'adam', lr: 2e-4, beta1: 0.5 }, seed: seed + 2,
  ...(emaDecay > 0 && { ema: { decay: emaDecay } }),
});
console.log(`generator:\n  ${generator.summary().join('\n  ')}\ndiscriminator:\n  ${discriminator.summary().join('\n  ')}\n${maxIterations} iterations of batches of 64 on ${trainRows} images`);

const samplesOf = (raw = false) => ({ data: gan.sample(samples, { seed: 777, raw }), shape: [samples, 784] });
const grid = () => {
  const s = gan.sample(100, { seed: 12345 });
  const images = Array.from({ length: 100 }, (_, i) => ({ data: s.subarray(i * 784, (i + 1) * 784), width: 28, height: 28 }));
  const g = upscale(imageGrid(images, 10, 2, 1), 2);
  return { pixels: grayToBytes(g, -1, 1), width: g.width, height: g.height, channels: 1 };
};

const deadline = performance.now() + minutes * 60_000;
const t0 = performance.now();
const controller = new AbortController();
const checkpoints = [];
let trainSeconds = 0;
gan.fit(trainX, {
  iterations: maxIterations,
  signal: controller.signal,
  onStep: (s) => {
    if (performance.now() > deadline) controller.abort();
    if (s.iteration % 250 === 0) {
      const rate = s.iteration / ((performance.now() - t0) / 1000);
      console.log(`iteration ${s.iteration} (${rate.toFixed(1)} it/s): lossD ${s.lossD.toFixed(3)} lossG ${s.lossG.toFixed(3)} D(x) ${s.dReal.toFixed(3)} D(G(z)) ${s.dFake.toFixed(3)}`);
    }
    if (s.iteration % checkpointEvery === 0) {
      const t = performance.now();
      const point = { iteration: s.iteration, fd: distanceTo(samplesOf()), fdRaw: distanceTo(samplesOf(true)) };
      checkpoints.push(point);
      console.log(`iteration ${s.iteration}: Fréchet distance ${point.fd.toFixed(3)} (raw generator ${point.fdRaw.toFixed(3)}), scored in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }
  },
});
const iterations = gan.iterations;
const fake = samplesOf();
const fd = distanceTo(fake);
const fdRaw = distanceTo(samplesOf(true));
const classHistogram = score.classHistogram(fake);
const minClassShare = Math.min(...classHistogram);
const seconds = (performance.now() - t0) / 1000;

// The dense recipe's distance in the same classifier, from its own run on this machine.
const densePath = join(outDir, 'gan-mnist.json');
let fdDense = null;
if (existsSync(densePath)) {
  const dense = JSON.parse(readFileSync(densePath, 'utf8'));
  // The same classifier only if it scored the same test accuracy on the same images.
  if (dense.classifierAccuracy === accuracy) fdDense = dense.frechet.gan;
  else console.log(`${densePath} was scored by another classifier (accuracy ${dense.classifierAccuracy} against ${accuracy}): not compared`);
} else {
  console.log(`no ${densePath}: run \`npm run example:gan-mnist\` for the dense recipe's distance (fdDense is null)`);
}
table([
  { 'sample set (vs the test images)': 'DCGAN (sample(): the moving average)', 'Fréchet distance': fd },
  { 'sample set (vs the test images)': 'DCGAN, the raw generator', 'Fréchet distance': fdRaw },
  ...(fdDense !== null ? [{ 'sample set (vs the test images)': 'dense gan-mnist recipe (its JSON)', 'Fréchet distance': fdDense }] : []),
  ...Object.entries(baselines).map(([set, v]) => ({ 'sample set (vs the test images)': set, 'Fréchet distance': v })),
]);
console.log(`${iterations} iterations in ${seconds.toFixed(0)} s; FD ${fd.toFixed(3)}${fdDense !== null ? ` = ${(fd / fdDense).toFixed(3)} × the dense recipe's ${fdDense.toFixed(3)} (target ≤ 0.5)` : ''}`);
console.log(`class shares of ${samples} samples: ${classHistogram.map((f) => (100 * f).toFixed(1) + '%').join(' ')} (target: every digit ≥ 8%)`);
writeOutputs(name, {
  fd, fdRaw, fdDense, ratioToDense: fdDense !== null ? fd / fdDense : null, minClassShare, classHistogram,
  iterations, seconds, ema: emaDecay > 0 ? emaDecay : null, classifierAccuracy: accuracy, baselines, checkpoints,
  width, generator: generator.summary(), discriminator: discriminator.summary(),
}, grid());
if (checkpoints.length) {
  await writeChart(`${name}-frechet`, lineSpec({
    title: 'DCGAN on MNIST: Fréchet distance to the test set in the classifier\'s features',
    xTitle: 'iteration', yTitle: 'Fréchet distance (lower is better)',
    series: {
      'sample(): moving average': checkpoints.map((c) => ({ x: c.iteration, y: c.fd })),
      'the raw generator': checkpoints.map((c) => ({ x: c.iteration, y: c.fdRaw })),
    },
    ...(fdDense !== null && { target: { value: fdDense / 2, label: `target: half the dense recipe's ${fdDense.toFixed(2)}` } }),
  }));
}
