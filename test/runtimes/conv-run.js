// One seeded training run of a small convolutional GAN (transposed convolutions with batch norm
// in G; strided convolutions, Gaussian noise and a weight-normalised dense layer in D), identical
// in every runtime and on every thread count: returns the SHA-256 of the final weights, running
// statistics included, and of a few samples. Data come from integer arithmetic only.
// `size: 'large'` uses layers big enough to be split across threads.
export async function convRun(lk, { size = 'small', iterations = 4 } = {}) {
  const large = size === 'large';
  const [rows, c1, c2, batch] = large ? [256, 32, 64, 64] : [48, 4, 6, 12];
  const x = new Float32Array(rows * 16 * 16);
  let s = 4242;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    x[i] = ((s >>> 8) % 2001) / 1000 - 1;
  }
  const generator = lk.stack(8, [
    lk.dense(c2 * 4 * 4), lk.reshape([c2, 4, 4]), lk.batchNorm({ activation: 'relu' }),
    lk.convTranspose2d(c1, { kernel: 4, stride: 2, padding: 1 }), lk.batchNorm({ activation: 'relu' }),
    lk.convTranspose2d(1, { kernel: 4, stride: 2, padding: 1, activation: 'tanh' }), lk.flatten(),
  ], { seed: 11 });
  const leaky = { type: 'leaky-relu', alpha: 0.2 };
  const discriminator = lk.stack([1, 16, 16], [
    lk.gaussianNoise(0.1),
    lk.conv2d(c1, { kernel: 4, stride: 2, padding: 1, activation: leaky }),
    lk.conv2d(c2, { kernel: 3, stride: 2, padding: 1 }), lk.batchNorm({ activation: leaky }),
    lk.flatten(), lk.dense(1, { weightNorm: true }),
  ], { seed: 12 });
  const gan = new lk.GAN({ generator, discriminator, noise: { dim: 8 }, batchSize: batch, seed: 13, ema: { decay: 0.9 } });
  gan.fit(x, { iterations });
  const z = new Float32Array(4 * 8).map((_, i) => ((i * 7) % 11) / 5 - 1);
  const samples = generator.predict(z).data;
  const parts = [generator.getWeights(), generator.getStatistics(), discriminator.getWeights(), discriminator.getStatistics(), samples];
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0) * 4);
  let at = 0;
  for (const p of parts) {
    bytes.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
    at += p.byteLength;
  }
  const sha256 = [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
  gan.dispose();
  generator.dispose();
  discriminator.dispose();
  return { sha256 };
}
