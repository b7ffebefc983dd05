// The semi-supervised GAN (Salimans et al. 2016): its errors before any kernel runs, the same
// bits on 1, 2 and 3 threads, a checkpoint that resumes bit for bit, files that load back, and a
// run that learns classes from a few labels. The objectives' kernels are checked against f64
// central differences in crates/kernels/tests/kernels.rs.
import { describe, expect, it } from 'vitest';
import { LatentkitError, SemiSupervisedGAN, checkpoint, dense, gaussianNoise, load, save, setThreads, stack } from '../dist/index.js';
import * as lk from '../dist/index.js';
import * as internal from '../dist/internal.js';
import { randomArray } from './helpers.js';
// @ts-expect-error plain JS fixture shared with the other runtimes
import { untilRunning } from './runtimes/seeded-run.js';

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Fails at the first value whose bits differ, naming its index and both values (no diff of the whole array). */
function expectSameBits(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const [g, w] = [new Uint32Array(got.buffer, got.byteOffset, got.length), new Uint32Array(want.buffer, want.byteOffset, want.length)];
  const i = g.findIndex((v, j) => v !== w[j]);
  if (i >= 0) throw new Error(`${what}: value ${i} of ${got.length} is ${got[i]}, want ${want[i]}`);
}

/** Salimans et al.'s MNIST networks, narrow: noise and weight norm in D, batch norm in G. */
function networks(width: number, seed: number, { input = 20, classCount = 4, noise = 8 } = {}) {
  const generator = stack(noise, [dense(2 * width, { activation: 'relu' }), lk.batchNorm(), dense(input, { activation: 'tanh', weightNorm: true })], { seed });
  const features = stack(input, [gaussianNoise(0.3), dense(2 * width, { activation: 'relu', weightNorm: true }), gaussianNoise(0.5), dense(width, { activation: 'relu', weightNorm: true })], { seed: seed + 1 });
  const classes = stack(width, [gaussianNoise(0.5), dense(classCount, { weightNorm: true })], { seed: seed + 2 });
  return { generator, features, classes };
}

/** Four Gaussian clusters in 20 dimensions, one per class, and their labels. */
function clusters(rows: number, seed: number, input = 20) {
  const noise = randomArray(rows * input, seed, -1, 1);
  const centres = randomArray(4 * input, 99, -1, 1);
  const x = new Float32Array(rows * input);
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    labels[r] = r % 4;
    for (let j = 0; j < input; j++) x[r * input + j] = 0.6 * centres[labels[r]! * input + j]! + 0.5 * noise[r * input + j]!;
  }
  return { x, labels };
}

