// The semi-supervised GAN (Salimans et al. 2016) and VAE (Kingma et al. 2014, M2): their errors
// before any kernel runs, the same bits on 1, 2 and 3 threads, a checkpoint that resumes bit for
// bit, files that load back, and runs that learn classes from a few labels; M2's whole step
// against central differences of its loss. The objectives' kernels are checked against f64
// central differences in crates/kernels/tests/kernels.rs.
import { describe, expect, it } from 'vitest';
import { LatentkitError, SemiSupervisedGAN, SemiSupervisedVAE, checkpoint, dense, gaussianNoise, load, save, setThreads, stack } from '../dist/index.js';
import * as lk from '../dist/index.js';
import * as internal from '../dist/internal.js';
import { randomArray } from './helpers.js';
// @ts-expect-error plain JS fixture shared with the other runtimes
import { untilRunning } from './runtimes/seeded-run.js';

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Sets `t` threads and, above one, waits until that many take parts (a wide layer starts them). */
async function onThreads(t: number): Promise<void> {
  setThreads(t);
  if (t === 1) return;
  const warm = stack(512, [dense(512)]);
  warm.predict(new Float32Array(256 * 512));
  warm.dispose();
  await untilRunning(lk, t);
}

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
      [() => model.fit({ labels: [], unlabelled: x } as never), /no labelled rows; it needs at least one labelled row per class it is to learn \(for none, train a GAN\)/],
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
        return new SemiSupervisedGAN({ ...n, noise: { dim: 8 }, batchSize: 128, seed: 9, ema: { decay: 0.9 } });
      })();
      model.fit(data, { iterations });
      return model;
    };
    // The trained networks and the discriminator's moving average.
    const weights = (m: InstanceType<typeof SemiSupervisedGAN>) => Float32Array.from([m.generator, m.features, m.classes, ...m.classifierStacks()].flatMap((s) => [...s.getWeights(), ...s.getStatistics()]));
    const runs: Float32Array[] = [];
    for (const t of [1, 2, 3]) {
      await onThreads(t);
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

/** A small M2 for `input` features, K classes and a latent of L, its classifier's hidden layer of `width`. */
function m2(width: number, seed: number, { input = 20, K = 4, L = 4, batchSize = 50, likelihood }: { input?: number; K?: number; L?: number; batchSize?: number; likelihood?: 'bernoulli' | { type: 'gaussian'; variance: 'learned' } } = {}) {
  const out = likelihood && likelihood !== 'bernoulli' ? 2 * input : input;
  return new SemiSupervisedVAE({
    encoder: stack(input + K, [dense(width, { activation: 'tanh' }), dense(2 * L)], { seed }),
    decoder: stack(L + K, [dense(width, { activation: 'tanh' }), dense(out)], { seed: seed + 1 }),
    classifier: stack(input, [dense(width, { activation: 'tanh' }), dense(K)], { seed: seed + 2 }),
    batchSize, optimizer: { type: 'adam', lr: 1e-3 }, seed: seed + 3, ...(likelihood && { likelihood }),
  });
}

const disposeM2 = (m: InstanceType<typeof SemiSupervisedVAE>) => {
  m.dispose();
  for (const s of [m.encoder, m.decoder, m.classifier]) s.dispose();
};

describe('SemiSupervisedVAE (M2)', () => {
  it('refuses bad input with the shapes', () => {
    const m = m2(8, 1);
    const { x, labels } = clusters(64, 2);
    const unit = Float32Array.from(x, (v) => (v + 1) / 2);
    const bad: [() => unknown, RegExp][] = [
      [() => m.fit({ labelled: unit.subarray(0, 4 * 20), labels: [0, 1, 2, 7], unlabelled: unit }), /label 3 is 7, expected an integer in \[0, 4\)/],
      [() => m.fit({ labelled: unit.subarray(0, 4 * 20), labels: [0, 1], unlabelled: unit }), /2 labels for 4 rows/],
      [() => m.fit({ labels: [], unlabelled: unit } as never), /no labelled rows; it needs at least one labelled row per class it is to learn \(for none, train a VAE\)/],
      [() => m.fit({ labelled: unit.subarray(0, 4 * 20), labels: [0, 1, 2, 3], unlabelled: unit.subarray(0, 20 * 20) }), /the unlabelled rows \[20, 20\] are fewer than the batch size 50/],
      [() => m.sample(3, { labels: 4 }), /sample labels: label 0 is 4/],
    ];
    for (const [f, message] of bad) {
      expect(f).toThrow(LatentkitError);
      expect(f).toThrow(message);
    }
    const [E, D, C] = [stack(24, [dense(8)]), stack(8, [dense(20)]), stack(20, [dense(4)])];
    expect(() => new SemiSupervisedVAE({ encoder: stack(20, [dense(8)]), decoder: D, classifier: C })).toThrow(/the encoder \[20\] → \[8\] takes 20 values; q\(z\|x,y\) takes x \(20, the classifier's input\) and a one-hot y \(4\): 24/);
    expect(() => new SemiSupervisedVAE({ encoder: E, decoder: stack(4, [dense(20)]), classifier: C })).toThrow(/the decoder \[4\] → \[20\] takes 4 values; p\(x\|y,z\) takes z \(4\) and a one-hot y \(4\): 8/);
    expect(() => new SemiSupervisedVAE({ encoder: E, decoder: D, classifier: C, likelihood: { type: 'gaussian', variance: 'learned' } })).toThrow(/outputs 20 values; a Gaussian with learned variances .* over 20 features needs 40/);
    for (const s of [E, D, C]) s.dispose();
    disposeM2(m);
  });

  it('computes the gradient of its whole loss: every stack against central differences of the step\'s loss (the RNG, the data orders and the weights restored from one checkpoint)', () => {
    const { x, labels } = clusters(60, 3);
    const unit = Float32Array.from(x, (v) => (v + 1) / 2);
    // 6 labelled rows in batches of 4 and 60 unlabelled in batches of 12: every term, and rows left out.
    const data = { labelled: unit.subarray(0, 6 * 20), labels: labels.subarray(0, 6), unlabelled: unit };
    const model = m2(6, 5, { batchSize: 12, likelihood: { type: 'gaussian', variance: 'learned' } });
    model.fit(data, { iterations: 3 });
    const bytes = checkpoint(model);
    const at = (perturb?: { stack: 'encoder' | 'decoder' | 'classifier'; i: number; h: number }) => {
      const m = load(bytes) as InstanceType<typeof SemiSupervisedVAE>;
      if (perturb) {
        const w = m[perturb.stack].getWeights();
        w[perturb.i]! += perturb.h;
        m[perturb.stack].setWeights(w);
      }
      const loss = m.trainStep(data).loss;
      const grads = { encoder: m.encoder.getGradients(), decoder: m.decoder.getGradients(), classifier: m.classifier.getGradients() };
      disposeM2(m);
      return { loss, grads };
    };
    const base = at();
    for (const s of ['encoder', 'decoder', 'classifier'] as const) {
      const n = base.grads[s].length;
      for (const i of [0, 1, Math.floor(n / 3), Math.floor(n / 2), n - 7, n - 1]) {
        const h = 2e-3;
        const want = (at({ stack: s, i, h }).loss - at({ stack: s, i, h: -h }).loss) / (2 * h);
        const got = base.grads[s][i]!;
        if (!(Math.abs(got - want) <= 2e-2 * Math.abs(want) + 2e-3)) throw new Error(`${s} parameter ${i} of ${n}: gradient ${got}, central difference ${want}`);
      }
    }
    disposeM2(model);
  });

  it('a (row, class) pair that q(y|x) rules out exactly adds nothing to the step, and one it all but rules out a finite gradient, where its own gradient overflows f32', () => {
    // Fashion-MNIST's M2 once had, for a class q(y|x) ruled out (q = 0 in f32), a decoder log-variance
    // of −116 and a mean 12 from x: the unweighted gradient r·e^116 overflows, and 0 · Inf is NaN.
    // Two models that differ only in what the decoder says for class 3, which q rules out exactly,
    // must take the same step: the same loss and gradients, bit for bit, and finite.
    const { x, labels } = clusters(60, 3);
    const unit = Float32Array.from(x, (v) => (v + 1) / 2);
    const rows = [0, 1, 2, 4, 5, 6]; // classes 0, 1, 2: no labelled row of class 3
    const data = {
      labelled: Float32Array.from(rows.flatMap((r) => Array.from(unit.subarray(r * 20, (r + 1) * 20)))),
      labels: rows.map((r) => labels[r]!),
      unlabelled: unit,
    };
    expect(data.labels).toEqual([0, 1, 2, 0, 1, 2]);
    const step = (meanPull: number, logVarPull: number, ruledOut = -1000) => {
      const m = m2(6, 5, { batchSize: 12, likelihood: { type: 'gaussian', variance: 'learned' } });
      // Decoder [z (4), one-hot y (4)] → 6 tanh → [means (20), log-variances (20)]: hidden unit 0 is
      // tanh(100·[y = 3]), exactly 0 for the other classes, and pulls the outputs by meanPull, logVarPull.
      const d = m.decoder.getWeights();
      for (let i = 0; i < 8; i++) d[i * 6] = 0;
      d[7 * 6] = 100;
      d[48] = 0;
      for (let j = 0; j < 40; j++) d[54 + j] = j < 20 ? meanPull : logVarPull;
      m.decoder.setWeights(d);
      // Classifier 20 → 6 → 4: class 3's bias −1000, so q(3|x) = 0 in f32 (and f64) for every row.
      const c = m.classifier.getWeights();
      c[126 + 24 + 3] = ruledOut;
      m.classifier.setWeights(c);
      const loss = m.trainStep(data).loss;
      const grads = { encoder: m.encoder.getGradients(), decoder: m.decoder.getGradients(), classifier: m.classifier.getGradients() };
      const weights = [m.encoder, m.decoder, m.classifier].flatMap((s) => Array.from(s.getWeights()));
      disposeM2(m);
      return { loss, grads, weights };
    };
    const benign = step(-0.5, -1);
    const overflowing = step(-12, -116);
    expect(Number.isFinite(benign.loss)).toBe(true);
    expect(overflowing.loss).toBe(benign.loss);
    // Hidden unit 0's own inputs are the exception: the other classes' rows reach it through its
    // outgoing weights, which are the pulls.
    for (const g of [benign.grads.decoder, overflowing.grads.decoder]) for (const i of [0, 6, 12, 18, 24, 30, 36, 42, 48]) g[i] = 0;
    for (const s of ['encoder', 'decoder', 'classifier'] as const) {
      expect(overflowing.grads[s].every(Number.isFinite), `${s} gradient finite`).toBe(true);
      expectSameBits(overflowing.grads[s], benign.grads[s], `${s} gradient`);
    }
    expect(overflowing.weights.every(Number.isFinite)).toBe(true);
    // All but ruled out (q(3|x) ≈ e^−95, a subnormal f32): the pairs count, and the gradient that
    // overflowed f32 before q scaled it is taken with q folded in, finite.
    const almost = step(-12, -116, -95);
    expect(Number.isFinite(almost.loss)).toBe(true);
    expect(almost.loss).not.toBe(benign.loss);
    for (const s of ['encoder', 'decoder', 'classifier'] as const) expect(almost.grads[s].every(Number.isFinite), `${s} gradient finite`).toBe(true);
    expect(almost.weights.every(Number.isFinite)).toBe(true);
  });

  it('learns four classes from 8 labels and 2,000 unlabelled rows, trains to the same bits on 1, 2 and 3 threads, and resumes from a checkpoint bit for bit', async () => {
    const { x, labels } = clusters(2400, 7);
    const unit = Float32Array.from(x, (v) => (v + 1) / 2);
    const data = { labelled: unit.subarray(0, 8 * 20), labels: labels.subarray(0, 8), unlabelled: unit.subarray(0, 2000 * 20) };
    const test = { x: unit.subarray(2000 * 20), labels: labels.subarray(2000) };
    const model = m2(64, 11);
    const before = model.error(test.x, test.labels);
    const history = model.fit(data, { iterations: 300 });
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(history.loss.slice(-50)), 'loss, last 50 against first 50').toBeLessThan(mean(history.loss.slice(0, 50)));
    expect(model.error(test.x, test.labels), `test error after 300 iterations (before: ${before})`).toBeLessThan(0.15);
    const p = model.predict(test.x.subarray(0, 3 * 20)).data;
    for (let r = 0; r < 3; r++) expect(p.subarray(r * 4, r * 4 + 4).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    expect(model.sample(5, { labels: 2, seed: 1 }).shape).toEqual([5, 20]);
    const back = load(save(model)) as InstanceType<typeof SemiSupervisedVAE>;
    expectSameBits(back.predict(test.x).data, model.predict(test.x).data, 'predictions after save and load');
    disposeM2(back);
    disposeM2(model);
    // Threads: wide enough (50 rows × 4 classes through 256-wide layers) that they take parts.
    const weights = (m: InstanceType<typeof SemiSupervisedVAE>) => Float32Array.from([m.encoder, m.decoder, m.classifier].flatMap((s) => [...s.getWeights()]));
    const runs: Float32Array[] = [];
    for (const t of [1, 2, 3]) {
      await onThreads(t);
      const m = m2(256, 13);
      m.fit(data, { iterations: 4 });
      runs.push(weights(m));
      expect(lk.threads().running, `threads that took parts on ${t}`).toBe(t);
      disposeM2(m);
    }
    setThreads('auto');
    expectSameBits(runs[1]!, runs[0]!, 'M2 weights on 2 threads against 1');
    expectSameBits(runs[2]!, runs[0]!, 'M2 weights on 3 threads against 1');
    const a = m2(32, 17);
    a.fit(data, { iterations: 6 });
    const b = m2(32, 17);
    b.fit(data, { iterations: 2 });
    const c = load(checkpoint(b)) as InstanceType<typeof SemiSupervisedVAE>;
    c.fit(data, { iterations: 4 });
    expectSameBits(weights(c), weights(a), 'M2 weights after 2 + checkpoint + 4 iterations against 6');
    for (const m of [a, b, c]) disposeM2(m);
  });
});

describe('ema: the classifier\'s moving average', () => {
  const averaged = (m: { classifierStacks(o?: { raw?: boolean }): readonly InstanceType<typeof lk.Stack>[] }, raw = false) => Float32Array.from(m.classifierStacks({ raw }).flatMap((s) => [...s.getWeights()]));

  it('is the bias-corrected average of the trained weights (against f64), leaves training alone, classifies, and resumes, saves and loads bit for bit', () => {
    const { x, labels } = clusters(512, 3);
    const data = { labelled: x.subarray(0, 40 * 20), labels: labels.subarray(0, 40), unlabelled: x };
    const decay = 0.9;
    const build = (ema?: { decay: number }) => new SemiSupervisedGAN({ ...networks(16, 5), noise: { dim: 8 }, batchSize: 32, seed: 9, ...(ema && { ema }) });
    const a = build({ decay });
    const plain = build();
    const n = averaged(a).length;
    const sum = new Float64Array(n);
    const t = 8;
    for (let i = 1; i <= t; i++) {
      a.trainStep(data);
      plain.trainStep(data);
      const w = averaged(a, true);
      for (let j = 0; j < n; j++) sum[j] = decay * sum[j]! + (1 - decay) * w[j]!;
      if (i === 1) expectSameBits(averaged(a), w, 'the average after one iteration against the trained weights');
    }
    expectSameBits(averaged(a, true), averaged(plain), 'trained weights with ema against without');
    const got = averaged(a);
    const correction = 1 - decay ** t;
    for (let j = 0; j < n; j++) {
      const want = sum[j]! / correction;
      if (!(Math.abs(got[j]! - want) <= 1e-5 * Math.abs(want) + 1e-6)) throw new Error(`average value ${j} of ${n} after ${t} iterations: ${got[j]}, f64 reference ${want}`);
    }
    const rows = { data: x.subarray(0, 64 * 20), shape: [64, 20] as [number, number] };
    expectSameBits(a.logits(rows, { raw: true }).data, plain.logits(rows).data, 'raw logits against the model without ema');
    expect(bits(a.logits(rows).data)).not.toEqual(bits(plain.logits(rows).data));
    expect(Array.from(a.classify(rows))).toEqual(Array.from(argmax(a.logits(rows).data, 4)));
    // 3 iterations, a checkpoint, 5 more: the same average as 8 straight.
    const b = build({ decay });
    b.fit(data, { iterations: 3 });
    const c = load(checkpoint(b)) as InstanceType<typeof SemiSupervisedGAN>;
    expect(c.emaDecay).toBe(decay);
    c.fit(data, { iterations: 5 });
    expectSameBits(averaged(c), got, 'the average after 3 + checkpoint + 5 iterations against 8');
    const back = load(save(a)) as InstanceType<typeof SemiSupervisedGAN>;
    expectSameBits(back.predict(rows).data, a.predict(rows).data, 'averaged predictions after save and load');
    expectSameBits(back.predict(rows, { raw: true }).data, a.predict(rows, { raw: true }).data, 'raw predictions after save and load');
    for (const m of [a, plain, b, c, back]) {
      m.dispose();
      for (const s of [m.generator, m.features, m.classes]) s.dispose();
    }
  });

  it('M2 keeps q(y|x)\'s average: the same bits after a checkpoint, and through save and load', () => {
    const { x, labels } = clusters(400, 7);
    const unit = Float32Array.from(x, (v) => (v + 1) / 2);
    const data = { labelled: unit.subarray(0, 8 * 20), labels: labels.subarray(0, 8), unlabelled: unit };
    const build = () => new SemiSupervisedVAE({
      encoder: stack(24, [dense(16, { activation: 'tanh' }), dense(8)], { seed: 1 }),
      decoder: stack(8, [dense(16, { activation: 'tanh' }), dense(20)], { seed: 2 }),
      classifier: stack(20, [dense(16, { activation: 'tanh' }), dense(4)], { seed: 3 }),
      batchSize: 50, seed: 4, ema: { decay: 0.99 },
    });
    const a = build();
    a.fit(data, { iterations: 6 });
    const b = build();
    b.fit(data, { iterations: 2 });
    const c = load(checkpoint(b)) as InstanceType<typeof SemiSupervisedVAE>;
    c.fit(data, { iterations: 4 });
    expectSameBits(averaged(c), averaged(a), 'q(y|x)\'s average after 2 + checkpoint + 4 iterations against 6');
    expect(bits(averaged(a))).not.toEqual(bits(averaged(a, true)));
    const back = load(save(a)) as InstanceType<typeof SemiSupervisedVAE>;
    expectSameBits(back.predict(unit).data, a.predict(unit).data, 'averaged predictions after save and load');
    for (const m of [a, b, c, back]) disposeM2(m);
  });

  it('refuses a decay outside (0, 1) and unknown keys, before anything is built', () => {
    const n = networks(4, 1);
    const live = internal.heap.liveAllocations;
    for (const [ema, message] of [[{ decay: 1 }, /ema.decay must be a number in \(0, 1\), got 1/], [{ decay: 0 }, /got 0/], [{ decay: 0.9, rate: 2 }, /unknown option 'rate' for SemiSupervisedGAN ema options/]] as const) {
      expect(() => new SemiSupervisedGAN({ ...n, noise: { dim: 8 }, ema: ema as never })).toThrow(message);
    }
    expect(internal.heap.liveAllocations, 'blocks allocated by the refused models').toBe(live);
    const m = new SemiSupervisedGAN({ ...n, noise: { dim: 8 } });
    expect(() => m.classify(new Float32Array(20), { average: true } as never)).toThrow(/unknown option 'average' for SemiSupervisedGAN classify options/);
    m.dispose();
    for (const s of Object.values(n)) s.dispose();
  });
});

function argmax(z: Float32Array, k: number): Int32Array {
  const out = new Int32Array(z.length / k);
  for (let r = 0; r < out.length; r++) for (let j = 1; j < k; j++) if (z[r * k + j]! > z[r * k + out[r]!]!) out[r] = j;
  return out;
}
