import { describe, expect, it } from 'vitest';
import { Classifier, mlp } from '../dist/index.js';
import { lcg } from './helpers.js';

function blobs(n: number, seed: number) {
  const r = lcg(seed);
  const centres = [[2, 0], [-2, 0], [0, 2]];
  const x = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    labels[i] = c;
    x[2 * i] = centres[c]![0]! + (r() - 0.5);
    x[2 * i + 1] = centres[c]![1]! + (r() - 0.5);
  }
  return { x, labels };
}

describe('Classifier', () => {
  it('learns separable classes; predict, predictProba and evaluate agree', () => {
    const { x, labels } = blobs(300, 1);
    const body = mlp([2, 16], { outputActivation: 'relu', seed: 1 });
    const head = mlp([16, 3], { seed: 2 });
    const clf = new Classifier({ body, head, optimizer: { type: 'adam', lr: 0.02 }, seed: 3 });
    const h = clf.fit(x, labels, { epochs: 30, batchSize: 32, validation: { x, labels } });
    expect(h.valLoss).toHaveLength(30);
    const { accuracy, loss } = clf.evaluate(x, labels);
    expect(accuracy).toBe(1);
    expect(loss).toBeLessThan(0.1);
    const p = clf.predictProba(x);
    for (let i = 0; i < 10; i++) expect(p.data[i * 3]! + p.data[i * 3 + 1]! + p.data[i * 3 + 2]!).toBeCloseTo(1, 5);
    expect(Array.from(clf.predict(x))).toEqual(Array.from(labels));
    clf.dispose();
    body.dispose();
    head.dispose();
  });

  it('freezeBody keeps the body fixed while the head learns', () => {
    const { x, labels } = blobs(90, 2);
    const body = mlp([2, 8], { outputActivation: 'tanh', seed: 1 });
    const head = mlp([8, 3], { seed: 2 });
    const clf = new Classifier({ body, head, freezeBody: true });
    const b0 = body.getWeights();
    const h0 = head.getWeights();
    clf.fit(x, labels, { epochs: 5, batchSize: 16 });
    expect(body.getWeights()).toEqual(b0);
    expect(head.getWeights()).not.toEqual(h0);
    expect(body.frozen).toBe(true);
    clf.dispose();
    body.dispose();
    head.dispose();
  });

  it('rejects labels out of range or of the wrong count', () => {
    const body = mlp([2, 4]);
    const head = mlp([4, 3]);
    const clf = new Classifier({ body, head });
    expect(() => clf.fit(new Float32Array(4), [0, 3])).toThrow(/label 1 is 3, expected an integer in \[0, 3\)/);
    expect(() => clf.fit(new Float32Array(4), [0])).toThrow(/1 labels for 2 rows/);
    expect(() => clf.evaluate(new Float32Array(4), [0, 1.5])).toThrow(/label 1 is 1.5/);
    expect(() => new Classifier({ body, head: mlp([5, 3]) })).toThrow(/outputs 4 values but stack 1 \[5, 3\] takes 5/);
    clf.dispose();
  });
});
