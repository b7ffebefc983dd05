// The variational autoencoder of Burda et al. (2016), one stochastic layer: encoder 784-200-200
// with tanh to a 50-dimensional Gaussian z, decoder 50-200-200-784 with tanh and Bernoulli
// outputs, Adam, on dynamically binarised MNIST (each epoch draws new binary pixels from the grey
// levels; the test images are binarised once, with a fixed seed), the learning rate on a cosine
// to 1e-5 over the run, the KL term warmed up over the first --kl-warmup epochs (120; at most a
// tenth of --epochs, but a run short by --minutes should lower it). Reported as they report it: the
// negative log-likelihood of the 10,000 test images by importance sampling with k = 5,000
// (their Table 1: 86.76 nats after 3,280 passes), beside the test ELBO, the KL term and the active
// units (latent dimensions whose Cov_x(E_q[z_i]) > 0.01). Training stops at --epochs or when
// --minutes of training have passed, whichever is first (103 by default: scoring 10,000 images
// with 5,000 samples each took 15.3 minutes on the exact tier on 2 cores and 11.2–12.0 on the fast one,
// so the default run ends within 2 hours); --snapshot-minutes M also scores the weights as they were
// after M minutes.
// The run is budgeted in minutes, so how many epochs it gets depends on the machine anyway: it
// trains on the fast tier (fused multiply-add) where the engine has relaxed SIMD, and says so
// when it stays exact; --exact keeps the exact tier (the same bits on every machine for a fixed
// --epochs). The test ELBO is taken every --eval-every epochs and after the last.
// Writes examples/out/vae-mnist.{json,png,safetensors} and vae-mnist-elbo.svg; with --latent 2,
// vae-mnist-2d.* and vae-mnist-2d-manifold.png (Kingma & Welling's figure 4).
//   node examples/vae-mnist.mjs [--epochs 100000] [--minutes 103] [--snapshot-minutes 0] [--latent 50]
//     [--lr 0.001] [--batch 100] [--samples 5000] [--test-rows 10000] [--train-rows 60000] [--threads N]
//     [--eval-every 5] [--kl-warmup 120 (12 with --conv)] [--exact]
//   node examples/vae-mnist.mjs --conv […]: the convolutional VAE of burda-vae.mjs, written to vae-mnist-conv.*;
//     without --minutes it trains for what 117 minutes leave after scoring (timed on 20 test images at the start)
//   node examples/vae-mnist.mjs --score examples/out/vae-mnist.safetensors [--test-rows 10000] [--samples 5000]
//     scores a VAE this example saved, on the first --test-rows test images, and trains nothing.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, VAE, columnStats, grayToBytes, imageGrid, load, precision, save, setPrecision } from 'latentkit';
import { enableRelaxedSimd } from 'latentkit/node';
import { encodePng } from 'latentkit/png';
import { lineSpec, writeChart } from './charts.mjs';
import { BATCH, LATENT, LR, burdaVae, convVae } from './burda-vae.mjs';
import { argFlag, outDir, table, upscale, writeOutputs } from './common.mjs';
import { loadMnist } from './mnist.mjs';

const MINUTES = 103;
// --conv's whole run; its training minutes are what scoring leaves (measured at the start).
const TOTAL_MINUTES = 117;
// The KL term's weight rises from 0 to 1 over the first 120 epochs (about a tenth of the default run).
// In 14-minute runs side by side (--minutes 14 --threads 1, 61 epochs, IWAE-500 on 2,000 test images)
// a warm-up over the first 6 epochs kept 22 latent units active instead of 15 and scored 92.91 nats
// against 93.59 without it (test ELBO −96.88 against −97.02).
const KL_WARMUP = 120;
// --conv's epochs are slower: its 77 minutes of training on 2 cores (Xeon, AVX-512) are ~130 epochs,
// so the same tenth of the run is 12 epochs; a 120-epoch warm-up would last nearly the whole run.
const CONV_KL_WARMUP = 12;
const SAMPLES = 5000;
const PAPER_NLL = 86.76;

