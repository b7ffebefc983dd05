// A GAN learns a mixture of 8 Gaussians on a circle of radius 2 (σ = 0.05):
// success is countable (modes covered, fraction of samples within 3σ of a mode).
import { GAN, Rng, mlp, ringCentres, ringQuality, sampleRing } from 'latentkit';
import { argFlag, writeOutputs } from './common.mjs';

export function trainRing({ iterations = 10_000, seed = 1, log = console.log } = {}) {
  const real = sampleRing(20_000, new Rng(seed));
  const generator = mlp([16, 128, 128, 2], { activation: 'tanh', outputActivation: 'linear', seed: seed + 1 });
  const discriminator = mlp([2, 128, 128, 1], { activation: 'tanh', outputActivation: 'linear', seed: seed + 2 });
  const gan = new GAN({
    generator, discriminator, noise: { dim: 16, distribution: 'normal' }, k: 1, batchSize: 128,
    generatorLoss: 'non-saturating', optimizerD: { type: 'adam', lr: 2e-4, beta1: 0.5 }, optimizerG: { type: 'adam', lr: 2e-4, beta1: 0.5 }, seed: seed + 3,
  });
  gan.fit(real, { iterations, onStep: (s) => { if (s.iteration % 2000 === 0) log(`iteration ${s.iteration}: lossD ${s.lossD.toFixed(3)} lossG ${s.lossG.toFixed(3)} D(x) ${s.dReal.toFixed(3)} D(G(z)) ${s.dFake.toFixed(3)}`); } });
  const samples = gan.sample(10_000, { seed: seed + 4 });
  const quality = ringQuality(samples);
  gan.dispose();
  generator.dispose();
  discriminator.dispose();
  return { real, samples, ...quality };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = performance.now();
  const iterations = argFlag('iterations', 10_000);
  const r = trainRing({ iterations, seed: argFlag('seed', 1) });
  console.log(`modes covered: ${r.modesCovered} of 8 (target ≥ 7); high quality: ${r.highQuality.toFixed(3)} (target ≥ 0.7); shares ${r.shares.map((s) => s.toFixed(3)).join(' ')}; ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // Scatter: real samples grey, generated blue, mode centres red.
  const S = 500;
  const pixels = new Uint8Array(S * S * 3).fill(255);
  const put = (x, y, c, size) => {
    const px = Math.round(S / 2 + x * S / 6);
    const py = Math.round(S / 2 - y * S / 6);
    for (let dy = 0; dy < size; dy++) for (let dx = 0; dx < size; dx++) {
      const X = px + dx, Y = py + dy;
      if (X >= 0 && X < S && Y >= 0 && Y < S) pixels.set(c, (Y * S + X) * 3);
    }
  };
  for (let i = 0; i < 2000; i++) put(r.real.data[2 * i], r.real.data[2 * i + 1], [170, 170, 170], 2);
  for (let i = 0; i < 2000; i++) put(r.samples[2 * i], r.samples[2 * i + 1], [31, 119, 180], 2);
  for (const [x, y] of ringCentres()) put(x - 0.02, y + 0.02, [214, 39, 40], 4);
  writeOutputs('gan-ring', { modesCovered: r.modesCovered, highQuality: r.highQuality, shares: r.shares, iterations }, { pixels, width: S, height: S, channels: 3 });
}
