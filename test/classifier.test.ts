import { describe, expect, it } from 'vitest';
import { Classifier, checkpoint, load, mlp } from '../dist/index.js';
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

  it('a checkpoint resumes training bit for bit: the data order and the step count go with it', () => {
    const { x, labels } = blobs(150, 4);
    const make = () => new Classifier({ body: mlp([2, 8], { seed: 1 }), head: mlp([8, 3], { seed: 2 }), seed: 3 });
    const straight = make();
    straight.fit(x, labels, { epochs: 3, batchSize: 32 });
    const first = make();
    first.fit(x, labels, { epochs: 1, batchSize: 32 });
    const resumed = load(checkpoint(first)) as Classifier;
    const progress: number[] = [];
    resumed.fit(x, labels, { epochs: 2, batchSize: 32, onBatch: (p) => { progress.push(p.batch); } });
    expect(resumed.model.steps).toBe(straight.model.steps);
    expect(resumed.model.epochs).toBe(3);
    expect(progress).toEqual([1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
    expect(resumed.head.getWeights()).toEqual(straight.head.getWeights());
    expect(resumed.body[0]!.getWeights()).toEqual(straight.body[0]!.getWeights());
    for (const c of [straight, first, resumed]) {
      c.dispose();
      [...c.body, c.head].forEach((s) => s.dispose());
    }
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

  it('earlyStopping keeps the weights of the best validation accuracy and stops after `patience` epochs without a better one', () => {
    // 60 training points with a quarter of the labels wrong: a wide network memorises them and its
    // clean validation accuracy peaks, then falls.
    const train = blobs(60, 4);
    const r = lcg(9);
    for (let i = 0; i < 60; i += 4) train.labels[i] = (train.labels[i]! + 1 + Math.floor(r() * 2)) % 3;
    const val = blobs(300, 5);
    const make = (freeze = false) => {
      const body = mlp([2, 256, 256], { outputActivation: 'relu', seed: 1 });
      const head = mlp([256, 3], { seed: 2 });
      return { body, head, clf: new Classifier({ body, head, optimizer: { type: 'adam', lr: 0.01 }, seed: 3, freezeBody: freeze }) };
    };
    const { body, head, clf } = make();
    const scores: number[] = [];
    const h = clf.fit(train.x, train.labels, { epochs: 60, batchSize: 16, validation: { x: val.x, labels: val.labels }, earlyStopping: { every: 2 }, onEpoch: (_, l) => { if (l.valAccuracy !== undefined) scores.push(l.valAccuracy); } });
    expect(h.loss).toHaveLength(60);
    expect(h.valAccuracy).toEqual(scores);
    expect(h.valAccuracy).toHaveLength(30);
    const best = Math.max(...scores);
    expect(scores.at(-1), 'the last score is below the best: the test needs overfitting').toBeLessThan(best);
    expect(h.bestEpoch).toBe(2 * (scores.indexOf(best) + 1));
    expect(clf.evaluate(val.x, val.labels).accuracy).toBe(best);

    const again = make();
    const stopped = again.clf.fit(train.x, train.labels, { epochs: 60, batchSize: 16, validation: { x: val.x, labels: val.labels }, earlyStopping: { every: 2, patience: 6 } });
    expect(stopped.bestEpoch).toBe(h.bestEpoch);
    expect(stopped.loss).toHaveLength(h.bestEpoch! + 6);
    expect(again.body.getWeights()).toEqual(body.getWeights());
    expect(again.head.getWeights()).toEqual(head.getWeights());

    // A frozen body stays as it was; only the head is rolled back.
    const frozen = make(true);
    const before = frozen.body.getWeights();
    frozen.clf.fit(train.x, train.labels, { epochs: 10, batchSize: 16, validation: { x: val.x, labels: val.labels }, earlyStopping: {} });
    expect(frozen.body.getWeights()).toEqual(before);

    expect(() => clf.fit(train.x, train.labels, { earlyStopping: { patience: 3 } })).toThrow(/earlyStopping needs a validation set/);
    expect(() => clf.fit(train.x, train.labels, { validation: { x: val.x, labels: val.labels }, earlyStopping: { patience: 0 } })).toThrow(/earlyStopping.patience/);
    expect(() => clf.fit(train.x, train.labels, { validation: { x: val.x, labels: val.labels }, earlyStopping: { metric: 'loss' } as never })).toThrow(/unknown option 'metric'|metric/);
    for (const m of [clf, body, head, again.clf, again.body, again.head, frozen.clf, frozen.body, frozen.head]) m.dispose();
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
