// Stacks of layers beyond dense: shapes, the errors bad input gets before any kernel runs, the
// same bits on 1, 2 and 3 threads, files that load back bit for bit, checkpoints that resume bit
// for bit, and no memory growth per step. Kernel gradients against f64 central differences are
// in crates/kernels/tests/layers.rs; forward and backward against PyTorch in torch.test.ts.
import { describe, expect, it } from 'vitest';
import {
  Autoencoder, Classifier, GAN, LatentkitError, Sequential, VAE, batchNorm, checkpoint, conv2d, convTranspose2d, dense, dropout, flatten, gaussianNoise, load, memoryStats, reshape, save, setThreads, stack, stacks,
} from '../dist/index.js';
import * as lk from '../dist/index.js';
import * as internal from '../dist/internal.js';
import { randomArray } from './helpers.js';
// @ts-expect-error plain JS fixture shared with the other runtimes
import { convRun } from './runtimes/conv-run.js';
// @ts-expect-error plain JS fixture shared with the other runtimes
import { untilRunning } from './runtimes/seeded-run.js';

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const leaky = { type: 'leaky-relu', alpha: 0.2 } as const;

/** The DCGAN for 28 × 28 images, at a width that keeps tests quick (`drop`: dropout after D's convolutions). */
function dcgan(width: number, seed: number, drop = 0) {
  const generator = stack(16, [
    dense(2 * width * 7 * 7), reshape([2 * width, 7, 7]), batchNorm({ activation: 'relu' }),
    convTranspose2d(width, { kernel: 4, stride: 2, padding: 1 }), batchNorm({ activation: 'relu' }),
    convTranspose2d(1, { kernel: 4, stride: 2, padding: 1, activation: 'tanh' }), flatten(),
  ], { seed });
  const discriminator = stack([1, 28, 28], [
    conv2d(width, { kernel: 4, stride: 2, padding: 1, activation: leaky }), ...(drop > 0 ? [dropout(drop)] : []),
    conv2d(2 * width, { kernel: 4, stride: 2, padding: 1 }), batchNorm({ activation: leaky }), ...(drop > 0 ? [dropout(drop)] : []),
    flatten(), dense(1),
  ], { seed: seed + 1 });
  return { generator, discriminator };
}