/** Binary pixels drawn from grey levels: 1 with probability x (in place into `out`), from `rng`. */
function binarise(x, out, rng) {
  return { data: rng.bernoulliArray(x.data, out), shape: x.shape };
}

/** Burda et al.'s active units: dimensions of E_q[z] whose variance over the test images exceeds 0.01. */
function activeUnits(means) {
  return columnStats(means).std.filter((s) => s > 0.1).length;
}

/** The first `rows` test images, binarised once with a fixed seed: the same pixels in every run. */
function binarisedTest(rows) {
  const grey = loadMnist('test', { limit: rows });
  return binarise(grey.x, new Float32Array(grey.x.data.length), new Rng(20160101));
}

/** --score FILE: the test NLL and ELBO of a VAE this example saved, on the first `testRows` test images. */
export function scoreSaved(path, { samples = SAMPLES, testRows = 10_000, log = console.log } = {}) {
  const vae = load(readFileSync(path));
  if (!(vae instanceof VAE) || vae.inputSize !== 784) throw new Error(`--score: ${path} does not hold a VAE over 784 pixels`);
  const test = binarisedTest(testRows);
  const t0 = performance.now();
  const nll = -vae.logLikelihood(test, { samples });
  const elbo = vae.elbo(test);
  vae.dispose();
  log(`${path}: test NLL (IWAE, k = ${samples}) ${nll.toFixed(2)} nats, test ELBO ${elbo.toFixed(2)}, on the first ${test.shape[0]} test images (${((performance.now() - t0) / 60_000).toFixed(1)} min)`);
  return { nll, elbo, samples, testRows: test.shape[0] };
}

