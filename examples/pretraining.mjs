// Pretraining: does an autoencoder trained on 60,000 unlabelled MNIST images help
// a classifier that sees only 1,000 labels (100 per class)? Same architecture,
// epochs on the labels and learning rate for every variant; three seeds, all reported.
import { Autoencoder, Classifier, Rng, mlp } from 'latentkit';
import { argFlag, table, writeOutputs } from './common.mjs';
import { loadMnist } from './mnist.mjs';

const seeds = [1, 2, 3].slice(0, argFlag('seeds', 3));
const pretrainEpochs = argFlag('pretrain-epochs', 4);
const finetuneEpochs = argFlag('finetune-epochs', 30);
const unlabelledRows = argFlag('unlabelled', 60_000);
const lr = 1e-3;
const t0 = performance.now();
const train = loadMnist('train', { limit: unlabelledRows });
const test = loadMnist('test');

/** 100 images per class, chosen by the seed. */
function labelledSubset(seed) {
  const rng = new Rng(seed);
  const order = Array.from({ length: train.labels.length }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const picked = [];
  const count = new Array(10).fill(0);
  for (const i of order) if (count[train.labels[i]]++ < 100) picked.push(i);
  const x = new Float32Array(picked.length * 784);
  picked.forEach((r, i) => x.set(train.x.data.subarray(r * 784, (r + 1) * 784), i * 784));
  return { x: { data: x, shape: [picked.length, 784] }, labels: Int32Array.from(picked, (r) => train.labels[r]) };
}

function newEncoder(seed) {
  return mlp([784, 512, 128], { activation: 'relu', outputActivation: 'linear', seed });
}

function pretrain(seed, denoising) {
  const encoder = newEncoder(seed);
  const decoder = mlp([128, 512, 784], { activation: 'relu', outputActivation: 'sigmoid', seed: seed + 100 });
  const ae = new Autoencoder({ encoder, decoder, optimizer: { type: 'adam', lr }, seed, ...(denoising && { denoising: { type: 'masking', rate: 0.3 } }) });
  ae.fit(train.x, { epochs: pretrainEpochs, batchSize: 256, onEpoch: (e, { loss }) => console.log(`  seed ${seed} ${denoising ? 'denoising' : 'plain'} AE epoch ${e + 1}: ${loss.toFixed(5)}`) });
  const weights = encoder.getWeights();
  ae.dispose();
  encoder.dispose();
  decoder.dispose();
  return weights;
}

function classify(seed, labelled, encoderWeights, freeze) {
  const encoder = newEncoder(seed);
  if (encoderWeights) encoder.setWeights(encoderWeights);
  const head = mlp([128, 10], { seed: seed + 200 });
  const clf = new Classifier({ body: encoder, head, optimizer: { type: 'adam', lr }, seed, freezeBody: freeze });
  clf.fit(labelled.x, labelled.labels, { epochs: finetuneEpochs, batchSize: 32 });
  const { accuracy } = clf.evaluate(test.x, test.labels);
  clf.dispose();
  encoder.dispose();
  head.dispose();
  return accuracy;
}

const variants = {
  scratch: [],
  pretrained: [], // denoising AE (30% masking), fine-tuned end to end
  plainAutoencoder: [], // plain AE, fine-tuned end to end
  frozenProbe: [], // denoising AE, encoder frozen, head only
};
for (const seed of seeds) {
  const labelled = labelledSubset(seed);
  variants.scratch.push(classify(seed, labelled, null, false));
  const dae = pretrain(seed, true);
  variants.pretrained.push(classify(seed, labelled, dae, false));
  variants.frozenProbe.push(classify(seed, labelled, dae, true));
  variants.plainAutoencoder.push(classify(seed, labelled, pretrain(seed, false), false));
  console.log(`seed ${seed}: scratch ${variants.scratch.at(-1)}, denoising+fine-tune ${variants.pretrained.at(-1)}, frozen probe ${variants.frozenProbe.at(-1)}, plain AE+fine-tune ${variants.plainAutoencoder.at(-1)}`);
}
const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
table(Object.entries(variants).map(([name, runs]) => ({ variant: name, ...Object.fromEntries(seeds.map((s, i) => [`seed ${s}`, runs[i]])), mean: mean(runs) })));
const gain = mean(variants.pretrained) - mean(variants.scratch);
console.log(`pretrained (denoising AE, fine-tuned) − scratch: ${(100 * gain).toFixed(2)} points (target > 0); ${((performance.now() - t0) / 1000).toFixed(0)} s`);
const summary = Object.fromEntries(Object.entries(variants).map(([k, runs]) => [k, { mean: mean(runs), runs }]));
writeOutputs('pretraining', { ...summary, seeds, pretrainEpochs, finetuneEpochs, learningRate: lr, labelled: 1000, unlabelled: train.x.shape[0] });
