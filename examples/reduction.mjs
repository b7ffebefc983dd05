// Dimensionality reduction: autoencoders 784-512-128-k against PCA-k on MNIST,
// k = 2, 8, 32; reconstruction MSE on the 10,000 test images; a scatter of the
// 2-D codes of the test set coloured by digit, AE beside PCA.
import { Autoencoder, PCA, mlp } from 'latentkit';
import { argFlag, table, writeOutputs } from './common.mjs';
import { loadMnist } from './mnist.mjs';

export function runReduction({ epochs = 6, trainRows = 60_000, testRows = 10_000, seed = 1, ks = [2, 8, 32], log = console.log } = {}) {
const train = loadMnist('train', { limit: trainRows });
const test = loadMnist('test', { limit: testRows });
const results = [];
let codes2 = null;
for (const k of ks) {
  const encoder = mlp([784, 512, 128, k], { activation: 'relu', outputActivation: 'linear', seed });
  const decoder = mlp([k, 128, 512, 784], { activation: 'relu', outputActivation: 'sigmoid', seed: seed + 1 });
  const ae = new Autoencoder({ encoder, decoder, optimizer: { type: 'adam', lr: 1e-3 }, seed });
  ae.fit(train.x, { epochs, batchSize: 128, onEpoch: (e, { loss }) => log(`k=${k} epoch ${e + 1}/${epochs}: train MSE ${loss.toFixed(5)}`) });
  const aeTestMse = ae.reconstructionError(test.x);
  const pca = PCA.fit(train.x, { components: k });
  const rec = pca.inverseTransform(pca.transform(test.x));
  let s = 0;
  for (let i = 0; i < rec.data.length; i++) s += (rec.data[i] - test.x.data[i]) ** 2;
  const pcaTestMse = s / rec.data.length;
  results.push({ k, aeTestMse, pcaTestMse, ratio: aeTestMse / pcaTestMse });
  if (k === 2) codes2 = { ae: ae.encode(test.x).data, pca: pca.transform(test.x).data };
  ae.dispose();
  encoder.dispose();
  decoder.dispose();
  pca.dispose();
}
return { results, codes2, test, train };
}

if (import.meta.url === `file://${process.argv[1]}`) {
const epochs = argFlag('epochs', 6);
const seed = argFlag('seed', 1);
const t0 = performance.now();
const { results, codes2, test, train } = runReduction({ epochs, trainRows: argFlag('train', 60_000), seed });
table(results.map((r) => ({ k: r.k, 'AE test MSE': r.aeTestMse, 'PCA test MSE': r.pcaTestMse, 'AE / PCA': r.ratio })));
console.log(`targets: AE below PCA at k = 2, AE/PCA ≤ 0.6 at k = 8 and 32; ${epochs} epochs on ${train.x.shape[0]} images, ${((performance.now() - t0) / 1000).toFixed(0)} s`);

// Scatter plots of the 2-D codes, one colour per digit.
const COLORS = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]];
const S = 400;
const W = 2 * S + 30;
const pixels = new Uint8Array(W * S * 3).fill(255);
for (const [panel, pts] of [[0, codes2.ae], [1, codes2.pca]]) {
  const xs = [], ys = [];
  for (let i = 0; i < pts.length; i += 2) { xs.push(pts[i]); ys.push(pts[i + 1]); }
  const q = (a, p) => [...a].sort((u, v) => u - v)[Math.floor(p * (a.length - 1))];
  const [x0, x1, y0, y1] = [q(xs, 0.005), q(xs, 0.995), q(ys, 0.005), q(ys, 0.995)];
  for (let i = 0; i < xs.length; i++) {
    const px = Math.round(10 + ((xs[i] - x0) / (x1 - x0)) * (S - 20)) + panel * (S + 30);
    const py = Math.round(S - 10 - ((ys[i] - y0) / (y1 - y0)) * (S - 20));
    const c = COLORS[test.labels[i]];
    for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) {
      const x = px + dx, y = py + dy;
      if (x < panel * (S + 30) || x >= panel * (S + 30) + S || y < 0 || y >= S) continue;
      pixels.set(c, (y * W + x) * 3);
    }
  }
}
writeOutputs('reduction', { results: results.map(({ k, aeTestMse, pcaTestMse }) => ({ k, aeTestMse, pcaTestMse })), epochs, trainImages: train.x.shape[0], seed },
  { pixels, width: W, height: S, channels: 3 });
}
