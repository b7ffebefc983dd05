// ONNX export: every part of every model kind runs in onnxruntime-node and in onnxruntime-web
// (headless Chromium) and gives latentkit's outputs to 1e-5; the CLI writes the same file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { Autoencoder, Classifier, GAN, type Matrix, SemiSupervisedGAN, SemiSupervisedVAE, VAE, batchNorm, gaussianNoise, conv2d, convTranspose2d, dense, flatten, mlp, reshape, save, type Stack, stack as layerStack } from '../dist/index.js';
import { onnxActivation, toOnnx } from '../dist/onnx.js';
import { launchChromium, serveStatic } from './browser.js';
import { expectClose, randomArray } from './helpers.js';

const root = new URL('..', import.meta.url).pathname;
const ROWS = 7;

interface Case {
  name: string;
  bytes: Uint8Array;
  inputs: Record<string, { type: 'float32' | 'int64'; data: number[]; dims: number[] }>;
  want: Record<string, ArrayLike<number>>;
}

const m = (data: Float32Array, cols: number): Matrix => ({ data, shape: [data.length / cols, cols] });
const floats = (data: Float32Array, cols: number) => ({ type: 'float32' as const, data: Array.from(data), dims: [data.length / cols, cols] });

function oneHotJoin(x: Float32Array, cols: number, labels: number[], classes: number): Matrix {
  const out = new Float32Array(labels.length * (cols + classes));
  labels.forEach((c, r) => {
    out.set(x.subarray(r * cols, r * cols + cols), r * (cols + classes));
    out[r * (cols + classes) + cols + c] = 1;
  });
  return m(out, cols + classes);
}

