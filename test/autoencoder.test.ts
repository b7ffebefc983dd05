import { describe, expect, it } from 'vitest';
import { Autoencoder, LatentkitError, Stack, memoryStats, mlp } from '../dist/index.js';
import { lcg, randomArray } from './helpers.js';

/** n rows of width d lying on a rank-r subspace (plus nothing else). */
function lowRank(n: number, d: number, r: number, seed: number): Float32Array {
  const basis = randomArray(r * d, seed);
  const codes = randomArray(n * r, seed + 1);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) {
    let s = 0;
    for (let k = 0; k < r; k++) s += codes[i * r + k]! * basis[k * d + j]!;
    x[i * d + j] = s * 0.5;
  }
  return x;
}

describe('Autoencoder', () => {
  it('learns rank-3 data through a 3-wide code to near-zero error', () => {
    const x = lowRank(512, 12, 3, 1);
    const encoder = mlp([12, 3], { seed: 1 });
    const decoder = mlp([3, 12], { seed: 2 });
    const ae = new Autoencoder({ encoder, decoder, optimizer: { type: 'adam', lr: 0.01 }, seed: 3 });
    const before = ae.reconstructionError(x);
    ae.fit(x, { epochs: 150, batchSize: 64 });
    const after = ae.reconstructionError(x);
    expect(after, `MSE ${before} → ${after}`).toBeLessThan(1e-4);
    expect(ae.encode(x).shape).toEqual([512, 3]);
    expect(ae.decode(ae.encode(x)).shape).toEqual([512, 12]);
    const perSample = ae.reconstructionError(x, { perSample: true });
    expect(perSample).toHaveLength(512);
    expect(perSample.reduce((a, b) => a + b, 0) / 512).toBeCloseTo(after, 6);
    ae.dispose();
    encoder.dispose();
    decoder.dispose();
  });

  it('denoising beats the plain autoencoder at cleaning corrupted inputs', () => {
    const clean = lowRank(1024, 20, 4, 5);
    const r = lcg(9);
    const noisy = clean.map((v) => v + 0.3 * (r() * 2 - 1) * Math.sqrt(3));
    const train = (denoising: boolean) => {
      const encoder = mlp([20, 64, 12], { activation: 'relu', seed: 1 });
      const decoder = mlp([12, 64, 20], { activation: 'relu', seed: 2 });
      const ae = new Autoencoder({ encoder, decoder, seed: 4, optimizer: { type: 'adam', lr: 3e-3 }, ...(denoising && { denoising: { type: 'gaussian' as const, std: 0.3 } }) });
      ae.fit(clean, { epochs: 60, batchSize: 64 });
      const out = ae.reconstruct(noisy).data;
      let err = 0;
      for (let i = 0; i < out.length; i++) err += (out[i]! - clean[i]!) ** 2;
      ae.dispose();
      encoder.dispose();
      decoder.dispose();
      return err / out.length;
    };
    const plain = train(false);
    const denoised = train(true);
    expect(denoised, `error on noisy input: plain ${plain}, denoising ${denoised}`).toBeLessThan(0.8 * plain);
  });

  it('masking corruption and the sparsity penalty train and change the codes', () => {
    const x = lowRank(256, 16, 4, 11);
    const encoder = mlp([16, 8], { outputActivation: 'relu', seed: 1 });
    const decoder = mlp([8, 16], { seed: 2 });
    const ae = new Autoencoder({ encoder, decoder, denoising: { type: 'masking', rate: 0.2 }, sparsity: 0.05, seed: 1, optimizer: { type: 'adam', lr: 0.01 } });
    const first = ae.trainStep(x);
    ae.fit(x, { epochs: 40, batchSize: 32 });
    expect(ae.trainStep(x)).toBeLessThan(first);
    // The L1 term pushes codes to zero: many of them end exactly at 0 after the ReLU.
    const codes = ae.encode(x).data;
    const zeros = codes.filter((v) => v === 0).length / codes.length;
    expect(zeros).toBeGreaterThan(0.3);
    ae.dispose();
    encoder.dispose();
    decoder.dispose();
  });

  it('tied weights: the decoder reads the encoder matrices transposed, and both move together', () => {
    const encoder = mlp([10, 6, 3], { activation: 'tanh', seed: 1 });
    const ae = new Autoencoder({ encoder, tiedWeights: true, decoderActivation: 'tanh', seed: 2, optimizer: { type: 'sgd', lr: 0.05 } });
    const dec = ae.decoder;
    expect(dec.sizes).toEqual([3, 6, 10]);
    expect(dec.parameterCount).toBe(6 + 10); // biases only
    const check = () => {
      for (const [d, e] of [[0, 1], [1, 0]] as const) {
        const dw = dec.layerParameters(d).weight;
        const ew = encoder.layerParameters(e).weight;
        const { inputs, outputs } = encoder.layers[e]!;
        for (let i = 0; i < inputs; i++) for (let j = 0; j < outputs; j++) {
          expect(dw[j * inputs + i]).toBe(ew[i * outputs + j]);
        }
      }
    };
    check();
    const x = randomArray(64 * 10, 3);
    const before = encoder.getWeights();
    const first = ae.trainStep(x);
    for (let i = 0; i < 30; i++) ae.trainStep(x);
    expect(ae.trainStep(x)).toBeLessThan(first);
    expect(encoder.getWeights()).not.toEqual(before);
    check();
    ae.dispose();
    expect(dec.isDisposed).toBe(true);
    encoder.dispose();
  });

  it('a frozen encoder does not move while the decoder learns', () => {
    const encoder = mlp([8, 4], { seed: 1 }).freeze();
    const decoder = mlp([4, 8], { seed: 2 });
    const ae = new Autoencoder({ encoder, decoder, seed: 1 });
    const e0 = encoder.getWeights();
    const d0 = decoder.getWeights();
    const x = randomArray(32 * 8, 4);
    for (let i = 0; i < 20; i++) ae.trainStep(x);
    expect(encoder.getWeights()).toEqual(e0);
    expect(decoder.getWeights()).not.toEqual(d0);
    ae.dispose();
    encoder.dispose();
    decoder.dispose();
  });

  it('reports every minibatch to onBatch (rows, batches, running loss), and a false from it stops the epoch uncounted', () => {
    const x = lowRank(100, 8, 2, 3);
    const make = () => new Autoencoder({ encoder: mlp([8, 2], { seed: 1 }), decoder: mlp([2, 8], { seed: 2 }), seed: 3 });
    const ae = make();
    const seen: { epoch: number; batch: number; batches: number; rows: number; rowsPerEpoch: number; loss: number; runningLoss: number }[] = [];
    const h = ae.fit(x, { epochs: 2, batchSize: 32, onBatch: (p) => { seen.push(p); } });
    expect(seen.map((p) => `${p.epoch}:${p.batch}/${p.batches}:${p.rows}/${p.rowsPerEpoch}`)).toEqual(['0:1/4:32/100', '0:2/4:64/100', '0:3/4:96/100', '0:4/4:100/100', '1:1/4:32/100', '1:2/4:64/100', '1:3/4:96/100', '1:4/4:100/100']);
    // The running loss is the row-weighted mean of the epoch's batch losses so far; at its last batch, the epoch's loss.
    const first = seen.slice(0, 4);
    const weighted = first.reduce((a, p, i) => a + p.loss * (p.rows - (i ? first[i - 1]!.rows : 0)), 0) / 100;
    expect(first[3]!.runningLoss).toBeCloseTo(weighted, 12);
    expect(first[3]!.runningLoss).toBe(h.loss[0]);
    expect(seen[4]!.runningLoss).toBe(seen[4]!.loss);
    // The same run stopped inside its second epoch: the first epoch counts, the second does not, and the weights are those of its last step.
    const stopped = make();
    const short = stopped.fit(x, { epochs: 2, batchSize: 32, onBatch: (p) => !(p.epoch === 1 && p.batch === 2) });
    expect(short.loss).toEqual([h.loss[0]]);
    expect([stopped.epochs, stopped.steps]).toEqual([1, 6]);
    ae.dispose();
    stopped.dispose();
  });

  it('allocates nothing after the first step', () => {
    const encoder = mlp([64, 16], { outputActivation: 'tanh', seed: 1 });
    const decoder = mlp([16, 64], { seed: 2 });
    const ae = new Autoencoder({ encoder, decoder, denoising: { type: 'gaussian', std: 0.1 }, sparsity: 1e-3 });
    const x = randomArray(128 * 64, 5);
    ae.trainStep(x);
    const before = memoryStats();
    for (let i = 0; i < 500; i++) ae.trainStep(x);
    expect(memoryStats()).toEqual(before);
    ae.dispose();
    encoder.dispose();
    decoder.dispose();
  });

  it('rejects sizes that do not meet, wrong widths and bad options', () => {
    const enc = mlp([8, 3]);
    const dec = mlp([4, 8]);
    expect(() => new Autoencoder({ encoder: enc, decoder: dec })).toThrow(/stack 0 \[8, 3\] outputs 3 values but stack 1 \[4, 8\] takes 4/);
    const dec2 = mlp([3, 7]);
    expect(() => new Autoencoder({ encoder: enc, decoder: dec2 })).toThrow(/decoder \[3, 7\] outputs 7 values but the encoder \[8, 3\] takes 8/);
    const dec3 = mlp([3, 8]);
    const ae = new Autoencoder({ encoder: enc, decoder: dec3 });
    expect(() => ae.fit({ data: new Float32Array(14), shape: [2, 7] })).toThrow(/\[2, 7\] has 7 columns, the model expects 8/);
    expect(() => new Autoencoder({ encoder: enc, decoder: dec3, denoising: { type: 'masking', rate: 1.5 } })).toThrow(/rate must be in \(0, 1\)/);
    expect(() => new Autoencoder({ encoder: enc, decoder: dec3, loss: 'softmax-cross-entropy' as never })).toThrow(LatentkitError);
    expect(() => new Autoencoder({ encoder: enc, decoder: dec3, sparsity: -1 })).toThrow(/sparsity/);
    ae.dispose();
    [enc, dec, dec2, dec3].forEach((s) => s.dispose());
    expect(() => Stack.tied(enc)).toThrow(/disposed/);
  });
});
