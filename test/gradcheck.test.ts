// Gradients against central differences of an f64 reference (not f32 finite
// differences): every activation, every loss, and a 3-layer MLP end to end.
import { describe, expect, it } from 'vitest';
import { Sequential, mlp } from '../dist/index.js';
import * as internal from '../dist/internal.js';
import { type Act, act64, centralDiff, expectClose, randomArray } from './helpers.js';

const { kernels, heap } = internal;
const ACTS: [Act, number][] = [['linear', 0], ['tanh', 1], ['sigmoid', 2], ['relu', 3], ['leaky-relu', 4], ['softplus', 5]];

function withBlocks<T>(sizes: number[], f: (...blocks: ReturnType<typeof heap.alloc>[]) => T): T {
  const blocks = sizes.map((n) => heap.alloc(n, 'test'));
  try {
    return f(...blocks);
  } finally {
    blocks.forEach((b) => heap.free(b));
  }
}

describe('activation gradients', () => {
  for (const [name, code] of ACTS) {
    it(`${name}: dy⊙f′(y) matches the f64 central difference`, () => {
      const alpha = 0.2;
      // Keep away from the kink at 0 where a central difference straddles two slopes.
      const z = randomArray(200, 3, -4, 4).map((v) => (Math.abs(v) < 1e-3 ? 0.5 : v));
      const upstream = randomArray(200, 4);
      withBlocks([200, 200], (y, dy) => {
        y.write(z);
        kernels.activation_forward(code, alpha, y.ptr, 200);
        dy.write(upstream);
        kernels.activation_backward(code, alpha, y.ptr, dy.ptr, 200);
        const got = dy.read();
        const want = Array.from(z, (zi, i) => upstream[i]! * centralDiff((t) => act64(name, t, alpha), zi));
        expectClose(got, want, 1e-3, 1e-6, `${name} gradient`);
        expectClose(y.read(), Array.from(z, (zi) => act64(name, zi, alpha)), 1e-5, 1e-6, `${name} forward`);
      });
    });
  }
});

function mse64(p: ArrayLike<number>, t: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (p[i]! - t[i]!) ** 2;
  return s / p.length;
}
function bce64(p: ArrayLike<number>, t: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const z = p[i]!;
    s += Math.max(z, 0) - z * t[i]! + Math.log1p(Math.exp(-Math.abs(z)));
  }
  return s / p.length;
}
function softmaxCe64(p: ArrayLike<number>, t: ArrayLike<number>, cols: number): number {
  const rows = p.length / cols;
  let s = 0;
  for (let r = 0; r < rows; r++) {
    let mx = -Infinity;
    for (let j = 0; j < cols; j++) mx = Math.max(mx, p[r * cols + j]!);
    let e = 0;
    for (let j = 0; j < cols; j++) e += Math.exp(p[r * cols + j]! - mx);
    const lse = mx + Math.log(e);
    for (let j = 0; j < cols; j++) s += t[r * cols + j]! * (lse - p[r * cols + j]!);
  }
  return s / rows;
}

describe('loss gradients', () => {
  const rows = 6;
  const cols = 5;
  const n = rows * cols;
  const pred = randomArray(n, 21, -3, 3);
  const targets = {
    mse: randomArray(n, 22, -1, 1),
    bce: randomArray(n, 23, 0, 1),
    softmax: (() => {
      const t = new Float32Array(n);
      for (let r = 0; r < rows; r++) t[r * cols + ((r * 3) % cols)] = 1;
      return t;
    })(),
  };
  const cases = [
    { name: 'mse', code: 0, t: targets.mse, f: (p: Float64Array) => mse64(p, targets.mse) },
    { name: 'bce-with-logits', code: 1, t: targets.bce, f: (p: Float64Array) => bce64(p, targets.bce) },
    { name: 'softmax-cross-entropy', code: 2, t: targets.softmax, f: (p: Float64Array) => softmaxCe64(p, targets.softmax, cols) },
  ];
  for (const c of cases) {
    it(`${c.name}: value and gradient match f64`, () => {
      withBlocks([n, n, n], (p, t, g) => {
        p.write(pred);
        t.write(c.t);
        const weight = 0.75;
        const loss = kernels.loss(c.code, p.ptr, t.ptr, 0, rows, cols, g.ptr, weight);
        const base = Float64Array.from(pred);
        expect(Math.abs(loss - weight * c.f(base))).toBeLessThan(1e-6 * Math.abs(loss) + 1e-7);
        const want = Array.from(base, (_, i) =>
          weight * centralDiff((v) => { const q = Float64Array.from(base); q[i] = v; return c.f(q); }, base[i]!),
        );
        expectClose(g.read(), want, 1e-3, 1e-7, `${c.name} gradient`);
      });
    });
  }

  it('bce-with-logits is finite at |logit| = 1e4 and the constant-target form matches', () => {
    withBlocks([4, 4, 4], (p, t, g) => {
      p.write([1e4, -1e4, 1e4, -1e4]);
      t.write([1, 0, 0, 1]);
      const loss = kernels.loss(1, p.ptr, t.ptr, 0, 4, 1, g.ptr, 1);
      expect(loss).toBeCloseTo(5000, 6);
      expect([...g.read()].every(Number.isFinite)).toBe(true);
      const real = kernels.loss(1, p.ptr, 0, 1, 4, 1, g.ptr, 1);
      expect(real).toBeCloseTo(bce64([1e4, -1e4, 1e4, -1e4], [1, 1, 1, 1]), 6);
    });
  });
});

