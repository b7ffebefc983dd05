// A GAN on MNIST: generator 100-512-1024-784 (leaky ReLU 0.2, tanh output),
// discriminator 784-512-256-1 (leaky ReLU 0.2), Adam(2e-4, β1 = 0.5), batch 64,
// non-saturating loss, one-sided label smoothing 0.1, dropout 0.3 in the discriminator's hidden
// layers, Glorot-uniform initialisation. Scored by the Fréchet distance in the
// penultimate-layer features of an MNIST classifier trained here with latentkit (also every
// 1,000 iterations), and by the Parzen-window log-likelihood of Goodfellow et al. (2014).
// A fixed number of iterations by default, so every machine trains the same model bit for bit;
// --minutes M stops earlier when the time runs out.
// The generator's moving average (--ema decay, 0 = none) is scored beside the raw generator.
// Decay 0.9999 and the wider generator lifted the Parzen score from 206.9 (100-256-512-784,
// decay 0.999, same 60,000 iterations); the README's results table has both runs.
// The Parzen score is also taken every 10,000 iterations, and of 10,000 real training images.
//   node examples/gan-mnist.mjs [--iterations 60000] [--minutes M] [--ema 0.9999] [--generator 512,1024] [--parzen-every 10000] [--every 2000] [--smoothing 0.1] [--dropout 0.3] [--init 0|1] [--threads N]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GAN, grayToBytes, imageGrid, mlp, parzenWindow } from 'latentkit';
import { encodePng } from 'latentkit/png';
import { lineSpec, writeChart } from './charts.mjs';
import { argFlag, argList, outDir, table, upscale, writeOutputs } from './common.mjs';
import { mnistScores, toSigned, toUnit } from './mnist-scores.mjs';
import { loadMnist } from './mnist.mjs';

const minutes = argFlag('minutes', Infinity);
// 60,000: with the earlier, narrower generator the Parzen score still rose up to there (174.0 at 25,000, 206.9 at 60,000).
const maxIterations = argFlag('iterations', 60_000);
const checkpointEvery = 1000;
const emaDecay = argFlag('ema', 0.9999);
const every = argFlag('every', 2000);
const parzenEvery = argFlag('parzen-every', 10_000);
const generatorHidden = argList('generator', [512, 1024]);
const smoothing = argFlag('smoothing', 0.1);
const seed = argFlag('seed', 1);
const dropout = argFlag('dropout', 0.3);
const initIndex = argFlag('init', 1); // 0: He normal (latentkit's default for leaky ReLU), 1: Glorot uniform
const init = ['he-normal', 'glorot-uniform'][initIndex];
const tty = process.stdout.isTTY;

const train = loadMnist('train');
const test = loadMnist('test');
// The last 1,000 training images are held out: they choose the Parzen window's σ.
const HELD_OUT = 1000;
const trainRows = train.x.shape[0] - HELD_OUT;
const heldOut = { data: train.x.data.slice(trainRows * 784), shape: [HELD_OUT, 784] };
const trainX = toSigned({ data: train.x.data.subarray(0, trainRows * 784), shape: [trainRows, 784] });
const trainLabels = train.labels.subarray(0, trainRows);
const testX = toSigned(test.x);

// 1–2. The feature classifier on the same [−1, 1] pixels, and the baselines against the 10,000 test images.
const { accuracy, score, distanceTo: frechetDistanceTo, baselines } = mnistScores({ trainX, trainLabels, testX, testLabels: test.labels, seed });

