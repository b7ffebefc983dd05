// Conditional GANs (Mirza & Osindero 2014): G(z, y) and D(x, y) with y one-hot, the Algorithm-1
// schedule unchanged.
import { describe, expect, it } from 'vitest';
import { GAN, type Stack, checkpoint, load, mlp, save } from '../dist/index.js';
import { expectClose, randomArray } from './helpers.js';

/** An unconditional copy of a conditional stack with class `k` fixed: the class's input row folded into the first bias. */
function foldClass(conditional: Stack, inputs: number, k: number, sizes: number[]): Stack {
  const s = mlp(sizes, { activation: 'tanh' });
  conditional.layers.forEach((l, i) => {
    const { weight, bias } = conditional.layerParameters(i);
    if (i > 0) return s.setLayerParameters(i, weight, bias);
    const w = weight.slice(0, inputs * l.outputs);
    const b = bias.map((v, j) => v + weight[(inputs + k) * l.outputs + j]!);
    s.setLayerParameters(0, w, b);
  });
  return s;
}

describe('conditional GAN', () => {
  it('with every label the same class k, an iteration equals the unconditional GAN whose first biases hold class k\'s weights', () => {
    // The conditional network moves class k's row and the bias together, so its effective bias
    // takes twice the step: each network is checked in a run where the other one stands still.
    const [dim, f, c, k] = [4, 3, 4, 2];
    const moving = { type: 'sgd', lr: 0.1 } as const;
    const still = { type: 'sgd', lr: 1e-30 } as const;
    for (const network of ['discriminator', 'generator'] as const) {
      const cG = mlp([dim + c, 8, f], { activation: 'tanh', seed: 1 });
      const cD = mlp([f + c, 8, 1], { activation: 'tanh', seed: 2 });
      const uG = foldClass(cG, dim, k, [dim, 8, f]);
      const uD = foldClass(cD, f, k, [f, 8, 1]);
      const opts = { noise: { dim }, batchSize: 16, seed: 3, optimizerD: network === 'discriminator' ? moving : still, optimizerG: network === 'generator' ? moving : still };
      const [cond, uncond, inputs] = network === 'generator' ? [cG, uG, dim] : [cD, uD, f];
      const was = cond.layerParameters(0);
      const real = randomArray(64 * f, 7);
      const cgan = new GAN({ generator: cG, discriminator: cD, conditions: c, ...opts });
      const ugan = new GAN({ generator: uG, discriminator: uD, ...opts });
      const cs = cgan.fit(real, { iterations: 1, labels: new Int32Array(64).fill(k) });
      const us = ugan.fit(real, { iterations: 1 });
      expectClose(cs.lossD, us.lossD, 1e-5, 1e-6, `${network} run: discriminator loss`);
      // (In the discriminator run the generator's loss sees the two discriminators after their unequal steps.)
      if (network === 'generator') expectClose(cs.lossG, us.lossG, 1e-5, 1e-6, 'generator loss');
      const out = cond.layers[0]!.outputs;
      const cp = cond.layerParameters(0);
      const up = uncond.layerParameters(0);
      // Shared weights moved alike; class k's row moved by its bias's step; the other classes' rows did not move.
      expectClose(cp.weight.subarray(0, inputs * out), up.weight, 1e-5, 1e-6, `${network} layer 0 weights`);
      const biasStep = cp.bias.map((v, j) => v - was.bias[j]!);
      expect(Math.max(...biasStep.map(Math.abs)), `${network} moved`).toBeGreaterThan(1e-4);
      const rowStep = (cls: number) => cp.weight.subarray((inputs + cls) * out, (inputs + cls + 1) * out).map((v, j) => v - was.weight[(inputs + cls) * out + j]!);
      expectClose(rowStep(k), biasStep, 1e-4, 1e-7, `${network}: class ${k} row step vs bias step`);
      for (let cls = 0; cls < c; cls++) if (cls !== k) expect(Array.from(rowStep(cls)), `${network}: class ${cls} row`).toEqual(new Array(out).fill(0));
      expectClose(up.bias.map((v, j) => v - was.bias[j]! - was.weight[(inputs + k) * out + j]!), biasStep, 1e-3, 1e-6, `${network} bias step`);
      for (let i = 1; i < cond.layers.length; i++) {
        expectClose(cond.layerParameters(i).weight, uncond.layerParameters(i).weight, 1e-5, 1e-6, `${network} layer ${i} weights`);
        expectClose(cond.layerParameters(i).bias, uncond.layerParameters(i).bias, 1e-5, 1e-6, `${network} layer ${i} biases`);
      }
      for (const x of [cgan, ugan, cG, cD, uG, uD]) x.dispose();
    }
  });

  it('learns to generate the class it is asked for (three 2-D clusters)', () => {
    const centres = [[-2, 0], [2, 0], [0, 2]] as const;
    const n = 3000;
    const noise = randomArray(2 * n, 11);
    const x = new Float32Array(2 * n);
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    for (let i = 0; i < n; i++) for (let d = 0; d < 2; d++) x[2 * i + d] = centres[labels[i]!]![d]! + 0.15 * noise[2 * i + d]!;
    const gan = new GAN({
      generator: mlp([8 + 3, 64, 64, 2], { activation: 'tanh', seed: 1 }),
      discriminator: mlp([2 + 3, 64, 64, 1], { activation: 'tanh', seed: 2 }),
      conditions: 3, noise: { dim: 8 }, batchSize: 64, seed: 3,
      optimizerD: { type: 'adam', lr: 1e-3, beta1: 0.5 }, optimizerG: { type: 'adam', lr: 1e-3, beta1: 0.5 },
    });
    gan.fit(x, { iterations: 1500, labels });
    for (let cls = 0; cls < 3; cls++) {
      const s = gan.sample(500, { labels: cls, seed: 9 });
      let near = 0;
      for (let i = 0; i < 500; i++) if (Math.hypot(s[2 * i]! - centres[cls]![0], s[2 * i + 1]! - centres[cls]![1]) < 0.75) near++;
      expect(near / 500, `share of class-${cls} samples near centre (${centres[cls]})`).toBeGreaterThan(0.8);
    }
    gan.generator.dispose();
    gan.discriminator.dispose();
    gan.dispose();
  });

  it('saves and loads with its conditions; a checkpoint resumes bit for bit', () => {
    const make = () => new GAN({
      generator: mlp([5 + 3, 16, 4], { activation: 'tanh', seed: 1 }), discriminator: mlp([4 + 3, 16, 1], { activation: 'tanh', seed: 2 }),
      conditions: 3, noise: { dim: 5 }, batchSize: 8, seed: 3, ema: { decay: 0.9 },
    });
    const x = randomArray(40 * 4, 5);
    const labels = Int32Array.from({ length: 40 }, (_, i) => i % 3);
    const straight = make();
    straight.fit(x, { iterations: 30, labels });
    const half = make();
    half.fit(x, { iterations: 15, labels });
    const resumed = load(checkpoint(half)) as GAN;
    expect(resumed.conditions).toBe(3);
    resumed.fit(x, { iterations: 15, labels });
    expect(resumed.generator.getWeights()).toEqual(straight.generator.getWeights());
    expect(resumed.discriminator.getWeights()).toEqual(straight.discriminator.getWeights());
    const loaded = load(save(straight)) as GAN;
    const asked = [0, 1, 2, 2, 1, 0];
    expect(loaded.sample(6, { seed: 4, labels: asked })).toEqual(straight.sample(6, { seed: 4, labels: asked }));
    expect(loaded.sample(6, { seed: 4, labels: 1, raw: true })).toEqual(straight.sample(6, { seed: 4, labels: [1, 1, 1, 1, 1, 1], raw: true }));
    // The label changes the sample; the noise alone does not decide it.
    expect(loaded.sample(6, { seed: 4, labels: 0 })).not.toEqual(loaded.sample(6, { seed: 4, labels: 2 }));
    for (const g of [straight, half, resumed, loaded]) {
      g.dispose();
      g.generator.dispose();
      g.discriminator.dispose();
    }
  });

  it('names the problem: sizes that leave no room for the label, missing or bad labels, labels on an unconditional GAN', () => {
    const G = mlp([5 + 3, 8, 4], { seed: 1 });
    const D = mlp([4 + 3, 8, 1], { seed: 2 });
    expect(() => new GAN({ generator: G, discriminator: D, noise: { dim: 5 } })).toThrow(/generator \[8, 8, 4\] outputs 4 values but the discriminator \[7, 8, 1\] takes 7/);
    expect(() => new GAN({ generator: G, discriminator: D, conditions: 3, noise: { dim: 8 } })).toThrow(/takes 8 inputs but noise and a one-hot label are 8 \+ 3 = 11/);
    expect(() => new GAN({ generator: G, discriminator: D, conditions: 2, noise: { dim: 6 } })).toThrow(/takes 7 inputs but a sample and its one-hot label are 4 \+ 2 = 6/);
    expect(() => new GAN({ generator: G, discriminator: D, conditions: 1, noise: { dim: 7 } })).toThrow(/conditions must be 0 \(unconditional\) or a number of classes ≥ 2, got 1/);
    const gan = new GAN({ generator: G, discriminator: D, conditions: 3, noise: { dim: 5 }, batchSize: 4 });
    const x = randomArray(10 * 4, 1);
    expect(() => gan.fit(x, { iterations: 1 })).toThrow(/conditioned on 3 classes: fit needs labels, one per row of the \[10, 4\] samples/);
    expect(() => gan.fit(x, { iterations: 1, labels: [0, 1, 2] })).toThrow(/3 labels for 10 rows/);
    expect(() => gan.fit(x, { iterations: 1, labels: [0, 1, 2, 0, 1, 2, 0, 1, 3, 0] })).toThrow(/label 8 is 3, expected an integer in \[0, 3\)/);
    expect(() => gan.sample(2, { labels: 5 })).toThrow(/the label is 5, expected an integer in \[0, 3\)/);
    expect(() => gan.sample(2, { labels: [0] })).toThrow(/1 labels for 2 samples/);
    expect(gan.sample(3).length).toBe(12); // no labels: random classes
    const plain = new GAN({ generator: mlp([5, 8, 4], { seed: 3 }), discriminator: mlp([4, 8, 1], { seed: 4 }), noise: { dim: 5 }, batchSize: 4 });
    expect(() => plain.fit(x, { iterations: 1, labels: new Array(10).fill(0) })).toThrow(/labels are for a conditional GAN \(conditions: n\); this GAN is unconditional/);
    expect(() => plain.sample(2, { labels: 0 })).toThrow(/this GAN is unconditional/);
    for (const m of [gan, plain, G, D, plain.generator, plain.discriminator]) m.dispose();
  });
});