describe('stacks of layers', () => {
  it('know their shapes and say where two layers do not fit, with both shapes, before any kernel runs', () => {
    const { generator, discriminator } = dcgan(8, 1);
    expect(generator.outputShape).toEqual([784]);
    expect(generator.layers.map((l) => l.outputShape)).toEqual([[784], [16, 7, 7], [16, 7, 7], [8, 14, 14], [8, 14, 14], [1, 28, 28], [784]]);
    expect(discriminator.layers.map((l) => l.outputShape)).toEqual([[8, 14, 14], [16, 7, 7], [16, 7, 7], [784], [1]]);
    expect(discriminator.sizes).toEqual([784, 1568, 784, 784, 784, 1]);
    expect(stack([3, 5, 7], [convTranspose2d(2, { kernel: 3, stride: 2, padding: 1, outputPadding: 1 })]).outputShape).toEqual([2, 10, 14]);
    expect(stack([2, 9, 7], [conv2d(3, { kernel: [3, 2], stride: [2, 1], padding: [1, 0] })]).outputShape).toEqual([3, 5, 6]);
    generator.dispose();
    discriminator.dispose();

    const bad: [() => unknown, RegExp][] = [
      [() => stack([1, 4, 4], [conv2d(2, { kernel: 7, padding: 1 })]), /layer 0 \(conv2d\): the 7-wide kernel is larger than the input's height 4 with padding 1 on each side \(input \[1, 4, 4\]\)/],
      [() => stack([1, 8, 8], [conv2d(2, { kernel: 3, stride: 0 })]), /layer 0 \(conv2d\): stride must be an integer ≥ 1 or a pair of them \[h, w\], got 0/],
      [() => stack(64, [conv2d(2, { kernel: 3 })]), /layer 0 \(conv2d\) takes images \[channels, height, width\], but its input is \[64\]; reshape/],
      [() => stack([1, 8, 8], [conv2d(4, { kernel: 3 }), dense(3)]), /layer 1 \(dense\) takes vectors, but its input is \[4, 6, 6\]; put flatten\(\) before it/],
      [() => stack(10, [reshape([3, 2, 2])]), /layer 0 \(reshape\): \[10\] has 10 values, \[3, 2, 2\] needs 12/],
      [() => stack([2, 4, 4], [convTranspose2d(1, { kernel: 3, stride: 2, outputPadding: 2 })]), /outputPadding \[2,2\] must be smaller than the stride \[2,2\]/],
      [() => stack([2, 4, 4], [conv2d(1, { kernel: 3, dilation: 2 } as never)]), /layer 0 \(conv2d\): unknown option "dilation"/],
      [() => stack([2, 4, 4], [{ type: 'pool' } as never]), /layer 0: unknown layer type "pool"/],
      [() => stack([2, 4, 4], [batchNorm({ momentum: 2 })]), /momentum must be in \[0, 1\], got 2/],
      [() => stack([2, 4, 4], [gaussianNoise(-1)]), /std must be a number ≥ 0, got -1/],
      [() => stack([2, 4, 4], [dropout(1)]), /layer 0 \(dropout\): rate must be a number in \[0, 1\), got 1/],
      [() => stack([2, 4, 4], [dropout(0.5), { type: 'dropout', rate: 0.5, p: 0.5 } as never]), /layer 1 \(dropout\): unknown option "p"/],
      [() => stack(5, [flatten()]), /at least one layer that computes something/],
      [() => stack([0, 4, 4], [flatten(), dense(2)]), /a stack's input must be a width, \[features\] or an image/],
      [() => stack(4, [dense(2)], { activation: 'relu' } as never), /a stack of layers takes the options init and seed/],
      // Layers that hold memory of their own, before the one refused.
      [() => stack([2, 6, 6], [batchNorm(), conv2d(3, { kernel: 3, weightNorm: true }), dense(2)]), /layer 2 \(dense\) takes vectors, but its input is \[3, 4, 4\]/],
      // A model's parts built together: the ones before the refused part are freed.
      [() => stacks([{ input: 4, layers: [dense(8)] }, { input: [1, 4, 4], layers: [batchNorm(), conv2d(1, { kernel: 7 })] }]), /layer 1 \(conv2d\): the 7-wide kernel/],
    ];
    // Between the stacks of a model, each named by its shapes.
    const g = stack(4, [dense(16 * 7 * 7), reshape([16, 7, 7]), convTranspose2d(1, { kernel: 4, stride: 2, padding: 1 }), flatten()]);
    const d = stack([1, 16, 16], [conv2d(2, { kernel: 4, stride: 2, padding: 1 }), flatten(), dense(1)]);
    expect(() => new GAN({ generator: g, discriminator: d, noise: { dim: 4 } })).toThrow(/the generator \[4\] → \[196\] outputs 196 values but the discriminator \[1, 16, 16\] → \[1\] takes 256/);
    g.dispose();
    d.dispose();
    const live = internal.heap.liveAllocations;
    for (const [f, message] of bad) {
      expect(f).toThrow(LatentkitError);
      expect(f).toThrow(message);
    }
    expect(internal.heap.liveAllocations, 'a refused stack frees what it allocated').toBe(live);
  });

  it('refuse a training step batch norm cannot take, and an image batch of the wrong width, before any kernel changes a weight', () => {
    // After a convolution batch norm sees H·W values per channel in a row: one row of [4, 3, 3] trains.
    const net = stack([2, 3, 3], [conv2d(4, { kernel: 3, padding: 1 }), batchNorm({ activation: 'relu' }), flatten(), dense(2)], { seed: 3 });
    const model = new Sequential([net], { loss: 'mse', seed: 1 });
    expect(Number.isFinite(model.trainStep(randomArray(18, 1), randomArray(2, 2)))).toBe(true);
    const pixel = stack([2, 1, 1], [conv2d(4, { kernel: 1 }), batchNorm(), flatten(), dense(1)], { seed: 4 });
    const m1 = new Sequential([pixel], { loss: 'mse' });
    const before = pixel.getWeights();
    const stats = pixel.getStatistics();
    expect(() => m1.trainStep(randomArray(2, 1), randomArray(1, 2))).toThrow(/layer 1 \(batchNorm\) needs more than one value per channel in a training step, but a batch of 1 row of \[4, 1, 1\] gives 1/);
    expect(bits(pixel.getWeights())).toEqual(bits(before));
    expect(bits(pixel.getStatistics())).toEqual(bits(stats));
    const vector = stack(6, [dense(4), batchNorm(), dense(1)]);
    const m2 = new Sequential([vector], { loss: 'mse' });
    expect(() => m2.trainStep(randomArray(6, 1), randomArray(1, 2))).toThrow(/layer 1 \(batchNorm\) needs more than one value per channel in a training step, but a batch of 1 row of \[4\] gives 1/);
    // Inference on one row uses the running statistics: allowed.
    expect(vector.predict(randomArray(6, 3)).shape).toEqual([1, 1]);
    expect(() => net.predict({ data: randomArray(2 * 17, 1), shape: [2, 17] })).toThrow(/predict input of a \[2, 3, 3\] → \[2\] stack.*18/);
    for (const x of [model, m1, m2, net, pixel, vector]) x.dispose();
  });

  it('train a convolutional GAN with batch norm, noise and weight norm to the same bits on 1, 2 and 3 threads', async () => {
    const results: string[] = [];
    for (const t of [1, 2, 3]) {
      setThreads(t);
      if (t > 1) {
        const warm = stack([8, 16, 16], [conv2d(64, { kernel: 3, padding: 1 })]);
        warm.predict(new Float32Array(64 * 8 * 16 * 16));
        warm.dispose();
        await untilRunning(lk, t);
      }
      results.push((await convRun(lk, { size: 'large', iterations: 3 })).sha256);
      expect(lk.threads().running, `threads that took parts on ${t}`).toBe(t);
    }
    setThreads('auto');
    expect(results[1], '2 threads').toBe(results[0]);
    expect(results[2], '3 threads').toBe(results[0]);
  });

  it('drop a share `rate` of values in training steps, scale the kept ones and pass their gradients only, and pass everything at inference', () => {
    const rows = 40;
    const s = stack([3, 8, 8], [dropout(0.25)], { seed: 4 });
    const n = rows * s.inputSize;
    const x = randomArray(n, 6, 0.5, 2);
    const input = s.stageInput(x, rows, 'test input');
    const { heap } = internal;
    const y = heap.f32.slice(s.forward(input.ptr, rows, true) >>> 2, (s.outputPtr >>> 2) + n);
    const upstream = randomArray(n, 7);
    heap.f32.set(upstream, s.outputGradPtr >>> 2);
    const dx = heap.alloc(n, 'test dx');
    s.backward(rows, dx.ptr);
    const g = dx.read();
    heap.free(dx);
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const keep = y[i] !== 0;
      kept += keep ? 1 : 0;
      const [wantY, wantG] = keep ? [Math.fround(x[i]! * Math.fround(1 / 0.75)), Math.fround(upstream[i]! * Math.fround(1 / 0.75))] : [0, 0];
      if (y[i] !== wantY || g[i] !== wantG) throw new Error(`value ${i} of [${rows}, 3, 8, 8]: y ${y[i]} (want ${wantY}), dx ${g[i]} (want ${wantG}) for x ${x[i]}, dy ${upstream[i]}`);
    }
    expect(kept / n, 'share kept').toBeGreaterThan(0.72);
    expect(kept / n, 'share kept').toBeLessThan(0.78);
    expect(bits(s.predict({ data: x, shape: [rows, 192] }).data), 'inference passes x unchanged').toEqual(bits(x));
    s.dispose();
  });

  it('save and load back bit for bit, and a checkpoint of a convolutional GAN resumes bit for bit', () => {
    const real = randomArray(96 * 784, 5, -1, 1);
    const make = () => {
      const { generator, discriminator } = dcgan(4, 7, 0.3);
      return new GAN({ generator, discriminator, noise: { dim: 16 }, batchSize: 16, seed: 3, ema: { decay: 0.95 }, optimizerD: { type: 'adam', lr: 2e-4, beta1: 0.5 }, optimizerG: { type: 'adam', lr: 2e-4, beta1: 0.5 } });
    };
    // 8 iterations straight, against 3, a checkpoint, and 5 more.
    const [a, b] = [make(), make()];
    a.fit(real, { iterations: 8 });
    b.fit(real, { iterations: 3 });
    const c = load(checkpoint(b)) as GAN;
    c.fit(real, { iterations: 5 });
    for (const [x, y] of [[a.generator, c.generator], [a.discriminator, c.discriminator], [a.generatorEma!, c.generatorEma!]] as const) {
      expect(bits(y.getWeights())).toEqual(bits(x.getWeights()));
      expect(bits(y.getStatistics())).toEqual(bits(x.getStatistics()));
    }
    const z = randomArray(5 * 16, 9);
    const back = load(save(a)) as GAN;
    expect(bits(back.generator.predict(z).data)).toEqual(bits(a.generator.predict(z).data));
    expect(bits(back.generatorEma!.predict(z).data)).toEqual(bits(a.generatorEma!.predict(z).data));
    expect(back.generator.definition()).toEqual(a.generator.definition());
    for (const m of [a, b, c, back]) {
      m.generator.dispose();
      m.discriminator.dispose();
      m.dispose();
    }
  });

  it('serve every model unchanged: an autoencoder, a VAE, a classifier with a frozen body, a conditional GAN', () => {
    const images = randomArray(96 * 64, 3, 0, 1);
    const labels = Int32Array.from({ length: 96 }, (_, i) => i % 3);
    const encoder = () => stack([1, 8, 8], [conv2d(4, { kernel: 3, stride: 2, padding: 1, activation: 'relu' }), batchNorm(), flatten(), dense(6)], { seed: 1 });
    const decoder = (inputs: number) => stack(inputs, [dense(4 * 4 * 4, { activation: 'relu' }), reshape([4, 4, 4]), convTranspose2d(1, { kernel: 4, stride: 2, padding: 1 }), flatten()], { seed: 2 });

    const ae = new Autoencoder({ encoder: encoder(), decoder: decoder(6), seed: 3 });
    // Batch statistics in training, running ones at inference: the first epochs' training loss is
    // far above the untrained inference error, so the test trains long enough for both to fall.
    const aeBefore = ae.reconstructionError(images);
    const ah = ae.fit(images, { epochs: 30, batchSize: 16 });
    expect(ah.loss.at(-1)!, 'autoencoder, training loss').toBeLessThan(ah.loss[0]! / 2);
    expect(ae.reconstructionError(images), 'autoencoder, inference').toBeLessThan(aeBefore);

    const vae = new VAE({ encoder: encoder(), decoder: decoder(3), likelihood: 'bernoulli', seed: 4 });
    const binary = images.map((v) => (v > 0.5 ? 1 : 0));
    const h = vae.fit(binary, { epochs: 8, batchSize: 16 });
    expect(h.loss.at(-1)!, 'VAE').toBeLessThan(h.loss[0]!);
    expect(vae.sample(5).shape).toEqual([5, 64]);

    const body = encoder();
    const clf = new Classifier({ body, head: stack(6, [dense(3)], { seed: 5 }) });
    const ch = clf.fit(images, labels, { epochs: 10, batchSize: 16 });
    expect(ch.loss.at(-1)!, 'classifier').toBeLessThan(ch.loss[0]!);
    const frozen = new Classifier({ body: encoder(), head: stack(6, [dense(3)], { seed: 6 }), freezeBody: true });
    const bodyWeights = frozen.body[0]!.getWeights();
    frozen.fit(images, labels, { epochs: 2, batchSize: 16 });
    expect(bits(frozen.body[0]!.getWeights()), 'a frozen convolutional body').toEqual(bits(bodyWeights));

    // A conditional GAN: labels join the noise before G's dense layer and the image before D's.
    const cgan = new GAN({
      generator: stack(4 + 3, [dense(4 * 4 * 4, { activation: 'relu' }), reshape([4, 4, 4]), batchNorm(), convTranspose2d(1, { kernel: 4, stride: 2, padding: 1, activation: 'tanh' }), flatten()], { seed: 7 }),
      discriminator: stack(64 + 3, [dense(64, { activation: leaky }), reshape([1, 8, 8]), conv2d(4, { kernel: 4, stride: 2, padding: 1, activation: leaky }), flatten(), dense(1)], { seed: 8 }),
      conditions: 3, noise: { dim: 4 }, batchSize: 16, seed: 9,
    });
    cgan.fit(images.map((v) => 2 * v - 1), { iterations: 10, labels });
    expect(cgan.sample(6, { labels: [0, 1, 2, 0, 1, 2] }).length).toBe(6 * 64);
    for (const m of [ae, vae, clf, frozen, cgan]) m.dispose();
  });

  it('grow WebAssembly memory by 0 bytes over 200 DCGAN iterations, with no new allocations', () => {
    setThreads(2);
    const { generator, discriminator } = dcgan(4, 3);
    const gan = new GAN({ generator, discriminator, noise: { dim: 16 }, batchSize: 16, seed: 1 });
    const real = randomArray(64 * 784, 2);
    gan.fit(real, { iterations: 2 });
    const before = memoryStats();
    const live = internal.heap.liveAllocations;
    gan.fit(real, { iterations: 200 });
    expect(memoryStats().wasmBytes - before.wasmBytes).toBe(0);
    expect(internal.heap.liveAllocations).toBe(live);
    gan.dispose();
    generator.dispose();
    discriminator.dispose();
    setThreads('auto');
  });
});