function cases(): Case[] {
  const leaky = { type: 'leaky-relu', alpha: 0.2 } as const;
  const x12 = randomArray(ROWS * 12, 1, 0, 1);
  const out: Case[] = [];

  const stack: Stack = mlp([12, 9, 5], { activation: leaky, outputActivation: 'sigmoid', seed: 1 });
  out.push({ name: 'stack', bytes: toOnnx(stack), inputs: { x: floats(x12, 12) }, want: { y: stack.predict(m(x12, 12)).data } });
  const smooth: Stack = mlp([12, 9, 5], { activation: 'softplus', outputActivation: 'softplus', seed: 30 });
  out.push({ name: 'softplus stack', bytes: toOnnx(smooth), inputs: { x: floats(x12, 12) }, want: { y: smooth.predict(m(x12, 12)).data } });

  const ae = new Autoencoder({
    encoder: mlp([12, 8, 3], { activation: 'tanh', seed: 2 }),
    decoder: mlp([3, 8, 12], { activation: 'relu', seed: 3 }),
    loss: 'bce-with-logits',
  });
  const codes = ae.encode(m(x12, 12));
  out.push(
    { name: 'autoencoder', bytes: toOnnx(ae), inputs: { x: floats(x12, 12) }, want: { reconstruction: ae.reconstruct(m(x12, 12)).data } },
    { name: 'encoder', bytes: toOnnx(ae, { part: 'encoder' }), inputs: { x: floats(x12, 12) }, want: { code: codes.data } },
    { name: 'decoder', bytes: toOnnx(ae, { part: 'decoder' }), inputs: { code: floats(codes.data, 3) }, want: { reconstruction: ae.decode(codes).data } },
  );

  const tied = new Autoencoder({ encoder: mlp([12, 6, 4], { activation: leaky, seed: 4 }), tiedWeights: true });
  out.push({ name: 'tied autoencoder', bytes: toOnnx(tied), inputs: { x: floats(x12, 12) }, want: { reconstruction: tied.reconstruct(m(x12, 12)).data } });

  const gan = new GAN({
    generator: mlp([5 + 3, 16, 12], { activation: leaky, outputActivation: 'tanh', seed: 5 }),
    discriminator: mlp([12 + 3, 16, 1], { activation: leaky, dropout: 0.3, seed: 6 }),
    conditions: 3, noise: { dim: 5 }, ema: { decay: 0.9 }, batchSize: 16, seed: 7,
  });
  const labels = Array.from({ length: ROWS }, (_, i) => (i * 2) % 3);
  gan.fit(randomArray(32 * 12, 8), { iterations: 5, labels: Int32Array.from({ length: 32 }, (_, i) => i % 3) }); // the average now differs from the generator
  const z = randomArray(ROWS * 5, 9);
  const labelInput = { type: 'int64' as const, data: labels, dims: [ROWS] };
  out.push(
    { name: 'generator (the moving average)', bytes: toOnnx(gan), inputs: { z: floats(z, 5), labels: labelInput }, want: { sample: gan.generatorEma!.predict(oneHotJoin(z, 5, labels, 3)).data } },
    { name: 'discriminator', bytes: toOnnx(gan, { part: 'discriminator' }), inputs: { x: floats(x12, 12), labels: labelInput }, want: { logit: gan.discriminator.predict(oneHotJoin(x12, 12, labels, 3)).data } },
  );

  // Layers beyond dense: Conv, ConvTranspose (output padding), BatchNormalization (1-D and 2-D,
  // running statistics moved by training), Reshape and Flatten, weight norm folded into the weights.
  const dcgan = new GAN({
    generator: layerStack(6, [dense(4 * 4 * 4), reshape([4, 4, 4]), batchNorm({ activation: 'relu' }), convTranspose2d(3, { kernel: 4, stride: 2, padding: 1 }), batchNorm({ activation: 'relu' }), convTranspose2d(2, { kernel: 3, stride: 2, padding: 1, outputPadding: 1, activation: 'tanh' }), flatten()], { seed: 20 }),
    discriminator: layerStack([2, 16, 16], [conv2d(3, { kernel: 4, stride: 2, padding: 1, activation: leaky }), conv2d(4, { kernel: [3, 2], stride: 2, padding: [1, 0] }), batchNorm({ activation: leaky }), flatten(), dense(5, { weightNorm: true }), batchNorm(), dense(1)], { seed: 21 }),
    noise: { dim: 6 }, batchSize: 8, seed: 22, ema: { decay: 0.8 },
  });
  dcgan.fit(randomArray(32 * 512, 23), { iterations: 4 });
  const z6 = randomArray(ROWS * 6, 24);
  const x512 = randomArray(ROWS * 512, 25);
  out.push(
    { name: 'convolutional generator (dense, reshape, batch norm, transposed convolutions)', bytes: toOnnx(dcgan), inputs: { z: floats(z6, 6) }, want: { sample: dcgan.generatorEma!.predict(m(z6, 6)).data } },
    { name: 'convolutional discriminator (convolutions, batch norm, weight norm)', bytes: toOnnx(dcgan, { part: 'discriminator' }), inputs: { x: floats(x512, 512) }, want: { logit: dcgan.discriminator.predict(m(x512, 512)).data } },
  );

  const vae = new VAE({ encoder: mlp([12 + 3, 10, 8], { activation: 'tanh', seed: 12 }), decoder: mlp([4 + 3, 10, 12], { activation: 'tanh', seed: 13 }), conditions: 3 });
  const stats = vae.encoder.predict(oneHotJoin(x12, 12, labels, 3));
  const columns = (mtx: Matrix, from: number, to: number) => Array.from({ length: mtx.shape[0] * (to - from) }, (_, i) => mtx.data[Math.floor(i / (to - from)) * mtx.shape[1] + from + (i % (to - from))]!);
  const z4 = randomArray(ROWS * 4, 14);
  out.push(
    { name: 'VAE encoder', bytes: toOnnx(vae, { part: 'encoder' }), inputs: { x: floats(x12, 12), labels: labelInput }, want: { mean: columns(stats, 0, 4), log_variance: columns(stats, 4, 8) } },
    { name: 'VAE decoder', bytes: toOnnx(vae), inputs: { z: floats(z4, 4), labels: labelInput }, want: { mean: vae.decode(m(z4, 4), { labels }).data } },
  );
  const learned = new VAE({ encoder: mlp([12, 10, 8], { seed: 15 }), decoder: mlp([4, 10, 24], { seed: 16 }), likelihood: { type: 'gaussian', variance: 'learned' } });
  out.push({ name: 'VAE decoder, learned variances', bytes: toOnnx(learned, { part: 'decoder' }), inputs: { z: floats(z4, 4) }, want: { mean: learned.decode(m(z4, 4)).data } });

  const clf = new Classifier({ body: [mlp([12, 10], { outputActivation: 'relu', seed: 10 })], head: mlp([10, 4], { seed: 11 }) });
  out.push({ name: 'classifier', bytes: toOnnx(clf), inputs: { x: floats(x12, 12) }, want: { logits: clf.logits(m(x12, 12)).data, probabilities: clf.predictProba(m(x12, 12)).data } });

  // A semi-supervised GAN, trained a little: its noise layers are left out, its weight norm folded in.
  const ssgan = new SemiSupervisedGAN({
    generator: layerStack(6, [dense(10, { activation: 'relu' }), batchNorm(), dense(12, { activation: 'sigmoid', weightNorm: true })], { seed: 17 }),
    features: layerStack(12, [gaussianNoise(0.3), dense(10, { activation: 'relu', weightNorm: true })], { seed: 18 }),
    classes: layerStack(10, [gaussianNoise(0.5), dense(4, { weightNorm: true })], { seed: 19 }),
    noise: { dim: 6 }, batchSize: 8, seed: 20,
  });
  ssgan.fit({ labelled: randomArray(4 * 12, 26, 0, 1), labels: [0, 1, 2, 3], unlabelled: randomArray(32 * 12, 27, 0, 1) }, { iterations: 4 });
  out.push(
    { name: 'semi-supervised GAN classifier', bytes: toOnnx(ssgan), inputs: { x: floats(x12, 12) }, want: { logits: ssgan.logits(m(x12, 12)).data, probabilities: ssgan.predict(m(x12, 12)).data } },
    { name: 'semi-supervised GAN generator', bytes: toOnnx(ssgan, { part: 'generator' }), inputs: { z: floats(z6, 6) }, want: { sample: ssgan.generator.predict(m(z6, 6)).data } },
  );
  const m2 = new SemiSupervisedVAE({
    encoder: layerStack(12 + 4, [dense(10, { activation: 'tanh' }), dense(6)], { seed: 21 }),
    decoder: layerStack(3 + 4, [dense(10, { activation: 'tanh' }), dense(12)], { seed: 22 }),
    classifier: layerStack(12, [dense(10, { activation: 'relu' }), batchNorm(), dense(4)], { seed: 23 }),
    batchSize: 8, seed: 24,
  });
  m2.fit({ labelled: randomArray(4 * 12, 28, 0, 1), labels: [0, 1, 2, 3], unlabelled: randomArray(32 * 12, 29, 0, 1) }, { iterations: 4 });
  out.push({ name: 'semi-supervised VAE classifier', bytes: toOnnx(m2), inputs: { x: floats(x12, 12) }, want: { logits: m2.logits(m(x12, 12)).data, probabilities: m2.predict(m(x12, 12)).data } });
  return out;
}

