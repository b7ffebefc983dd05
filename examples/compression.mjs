// Compression: a 64-16-64 tanh autoencoder on 8×8 patches of real photographs,
// against PCA with 16 components. Training patches come from three photographs,
// test patches from a fourth that the models never see.
import { Autoencoder, PCA, Rng, addRowMeans, centerRows, gridCrops, grayToBytes, imageGrid, mlp, randomPatches, tilePatches, untilePatches } from 'latentkit';
import { argFlag, photo, table, upscale, writeOutputs } from './common.mjs';

export function runCompression({ seed = 1, patchesPerCrop = 150, epochs = 30, log = console.log } = {}) {
const t0 = performance.now();

const rng = new Rng(seed);
const trainCrops = ['nagasaki-boats', 'airplane-from-above', 'dust-bowl-home'].flatMap((n) => gridCrops(photo(n), 64));
const testCrops = gridCrops(photo('march-pastoral'), 64);
// Random 8×8 patches of every training crop; every 8×8 tile of every test crop.
const parts = trainCrops.map((c) => randomPatches(c, 8, patchesPerCrop, rng));
const train = { data: new Float32Array(parts.length * patchesPerCrop * 64), shape: [parts.length * patchesPerCrop, 64] };
parts.forEach((p, i) => train.data.set(p.data, i * patchesPerCrop * 64));
const testParts = testCrops.map((c) => tilePatches(c, 8));
const test = { data: new Float32Array(testParts.length * 64 * 64), shape: [testParts.length * 64, 64] };
testParts.forEach((p, i) => test.data.set(p.data, i * 64 * 64));
// Mean-centred patches: each patch's DC level is kept aside and added back.
const trainC = centerRows(train).x;
const testC = centerRows(test);

const encoder = mlp([64, 16], { outputActivation: 'tanh', seed });
const decoder = mlp([16, 64], { outputActivation: 'linear', seed: seed + 1 });
const ae = new Autoencoder({ encoder, decoder, loss: 'mse', optimizer: { type: 'adam', lr: 1e-3 }, seed });
ae.fit(trainC, {
  epochs,
  batchSize: 256,
  onEpoch: (e, { loss }) => { if ((e + 1) % 10 === 0 || e === 0) log(`epoch ${e + 1}/${epochs}: train MSE ${loss.toExponential(3)}`); },
});
const pca = PCA.fit(trainC, { components: 16 });

const aeTestMse = ae.reconstructionError(testC.x);
const pcaRec = pca.inverseTransform(pca.transform(testC.x));
let pcaSum = 0;
for (let i = 0; i < pcaRec.data.length; i++) pcaSum += (pcaRec.data[i] - testC.x.data[i]) ** 2;
const pcaTestMse = pcaSum / pcaRec.data.length;
const psnr = (mse) => 10 * Math.log10(1 / mse);
const result = { aeTestMse, pcaTestMse, aePsnr: psnr(aeTestMse), pcaPsnr: psnr(pcaTestMse), ratio: aeTestMse / pcaTestMse,
  trainPatches: train.shape[0], testPatches: test.shape[0], epochs, seed, seconds: (performance.now() - t0) / 1000 };
return { result, ae, pca, testCrops };
}

if (import.meta.url === `file://${process.argv[1]}`) {
const { result, ae, pca, testCrops } = runCompression({ seed: argFlag('seed', 1), patchesPerCrop: argFlag('patches', 150), epochs: argFlag('epochs', 30) });
const { aeTestMse, pcaTestMse } = result;
table([
  { model: 'autoencoder 64-16-64 (tanh code)', 'test MSE': aeTestMse, 'PSNR dB': result.aePsnr },
  { model: 'PCA, 16 components', 'test MSE': pcaTestMse, 'PSNR dB': result.pcaPsnr },
]);
console.log(`AE / PCA test MSE: ${result.ratio.toFixed(4)} (target ≤ 1.05); ${result.trainPatches} training patches, ${result.testPatches} test patches, ${result.seconds.toFixed(1)} s`);

// A held-out crop, its AE reconstruction and its PCA reconstruction, side by side.
const crop = testCrops[Math.floor(testCrops.length / 2)];
const tiles = centerRows(tilePatches(crop, 8));
const aeTiles = addRowMeans(ae.reconstruct(tiles.x), tiles.rowMeans);
const pcaTiles = addRowMeans(pca.inverseTransform(pca.transform(tiles.x)), tiles.rowMeans);
const grid = imageGrid([crop, untilePatches(aeTiles, 8, 64, 64), untilePatches(pcaTiles, 8, 64, 64)].map((im) => upscale(im, 4)), 3, 4, 1);
writeOutputs('compression', result, { pixels: grayToBytes(grid), width: grid.width, height: grid.height, channels: 1 });
}
