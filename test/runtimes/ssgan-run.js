// One seeded training run of a small semi-supervised GAN (Salimans et al.'s networks, narrow: noise
// and weight norm in D, batch norm in G), identical in every runtime and on every thread count:
// returns the SHA-256 of the final weights, running statistics and class probabilities. Data come
// from integer arithmetic only. `size: 'large'` uses layers big enough to be split across threads.
export async function ssganRun(lk, { size = 'small', iterations = 4 } = {}) {
  const large = size === 'large';
  const [rows, width, hidden, batch] = large ? [512, 64, 256, 128] : [64, 12, 16, 16];
  const x = new Float32Array(rows * width);
  let s = 777;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    x[i] = ((s >>> 8) % 1001) / 1000;
  }
  const labels = Int32Array.from({ length: 24 }, (_, i) => i % 3);
  const generator = lk.stack(8, [lk.dense(hidden, { activation: 'relu' }), lk.batchNorm(), lk.dense(width, { activation: 'sigmoid', weightNorm: true })], { seed: 21 });
  const features = lk.stack(width, [lk.gaussianNoise(0.3), lk.dense(hidden, { activation: 'relu', weightNorm: true }), lk.gaussianNoise(0.5), lk.dense(hidden / 2, { activation: 'relu', weightNorm: true })], { seed: 22 });
  const classes = lk.stack(hidden / 2, [lk.gaussianNoise(0.5), lk.dense(3, { weightNorm: true })], { seed: 23 });
  const model = new lk.SemiSupervisedGAN({ generator, features, classes, noise: { dim: 8 }, batchSize: batch, seed: 24 });
  model.fit({ labelled: x.subarray(0, 24 * width), labels, unlabelled: x }, { iterations });
  const parts = [generator, features, classes].flatMap((st) => [st.getWeights(), st.getStatistics()]);
  parts.push(model.predict(x.subarray(0, 8 * width)).data);
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0) * 4);
  let at = 0;
  for (const p of parts) {
    bytes.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
    at += p.byteLength;
  }
  const sha256 = [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
  model.dispose();
  for (const st of [generator, features, classes]) st.dispose();
  return { sha256 };
}
