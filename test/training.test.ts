import { describe, expect, it } from 'vitest';
import { Sequential, memoryStats, mlp } from '../dist/index.js';
import { randomArray } from './helpers.js';

describe('training', () => {
  it('learns XOR to 100%', () => {
    const net = mlp([2, 8, 1], { activation: 'tanh', outputActivation: 'linear', loss: 'bce-with-logits', optimizer: { type: 'adam', lr: 0.05 }, seed: 3 });
    const x = new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]);
    const y = new Float32Array([0, 1, 1, 0]);
    for (let i = 0; i < 600; i++) net.trainStep(x, y);
    const logits = net.predict(x).data;
    const predicted = Array.from(logits, (z) => (z > 0 ? 1 : 0));
    expect(predicted).toEqual([0, 1, 1, 0]);
    net.dispose();
  });

  it('fits sin(x) on [−π, π] to MSE < 1e-3', () => {
    const n = 256;
    const x = Float32Array.from({ length: n }, (_, i) => -Math.PI + (2 * Math.PI * i) / (n - 1));
    const y = x.map(Math.sin);
    const net = mlp([1, 32, 32, 1], { activation: 'tanh', seed: 7, optimizer: { type: 'adam', lr: 0.01 } });
    const history = net.fit(x, y, { epochs: 300, batchSize: 32 });
    const mse = net.evaluate(x, y);
    expect(mse, `final MSE ${mse}`).toBeLessThan(1e-3);
    expect(history.loss[history.loss.length - 1]!).toBeLessThan(history.loss[0]!);
    net.dispose();
  });

  it('gives bit-identical weights for the same seed, different ones for another seed', () => {
    const run = (seed: number) => {
      const net = mlp([8, 16, 4], { activation: 'relu', seed, optimizer: 'adam' });
      const x = randomArray(64 * 8, 1);
      const y = randomArray(64 * 4, 2);
      net.fit(x, y, { epochs: 3, batchSize: 16 });
      const w = net.getWeights();
      net.dispose();
      return new Uint32Array(w.buffer);
    };
    const a = run(11);
    const b = run(11);
    const c = run(12);
    expect(a.length).toBe(b.length);
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) throw new Error(`weight ${i} differs between two runs of seed 11: ${a[i]} vs ${b[i]}`);
    expect(a.some((v, i) => v !== c[i])).toBe(true);
  });

  it('keeps a frozen stack fixed while the stack after it learns', () => {
    const body = mlp([4, 8], { outputActivation: 'tanh', seed: 1 });
    const head = mlp([8, 2], { seed: 2 });
    body.freeze();
    const model = new Sequential([body, head], { optimizer: { type: 'sgd', lr: 0.1 } });
    const before = body.getWeights();
    const headBefore = head.getWeights();
    const x = randomArray(32 * 4, 3);
    const y = randomArray(32 * 2, 4);
    const first = model.trainStep(x, y);
    for (let i = 0; i < 50; i++) model.trainStep(x, y);
    expect(body.getWeights()).toEqual(before);
    expect(head.getWeights()).not.toEqual(headBefore);
    expect(model.evaluate(x, y)).toBeLessThan(first);
    body.unfreeze();
    model.trainStep(x, y);
    expect(body.getWeights()).not.toEqual(before);
    model.dispose();
    body.dispose();
    head.dispose();
  });

  it('grows WebAssembly memory by 0 bytes over 10,000 steps after the first, with no new allocations', () => {
    const enc = mlp([64, 16], { activation: 'tanh', outputActivation: 'tanh', seed: 1 });
    const dec = mlp([16, 64], { seed: 2 });
    const model = new Sequential([enc, dec], { loss: 'mse', optimizer: 'adam' });
    const x = randomArray(256 * 64, 9);
    model.trainStep(x, x);
    const before = memoryStats();
    for (let i = 0; i < 10_000; i++) model.trainStep(x, x);
    const after = memoryStats();
    expect(after.memoryBytes - before.memoryBytes).toBe(0);
    expect(after.liveAllocations).toBe(before.liveAllocations);
    model.dispose();
    enc.dispose();
    dec.dispose();
  });

  it('frees everything it allocated on dispose', () => {
    const start = memoryStats().liveAllocations;
    const net = mlp([10, 20, 5], { seed: 1 });
    net.fit(randomArray(100 * 10, 1), randomArray(100 * 5, 2), { epochs: 1, batchSize: 10 });
    net.predict(randomArray(30, 3));
    expect(memoryStats().liveAllocations).toBeGreaterThan(start);
    net.dispose();
    expect(memoryStats().liveAllocations).toBe(start);
  });

  it('fit reports validation loss, calls onEpoch and stops when it returns false', () => {
    const net = mlp([3, 8, 1], { seed: 4 });
    const x = randomArray(90, 5);
    const y = randomArray(30, 6);
    const seen: number[] = [];
    const h = net.fit(x, y, { epochs: 10, batchSize: 8, validation: { x, y }, onEpoch: (e) => { seen.push(e); return e < 2; } });
    expect(seen).toEqual([0, 1, 2]);
    expect(h.loss).toHaveLength(3);
    expect(h.valLoss).toHaveLength(3);
    net.dispose();
  });

  it('dropout: active only in training steps, reproducible, and still learns', () => {
    const x = randomArray(64 * 4, 21);
    const y = randomArray(64 * 1, 22);
    const make = () => mlp([4, 32, 1], { activation: 'relu', dropout: 0.5, seed: 3, optimizer: { type: 'adam', lr: 0.01 } });
    const a = make();
    const p1 = a.predict(x).data;
    expect(a.predict(x).data).toEqual(p1); // no dropout at inference
    const first = a.computeGradients(x, y);
    const again = a.computeGradients(x, y);
    expect(again).not.toBe(first); // a fresh mask each training forward
    a.fit(x, y, { epochs: 100, batchSize: 16 });
    expect(a.evaluate(x, y)).toBeLessThan(first);
    const b = make();
    b.computeGradients(x, y);
    b.computeGradients(x, y);
    b.fit(x, y, { epochs: 100, batchSize: 16 });
    expect(b.getWeights()).toEqual(a.getWeights());
    expect(() => mlp([4, 8, 1], { activation: 'tanh', dropout: 0.2 })).toThrow(/dropout needs hidden layers .* not tanh/);
    expect(() => mlp([4, 8, 1], { dropout: 1 })).toThrow(/dropout must be a rate in \[0, 1\)/);
    a.dispose();
    b.dispose();
  });
});