export function runVaeMnist({ conv = false, epochs = 100_000, minutes = MINUTES, latent = LATENT, lr = LR, batchSize = BATCH, samples = SAMPLES, trainRows = 60_000, testRows = 10_000, snapshotMinutes = 0, evalEvery = 5, klWarmupEpochs = conv ? CONV_KL_WARMUP : KL_WARMUP, seed = 1, log = console.log } = {}) {
  if (!(Number.isInteger(evalEvery) && evalEvery > 0)) throw new Error(`--eval-every: expected a whole number of epochs ≥ 1, got ${evalEvery}`);
  if (!(Number.isInteger(klWarmupEpochs) && klWarmupEpochs >= 0)) throw new Error(`--kl-warmup: expected a whole number of epochs ≥ 0, got ${klWarmupEpochs}`);
  const train = loadMnist('train', { limit: trainRows });
  const test = binarisedTest(testRows);
  // KL warm-up, at most a tenth of --epochs (none in the 3-epoch CI run).
  const warmupEpochs = Math.min(klWarmupEpochs, Math.floor(epochs / 10));
  const { vae, encoder, decoder } = (conv ? convVae : burdaVae)({ latent, lr, klWarmup: warmupEpochs * Math.ceil(train.x.shape[0] / batchSize), seed });
  if (conv) log(`encoder:\n  ${encoder.summary().join('\n  ')}\ndecoder:\n  ${decoder.summary().join('\n  ')}`);
  if (minutes === null) {
    // The whole run, scoring included, within TOTAL_MINUTES: the scoring time is measured on 20
    // test images with the untrained decoder (its cost does not depend on the weights).
    const t = performance.now();
    vae.logLikelihood({ data: test.data.subarray(0, 20 * 784), shape: [20, 784] }, { samples });
    const scoring = ((performance.now() - t) / 60_000) * (test.shape[0] / 20);
    minutes = Math.max(1, TOTAL_MINUTES - 1.1 * scoring);
    log(`scoring ${test.shape[0]} test images with k = ${samples} should take ${scoring.toFixed(1)} min here: ${minutes.toFixed(1)} min of training`);
  }
  const pixels = new Rng(seed + 3);
  const bin = new Float32Array(train.x.data.length);
  const t0 = performance.now();
  const elapsedMinutes = () => (performance.now() - t0) / 60_000;
  const curve = [];
  let snapshot = null;
  let e = 0;
  while (e < epochs && elapsedMinutes() < minutes) {
    // Cosine decay over the run, measured by whichever budget (epochs, minutes) is nearer its end.
    const done = Math.max(e / epochs, elapsedMinutes() / minutes);
    vae.optimizer.lr = Math.max(1e-5, lr * 0.5 * (1 + Math.cos(Math.PI * done)));
    const h = vae.fit(binarise(train.x, bin, pixels), { epochs: 1, batchSize });
    e++;
    const last = e >= epochs || elapsedMinutes() >= minutes;
    if (e % evalEvery === 0 || e === 1 || last) {
      const testElbo = vae.elbo(test);
      curve.push({ epoch: e, minutes: elapsedMinutes(), trainLoss: h.loss[0], trainKl: h.kl[0], testElbo });
      log(`epoch ${e}: train −ELBO ${h.loss[0].toFixed(2)} (KL ${h.kl[0].toFixed(2)}), test ELBO ${testElbo.toFixed(2)} nats (${elapsedMinutes().toFixed(1)} min)`);
    }
    if (!snapshot && snapshotMinutes > 0 && snapshotMinutes < minutes && elapsedMinutes() >= snapshotMinutes) snapshot = { epoch: e, minutes: elapsedMinutes(), model: save(vae) };
  }
  const trainingMinutes = elapsedMinutes();
  const t1 = performance.now();
  const nll = -vae.logLikelihood(test, { samples });
  const scoringMinutes = (performance.now() - t1) / 60_000;
  log(`test NLL (IWAE, k = ${samples}) ${nll.toFixed(2)} nats, scored in ${scoringMinutes.toFixed(1)} min`);
  const means = vae.encode(test);
  const result = {
    nll, elbo: curve.at(-1)?.testElbo ?? vae.elbo(test), klNats: vae.kl(test), activeUnits: activeUnits(means),
    epochs: e, seconds: (performance.now() - t0) / 1000, trainingMinutes, scoringMinutes, samples, latent, lr, batchSize, trainRows: train.x.shape[0], testRows: test.shape[0], klWarmupEpochs: warmupEpochs, precision: precision(), curve,
    paper: { nll: PAPER_NLL, passes: 3280 }, architecture: conv ? 'conv' : 'dense', encoder: encoder.summary(), decoder: decoder.summary(),
  };
  if (snapshot) {
    const at30 = load(snapshot.model);
    result.snapshot = { epoch: snapshot.epoch, minutes: snapshot.minutes, nll: -at30.logLikelihood(test, { samples }) };
    log(`test NLL of the weights at ${snapshot.minutes.toFixed(1)} min (epoch ${snapshot.epoch}): ${result.snapshot.nll.toFixed(2)} nats`);
    at30.dispose();
  }
  // Test digits over their reconstructions, then 100 samples.
  const digits = (m, n) => Array.from({ length: n }, (_, i) => ({ data: m.data.subarray(i * 784, (i + 1) * 784), width: 28, height: 28 }));
  const pairs = upscale(imageGrid([...digits(test, 10), ...digits(vae.reconstruct({ data: test.data.subarray(0, 7840), shape: [10, 784] }), 10)], 10, 2, 1), 2);
  const drawn = upscale(imageGrid(digits(vae.sample(100, { seed: 7 }), 100), 10, 2, 1), 2);
  let manifold = null;
  if (latent === 2) manifold = manifoldGrid(vae, 20);
  const model = save(vae);
  vae.dispose();
  encoder.dispose();
  decoder.dispose();
  return { result, pairs, drawn, manifold, model };
}

/** The decoder over an n × n grid of z at the Gaussian's quantiles (Kingma & Welling 2014, figure 4). */
function manifoldGrid(vae, n) {
  const out = vae.manifold(n);
  return imageGrid(Array.from({ length: n * n }, (_, k) => ({ data: out.data.subarray(k * 784, (k + 1) * 784), width: 28, height: 28 })), n, 0, 0);
}

/** The fast tier where this engine can compile it (Node 20 needs V8's relaxed-SIMD flag, which
 * this script sets for its own process); otherwise the library warns once and stays exact. */
