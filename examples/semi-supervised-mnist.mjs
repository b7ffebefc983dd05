// Learning from 100 labels: 10 images per class drawn from the 60,000 training images (one draw
// per seed), the other 59,900 unlabelled, scored on the 10,000 test images.
//   ssgan: Salimans et al. (2016)'s semi-supervised GAN with feature matching, their MNIST networks
//          (latentkit's semiSupervisedGan(784, { classes: 10 })), Adam(3e-3, β1 0.5), batches of 100;
//          the learning rate held for the first half of the budget, then linearly to 0. Paper: 0.93%.
//   scratch, pretrained: latentkit's pretraining recipe (examples/pretraining.mjs) on the same 100
//          labels: a 784-512-128 network trained on them alone (scratch), or pretrained as a denoising
//          autoencoder on the unlabelled images, a head warmed up, then fine-tuned (pretrained). As in
//          that recipe, its epochs and settings are chosen on 5,000 of the unlabelled images with their
//          labels (the last 5,000; they are left out of pretraining): labels the GAN never sees.
// The budget per draw is --minutes of training (55 by default, so a draw with its scoring ends
// within an hour on 2 cores) or --epochs passes over the unlabelled images, whichever ends first.
// The reported error is the final model's: the test set chooses nothing.
//   node examples/semi-supervised-mnist.mjs [--methods scratch,pretrained,ssgan] [--draws 1,2,3] [--minutes 55] [--epochs 300]
//     [--pretrain-epochs 30] [--data DIR (an IDX folder: train-/t10k-images-idx3-ubyte, -labels-idx1-ubyte)] [--train N] [--test N] [--threads N]
import { Rng, SemiSupervisedGAN, semiSupervisedGan, stacks, threads } from 'latentkit';
import { argFlag, argList, table, writeOutputs } from './common.mjs';
import { loadMnist } from './mnist.mjs';
import { SCHEDULES, pretrainingRecipe } from './pretraining.mjs';

const PAPER = { ssgan: 0.93 };
const METHODS = ['scratch', 'pretrained', 'ssgan'];
const VALIDATION = 5000;
const PER_CLASS = 10;

