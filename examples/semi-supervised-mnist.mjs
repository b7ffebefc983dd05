// Learning from 100 labels: 10 images per class drawn from the 60,000 training images (one draw
// per seed), the other 59,900 unlabelled, scored on the 10,000 test images.
//   ssgan: Salimans et al. (2016)'s semi-supervised GAN with feature matching, their MNIST networks
//          (latentkit's semiSupervisedGan(784, { classes: 10 })), Adam(3e-3, β1 0.5), batches of 100;
//          the learning rate held for the first half of the budget, then linearly to 0. Paper: 0.93%.
// The budget per draw is --minutes of training (55 by default, so a draw with its scoring ends
// within an hour on 2 cores) or --epochs passes over the unlabelled images, whichever ends first.
// The reported error is the final model's: the test set chooses nothing.
//   node examples/semi-supervised-mnist.mjs [--methods ssgan] [--draws 1,2,3] [--minutes 55] [--epochs 300]
//     [--data DIR (an IDX folder: train-/t10k-images-idx3-ubyte, -labels-idx1-ubyte)] [--train N] [--test N] [--threads N]
import { Rng, SemiSupervisedGAN, semiSupervisedGan, stacks, threads } from 'latentkit';
import { argFlag, argList, table, writeOutputs } from './common.mjs';
import { loadMnist } from './mnist.mjs';

const PAPER = { ssgan: 0.93 };
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

export function runSemiSupervised({ methods = ['ssgan'], draws = [1, 2, 3], minutes = 55, epochs = 300, data, trainRows, testRows, log = console.log } = {}) {
  const train = loadMnist('train', { limit: trainRows, ...(data && { dir: data }) });
  const test = loadMnist('test', { limit: testRows, ...(data && { dir: data }) });
  const classes = Math.max(...train.labels) + 1;
  const out = {};
  for (const method of methods) {
    if (method !== 'ssgan') throw new Error(`--methods: unknown method ${JSON.stringify(method)} (expected ssgan)`);
    const runs = draws.map((draw) => runSsgan({ train, test, classes, draw, minutes, epochs, log }));
    const errors = runs.map((r) => r.error);
    out[method] = { errors, meanError: errors.reduce((s, v) => s + v, 0) / errors.length, seconds: runs.map((r) => r.seconds), epochs: runs.map((r) => r.epochs), threads: threads().count, paper: PAPER[method], curves: runs.map((r) => r.curve) };
  }
  return { methods: out, draws, labelled: classes * PER_CLASS, unlabelled: train.x.shape[0] - classes * PER_CLASS, testRows: test.x.shape[0], minutes, epochs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dataFlag = process.argv.indexOf('--data');
  const methodsFlag = process.argv.indexOf('--methods');
  const result = runSemiSupervised({
    methods: methodsFlag >= 0 ? process.argv[methodsFlag + 1].split(',') : undefined,
    draws: argList('draws', [1, 2, 3]), minutes: argFlag('minutes', 55), epochs: argFlag('epochs', 300),
    data: dataFlag >= 0 ? process.argv[dataFlag + 1] : undefined, trainRows: argFlag('train', undefined), testRows: argFlag('test', undefined),
  });
  table(Object.entries(result.methods).map(([method, r]) => ({ method, ...Object.fromEntries(result.draws.map((d, i) => [`draw ${d} (%)`, r.errors[i]])), 'mean (%)': r.meanError, 'paper (%)': r.paper ?? '—' })));
  console.log('targets: ssgan ≤ 1.25% mean test error over the three draws, each method ≤ 60 minutes per draw on 2 cores');
  writeOutputs('semi-supervised-mnist', result);
}