async function chooseTier(exact) {
  if (exact) return precision();
  enableRelaxedSimd();
  return setPrecision('fast');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`precision: ${await chooseTier(process.argv.includes('--exact'))}`);
  const scoring = process.argv.indexOf('--score');
  if (scoring >= 0) scoreSaved(process.argv[scoring + 1], { samples: argFlag('samples', SAMPLES), testRows: argFlag('test-rows', 10_000) });
  else await trainAndWrite();
}

/** The run with the command line's settings, its outputs written to examples/out. */
async function trainAndWrite() {
  const conv = process.argv.includes('--conv');
  const { result, pairs, drawn, manifold, model } = runVaeMnist({
    conv, epochs: argFlag('epochs', 100_000), minutes: argFlag('minutes', conv ? null : MINUTES), latent: argFlag('latent', LATENT), lr: argFlag('lr', LR),
    batchSize: argFlag('batch', BATCH), samples: argFlag('samples', SAMPLES), snapshotMinutes: argFlag('snapshot-minutes', 0), evalEvery: argFlag('eval-every', 5), trainRows: argFlag('train-rows', 60_000), testRows: argFlag('test-rows', 10_000),
    klWarmupEpochs: argFlag('kl-warmup', conv ? CONV_KL_WARMUP : KL_WARMUP),
  });
  table([
    { model: `${conv ? 'convolutional VAE' : `VAE 784-200-200-${result.latent}`} (latentkit), ${result.epochs} epochs`, 'test NLL (nats)': result.nll, 'test ELBO': result.elbo, 'active units': result.activeUnits },
    { model: 'Burda et al. 2016, VAE k = 1, 3,280 passes', 'test NLL (nats)': PAPER_NLL, 'test ELBO': NaN, 'active units': 19 },
  ]);
  console.log(`target: NLL ≤ ${conv ? '85.5' : '87.0'} nats in ≤ 2 hours; ${result.nll.toFixed(2)} nats in ${(result.seconds / 60).toFixed(1)} minutes`);
  const name = `vae-mnist${conv ? '-conv' : ''}${result.latent === 2 ? '-2d' : ''}`;
  const { curve, ...rest } = result;
  writeOutputs(name, { ...rest, curve }, null);
  const both = stack(pairs, drawn);
  writeFileSync(join(outDir, `${name}.png`), encodePng(grayToBytes(both), both.width, both.height, 1));
  writeFileSync(join(outDir, `${name}.safetensors`), model);
  if (manifold) {
    writeFileSync(join(outDir, `${name}-manifold.png`), encodePng(grayToBytes(manifold), manifold.width, manifold.height, 1));
    console.log(`wrote ${join(outDir, name)}-manifold.png`);
  }
  console.log(`wrote ${join(outDir, name)}.png (test digits over reconstructions, then 100 samples) and .safetensors`);
  await writeChart(`${name}-elbo`, lineSpec({
    title: `VAE on dynamically binarised MNIST: test ELBO per epoch (latent ${result.latent})`,
    xTitle: 'epoch', yTitle: 'test ELBO (nats per image)',
    series: { 'test ELBO (latentkit)': curve.map((c) => ({ x: c.epoch, y: c.testElbo })) },
    target: { value: -PAPER_NLL, label: `−NLL of Burda et al.: −${PAPER_NLL}` },
  }));
}

/** Two grayscale images of one width, one above the other. */
function stack(top, bottom) {
  if (top.width !== bottom.width) {
    const width = Math.max(top.width, bottom.width);
    const pad = (img) => {
      const data = new Float32Array(width * img.height);
      for (let y = 0; y < img.height; y++) data.set(img.data.subarray(y * img.width, (y + 1) * img.width), y * width);
      return { data, width, height: img.height };
    };
    return stack(pad(top), pad(bottom));
  }
  const data = new Float32Array(top.width * (top.height + bottom.height));
  data.set(top.data);
  data.set(bottom.data, top.data.length);
  return { data, width: top.width, height: top.height + bottom.height };
}
