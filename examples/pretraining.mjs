// Pretraining with scarce labels on MNIST: does a denoising autoencoder trained on 55,000
// unlabelled images help a classifier that sees 100 labels (10 per class) or 1,000 (100 per class)?
//
// The recipe (latentkit's documented way to fine-tune a pretrained encoder):
//   1. pretrain: a denoising autoencoder 784-512-128-512-784 with logistic units, 50% of the input
//      pixels masked, cross-entropy on logits, Adam 1e-3, batch 128, 30 epochs;
//   2. warm up: a softmax head on the frozen encoder (Adam 1e-3);
//   3. fine-tune: encoder and head together at a 10× smaller learning rate (1e-4 or 3e-5).
// Against it, the same 784-512-128-10 network trained from scratch, with the same tuning effort:
// its learning rate (1e-3 or 3e-4) and hidden units (ReLU or logistic) chosen on the held-out split.
// Every stage picks its epochs on the held-out split (5,000 training images whose labels are used
// for nothing else; Classifier.fit's earlyStopping), and every choice is made on that split alone.
// Five seeds; each seed draws its own labelled subset and initialises its own networks. Test
// accuracy on the 10,000 test images.
//   node examples/pretraining.mjs [--seeds 5] [--pretrain-epochs 30] [--threads N]
import { Autoencoder, Classifier, Rng, mlp } from 'latentkit';
import { argFlag, table, writeOutputs } from './common.mjs';
import { loadMnist } from './mnist.mjs';

const SEEDS = Array.from({ length: argFlag('seeds', 5) }, (_, i) => i + 1);
const PRETRAIN_EPOCHS = argFlag('pretrain-epochs', 30);
const VALIDATION = 5000;
const SIZES = [784, 512, 128];
// Per labelled-set size: the most epochs of each stage and how often the held-out split is scored.
export const SCHEDULES = {
  100: { scratch: 200, warmup: 200, finetune: 500, every: 10 },
  1000: { scratch: 60, warmup: 60, finetune: 100, every: 2 },
};

/**
 * The recipe's stages against data: `unlabelled` rows to pretrain on, the labelled `validation`
 * split every choice is made on, and the `test` set the chosen network is scored on.
 */
export function pretrainingRecipe({ unlabelled, validation, test, classes = 10, pretrainEpochs = PRETRAIN_EPOCHS, log = console.log, t0 = performance.now() }) {
  /** The encoder's weights after denoising-autoencoder training on the unlabelled images. */
  function pretrain(seed) {
    const encoder = mlp(SIZES, { activation: 'sigmoid', outputActivation: 'sigmoid', seed });
    const decoder = mlp([...SIZES].reverse(), { activation: 'sigmoid', outputActivation: 'linear', seed: seed + 100 });
    const ae = new Autoencoder({ encoder, decoder, loss: 'bce-with-logits', optimizer: { type: 'adam', lr: 1e-3 }, denoising: { type: 'masking', rate: 0.5 }, seed });
    ae.fit(unlabelled, { epochs: pretrainEpochs, batchSize: 128, onEpoch: (e, { loss }) => { if ((e + 1) % 10 === 0 || e + 1 === pretrainEpochs) log(`  seed ${seed}: denoising autoencoder epoch ${e + 1}/${pretrainEpochs}, loss ${loss.toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`); } });
    const weights = encoder.getWeights();
    ae.dispose();
    encoder.dispose();
    decoder.dispose();
    return weights;
  }

  /** Trains `clf` with its epochs chosen on the held-out split; returns that split's best accuracy and the epoch. */
  function fitBest(clf, labelled, epochs, every) {
    const h = clf.fit(labelled.x, labelled.labels, { epochs, batchSize: 32, validation: { x: validation.x, labels: validation.labels }, earlyStopping: { every } });
    return { validation: Math.max(...h.valAccuracy), epochs: h.bestEpoch };
  }

  /** Among configurations, the one with the best held-out accuracy, then scored on the test set. */
  function bestOf(configs, train) {
    let best = null;
    for (const config of configs) {
      const r = train(config);
      if (!best || r.validation > best.validation) {
        best?.dispose();
        best = r;
      } else r.dispose();
    }
    const accuracy = best.clf.evaluate(test.x, test.labels).accuracy;
    const { dispose, clf, ...chosen } = best;
    dispose();
    return { accuracy, ...chosen };
  }

  function scratch(seed, labelled, s) {
    return bestOf(
      [{ activation: 'relu', lr: 1e-3 }, { activation: 'relu', lr: 3e-4 }, { activation: 'sigmoid', lr: 1e-3 }, { activation: 'sigmoid', lr: 3e-4 }],
      ({ activation, lr }) => {
        const body = mlp(SIZES, { activation, outputActivation: activation, seed });
        const head = mlp([128, classes], { seed: seed + 200 });
        const clf = new Classifier({ body, head, optimizer: { type: 'adam', lr }, seed });
        const r = fitBest(clf, labelled, s.scratch, s.every);
        return { ...r, activation, lr, clf, dispose: () => { clf.dispose(); body.dispose(); head.dispose(); } };
      },
    );
  }

  function pretrained(seed, labelled, s, weights) {
    return bestOf([1e-4, 3e-5], (lr) => {
      const body = mlp(SIZES, { activation: 'sigmoid', outputActivation: 'sigmoid', seed });
      body.setWeights(weights);
      const head = mlp([128, classes], { seed: seed + 200 });
      const warm = new Classifier({ body, head, optimizer: { type: 'adam', lr: 1e-3 }, seed, freezeBody: true });
      const warmup = fitBest(warm, labelled, s.warmup, s.every);
      warm.dispose();
      body.unfreeze();
      const clf = new Classifier({ body, head, optimizer: { type: 'adam', lr }, seed });
      const r = fitBest(clf, labelled, s.finetune, s.every);
      return { ...r, lr, warmupEpochs: warmup.epochs, warmupValidation: warmup.validation, clf, dispose: () => { clf.dispose(); body.dispose(); head.dispose(); } };
    });
  }

  return { pretrain, scratch, pretrained };
}

