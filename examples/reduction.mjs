// Dimensionality reduction: autoencoders 784-512-128-k against PCA-k on MNIST,
// k = 2, 8, 32; reconstruction MSE on the 10,000 test images; a scatter of the
// 2-D codes of the test set coloured by digit, AE beside PCA (examples/out/reduction.svg).
import { Autoencoder, PCA, mlp } from 'latentkit';
import { DIGIT_COLOURS, pointRows, writeChart } from './charts.mjs';
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

// The 2-D codes of the test images, one colour per digit: autoencoder beside PCA.
const panel = (title, xy) => ({
  title, width: 360, height: 320,
  data: { values: pointRows(xy, (i) => ({ digit: test.labels[i] })) },
  mark: { type: 'circle', size: 6, opacity: 0.6 },
  encoding: { x: { field: 'x', type: 'quantitative', title: 'code 1' }, y: { field: 'y', type: 'quantitative', title: 'code 2' }, color: DIGIT_COLOURS },
});
await writeChart('reduction', {
  title: `MNIST test images (${test.x.shape[0].toLocaleString('en')}) in two dimensions`,
  hconcat: [panel('autoencoder 784-512-128-2', codes2.ae), panel('PCA, 2 components', codes2.pca)],
});
writeOutputs('reduction', { results: results.map(({ k, aeTestMse, pcaTestMse }) => ({ k, aeTestMse, pcaTestMse })), epochs, trainImages: train.x.shape[0], seed });
}
