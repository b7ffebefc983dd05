// Seeded training runs of a small semi-supervised GAN (Salimans et al.'s networks, narrow: noise
// and weight norm in D, batch norm in G) and of a semi-supervised VAE (M2), identical in every
// runtime and on every thread count: returns the SHA-256 of the final weights, running statistics
// and class probabilities of both. Data come from integer arithmetic only. `size: 'large'` uses
// layers big enough to be split across threads.
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
  model.dispose();
  for (const st of [generator, features, classes]) st.dispose();
  const encoder = lk.stack(width + 3, [lk.dense(hidden, { activation: 'tanh' }), lk.dense(8)], { seed: 25 });
  const decoder = lk.stack(4 + 3, [lk.dense(hidden, { activation: 'tanh' }), lk.dense(width)], { seed: 26 });
  const classifier = lk.stack(width, [lk.dense(hidden, { activation: 'relu' }), lk.batchNorm(), lk.dense(3)], { seed: 27 });
  const m2 = new lk.SemiSupervisedVAE({ encoder, decoder, classifier, batchSize: batch, seed: 28 });
  m2.fit({ labelled: x.subarray(0, 24 * width), labels, unlabelled: x }, { iterations });
  const m2Parts = [encoder, decoder, classifier].flatMap((st) => [st.getWeights(), st.getStatistics()]);
  m2Parts.push(m2.predict(x.subarray(0, 8 * width)).data, m2.sample(4, { labels: 1, seed: 5 }).data);
  m2.dispose();
  for (const st of [encoder, decoder, classifier]) st.dispose();
  const hex = async (ps) => {
    const b = new Uint8Array(ps.reduce((n, p) => n + p.length, 0) * 4);
    let o = 0;
    for (const p of ps) {
      b.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), o);
      o += p.byteLength;
    }
    return [...new Uint8Array(await crypto.subtle.digest('SHA-256', b))].map((v) => v.toString(16).padStart(2, '0')).join('');
  };
  return { sha256: await hex(parts), m2Sha256: await hex(m2Parts) };
}
