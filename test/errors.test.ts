// Bad input throws a LatentkitError that names the problem (and the shapes).
import { describe, expect, it } from 'vitest';
import { LatentkitError, Optimizer, Sequential, assertWasmSimd, matrix, mlp } from '../dist/index.js';

function expectError(f: () => unknown, ...parts: (string | RegExp)[]): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected an error').toBeInstanceOf(LatentkitError);
  for (const p of parts) expect((err as Error).message).toMatch(p);
}

describe('bad input', () => {
  it('wrong shapes name both shapes', () => {
    const net = mlp([4, 3, 2], { seed: 1 });
    expectError(() => net.predict(new Float32Array(7)), 'length 7', 'width 4');
    expectError(() => net.predict({ data: new Float32Array(12), shape: [2, 6] }), '[2, 6]', 'expects 4');
    expectError(() => net.predict({ data: new Float32Array(10), shape: [3, 4] }), '[3, 4]', 'needs 12', 'has 10');
    expectError(() => net.trainStep(new Float32Array(8), new Float32Array(6)), 'x has 2 rows', 'y has 3');
    expectError(() => net.fit(new Float32Array(8), new Float32Array(2)), 'x has 2 rows', 'y has 1');
    net.dispose();
  });

  it('NaN and Inf in inputs and targets are reported with their position', () => {
    const net = mlp([2, 2], { seed: 1 });
    expectError(() => net.predict(new Float32Array([0, 1, NaN, 2])), 'NaN', 'row 1, column 0');
    expectError(() => net.trainStep(new Float32Array([0, 1]), new Float32Array([Infinity, 0])), 'Infinity', 'target', 'row 0, column 0');
    expectError(() => net.setWeights(new Float32Array([1, 2, 3, 4, NaN, 0])), 'NaN');
    net.dispose();
  });

  it('unknown names and options list what is accepted', () => {
    expectError(() => mlp([2, 2], { activation: 'swish' as never }), 'unknown activation "swish"', 'tanh');
    expectError(() => mlp([2, 2], { outputActivation: { type: 'leaky-relu', alpha: 2 } }), 'alpha', '[0, 1)');
    expectError(() => mlp([2, 2], { init: 'zeros' as never }), 'unknown initialiser');
    expectError(() => mlp([2, 2], { loss: 'hinge' as never }).trainStep(new Float32Array(2), new Float32Array(2)), 'unknown loss "hinge"');
    expectError(() => mlp([2, 2], { optimizer: 'adagrad' as never }).trainStep(new Float32Array(2), new Float32Array(2)), 'unknown optimizer');
    expectError(() => mlp([2, 2], { optimizer: { type: 'adam', momentum: 0.9 } as never }).trainStep(new Float32Array(2), new Float32Array(2)), "unknown option 'momentum'");
    expectError(() => mlp([2, 2], { optimizer: { type: 'sgd', lr: -1 } }).trainStep(new Float32Array(2), new Float32Array(2)), 'lr', 'positive');
    expectError(() => mlp([2, 2], { colour: 'red' } as never), "unknown option 'colour'");
    const net = mlp([2, 2]);
    expectError(() => net.fit(new Float32Array(2), new Float32Array(2), { epoch: 3 } as never), "unknown option 'epoch'");
    net.dispose();
  });

  it('non-integer, zero and missing sizes are refused', () => {
    expectError(() => mlp([4]), 'at least an input and an output');
    expectError(() => mlp([4, 0, 2]), 'layer size 1', 'positive integer', 'got 0');
    expectError(() => mlp([4, 2.5]), 'positive integer', '2.5');
    const net = mlp([2, 2]);
    expectError(() => net.fit(new Float32Array(2), new Float32Array(2), { epochs: 0 }), 'epochs', 'got 0');
    expectError(() => net.fit(new Float32Array(2), new Float32Array(2), { batchSize: 1.5 }), 'batchSize');
    expectError(() => matrix(new Float32Array(6), 2, 4), '[2, 4]', 'needs 8');
    net.dispose();
  });

  it('stacks that do not meet and seeds that are not integers are refused', () => {
    const a = mlp([3, 5]);
    const b = mlp([4, 1]);
    expectError(() => new Sequential([a, b]), 'stack 0 [3, 5] outputs 5', 'stack 1 [4, 1] takes 4');
    expectError(() => mlp([2, 2], { seed: -1 }), 'seed');
    expectError(() => mlp([2, 2], { seed: 1.5 }), 'seed');
    a.dispose();
    b.dispose();
  });

  it('a disposed model says so', () => {
    const net = mlp([2, 2]);
    net.dispose();
    expectError(() => net.predict(new Float32Array(2)), 'disposed');
    expectError(() => net.trainStep(new Float32Array(2), new Float32Array(2)), 'disposed');
    expectError(() => net.getWeights(), 'disposed');
  });

  it('a diverging loss stops training with the step number and leaves the weights as they were', () => {
    const net = mlp([1, 1], { optimizer: { type: 'sgd', lr: 1e30 }, seed: 1 });
    const x = new Float32Array([1e10]);
    const y = new Float32Array([0]);
    let err: unknown;
    let before = net.getWeights();
    try {
      for (let i = 0; i < 10; i++) {
        before = net.getWeights();
        net.trainStep(x, y);
      }
    } catch (e) {
      err = e;
    }
    expect(String(err)).toMatch(/diverged: the loss is (NaN|Infinity) at step \d+/);
    expect(net.getWeights()).toEqual(before);
    net.dispose();
  });

  it('a finite loss with a non-finite gradient is refused too, and the weights stay as they were', () => {
    // y = x = 1.5e19: the loss y² = 2.25e38 is finite in f32, its weight gradient 2y·x = 4.5e38 is not.
    const net = mlp([1, 1], { outputActivation: 'linear', optimizer: { type: 'sgd', lr: 1e-3 }, seed: 1 });
    net.setWeights(new Float32Array([1, 0]));
    const before = net.getWeights();
    let err: unknown;
    try {
      net.trainStep(new Float32Array([1.5e19]), new Float32Array([0]));
    } catch (e) {
      err = e;
    }
    expect(String(err)).toMatch(/diverged: the loss is 2\.25\d*e\+38, but its gradient is Infinity at parameter 0 of the .* stack, at step 1; the parameters were left as they were/);
    expect(net.getWeights()).toEqual(before);
    // The same step without the guard is what it refused: it would have written a non-finite weight.
    const unguarded = mlp([1, 1], { outputActivation: 'linear', optimizer: { type: 'sgd', lr: 1e-3 }, seed: 1, guardNonFinite: false });
    unguarded.setWeights(new Float32Array([1, 0]));
    unguarded.trainStep(new Float32Array([1.5e19]), new Float32Array([0]));
    expect(Number.isFinite(unguarded.getWeights()[0])).toBe(false);
    net.dispose();
    unguarded.dispose();
  });

  it('a model too large for WebAssembly memory fails at construction with a clear error', () => {
    expectError(() => mlp([100_000, 100_000]), 'cannot allocate', 'MiB', 'limited to 4096 MiB');
  });

  it('a runtime without WebAssembly SIMD gets a clear error', () => {
    expectError(() => assertWasmSimd({ validate: () => false }), 'not its 128-bit SIMD');
    expectError(() => assertWasmSimd({} as never), 'no WebAssembly');
    expect(() => assertWasmSimd()).not.toThrow();
  });

  it('optimizer hyper-parameters are range-checked', () => {
    const net = mlp([2, 2]);
    expectError(() => new Optimizer({ type: 'adam', beta1: 1 }, [net]), 'beta1', '[0, 1)');
    expectError(() => new Optimizer({ type: 'rmsprop', decay: -0.1 }, [net]), 'decay');
    net.dispose();
  });
});
