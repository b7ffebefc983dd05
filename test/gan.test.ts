import { describe, expect, it } from 'vitest';
import { GAN, mlp } from '../dist/index.js';
import * as internal from '../dist/internal.js';
// @ts-expect-error plain JS example
import { trainRing } from '../examples/gan-ring.mjs';
import { centralDiff, expectClose, randomArray } from './helpers.js';

const { kernels, heap } = internal;

function makeGan(opts: Record<string, unknown> = {}) {
  const generator = mlp([4, 8, 3], { activation: 'tanh', seed: 1 });
  const discriminator = mlp([3, 8, 1], { activation: 'tanh', seed: 2 });
  const gan = new GAN({ generator, discriminator, noise: { dim: 4 }, batchSize: 16, seed: 3, ...opts });
  return { gan, generator, discriminator, dispose: () => { gan.dispose(); generator.dispose(); discriminator.dispose(); } };
}

describe('GAN', () => {
  it('follows the schedule: k = 3 discriminator updates, then 1 generator update, each touching only its network', () => {
    const { gan, generator, discriminator, dispose } = makeGan({ k: 3 });
    const real = randomArray(200 * 3, 7);
    const events: { network: string; step: number; dMoved: boolean; gMoved: boolean; real?: Uint32Array }[] = [];
    let d = discriminator.getWeights();
    let g = generator.getWeights();
    gan.fit(real, {
      iterations: 4,
      onUpdate: (u) => {
        const d2 = discriminator.getWeights();
        const g2 = generator.getWeights();
        events.push({ network: u.network, step: u.step, dMoved: d2.some((v, i) => v !== d[i]), gMoved: g2.some((v, i) => v !== g[i]), real: u.realIndices });
        d = d2;
        g = g2;
      },
    });
    expect(events.map((e) => e.network)).toEqual(Array(4).fill(['discriminator', 'discriminator', 'discriminator', 'generator']).flat());
    for (const e of events) {
      expect(e.dMoved, `${e.network} step ${e.step} moved D?`).toBe(e.network === 'discriminator');
      expect(e.gMoved, `${e.network} step ${e.step} moved G?`).toBe(e.network === 'generator');
    }
    for (let it = 0; it < 4; it++) {
      const batches = events.slice(4 * it, 4 * it + 3).map((e) => Array.from(e.real!).join(','));
      expect(new Set(batches).size, `iteration ${it}: the 3 real minibatches differ`).toBe(3);
      for (const e of events.slice(4 * it, 4 * it + 3)) expect(e.real!.length).toBe(16);
    }
    dispose();
  });

  it('generator losses and gradients match f64 central differences (minimax and non-saturating)', () => {
    const logits = Float32Array.from([-3, -0.5, 0, 0.7, 2.5, 8]);
    const n = logits.length;
    const p = heap.alloc(n, 'p');
    const g = heap.alloc(n, 'g');
    p.write(logits);
    const sig = (l: number) => 1 / (1 + Math.exp(-l));
    const cases = [
      { name: 'minimax log(1 − D(G(z)))', target: 0, weight: -1, f: (l: number) => Math.log(1 - sig(l)) },
      { name: 'non-saturating −log D(G(z))', target: 1, weight: 1, f: (l: number) => -Math.log(sig(l)) },
    ];
    for (const c of cases) {
      const loss = kernels.loss(1, p.ptr, 0, c.target, n, 1, g.ptr, c.weight);
      const want = Array.from(logits, (l) => c.f(l)).reduce((a, b) => a + b, 0) / n;
      expect(Math.abs(loss - want), `${c.name} value ${loss} vs ${want}`).toBeLessThan(1e-6);
      expectClose(g.read(), Array.from(logits, (l) => centralDiff(c.f, l) / n), 1e-3, 1e-7, `${c.name} gradient`);
    }
    heap.free(p);
    heap.free(g);
  });

  it('labelSmoothing changes only the real targets', () => {
    // First iteration: both runs start from the same weights, noise and real minibatch, so the fake
    // half of the D loss is identical and the real half moves by s·mean(real logits):
    // softplus(l) − (1 − s)·l = [softplus(l) − l] + s·l.
    const real = randomArray(64 * 3, 5);
    const run = (s: number) => {
      const { gan, dispose } = makeGan({ labelSmoothing: s });
      let rows: Uint32Array | undefined;
      const steps: { lossD: number; dReal: number; dFake: number }[] = [];
      gan.fit(real, { iterations: 1, onUpdate: (u) => { if (u.realIndices) rows = u.realIndices; }, onStep: (st) => { steps.push(st); } });
      dispose();
      return { ...steps[0]!, rows: rows! };
    };
    const plain = run(0);
    const smooth = run(0.1);
    expect(Array.from(smooth.rows)).toEqual(Array.from(plain.rows));
    expect(smooth.dFake).toBe(plain.dFake);
    expect(smooth.dReal).toBe(plain.dReal);
    const d0 = mlp([3, 8, 1], { activation: 'tanh', seed: 2 }); // the discriminator's initial weights
    const batch = new Float32Array(plain.rows.length * 3);
    plain.rows.forEach((r, i) => batch.set(real.subarray(r * 3, r * 3 + 3), i * 3));
    const logits = d0.predict(batch).data;
    const meanLogit = logits.reduce((a, b) => a + b, 0) / logits.length;
    expect(Math.abs(smooth.lossD - plain.lossD - 0.1 * meanLogit)).toBeLessThan(1e-6);
    d0.dispose();
  });

  it('sample is reproducible for a seed', () => {
    const { gan, dispose } = makeGan();
    const a = gan.sample(50, { seed: 9 });
    const b = gan.sample(50, { seed: 9 });
    const c = gan.sample(50, { seed: 10 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.length).toBe(150);
    dispose();
  });

  it('ema keeps θ̄ ← decay·θ̄ + (1 − decay)·θ after every generator step, and sample draws from it', () => {
    const { gan, generator, dispose } = makeGan({ ema: { decay: 0.9 } });
    const avg = gan.generatorEma!;
    expect(avg.getWeights()).toEqual(generator.getWeights()); // starts as a copy
    // Replay the average in f32 from the generator's weights after each of its updates.
    const keep = Math.fround(0.9);
    const take = Math.fround(1 - 0.9);
    let want = generator.getWeights();
    gan.fit(randomArray(64 * 3, 7), {
      iterations: 12,
      onUpdate: (u) => {
        if (u.network !== 'generator') return;
        const w = generator.getWeights();
        want = want.map((a, i) => Math.fround(Math.fround(keep * a) + Math.fround(take * w[i]!)));
      },
    });
    expect(Array.from(avg.getWeights())).toEqual(Array.from(want));
    expect(avg.getWeights()).not.toEqual(generator.getWeights());
    // sample: the average by default, the trained generator with raw.
    const z = new GAN({ generator: mlp([4, 8, 3], { activation: 'tanh', seed: 1 }), discriminator: mlp([3, 1]), noise: { dim: 4 } });
    z.generator.setWeights(avg.getWeights());
    expect(gan.sample(20, { seed: 5 })).toEqual(z.sample(20, { seed: 5 }));
    z.generator.setWeights(generator.getWeights());
    expect(gan.sample(20, { seed: 5, raw: true })).toEqual(z.sample(20, { seed: 5 }));
    expect(() => gan.sample(2, { seed: 1, average: true } as never)).toThrow(/unknown .*average/);
    expect(() => makeGan({ ema: { decay: 1 } })).toThrow(/ema.decay must be a number in \(0, 1\), got 1/);
    expect(() => makeGan({ ema: { decay: 0.99, warmup: 3 } })).toThrow(/warmup/);
    z.dispose();
    dispose();
  });

  it('rejects mismatched networks and bad options', () => {
    const G = mlp([4, 3]);
    const D = mlp([5, 1]);
    const D2 = mlp([3, 2]);
    const D3 = mlp([3, 1]);
    expect(() => new GAN({ generator: G, discriminator: D, noise: { dim: 4 } })).toThrow(/generator \[4, 3\] outputs 3 values but the discriminator \[5, 1\] takes 5/);
    expect(() => new GAN({ generator: G, discriminator: D2, noise: { dim: 4 } })).toThrow(/must output 1 logit, it outputs 2/);
    expect(() => new GAN({ generator: G, discriminator: D3, noise: { dim: 4 }, k: 0 })).toThrow(/k .* must be an integer ≥ 1, got 0/);
    expect(() => new GAN({ generator: G, discriminator: D3, noise: { dim: 6 } })).toThrow(/noise.dim is 6 but the generator \[4, 3\] takes 4/);
    expect(() => new GAN({ generator: G, discriminator: D3, noise: { dim: 4, distribution: 'cauchy' as never } })).toThrow(/distribution/);
    expect(() => new GAN({ generator: G, discriminator: D3, noise: { dim: 4 }, generatorLoss: 'wasserstein' as never })).toThrow(/generatorLoss/);
    [G, D, D2, D3].forEach((s) => s.dispose());
  });

  it('learns the 8-Gaussian ring: ≥ 7 modes covered, ≥ 70% of samples within 3σ', () => {
    const r = trainRing({ iterations: 10_000, seed: 1, log: () => {} });
    expect(r.modesCovered, `shares ${r.shares}`).toBeGreaterThanOrEqual(7);
    expect(r.highQuality).toBeGreaterThanOrEqual(0.7);
  });
});