export function runPretraining({ seeds = SEEDS, pretrainEpochs = PRETRAIN_EPOCHS, labelCounts = [100, 1000], unlabelledRows = 60_000 - VALIDATION, testRows = 10_000, schedules = SCHEDULES, log = console.log } = {}) {
  const t0 = performance.now();
  const all = loadMnist('train');
  const test = loadMnist('test', { limit: testRows });
  const rowsOf = (idx) => {
    const x = new Float32Array(idx.length * 784);
    idx.forEach((r, i) => x.set(all.x.data.subarray(r * 784, r * 784 + 784), i * 784));
    return { x: { data: x, shape: [idx.length, 784] }, labels: Int32Array.from(idx, (r) => all.labels[r]) };
  };
  const pool = 60_000 - VALIDATION;
  const validation = rowsOf(Array.from({ length: VALIDATION }, (_, i) => pool + i));
  const unlabelled = { data: all.x.data.subarray(0, unlabelledRows * 784), shape: [unlabelledRows, 784] };

  /** `perClass` images of each digit from the first 55,000, chosen by the seed. */
  function labelledSubset(seed, perClass) {
    const rng = new Rng(seed);
    const order = Array.from({ length: pool }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    rng.dispose();
    const count = new Array(10).fill(0);
    return rowsOf(order.filter((i) => count[all.labels[i]]++ < perClass));
  }

  const { pretrain, scratch, pretrained } = pretrainingRecipe({ unlabelled, validation, test, pretrainEpochs, log, t0 });

  const results = Object.fromEntries(labelCounts.map((n) => [`labels${n}`, { scratch: [], pretrained: [] }]));
  for (const seed of seeds) {
    const weights = pretrain(seed);
    for (const n of labelCounts) {
      const labelled = labelledSubset(seed, n / 10);
      const s = schedules[n];
      const a = scratch(seed, labelled, s);
      const b = pretrained(seed, labelled, s, weights);
      results[`labels${n}`].scratch.push(a);
      results[`labels${n}`].pretrained.push(b);
      log(`seed ${seed}, ${n} labels: scratch ${(100 * a.accuracy).toFixed(2)}% (${a.activation}, lr ${a.lr}, ${a.epochs} epochs), pretrained ${(100 * b.accuracy).toFixed(2)}% (lr ${b.lr}, warm-up ${b.warmupEpochs} + ${b.epochs} epochs): ${(100 * (b.accuracy - a.accuracy)).toFixed(2)} points`);
    }
  }
  return { results, seconds: (performance.now() - t0) / 1000, unlabelled: unlabelledRows, validation: VALIDATION };
}

const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;

if (import.meta.url === `file://${process.argv[1]}`) {
  const { results, seconds, unlabelled, validation } = runPretraining();
  const summary = {};
  for (const [key, r] of Object.entries(results)) {
    const pick = (runs) => ({ runs: runs.map((x) => x.accuracy), mean: mean(runs.map((x) => x.accuracy)), chosen: runs.map(({ accuracy, ...c }) => c) });
    summary[key] = { scratch: pick(r.scratch), pretrained: pick(r.pretrained) };
    const gains = r.pretrained.map((p, i) => p.accuracy - r.scratch[i].accuracy);
    summary[key].gain = { runs: gains, mean: mean(gains) };
    table(SEEDS.map((seed, i) => ({ labels: key.slice(6), seed, scratch: r.scratch[i].accuracy, pretrained: r.pretrained[i].accuracy, 'gain (points)': 100 * gains[i] })));
    console.log(`${key.slice(6)} labels: mean gain ${(100 * mean(gains)).toFixed(2)} points, smallest ${(100 * Math.min(...gains)).toFixed(2)}, seeds gaining ≥ 1 point: ${gains.filter((g) => g >= 0.01).length} of ${gains.length}`);
  }
  console.log('targets: 100 labels, gain ≥ 4 points on the mean and ≥ 2 on every seed; 1,000 labels, ≥ 1 point on the mean and on at least 4 seeds of 5');
  console.log(`${(seconds / 60).toFixed(1)} minutes`);
  writeOutputs('pretraining', {
    ...summary, seeds: SEEDS, pretrainEpochs: PRETRAIN_EPOCHS, unlabelled, validation, schedules: SCHEDULES, seconds,
    recipe: 'denoising AE 784-512-128 (logistic, 50% masking, 30 epochs) → head on the frozen encoder → all layers at lr 1e-4 or 3e-5; epochs and choices on the held-out split',
  });
}