/** `perClass` rows of each class, drawn by `seed`, and the rest. */
export function drawLabelled(labels, classes, perClass, seed) {
  const rng = new Rng(seed);
  const order = Array.from({ length: labels.length }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  rng.dispose();
  const count = new Array(classes).fill(0);
  const chosen = order.filter((i) => count[labels[i]]++ < perClass).sort((a, b) => a - b);
  if (chosen.length !== classes * perClass) throw new Error(`the training set has fewer than ${perClass} images of some class: ${count.join(', ')}`);
  const picked = new Set(chosen);
  return { labelled: chosen, unlabelled: order.filter((i) => !picked.has(i)).sort((a, b) => a - b) };
}

function rowsOf(x, idx) {
  const cols = x.shape[1];
  const out = new Float32Array(idx.length * cols);
  idx.forEach((r, i) => out.set(x.data.subarray(r * cols, (r + 1) * cols), i * cols));
  return { data: out, shape: [idx.length, cols] };
}

/** The semi-supervised GAN on one draw: returns its test error (%) and how the run went. */
export function runSsgan({ train, test, classes, draw, minutes, epochs, log }) {
  const { labelled, unlabelled } = drawLabelled(train.labels, classes, PER_CLASS, draw);
  const data = { labelled: rowsOf(train.x, labelled), labels: Int32Array.from(labelled, (i) => train.labels[i]), unlabelled: rowsOf(train.x, unlabelled) };
  const defs = semiSupervisedGan(train.x.shape[1], { classes });
  const [generator, features, head] = stacks([defs.generator, defs.features, defs.classes], { seed: 100 * draw });
  const lr = 3e-3;
  const model = new SemiSupervisedGAN({ generator, features, classes: head, noise: { dim: 100 }, batchSize: 100, optimizerD: { type: 'adam', lr, beta1: 0.5 }, optimizerG: { type: 'adam', lr, beta1: 0.5 }, seed: draw });
  const perEpoch = Math.floor(data.unlabelled.shape[0] / model.batchSize);
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 60_000;
  const curve = [];
  let epoch = 0;
  while (epoch < epochs && elapsed() < minutes) {
    // Held, then linearly to 0 over the second half of whichever budget is nearer its end.
    const done = Math.max(epoch / epochs, elapsed() / minutes);
    model.optimizerD.lr = model.optimizerG.lr = lr * Math.min(1, 2 * (1 - done));
    const h = model.fit(data, { iterations: perEpoch });
    epoch++;
    const last = epoch >= epochs || elapsed() >= minutes;
    if (epoch % 5 === 0 || epoch === 1 || last) {
      const error = 100 * model.error(test.x, test.labels);
      const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
      curve.push({ epoch, minutes: elapsed(), error, lossD: mean(h.lossD), lossG: mean(h.lossG) });
      log(`  draw ${draw}, epoch ${epoch}: test error ${error.toFixed(2)}%, lossD ${mean(h.lossD).toFixed(4)}, lossG ${mean(h.lossG).toFixed(4)} (${elapsed().toFixed(1)} min)`);
    }
  }
  const error = 100 * model.error(test.x, test.labels);
  const seconds = (performance.now() - t0) / 1000;
  model.dispose();
  for (const s of [generator, features, head]) s.dispose();
  return { error, epochs: epoch, seconds, curve };
}

/** latentkit's pretraining recipe on one draw: scratch and pretrained test errors (%), as examples/pretraining.mjs runs them. */
function runPretrainingRecipe({ train, test, classes, draw, pretrainEpochs, log }) {
  const { labelled, unlabelled } = drawLabelled(train.labels, classes, PER_CLASS, draw);
  const held = unlabelled.slice(-VALIDATION);
  const asSet = (idx) => ({ x: rowsOf(train.x, idx), labels: Int32Array.from(idx, (i) => train.labels[i]) });
  const t0 = performance.now();
  const recipe = pretrainingRecipe({ unlabelled: rowsOf(train.x, unlabelled.slice(0, -VALIDATION)), validation: asSet(held), test, classes, pretrainEpochs, log, t0 });
  const a = recipe.scratch(draw, asSet(labelled), SCHEDULES[100]);
  const scratchSeconds = (performance.now() - t0) / 1000;
  const weights = recipe.pretrain(draw);
  const b = recipe.pretrained(draw, asSet(labelled), SCHEDULES[100], weights);
  const seconds = (performance.now() - t0) / 1000;
  log(`  draw ${draw}: scratch ${(100 * (1 - a.accuracy)).toFixed(2)}%, pretrained ${(100 * (1 - b.accuracy)).toFixed(2)}% test error`);
  return {
    scratch: { error: 100 * (1 - a.accuracy), seconds: scratchSeconds, chosen: { activation: a.activation, lr: a.lr, epochs: a.epochs } },
    pretrained: { error: 100 * (1 - b.accuracy), seconds: seconds - scratchSeconds, chosen: { lr: b.lr, warmupEpochs: b.warmupEpochs, epochs: b.epochs } },
  };
}

export function runSemiSupervised({ methods = METHODS, draws = [1, 2, 3], minutes = 55, epochs = 300, pretrainEpochs = 30, data, trainRows, testRows, log = console.log } = {}) {
  for (const m of methods) if (!METHODS.includes(m)) throw new Error(`--methods: unknown method ${JSON.stringify(m)} (expected ${METHODS.join(', ')})`);
  const train = loadMnist('train', { limit: trainRows, ...(data && { dir: data }) });
  const test = loadMnist('test', { limit: testRows, ...(data && { dir: data }) });
  const classes = Math.max(...train.labels) + 1;
  const runs = Object.fromEntries(methods.map((m) => [m, []]));
  for (const draw of draws) {
    if (methods.includes('scratch') || methods.includes('pretrained')) {
      const r = runPretrainingRecipe({ train, test, classes, draw, pretrainEpochs, log });
      for (const m of ['scratch', 'pretrained']) if (methods.includes(m)) runs[m].push(r[m]);
    }
    if (methods.includes('ssgan')) runs.ssgan.push(runSsgan({ train, test, classes, draw, minutes, epochs, log }));
  }
  const out = {};
  for (const [method, rs] of Object.entries(runs)) {
    const errors = rs.map((r) => r.error);
    out[method] = {
      errors, meanError: errors.reduce((s, v) => s + v, 0) / errors.length, seconds: rs.map((r) => r.seconds), threads: threads().count,
      ...(PAPER[method] !== undefined && { paper: PAPER[method] }),
      ...(method === 'ssgan' ? { epochs: rs.map((r) => r.epochs), curves: rs.map((r) => r.curve) } : { chosen: rs.map((r) => r.chosen), validationLabels: VALIDATION }),
    };
  }
  return { methods: out, draws, labelled: classes * PER_CLASS, unlabelled: train.x.shape[0] - classes * PER_CLASS, testRows: test.x.shape[0], minutes, epochs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dataFlag = process.argv.indexOf('--data');
  const methodsFlag = process.argv.indexOf('--methods');
  const result = runSemiSupervised({
    methods: methodsFlag >= 0 ? process.argv[methodsFlag + 1].split(',') : undefined,
    draws: argList('draws', [1, 2, 3]), minutes: argFlag('minutes', 55), epochs: argFlag('epochs', 300), pretrainEpochs: argFlag('pretrain-epochs', 30),
    data: dataFlag >= 0 ? process.argv[dataFlag + 1] : undefined, trainRows: argFlag('train', undefined), testRows: argFlag('test', undefined),
  });
  table(Object.entries(result.methods).map(([method, r]) => ({ method, ...Object.fromEntries(result.draws.map((d, i) => [`draw ${d} (%)`, r.errors[i]])), 'mean (%)': r.meanError, 'paper (%)': r.paper ?? '—' })));
  console.log('targets: ssgan ≤ 1.25% mean test error over the three draws, each method ≤ 60 minutes per draw on 2 cores');
  writeOutputs('semi-supervised-mnist', result);
}