// 3. The GAN, for the fixed number of iterations (or until --minutes runs out).
const leaky = { type: 'leaky-relu', alpha: 0.2 };
const generator = mlp([100, ...generatorHidden, 784], { activation: leaky, outputActivation: 'tanh', init, seed });
const discriminator = mlp([784, 512, 256, 1], { activation: leaky, outputActivation: 'linear', init, dropout, seed: seed + 1 });
const gan = new GAN({
  generator, discriminator, noise: { dim: 100, distribution: 'normal' }, k: 1, batchSize: 64, generatorLoss: 'non-saturating',
  optimizerD: { type: 'adam', lr: 2e-4, beta1: 0.5 }, optimizerG: { type: 'adam', lr: 2e-4, beta1: 0.5 }, labelSmoothing: smoothing, seed: seed + 2,
  ...(emaDecay > 0 && { ema: { decay: emaDecay } }),
});
const grid = (n = 100) => {
  const s = gan.sample(n, { seed: 12345 });
  const images = Array.from({ length: n }, (_, i) => ({ data: s.subarray(i * 784, (i + 1) * 784), width: 28, height: 28 }));
  const g = upscale(imageGrid(images, 10, 2, 1), 2);
  return { pixels: grayToBytes(g, -1, 1), width: g.width, height: g.height, channels: 1 };
};
const name = process.env.GAN_MNIST_NAME ?? 'gan-mnist';
const sampleLabel = emaDecay > 0 ? `sample(): moving average of the generator (decay ${emaDecay})` : 'sample()';
/** 10,000 samples from fixed noise: the average (what sample() gives) or, with raw, the generator itself. */
const samplesOf = (raw = false) => ({ data: gan.sample(10_000, { seed: 777, raw }), shape: [10_000, 784] });
/** Parzen window on 10,000 rows in [0, 1], σ chosen on the held-out training images, scored on the 10,000 test images. */
const parzenOf = (rows) => {
  const { logLikelihood, stderr, sigma } = parzenWindow(rows, { validation: heldOut, test: test.x });
  return { logLikelihood, stderr, sigma };
};
const deadline = performance.now() + minutes * 60_000;
const t0 = performance.now();
const controller = new AbortController();
let last = null;
const checkpoints = [];
const parzenCheckpoints = [];
mkdirSync(outDir, { recursive: true });
gan.fit(trainX, {
  iterations: maxIterations,
  signal: controller.signal,
  onStep: (s) => {
    last = s;
    if (performance.now() > deadline) controller.abort();
    const rate = s.iteration / ((performance.now() - t0) / 1000);
    if (tty && s.iteration % 25 === 0) {
      const frac = Number.isFinite(maxIterations) ? s.iteration / maxIterations : (performance.now() - t0) / (minutes * 60_000);
      const bar = '#'.repeat(Math.round(30 * Math.min(1, frac))).padEnd(30, '.');
      process.stdout.write(`\r[${bar}] it ${s.iteration} ${rate.toFixed(0)} it/s lossD ${s.lossD.toFixed(3)} lossG ${s.lossG.toFixed(3)} D(x) ${s.dReal.toFixed(2)} D(G(z)) ${s.dFake.toFixed(2)}  `);
    } else if (!tty && s.iteration % 500 === 0) {
      console.log(`iteration ${s.iteration} (${rate.toFixed(0)} it/s): lossD ${s.lossD.toFixed(3)} lossG ${s.lossG.toFixed(3)} D(x) ${s.dReal.toFixed(3)} D(G(z)) ${s.dFake.toFixed(3)}`);
    }
    const frechetDue = s.iteration % checkpointEvery === 0;
    const parzenDue = s.iteration % parzenEvery === 0;
    // One draw of the average's samples serves both scores.
    const averaged = frechetDue || parzenDue ? samplesOf() : null;
    if (frechetDue) {
      // frechetRatio: what sample() gives (the average, with --ema); frechetRatioRaw: the generator itself.
      const ratioOf = (m) => frechetDistanceTo(m) / baselines.pcaGaussian;
      const point = { iteration: s.iteration, frechetRatio: ratioOf(averaged), frechetRatioRaw: ratioOf(samplesOf(true)) };
      checkpoints.push(point);
      if (!tty) console.log(`iteration ${s.iteration}: Fréchet distance / PCA-Gaussian ${point.frechetRatio.toFixed(3)} (raw generator ${point.frechetRatioRaw.toFixed(3)})`);
    }
    if (parzenDue) {
      const p = { iteration: s.iteration, ...parzenOf(toUnit(averaged)) };
      parzenCheckpoints.push(p);
      if (!tty) console.log(`iteration ${s.iteration}: Parzen log-likelihood ${p.logLikelihood.toFixed(1)} ± ${p.stderr.toFixed(1)} (σ ${p.sigma.toFixed(3)})`);
    }
    if (s.iteration % every === 0) {
      const g = grid();
      writeFileSync(join(outDir, `gan-mnist-${s.iteration}.png`), encodePng(g.pixels, g.width, g.height, 1));
    }
  },
});
if (tty) process.stdout.write('\n');
const iterations = gan.iterations;
console.log(`trained ${iterations} iterations in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

// 4. Scores of the final generator.
const fake = samplesOf();
const fakeRaw = samplesOf(true);
const frechet = { gan: frechetDistanceTo(fake), ganRawGenerator: frechetDistanceTo(fakeRaw), ...baselines };
const classHistogram = score.classHistogram(fake);
// Pixels in [0, 1] as in the paper. When training ended on a Parzen checkpoint, that score is of these same samples.
const lastParzen = parzenCheckpoints.at(-1);
const parzen = lastParzen?.iteration === iterations
  ? { logLikelihood: lastParzen.logLikelihood, stderr: lastParzen.stderr, sigma: lastParzen.sigma }
  : parzenOf(toUnit(fake));
const parzenRaw = parzenOf(toUnit(fakeRaw));
// The same protocol with 10,000 real training images as the "samples": the score of the data itself.
const parzenTrainImages = parzenOf({ data: train.x.data.subarray(0, 10_000 * 784), shape: [10_000, 784] });
console.log(`Parzen-window log-likelihood of the test set: ${parzen.logLikelihood.toFixed(1)} ± ${parzen.stderr.toFixed(1)} (σ ${parzen.sigma.toFixed(3)}; raw generator ${parzenRaw.logLikelihood.toFixed(1)} ± ${parzenRaw.stderr.toFixed(1)}; 10,000 training images ${parzenTrainImages.logLikelihood.toFixed(1)} ± ${parzenTrainImages.stderr.toFixed(1)}; Goodfellow et al. 2014: 225 ± 2)`);
table(Object.entries(frechet).map(([set, fd]) => ({ 'sample set (vs 10,000 test images)': set, 'Fréchet distance': fd })));
console.log(`GAN / PCA-Gaussian: ${(frechet.gan / frechet.pcaGaussian).toFixed(3)}, raw generator ${(frechet.ganRawGenerator / frechet.pcaGaussian).toFixed(3)} (target ≤ 0.20 at the end, ≤ 0.25 at each of the last five checkpoints)`);
console.log(`class histogram of GAN samples: ${classHistogram.map((f) => (100 * f).toFixed(1) + '%').join(' ')} (target: every class ≥ 3%)`);
writeOutputs(name, {
  iterations, frechet, classHistogram, ratio: frechet.gan / frechet.pcaGaussian, classifierAccuracy: accuracy,
  parzen, parzenRawGenerator: parzenRaw, parzenTrainImages,
  ema: emaDecay > 0 ? emaDecay : null, generatorSizes: generator.sizes, checkpoints, parzenCheckpoints,
  labelSmoothing: smoothing, init, dropout, last, seconds: (performance.now() - t0) / 1000,
}, grid());
if (checkpoints.length) {
  await writeChart(`${name}-frechet`, lineSpec({
    title: 'GAN on MNIST: Fréchet distance to the test set ÷ the PCA-Gaussian baseline\'s',
    xTitle: 'iteration', yTitle: 'Fréchet ratio (lower is better)',
    series: {
      [sampleLabel]: checkpoints.map((c) => ({ x: c.iteration, y: c.frechetRatio })),
      ...(emaDecay > 0 && { 'the generator itself (raw)': checkpoints.map((c) => ({ x: c.iteration, y: c.frechetRatioRaw })) }),
    },
    target: { value: 0.25, label: 'target at each of the last five checkpoints: 0.25' },
  }));
}
if (parzenCheckpoints.length) {
  await writeChart(`${name}-parzen`, lineSpec({
    title: 'GAN on MNIST: Parzen-window log-likelihood of the 10,000 test images',
    xTitle: 'iteration', yTitle: 'mean log-likelihood (higher is better)',
    series: {
      [sampleLabel]: parzenCheckpoints.map((c) => ({ x: c.iteration, y: c.logLikelihood })),
      '10,000 training images': [{ x: parzenCheckpoints[0].iteration, y: parzenTrainImages.logLikelihood }, { x: iterations, y: parzenTrainImages.logLikelihood }],
    },
    target: { value: 225, label: 'Goodfellow et al. (2014): 225' },
  }));
}