/** f64 forward of dense layers over a flat W0,b0,W1,b1,… buffer, then MSE. */
function mlpLoss64(params: Float64Array, sizes: number[], acts: Act[], x: Float32Array, y: Float32Array, rows: number, alpha = 0.01): number {
  let a: number[] = Array.from(x);
  let width = sizes[0]!;
  let off = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const out = sizes[l + 1]!;
    const next = new Array<number>(rows * out).fill(0);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < out; j++) {
        let z = params[off + width * out + j]!;
        for (let i = 0; i < width; i++) z += a[r * width + i]! * params[off + i * out + j]!;
        next[r * out + j] = act64(acts[l]!, z, alpha);
      }
    }
    off += width * out + out;
    a = next;
    width = out;
  }
  return mse64(a, y);
}

function numericGrad(f: (p: Float64Array) => number, w: Float64Array): number[] {
  return Array.from(w, (_, i) => centralDiff((v) => { const q = Float64Array.from(w); q[i] = v; return f(q); }, w[i]!));
}

describe('3-layer networks end to end', () => {
  it('an mlp([4, 7, 5, 3]) has parameter gradients equal to f64 central differences', () => {
    const sizes = [4, 7, 5, 3];
    const net = mlp(sizes, { activation: 'tanh', outputActivation: 'linear', seed: 5, loss: 'mse' });
    const rows = 8;
    const x = randomArray(rows * 4, 31);
    const y = randomArray(rows * 3, 32);
    const loss = net.computeGradients(x, y);
    const w = Float64Array.from(net.getWeights());
    const f = (p: Float64Array) => mlpLoss64(p, sizes, ['tanh', 'tanh', 'linear'], x, y, rows);
    expect(Math.abs(loss - f(w))).toBeLessThan(1e-5 * loss);
    expectClose(net.getGradients(), numericGrad(f, w), 1e-3, 1e-6, 'MLP parameter gradient');
    net.dispose();
  });

  it('three composed stacks (tanh, sigmoid, leaky-relu) pass gradients through each other', () => {
    const a = mlp([4, 6], { outputActivation: 'tanh', seed: 1 });
    const b = mlp([6, 5], { outputActivation: 'sigmoid', seed: 2 });
    const c = mlp([5, 3], { outputActivation: { type: 'leaky-relu', alpha: 0.2 }, seed: 3 });
    const model = new Sequential([a, b, c], { loss: 'mse' });
    const rows = 5;
    const x = randomArray(rows * 4, 41);
    const y = randomArray(rows * 3, 42);
    model.computeGradients(x, y);
    const w = Float64Array.from([...a.getWeights(), ...b.getWeights(), ...c.getWeights()]);
    const f = (p: Float64Array) => mlpLoss64(p, [4, 6, 5, 3], ['tanh', 'sigmoid', 'leaky-relu'], x, y, rows, 0.2);
    const g = [...a.getGradients(), ...b.getGradients(), ...c.getGradients()];
    expectClose(g, numericGrad(f, w), 1e-3, 1e-6, 'composed gradient');
    model.dispose();
    [a, b, c].forEach((s) => s.dispose());
  });
});