function tensors(c: Case): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, v.type === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(v.data.map(BigInt)), v.dims) : new ort.Tensor('float32', Float32Array.from(v.data), v.dims)]));
}

describe('ONNX export', () => {
  const all = cases();

  it('onnxruntime-node gives latentkit\'s outputs to 1e-5 for every part (stack, autoencoder, encoder, decoder, tied, conditional generator and discriminator, VAE encoder and decoder, classifier, semi-supervised GAN and VAE)', async () => {
    for (const c of all) {
      const session = await ort.InferenceSession.create(c.bytes);
      expect(session.outputNames, c.name).toEqual(Object.keys(c.want));
      const got = await session.run(tensors(c));
      for (const [name, want] of Object.entries(c.want)) expectClose(got[name]!.data as Float32Array, want, 1e-5, 1e-5, `onnxruntime-node, ${c.name}, ${name}`);
    }
  });

  describe('in Chromium', () => {
    let browser: Browser;
    let server: Awaited<ReturnType<typeof serveStatic>>;
    beforeAll(async () => {
      browser = await launchChromium();
      server = await serveStatic(root);
    });
    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    it('onnxruntime-web gives latentkit\'s outputs to 1e-5 for every part', async () => {
      const page = await browser.newPage();
      const logs: string[] = [];
      page.on('console', (msg) => logs.push(msg.text()));
      page.on('pageerror', (e) => logs.push(String(e)));
      await page.goto(`${server.url}/test/onnx/page.html`);
      const payload = all.map((c) => ({ name: c.name, bytes: Array.from(c.bytes), inputs: c.inputs }));
      const results = await page.evaluate(async (cs) => {
        const o = (globalThis as unknown as { ort: typeof ort & { env: { wasm: { numThreads: number; wasmPaths: string } } } }).ort;
        o.env.wasm.numThreads = 1;
        o.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
        const outs: Record<string, Record<string, number[]>> = {};
        for (const c of cs) {
          const session = await o.InferenceSession.create(Uint8Array.from(c.bytes), { executionProviders: ['wasm'] });
          const feeds = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, v.type === 'int64' ? new o.Tensor('int64', BigInt64Array.from(v.data.map(BigInt)), v.dims) : new o.Tensor('float32', Float32Array.from(v.data), v.dims)]));
          const got = await session.run(feeds);
          outs[c.name] = Object.fromEntries(Object.entries(got).map(([k, t]) => [k, Array.from(t.data as Float32Array)]));
        }
        return outs;
      }, payload).catch((e: unknown) => {
        throw new Error(`${String(e)}\n${logs.join('\n')}`);
      });
      for (const c of all) {
        for (const [name, want] of Object.entries(c.want)) expectClose(results[c.name]![name]!, want, 1e-5, 1e-5, `onnxruntime-web, ${c.name}, ${name}`);
      }
      await page.close();
    });
  });

  it('refuses what ONNX or the model cannot give, by name', () => {
    expect(() => onnxActivation({ type: 'swish' } as never, 'a', 'b')).toThrow(/toOnnx: ONNX has no operator for the activation \{"type":"swish"\}/);
    const ae = new Autoencoder({ encoder: mlp([4, 2], { seed: 1 }), decoder: mlp([2, 4], { seed: 2 }) });
    expect(() => toOnnx(ae, { part: 'generator' })).toThrow('toOnnx: this autoencoder has no part "generator"; its parts are autoencoder, encoder, decoder');
    expect(() => toOnnx(ae, { parts: 'encoder' } as never)).toThrow("toOnnx: unknown option 'parts'; expected part, name");
    expect(() => toOnnx(mlp([4, 2]), { part: 'encoder' })).toThrow('toOnnx: a lone stack has no parts');
    expect(() => toOnnx({} as never)).toThrow('toOnnx: expected a Stack, Autoencoder, GAN, VAE, Classifier, SemiSupervisedGAN or SemiSupervisedVAE, got Object');
  });

  it('latentkit export --onnx writes the model onnxruntime-node runs; a wrong part exits 2 with the parts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lk-onnx-'));
    const ae = new Autoencoder({ encoder: mlp([12, 8, 3], { activation: 'tanh', seed: 2 }), decoder: mlp([3, 8, 12], { seed: 3 }) });
    writeFileSync(join(dir, 'ae.safetensors'), save(ae));
    const cli = (...args: string[]) => spawnSync('node', [join(root, 'bin/latentkit.mjs'), ...args], { encoding: 'utf8', cwd: dir });
    const r = cli('export', '--model', 'ae.safetensors', '--onnx', 'enc.onnx', '--part', 'encoder');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^wrote enc\.onnx \(encoder of ae\.safetensors, ONNX opset 17, \d+ bytes\)/);
    const x = randomArray(ROWS * 12, 3, 0, 1);
    const session = await ort.InferenceSession.create(readFileSync(join(dir, 'enc.onnx')));
    const got = await session.run({ x: new ort.Tensor('float32', x, [ROWS, 12]) });
    expectClose(got.code!.data as Float32Array, ae.encode(m(x, 12)).data, 1e-5, 1e-5, 'CLI-exported encoder');
    const bad = cli('export', '--model', 'ae.safetensors', '--onnx', 'g.onnx', '--part', 'generator');
    expect([bad.status, bad.stderr.trim()]).toEqual([2, 'latentkit: toOnnx: this autoencoder has no part "generator"; its parts are autoencoder, encoder, decoder']);
    expect(cli('export', '--model', 'ae.safetensors').stderr.trim()).toBe('latentkit: --onnx is required');
  });
});
