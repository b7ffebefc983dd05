// Each optimizer replays a trajectory produced by optax (scripts/reference/optimizers.py,
// committed output in test/reference/optimizers.json).
import { readFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import { Optimizer, type OptimizerConfig, Stack } from '../dist/index.js';
import * as internal from '../dist/internal.js';
import { expectClose } from './helpers.js';

const ref = JSON.parse(readFileSync(new URL('./reference/optimizers.json', import.meta.url), 'utf8')) as {
  p0: number[]; c: number[]; d: number[]; steps: number;
  cases: { config: OptimizerConfig; trajectory: number[][] }[];
};

describe('optimizers against optax', () => {
  for (const { config, trajectory } of ref.cases) {
    it(`${JSON.stringify(config)} follows optax for ${ref.steps} steps`, () => {
      // A [2, 2] stack has exactly six parameters: W (4) and b (2).
      const stack = new Stack([2, 2]);
      stack.setWeights(Float32Array.from(ref.p0));
      const opt = new Optimizer(config, [stack]);
      const f = Math.fround;
      for (let t = 0; t < ref.steps; t++) {
        const p = stack.getWeights();
        const g = p.map((v, i) => f(f(f(ref.c[i]!) * v) + f(f(f(f(ref.d[i]!) * v) * v) * v)));
        internal.heap.f32.set(g, stack.grads.index);
        opt.step();
        // optax rounds β to f32 before its bias correction 1 − βᵗ (1.3e-5 relative error for
        // β2 = 0.999 at t = 1); latentkit computes it from the f64 β. Allow 2e-4 of a step.
        expectClose(stack.getWeights(), trajectory[t]!, 2e-5, 2e-4 * (config.lr ?? 1e-3), `${config.type} step ${t + 1}`);
      }
      opt.dispose();
      stack.dispose();
    });
  }
});
