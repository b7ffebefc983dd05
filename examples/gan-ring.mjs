// A GAN learns a mixture of 8 Gaussians on a circle of radius 2 (σ = 0.05):
// success is countable (modes covered, fraction of samples within 3σ of a mode).
import { GAN, Rng, mlp, ringCentres, ringQuality, sampleRing } from 'latentkit';
import { pointRows, writeChart } from './charts.mjs';
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
  // Real samples, generated samples and the mode centres.
  const rows = [
    ...pointRows(r.real.data.subarray(0, 4000), () => ({ kind: 'real data' })),
    ...pointRows(r.samples.subarray(0, 4000), () => ({ kind: 'generated' })),
    ...ringCentres().map(([x, y]) => ({ x, y, kind: 'mode centre' })),
  ];
  await writeChart('gan-ring', {
    title: `GAN on the 8-Gaussian ring after ${iterations.toLocaleString('en')} iterations: ${r.modesCovered} of 8 modes covered`,
    width: 420, height: 420, data: { values: rows },
    mark: { type: 'circle', opacity: 0.5, clip: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', scale: { domain: [-3, 3] }, title: 'x₁' },
      y: { field: 'y', type: 'quantitative', scale: { domain: [-3, 3] }, title: 'x₂' },
      color: { field: 'kind', type: 'nominal', title: null, scale: { domain: ['real data', 'generated', 'mode centre'], range: ['#aaaaaa', '#1f77b4', '#d62728'] } },
      size: { condition: { test: "datum.kind === 'mode centre'", value: 80 }, value: 8 },
      order: { field: 'kind', sort: 'descending' },
    },
  });
  writeOutputs('gan-ring', { modesCovered: r.modesCovered, highQuality: r.highQuality, shares: r.shares, iterations });
}