describe('SemiSupervisedGAN', () => {
  it('refuses bad input with the shapes, before any kernel changes a weight', () => {
    const { generator, features, classes } = networks(8, 1);
    const model = new SemiSupervisedGAN({ generator, features, classes, noise: { dim: 8 }, batchSize: 16 });
    const { x, labels } = clusters(64, 2);
    const labelled = x.subarray(0, 8 * 20);
    const before = features.getWeights();
    const bad: [() => unknown, RegExp][] = [
      [() => model.fit({ labelled, labels: [0, 1, 2, 3, 0, 1, 2, 4], unlabelled: x }), /label 7 is 4, expected an integer in \[0, 4\)/],
      [() => model.fit({ labelled, labels: [0, 1, 2], unlabelled: x }), /3 labels for 8 rows/],
      [() => model.fit({ labels: [], unlabelled: x } as never), /no labelled rows; a semi-supervised GAN needs at least one labelled row/],
      [() => model.fit({ labelled: new Float32Array(0), labels: [], unlabelled: x }), /labelled rows: a Float32Array of length 0/],
      [() => model.fit({ labelled, labels: labels.subarray(0, 8) } as never), /no unlabelled rows/],
      [() => model.fit({ labelled, labels: labels.subarray(0, 8), unlabelled: x.subarray(0, 10 * 20) }), /the unlabelled rows \[10, 20\] are fewer than the batch size 16/],
      [() => model.fit({ labelled: { data: randomArray(8 * 21, 1), shape: [8, 21] }, labels: labels.subarray(0, 8), unlabelled: x }), /labelled rows.*21/],
      [() => model.fit({ labelled, labels: labels.subarray(0, 8), unlabelled: x, extra: 1 } as never), /unknown option 'extra' for SemiSupervisedGAN data/],
      [() => model.fit({ labelled: Float32Array.from(labelled, (v, i) => (i === 5 ? NaN : v)), labels: labels.subarray(0, 8), unlabelled: x }, { iterations: 1 }), /labelled rows.*NaN/],
    ];
    for (const [f, message] of bad) {
      expect(f).toThrow(LatentkitError);
      expect(f).toThrow(message);
    }
    expect(bits(features.getWeights()), 'no weight changed').toEqual(bits(before));
    expect(() => new SemiSupervisedGAN({ generator, features, classes: stack(8, [dense(1)]), noise: { dim: 8 } })).toThrow(/must output one logit per class \(≥ 2\), it outputs 1/);
    expect(() => new SemiSupervisedGAN({ generator, features, classes, noise: { dim: 7 } })).toThrow(/noise.dim is 7 but the generator \[8, 16, 16, 20\] takes 8|noise.dim is 7 but the generator .* takes 8/);
    expect(() => new SemiSupervisedGAN({ generator, features: stack(19, [dense(8)]), classes, noise: { dim: 8 } })).toThrow(/outputs 20 values but stack 1 .* takes 19/);
    expect(() => new SemiSupervisedGAN({ generator, features, classes, noise: { dim: 8 }, unlabelledWeight: -1 })).toThrow(/unlabelledWeight must be a number ≥ 0, got -1/);
    model.dispose();
    for (const s of [generator, features, classes]) s.dispose();
  });

  it('trains to the same bits on 1, 2 and 3 threads, and a checkpoint resumes bit for bit', async () => {
    // Wide enough (a batch of 128 through 512 × 256 layers) that threads take parts.
    const { x, labels } = clusters(512, 3);
    const data = { labelled: x.subarray(0, 300 * 20), labels: labels.subarray(0, 300), unlabelled: x };
    const run = (iterations: number, from?: Uint8Array) => {
      const model = from ? (load(from) as InstanceType<typeof SemiSupervisedGAN>) : (() => {
        const n = networks(256, 5);
        return new SemiSupervisedGAN({ ...n, noise: { dim: 8 }, batchSize: 128, seed: 9 });
      })();
      model.fit(data, { iterations });
      return model;
    };
    const weights = (m: InstanceType<typeof SemiSupervisedGAN>) => Float32Array.from([m.generator, m.features, m.classes].flatMap((s) => [...s.getWeights(), ...s.getStatistics()]));
    const runs: Float32Array[] = [];
    for (const t of [1, 2, 3]) {
      setThreads(t);
      if (t > 1) {
        const warm = stack(512, [dense(512)]);
        warm.predict(new Float32Array(256 * 512));
        warm.dispose();
        await untilRunning(lk, t);
      }
      const m = run(6);
      runs.push(weights(m));
      expect(lk.threads().running, `threads that took parts on ${t}`).toBe(t);
      m.dispose();
    }
    setThreads('auto');
    expectSameBits(runs[1]!, runs[0]!, 'weights and statistics on 2 threads against 1');
    expectSameBits(runs[2]!, runs[0]!, 'weights and statistics on 3 threads against 1');
    // 6 straight against 2, a checkpoint, then 4: the labelled and unlabelled orders, both RNGs and Adam's state resume.
    const a = run(6);
    const b = run(2);
    const c = run(4, checkpoint(b));
    expectSameBits(weights(c), weights(a), 'weights and statistics after 2 + checkpoint + 4 iterations against 6');
    expect(c.iterations).toBe(6);
    const z = 5;
    const back = load(save(a)) as InstanceType<typeof SemiSupervisedGAN>;
    expect(bits(back.predict(x.subarray(0, z * 20)).data)).toEqual(bits(a.predict(x.subarray(0, z * 20)).data));
    expect(bits(back.sample(3, { seed: 4 }))).toEqual(bits(a.sample(3, { seed: 4 })));
    for (const m of [a, b, c, back]) {
      m.dispose();
      for (const s of [m.generator, m.features, m.classes]) s.dispose();
    }
  });

  it('learns four classes from 8 labels and 2,000 unlabelled rows: the losses fall and the error beats chance by far', () => {
    const { x, labels } = clusters(2400, 7);
    const test = { x: x.subarray(2000 * 20), labels: labels.subarray(2000) };
    const n = networks(64, 11);
    const model = new SemiSupervisedGAN({ ...n, noise: { dim: 8 }, batchSize: 50, seed: 1 });
    const chance = model.error(test.x, test.labels);
    const history = model.fit({ labelled: x.subarray(0, 8 * 20), labels: labels.subarray(0, 8), unlabelled: x.subarray(0, 2000 * 20) }, { iterations: 300 });
    const error = model.error(test.x, test.labels);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(history.lossD.slice(-50)), 'discriminator loss, last 50 against first 50').toBeLessThan(mean(history.lossD.slice(0, 50)));
    expect(error, `test error after 300 iterations (before: ${chance})`).toBeLessThan(0.15);
    const p = model.predict(test.x.subarray(0, 3 * 20)).data;
    for (let r = 0; r < 3; r++) expect(p.subarray(r * 4, r * 4 + 4).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    expect(internal.heap.liveAllocations).toBeGreaterThan(0);
    model.dispose();
    for (const s of Object.values(n)) s.dispose();
  });
});
