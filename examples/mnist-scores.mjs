// How the MNIST GAN examples score generated digits: the Fréchet distance to the test images in
// the penultimate-layer features of an MNIST classifier trained here with latentkit, against two
// baselines (uniform noise, and a Gaussian in PCA-50 space), and the classifier's own verdicts.
import { Classifier, FeatureScore, PCA, Rng, mlp } from 'latentkit';

/** Pixels in [0, 1] → [−1, 1], the generators' tanh range. */
export const toSigned = (m) => ({ data: m.data.map((v) => 2 * v - 1), shape: m.shape });
/** [−1, 1] → [0, 1], the pixels the Parzen-window protocol scores. */
export const toUnit = (m) => ({ data: m.data.map((v) => (v + 1) / 2), shape: m.shape });

export function mnistScores({ trainX, trainLabels, testX, testLabels, seed, log = console.log }) {
  const body = mlp([784, 256, 128], { activation: 'relu', outputActivation: 'relu', seed: 100 });
  const head = mlp([128, 10], { seed: 101 });
  const clf = new Classifier({ body, head, optimizer: { type: 'adam', lr: 1e-3 }, seed: 102 });
  clf.fit(trainX, trainLabels, { epochs: 6, batchSize: 128 });
  const { accuracy } = clf.evaluate(testX, testLabels);
  log(`feature classifier 784-256-128-10: test accuracy ${(100 * accuracy).toFixed(2)}%`);
  const score = new FeatureScore(body, head);
  const testStats = score.statistics(testX);
  const distanceTo = (x) => score.distance(x, testStats);

  const rng = new Rng(seed + 3);
  const rows = testX.shape[0];
  const noiseImages = { data: rng.uniformArray(rows * 784, -1, 1), shape: [rows, 784] };
  const pca = PCA.fit(trainX, { components: 50 });
  const z = rng.normalArray(rows * 50);
  for (let i = 0; i < rows; i++) for (let j = 0; j < 50; j++) z[i * 50 + j] *= Math.sqrt(pca.explainedVariance[j]);
  const pcaGaussian = pca.inverseTransform({ data: z, shape: [rows, 50] });
  pca.dispose();
  rng.dispose();
  const baselines = { trainFloor: distanceTo(trainX), noise: distanceTo(noiseImages), pcaGaussian: distanceTo(pcaGaussian) };
  return { accuracy, score, distanceTo, baselines, predict: (x) => clf.predict(x) };
}
