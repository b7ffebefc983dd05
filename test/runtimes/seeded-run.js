import { convRun } from './conv-run.js';
import { ssganRun } from './ssgan-run.js';

// One seeded training run, identical in every runtime: returns the SHA-256 of the
// final weights, of a VAE's weights and importance-weighted log-likelihood on the same data, and
// of a convolutional GAN's weights, running statistics and samples (conv-run.js), and of a
// semi-supervised GAN's and VAE's (ssgan-run.js).
// Data come from integer arithmetic only, so no engine's Math.* is involved.
// `size: 'large'` trains layers big enough to be split across threads.
export async function seededRun(lk, { size = 'small' } = {}) {
  const large = size === 'large';
  const [rows, width, hidden, code, batch, epochs] = large ? [512, 128, 256, 32, 128, 3] : [96, 6, 12, 3, 16, 5];
  const x = new Float32Array(rows * width);
  let s = 12345;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    x[i] = ((s >>> 8) % 2001) / 1000 - 1;
  }
  const enc = lk.mlp([width, hidden, code], { activation: 'tanh', outputActivation: 'tanh', seed: 2024 });
  const dec = lk.mlp([code, hidden, width], { activation: { type: 'leaky-relu', alpha: 0.2 }, seed: 2025 });
  const model = new lk.Sequential([enc, dec], { loss: 'mse', optimizer: { type: 'adamw', lr: 0.01, weightDecay: 0.01, clipNorm: 1 }, seed: 7 });
  const history = model.fit(x, x, { epochs, batchSize: batch, shuffle: true });
  const weights = new Float32Array([...enc.getWeights(), ...dec.getWeights()]);
  const hex = async (bytes) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
  const sha256 = await hex(new Uint8Array(weights.buffer));
  model.dispose();
  enc.dispose();
  dec.dispose();
  // A VAE: the reparameterised sample, the KL term, the likelihood and the importance weights.
  const venc = lk.mlp([width, hidden, 2 * code], { activation: 'tanh', seed: 2026 });
  const vdec = lk.mlp([code, hidden, width], { activation: 'tanh', seed: 2027 });
  const vae = new lk.VAE({ encoder: venc, decoder: vdec, likelihood: { type: 'gaussian', variance: 0.5 }, klWarmup: 10, seed: 8 });
  vae.fit(x, { epochs, batchSize: batch });
  const ll = vae.logLikelihood(x.subarray(0, 8 * width), { samples: 50, perRow: true });
  const vaeBits = new Uint8Array([...new Uint8Array(new Float32Array([...venc.getWeights(), ...vdec.getWeights()]).buffer), ...new Uint8Array(ll.buffer)]);
  const vaeSha256 = await hex(vaeBits);
  vae.dispose();
  venc.dispose();
  vdec.dispose();
  const { sha256: convSha256 } = await convRun(lk, { size });
  const { sha256: ssganSha256, m2Sha256 } = await ssganRun(lk, { size });
  return { sha256, vaeSha256, convSha256, ssganSha256, m2Sha256, loss: history.loss };
}

// The large run on `threads` threads, after the worker threads are up; reports how many worked.
export async function threadedRun(lk, threads) {
  lk.setThreads(threads);
  const warm = lk.mlp([512, 1024], { seed: 1 });
  warm.predict(new Float32Array(512 * 512));
  warm.dispose();
  await untilRunning(lk, lk.threads().count);
  const result = await seededRun(lk, { size: 'large' });
  return { ...result, threads: lk.threads().running, info: lk.threads() };
}

/**
 * Waits until `n` threads take parts (the workers start on the first large layer and load the
 * module). A worker starts in well under a second on an idle machine; the limit is one that only
 * a worker that never starts reaches, so a loaded machine does not fail the wait.
 */
export async function untilRunning(lk, n, limitMs = 120_000) {
  const t0 = Date.now();
  while (lk.threads().running < n && Date.now() - t0 < limitMs) await new Promise((r) => setTimeout(r, 10));
}
