#!/usr/bin/env node
// The latentkit command line: train-ae, train-gan, train-vae, train-ssl, sample, encode, eval, classify, export.
// Every flag is parsed and checked before any file is read, so a typo costs nothing.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Autoencoder, Classifier, activationNames, GAN, LatentkitError, SemiSupervisedGAN, VAE, checkpoint, convAutoencoder, dcgan, imageGrid, imageToBytes, mlp, semiSupervisedGan, setPrecision, setThreads, stacks, threads } from 'latentkit';
import { enableRelaxedSimd, loadFile, writeFileAtomic } from 'latentkit/node';
import { toOnnx } from 'latentkit/onnx';
import { encodePng } from 'latentkit/png';
import { CliError, loadData, loadLabels, loadPartialLabels } from './data.mjs';
import { trainingProgress } from './progress.mjs';

const OPTIMIZERS = ['sgd', 'adam', 'adamw', 'rmsprop'];
const GAN_LOSSES = ['non-saturating', 'minimax'];

// A flag: its help, its kind (how its text is checked and converted) and its default.
const flag = (kind, help, fallback) => ({ kind, help, fallback });
const SEED = { seed: flag('count', 'random seed', 0) };
const THREADS = {
  threads: flag('threads', "threads to compute on: 'auto' (every core) or a number; results are the same bits for any count", 'auto'),
  fast: flag('switch', 'the fast tier: fused multiply-adds in the GEMMs, the same bits for any thread count on this machine only (stays exact, and says so, where the engine has no relaxed SIMD)', false),
};
const RESUME = 'continue from this checkpoint (architecture and optimizer flags come from it)';
// How the images are read (bin/data.mjs): channels and size.
const IMAGES = {
  channels: flag(['1', '3'], '1: gray (colour images become luma), 3: colour (gray images are repeated into R, G, B)', '1'),
  size: flag('positive', 'make every image S×S: its centred square, area-averaged (default: the images must share one size)'),
};
// The architecture: dense layers of the sizes flags, latentkit's default convolutional one for the image size, or a file.
const ARCHITECTURE = (parts) => ({
  conv: flag('switch', 'latentkit\'s default convolutional architecture for the image size (printed at the start; sides even and ≥ 8)', false),
  architecture: flag('path', `a JSON file of the two stacks, { ${parts.map((p) => `"${p}": { "input": [...], "layers": [...] }`).join(', ')} } (layer specs as dense(), conv2d(), … return them)`),
});

const COMMANDS = {
  'train-ae': {
    about: 'train an autoencoder on an IDX file or a folder of PNG/JPEG images',
    flags: {
      data: flag('path', 'IDX images file or folder of images (required)'),
      out: flag('path', 'model file to write', 'autoencoder.safetensors'),
      layers: flag('sizes', 'encoder sizes after the input, e.g. 128,32 (the decoder mirrors them); with --conv, the last is the code size', [128, 32]),
      ...ARCHITECTURE(['encoder', 'decoder']),
      ...IMAGES,
      activation: flag(activationNames, 'hidden activation', 'relu'),
      'output-activation': flag(activationNames, 'decoder output activation', 'sigmoid'),
      optimizer: flag(OPTIMIZERS, 'optimizer', 'adam'),
      lr: flag('rate', 'learning rate', 1e-3),
      epochs: flag('positive', 'total passes over the data; with --resume, those the checkpoint trained count', 5),
      'batch-size': flag('positive', 'rows per step', 128),
      'checkpoint-every': flag('positive', 'epochs between checkpoints', 1),
      checkpoint: flag('path', 'checkpoint file (default <out>.ckpt)'),
      'png-every': flag('count', 'epochs between reconstruction grids (0 = never)', 1),
      png: flag('path', 'grid file (default <out>.png)'),
      resume: flag('path', RESUME),
      ...SEED,
      ...THREADS,
    },
  },
  'train-gan': {
    about: 'train a GAN on an IDX file or a folder of images (pixels scaled to [-1, 1])',
    flags: {
      data: flag('path', 'IDX images file or folder of images (required)'),
      labels: flag('path', 'IDX labels file, one class per image: trains a conditional GAN over classes 0..max label'),
      out: flag('path', 'model file to write', 'gan.safetensors'),
      'noise-dim': flag('positive', 'noise width', 100),
      generator: flag('sizes', 'generator hidden sizes', [256, 512]),
      discriminator: flag('sizes', 'discriminator hidden sizes', [512, 256]),
      ...ARCHITECTURE(['generator', 'discriminator']),
      ...IMAGES,
      iterations: flag('positive', 'total iterations; with --resume, those the checkpoint trained count', 2000),
      k: flag('positive', 'discriminator steps per iteration', 1),
      'batch-size': flag('positive', 'm, rows per step', 64),
      lr: flag('rate', 'learning rate of both networks', 2e-4),
      'label-smoothing': flag('fraction', 'one-sided label smoothing', 0),
      loss: flag(GAN_LOSSES, 'generator loss', 'non-saturating'),
      ema: flag('fraction', "decay of a moving average of the generator's weights that samples come from, e.g. 0.999 (0 = none)", 0),
      'checkpoint-every': flag('positive', 'iterations between checkpoints', 500),
      checkpoint: flag('path', 'checkpoint file (default <out>.ckpt)'),
      'png-every': flag('count', 'iterations between sample grids (0 = never)', 500),
      png: flag('path', 'grid file (default <out>.png)'),
      resume: flag('path', RESUME),
      ...SEED,
      ...THREADS,
    },
  },
  'train-vae': {
    about: 'train a variational autoencoder on an IDX file or a folder of images (pixels in [0, 1])',
    flags: {
      data: flag('path', 'IDX images file or folder of images (required)'),
      labels: flag('path', 'IDX labels file, one class per image: trains a conditional VAE over classes 0..max label'),
      out: flag('path', 'model file to write', 'vae.safetensors'),
      layers: flag('sizes', 'encoder hidden sizes (the decoder mirrors them)', [200, 200]),
      ...ARCHITECTURE(['encoder', 'decoder']),
      ...IMAGES,
      latent: flag('positive', 'latent dimensions', 50),
      activation: flag(activationNames, 'hidden activation', 'tanh'),
      likelihood: flag(['bernoulli', 'gaussian', 'gaussian-learned'], 'p(x|z): Bernoulli logits, a Gaussian of --variance, or one with learned variances', 'bernoulli'),
      variance: flag('rate', 'the Gaussian likelihood\'s fixed variance', 0.1),
      beta: flag('fraction-or-more', 'weight of the KL term (β-VAE; 1 = the ELBO)', 1),
      'kl-warmup': flag('count', 'steps over which the KL weight rises from 0 to β', 0),
      lr: flag('rate', 'Adam learning rate', 1e-3),
      epochs: flag('positive', 'total passes over the data; with --resume, those the checkpoint trained count', 10),
      'batch-size': flag('positive', 'rows per step', 100),
      'checkpoint-every': flag('positive', 'epochs between checkpoints', 1),
      checkpoint: flag('path', 'checkpoint file (default <out>.ckpt)'),
      'png-every': flag('count', 'epochs between grids of reconstructions and samples (0 = never)', 1),
      png: flag('path', 'grid file (default <out>.png)'),
      resume: flag('path', RESUME),
      ...SEED,
      ...THREADS,
    },
  },
  'train-ssl': {
    about: 'learn classes from a few labelled images and many unlabelled ones (Salimans et al.\'s semi-supervised GAN)',
    flags: {
      data: flag('path', 'IDX images file or folder of images (required); every image is used unlabelled, as in the paper'),
      labels: flag('path', 'IDX labels file, one entry per image, --unlabelled for images without a label (required)'),
      unlabelled: flag('count', 'the entry of the labels file that marks an unlabelled image', 255),
      out: flag('path', 'model file to write', 'ssgan.safetensors'),
      ...IMAGES,
      'noise-dim': flag('positive', 'noise width', 100),
      epochs: flag('positive', 'total passes over the images; with --resume, those the checkpoint trained count', 10),
      'batch-size': flag('positive', 'unlabelled, generated and (at most) labelled rows per step', 100),
      lr: flag('rate', 'Adam learning rate of both networks (β1 0.5)', 3e-3),
      ema: flag('fraction', "decay of a moving average of the discriminator's weights that classify reads, e.g. 0.9999 as Salimans et al.'s code (0 = none)", 0),
      'checkpoint-every': flag('positive', 'epochs between checkpoints', 1),
      checkpoint: flag('path', 'checkpoint file (default <out>.ckpt)'),
      'png-every': flag('count', 'epochs between sample grids (0 = never)', 1),
      png: flag('path', 'grid file (default <out>.png)'),
      resume: flag('path', RESUME),
      ...SEED,
      ...THREADS,
    },
  },
  sample: {
    about: 'write a PNG grid of samples of a GAN or a VAE',
    flags: {
      model: flag('path', 'GAN or VAE model file (required)'), n: flag('positive', 'samples', 64),
      label: flag('count', 'conditional models: the class of every sample (default: one class per grid row)'),
      out: flag('path', 'PNG file', 'samples.png'), ...SEED, ...THREADS,
    },
  },
  encode: {
    about: 'write the latent codes of data as CSV (a VAE\'s: the means of q(z|x))',
    flags: {
      model: flag('path', 'autoencoder or VAE model file (required)'), data: flag('path', 'IDX file or image folder (required)'),
      labels: flag('path', 'IDX labels, for a conditional VAE'), out: flag('path', 'CSV file', 'codes.csv'), ...IMAGES, ...THREADS,
    },
  },
  eval: {
    about: 'reconstruction error of an autoencoder on data',
    flags: { model: flag('path', 'autoencoder model file (required)'), data: flag('path', 'IDX file or image folder (required)'), ...IMAGES, ...THREADS },
  },
  classify: {
    about: 'print the class a semi-supervised GAN predicts for each image (and its error, given labels)',
    flags: {
      model: flag('path', 'semi-supervised GAN model file (required)'), data: flag('path', 'IDX file or image folder (required)'),
      labels: flag('path', 'IDX labels, to print the error rate'), out: flag('path', 'CSV file of one predicted class per line (default: print them)'), ...IMAGES, ...THREADS,
    },
  },
  export: {
    about: 'write one part of a model as ONNX (opset 17) for deployment',
    flags: {
      model: flag('path', 'model file (required)'),
      onnx: flag('path', 'ONNX file to write (required)'),
      part: flag(['autoencoder', 'encoder', 'decoder', 'generator', 'discriminator', 'classifier'], "which network (default: the model's whole inference path)"),
    },
  },
};

function usage(cmd) {
  if (!cmd) {
    const list = Object.entries(COMMANDS).map(([c, d]) => `  ${c.padEnd(10)} ${d.about}`).join('\n');
    return `usage: latentkit <command> [--flag value …]\n\ncommands:\n${list}\n\n'latentkit <command> --help' lists a command's flags.`;
  }
  const d = COMMANDS[cmd];
  const lines = Object.entries(d.flags).map(([name, f]) => {
    const choices = Array.isArray(f.kind) ? ` (${f.kind.join('|')})` : '';
    const fallback = f.fallback === undefined || f.kind === 'switch' ? '' : ` (default ${Array.isArray(f.fallback) ? f.fallback.join(',') : f.fallback})`;
    return `  --${name.padEnd(18)} ${f.help}${choices}${fallback}`;
  });
  return `usage: latentkit ${cmd} [flags]\n${d.about}\n\n${lines.join('\n')}\n  --${'help'.padEnd(18)} show this help`;
}

/** The flag's text as its kind's value, or a CliError naming the flag and what it needs. */
function convert(name, kind, text) {
  const bad = (what) => new CliError(`--${name} must be ${what}, got '${text}'`);
  if (Array.isArray(kind)) {
    if (!kind.includes(text)) throw bad(`one of ${kind.join(', ')}`);
    return text;
  }
  switch (kind) {
    case 'path':
      if (text === '') throw bad('a path');
      return text;
    case 'sizes': {
      const v = text.split(',').map((s) => (/^\d+$/.test(s.trim()) ? Number(s) : NaN));
      if (v.some((x) => !Number.isSafeInteger(x) || x < 1)) throw bad('positive integers separated by commas, like 128,32');
      return v;
    }
    case 'positive':
    case 'count': {
      const v = /^\s*[+-]?\d+\s*$/.test(text) ? Number(text) : NaN;
      const min = kind === 'positive' ? 1 : 0;
      if (!Number.isSafeInteger(v) || v < min) throw bad(`an integer ≥ ${min}`);
      return v;
    }
    case 'threads': {
      if (text === 'auto') return text;
      const v = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
      if (!Number.isSafeInteger(v) || v < 1 || v > 64) throw bad("'auto' or an integer from 1 to 64");
      return v;
    }
    case 'fraction-or-more': {
      const v = text.trim() === '' ? NaN : Number(text);
      if (!(Number.isFinite(v) && v >= 0)) throw bad('a number ≥ 0');
      return v;
    }
    case 'rate':
    case 'fraction': {
      const v = text.trim() === '' ? NaN : Number(text);
      if (kind === 'rate' && !(Number.isFinite(v) && v > 0)) throw bad('a number > 0');
      if (kind === 'fraction' && !(v >= 0 && v < 1)) throw bad('a number in [0, 1)');
      return v;
    }
  }
  throw new Error(`flag kind ${kind}`);
}

/** The command and its settings: every flag converted, defaults filled in, required ones present. */
function parse(argv) {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h') return { cmd: null };
  const spec = COMMANDS[cmd];
  if (!spec) throw new CliError(`unknown command '${cmd}' (try: ${Object.keys(COMMANDS).join(', ')})`);
  const options = Object.fromEntries(Object.entries(spec.flags).map(([n, f]) => [n, { type: f.kind === 'switch' ? 'boolean' : 'string' }]));
  options.help = { type: 'boolean', short: 'h' };
  let values;
  try {
    ({ values } = parseArgs({ args: rest, options, strict: true, allowPositionals: false }));
  } catch (e) {
    const quoted = /'([^']*)'/.exec(e.message)?.[1] ?? '';
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new CliError(`unknown flag ${quoted} for ${cmd} (see latentkit ${cmd} --help)`);
    if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new CliError(`unexpected argument '${quoted}' (flags look like --name value)`);
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const name = /--([\w-]+)/.exec(e.message)?.[1];
      if (name === 'help' || spec.flags[name]?.kind === 'switch') throw new CliError(`--${name} takes no value`);
      throw new CliError(`--${name} needs a value (write --${name}=VALUE for a value that starts with '-')`);
    }
    throw new CliError(e.message);
  }
  if (values.help) return { cmd, help: true };
  const settings = {};
  for (const [name, f] of Object.entries(spec.flags)) {
    settings[name] = values[name] === undefined ? f.fallback : f.kind === 'switch' ? values[name] : convert(name, f.kind, values[name]);
  }
  for (const name of ['data', 'model', 'onnx', ...(cmd === 'train-ssl' ? ['labels'] : [])]) {
    if (name in spec.flags && settings[name] === undefined) throw new CliError(`--${name} is required`);
  }
  return { cmd, settings, given: new Set(Object.keys(values)) };
}

/** A PNG grid of rows of pixels, each an image of `shape` [C, H, W]. */
function gridPng(images, shape, lo, hi, columns = Math.ceil(Math.sqrt(images.length))) {
  const [channels, height, width] = shape;
  const g = imageGrid(images.map((data) => ({ data, width, height, channels })), columns, 2, lo);
  return encodePng(imageToBytes(g, lo, hi), g.width, g.height, channels);
}

/** A grid of n samples of a GAN (values in [−1, 1]) or a VAE (in [0, 1]); a conditional model's rows are its classes unless opts.label fixes one. */
function samplePng(model, n, opts, shape) {
  const c = model.conditions;
  let columns = Math.ceil(Math.sqrt(n));
  let labels = opts.label;
  if (c > 0 && labels === undefined) {
    columns = Math.max(1, Math.ceil(n / c));
    labels = Int32Array.from({ length: n }, (_, i) => Math.floor(i / columns) % c);
  }
  if (c === 0 && labels !== undefined) throw new CliError('--label is for a conditional model; this model is unconditional');
  const vae = model instanceof VAE;
  const size = vae ? model.inputSize : model.sampleSize;
  const drawn = model.sample(n, { seed: opts.seed, ...(labels !== undefined && { labels }) });
  const data = vae ? drawn.data : drawn;
  const images = Array.from({ length: n }, (_, i) => data.subarray(i * size, (i + 1) * size));
  return gridPng(images, shape, vae ? 0 : -1, 1, columns);
}

/**
 * [C, H, W] of the images a model reads or writes: its first stack's input shape when that is an
 * image; for dense models, a square gray image, else a square colour one, else a row of pixels.
 */
/** The stack that reads the model's images: a GAN's discriminator, a semi-supervised GAN's features, an autoencoder's or VAE's encoder. */
const imageReader = (model) => (model instanceof GAN ? model.discriminator : model instanceof SemiSupervisedGAN ? model.features : model.encoder);

function imageShape(model) {
  const first = imageReader(model);
  if (first.inputShape.length === 3) return [...first.inputShape];
  const d = first.inputSize - (model.conditions ?? 0);
  const side = Math.round(Math.sqrt(d));
  if (side * side === d) return [1, side, side];
  const colourSide = Math.round(Math.sqrt(d / 3));
  if (3 * colourSide * colourSide === d) return [3, colourSide, colourSide];
  return [1, 1, d];
}

/** The data as the model reads it: a convolutional model's channels and size unless the flags say otherwise. */
function dataFor(model, s, given) {
  const [c, h, w] = imageShape(model);
  const conv = imageReader(model).inputShape.length === 3;
  const channels = given.has('channels') || !conv ? Number(s.channels) : c;
  const size = s.size ?? (conv && h === w ? h : undefined);
  return loadData(s.data, { channels, size });
}

/**
 * The two stacks of a new model: dense ones from the sizes flags (`dense()`), latentkit's default
 * convolutional ones for the image (--conv), or a file's (--architecture). Printed when not dense.
 */
function buildStacks(s, parts, image, dense, conv) {
  if (s.conv && s.architecture) throw new CliError('--conv and --architecture both choose the architecture: give one');
  let defs;
  if (s.architecture) {
    let json;
    try {
      json = JSON.parse(readFileSync(s.architecture, 'utf8'));
    } catch (e) {
      throw new CliError(`${s.architecture}: not a readable JSON architecture (${e.message})`);
    }
    for (const p of parts) if (!json?.[p]?.layers) throw new CliError(`${s.architecture}: expected { ${parts.map((q) => `"${q}": { "input": …, "layers": […] }`).join(', ')} }, "${p}" is missing or has no layers`);
    defs = parts.map((p) => json[p]);
  } else if (s.conv) {
    if (image[1] === 1) throw new CliError('--conv needs images: this data is one row of values per example');
    defs = conv();
  } else {
    return dense();
  }
  const built = stacks(defs, { seed: s.seed });
  parts.forEach((p, i) => console.log(`${p}:\n  ${built[i].summary().join('\n  ')}`));
  return built;
}

const rows = (m, from, to) => Array.from({ length: to - from }, (_, i) => m.data.subarray((from + i) * m.shape[1], (from + i + 1) * m.shape[1]));

let interrupted = false;
const controller = new AbortController();
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  controller.abort();
});

// Signals are delivered by the event loop, so long training loops yield to it regularly.
const yieldToEvents = () => new Promise((r) => setImmediate(r));

/** After Ctrl-C: write a checkpoint of the model and exit with 130. */
function exitIfInterrupted(model, ckpt) {
  if (!interrupted) return;
  writeFileAtomic(ckpt, checkpoint(model));
  console.error(`interrupted: wrote checkpoint ${ckpt} (run the same command with --resume ${ckpt} to finish)`);
  process.exit(130);
}

function resumed(path, Kind, what) {
  const model = loadFile(path);
  if (!(model instanceof Kind)) throw new CliError(`${path} is not ${what} checkpoint`);
  return model;
}

/** A training command's start: the checkpoint it resumes (of `Kind`), the images as that model or the flags read them, and their [C, H, W]. */
function trainingData(s, given, Kind, what) {
  const previous = s.resume ? resumed(s.resume, Kind, what) : null;
  const data = previous ? dataFor(previous, s, given) : loadData(s.data, { channels: Number(s.channels), size: s.size });
  return { previous, data, shape: [data.channels, data.height, data.width] };
}

async function trainAe(s, given) {
  const { previous, data, shape } = trainingData(s, given, Autoencoder, 'an autoencoder');
  const width = data.x.shape[1];
  const ckpt = s.checkpoint ?? `${s.out}.ckpt`;
  const pngPath = s.png ?? `${s.out}.png`;
  let ae;
  if (s.resume) {
    ae = previous;
    if (ae.inputSize !== width) throw new CliError(`${s.resume} takes ${ae.inputSize} values per row, the data has ${width}`);
  } else {
    const [encoder, decoder] = buildStacks(s, ['encoder', 'decoder'], shape, () => [
      mlp([width, ...s.layers], { activation: s.activation, outputActivation: 'linear', seed: s.seed }),
      mlp([...s.layers].reverse().concat(width), { activation: s.activation, outputActivation: s['output-activation'], seed: s.seed + 1 }),
    ], () => {
      const { encoder: e, decoder: d } = convAutoencoder(shape, { code: s.layers.at(-1), output: s['output-activation'] });
      return [e, d];
    });
    ae = new Autoencoder({ encoder, decoder, optimizer: { type: s.optimizer, lr: s.lr }, seed: s.seed });
  }
  console.log(`training on ${threads().count} thread${threads().count > 1 ? 's' : ''}`);
  if (ae.epochs >= s.epochs) console.log(`the checkpoint has trained ${ae.epochs} epochs, --epochs is ${s.epochs}: nothing left to train`);
  const n = data.x.shape[0];
  const bar = trainingProgress('train-ae', { total: s.epochs * n, done: Math.min(ae.epochs, s.epochs) * n, unit: 'rows' });
  const onBatch = (p) => bar.update(ae.epochs * n + p.rows, { where: `epoch ${ae.epochs + 1}/${s.epochs}`, loss: `loss ${p.runningLoss.toFixed(5)}` });
  while (ae.epochs < s.epochs && !interrupted) {
    await yieldToEvents();
    if (interrupted) break;
    ae.fit(data.x, { epochs: 1, batchSize: s['batch-size'], signal: controller.signal, onBatch });
    if (interrupted) break;
    const e = ae.epochs;
    if (e % s['checkpoint-every'] === 0) writeFileAtomic(ckpt, checkpoint(ae));
    if (s['png-every'] > 0 && e % s['png-every'] === 0) {
      const n = Math.min(32, data.x.shape[0]);
      const x = { data: data.x.data.subarray(0, n * width), shape: [n, width] };
      const r = ae.reconstruct(x);
      const pairs = rows(x, 0, n).flatMap((row, i) => [row, rows(r, i, i + 1)[0]]);
      writeFileSync(pngPath, gridPng(pairs, shape, 0, 1));
    }
  }
  bar.stop();
  exitIfInterrupted(ae, ckpt);
  writeFileAtomic(ckpt, checkpoint(ae));
  writeFileAtomic(s.out, ae);
  console.log(`wrote ${s.out} after ${ae.epochs} epochs (reconstruction MSE ${ae.reconstructionError(data.x).toFixed(5)}); checkpoint ${ckpt}`);
}

async function trainGan(s, given) {
  const { previous, data, shape } = trainingData(s, given, GAN, 'a GAN');
  const x = { data: data.x.data.map((v) => 2 * v - 1), shape: data.x.shape };
  const labels = s.labels === undefined ? null : loadLabels(s.labels, x.shape[0], s.data);
  const ckpt = s.checkpoint ?? `${s.out}.ckpt`;
  const pngPath = s.png ?? `${s.out}.png`;
  let gan;
  if (s.resume) {
    gan = previous;
    if (gan.sampleSize !== x.shape[1]) throw new CliError(`${s.resume} generates ${gan.sampleSize} values per row, the data has ${x.shape[1]}`);
    if (gan.conditions > 0 && !labels) throw new CliError(`${s.resume} is a conditional GAN over ${gan.conditions} classes: give its --labels`);
    if (gan.conditions === 0 && labels) throw new CliError(`${s.resume} is an unconditional GAN: drop --labels`);
    if (labels && labels.classes > gan.conditions) throw new CliError(`${s.labels} has classes up to ${labels.classes - 1} but ${s.resume} knows ${gan.conditions}`);
  } else {
    const leaky = { type: 'leaky-relu', alpha: 0.2 };
    const d = x.shape[1];
    const c = labels?.classes ?? 0;
    if (c > 0 && (s.conv || s.architecture)) throw new CliError('a conditional GAN (--labels) is dense: its labels join the images as extra inputs; drop --conv/--architecture or --labels');
    const [generator, discriminator] = buildStacks(s, ['generator', 'discriminator'], shape, () => [
      mlp([s['noise-dim'] + c, ...s.generator, d], { activation: leaky, outputActivation: 'tanh', seed: s.seed }),
      mlp([d + c, ...s.discriminator, 1], { activation: leaky, seed: s.seed + 1 }),
    ], () => {
      const { generator: g, discriminator: dd } = dcgan(shape, { noise: s['noise-dim'] });
      return [g, dd];
    });
    const optimizer = { type: 'adam', lr: s.lr, beta1: 0.5 };
    gan = new GAN({
      generator, discriminator, conditions: c, noise: { dim: s['noise-dim'] }, k: s.k, batchSize: s['batch-size'], generatorLoss: s.loss,
      labelSmoothing: s['label-smoothing'], optimizerD: optimizer, optimizerG: optimizer, seed: s.seed + 2,
      ...(s.ema > 0 && { ema: { decay: s.ema } }),
    });
  }
  console.log(`training ${gan.conditions ? `a conditional GAN over ${gan.conditions} classes ` : ''}on ${threads().count} thread${threads().count > 1 ? 's' : ''}`);
  if (gan.iterations >= s.iterations) console.log(`the checkpoint has trained ${gan.iterations} iterations, --iterations is ${s.iterations}: nothing left to train`);
  const bar = trainingProgress('train-gan', { total: s.iterations, done: Math.min(gan.iterations, s.iterations), unit: 'iterations' });
  const chunk = 25;
  const stepOptions = labels ? { labels: labels.labels } : {};
  while (gan.iterations < s.iterations && !interrupted) {
    // Yield to the event loop every few iterations, so Ctrl-C is seen between two of them.
    await yieldToEvents();
    for (let n = 0; n < chunk && gan.iterations < s.iterations && !interrupted; n++) {
      const st = gan.trainStep(x, stepOptions);
      const i = st.iteration;
      bar.update(i, { where: `iteration ${i}/${s.iterations}`, loss: `lossD ${st.lossD.toFixed(3)} lossG ${st.lossG.toFixed(3)} D(x) ${st.dReal.toFixed(2)} D(G(z)) ${st.dFake.toFixed(2)}` });
      if (i % s['checkpoint-every'] === 0) writeFileAtomic(ckpt, checkpoint(gan));
      if (s['png-every'] > 0 && i % s['png-every'] === 0) {
        writeFileSync(pngPath, samplePng(gan, 64, { seed: 1 }, shape));
      }
    }
  }
  bar.stop();
  exitIfInterrupted(gan, ckpt);
  writeFileAtomic(ckpt, checkpoint(gan));
  writeFileAtomic(s.out, gan);
  console.log(`wrote ${s.out} after ${gan.iterations} iterations; checkpoint ${ckpt}`);
}

async function trainVae(s, given) {
  const { previous, data, shape } = trainingData(s, given, VAE, 'a VAE');
  const x = data.x;
  const width = x.shape[1];
  const labels = s.labels === undefined ? null : loadLabels(s.labels, x.shape[0], s.data);
  const ckpt = s.checkpoint ?? `${s.out}.ckpt`;
  const pngPath = s.png ?? `${s.out}.png`;
  let vae;
  if (s.resume) {
    vae = previous;
    if (vae.inputSize !== width) throw new CliError(`${s.resume} takes ${vae.inputSize} values per row, the data has ${width}`);
    if (vae.conditions > 0 && !labels) throw new CliError(`${s.resume} is a conditional VAE over ${vae.conditions} classes: give its --labels`);
    if (vae.conditions === 0 && labels) throw new CliError(`${s.resume} is an unconditional VAE: drop --labels`);
    if (labels && labels.classes > vae.conditions) throw new CliError(`${s.labels} has classes up to ${labels.classes - 1} but ${s.resume} knows ${vae.conditions}`);
  } else {
    const c = labels?.classes ?? 0;
    const likelihood = s.likelihood === 'bernoulli' ? 'bernoulli' : { type: 'gaussian', variance: s.likelihood === 'gaussian-learned' ? 'learned' : s.variance };
    const out = s.likelihood === 'gaussian-learned' ? 2 * width : width;
    if (c > 0 && (s.conv || s.architecture)) throw new CliError('a conditional VAE (--labels) is dense: its labels join the images as extra inputs; drop --conv/--architecture or --labels');
    const [encoder, decoder] = buildStacks(s, ['encoder', 'decoder'], shape, () => [
      mlp([width + c, ...s.layers, 2 * s.latent], { activation: s.activation, outputActivation: 'linear', seed: s.seed }),
      mlp([s.latent + c, ...[...s.layers].reverse(), out], { activation: s.activation, outputActivation: 'linear', seed: s.seed + 1 }),
    ], () => {
      const { encoder: e } = convAutoencoder(shape, { code: 2 * s.latent, batchNorm: false });
      const { decoder: d } = convAutoencoder(shape, { code: s.latent, batchNorm: false, output: 'linear', outputChannels: out / (shape[1] * shape[2]) });
      return [e, d];
    });
    vae = new VAE({ encoder, decoder, likelihood, beta: s.beta, klWarmup: s['kl-warmup'], conditions: c, optimizer: { type: 'adam', lr: s.lr }, seed: s.seed + 2 });
  }
  console.log(`training ${vae.conditions ? `a conditional VAE over ${vae.conditions} classes ` : 'a VAE '}on ${threads().count} thread${threads().count > 1 ? 's' : ''}`);
  if (vae.epochs >= s.epochs) console.log(`the checkpoint has trained ${vae.epochs} epochs, --epochs is ${s.epochs}: nothing left to train`);
  const rowCount = x.shape[0];
  const bar = trainingProgress('train-vae', { total: s.epochs * rowCount, done: Math.min(vae.epochs, s.epochs) * rowCount, unit: 'rows' });
  const onBatch = (p) => bar.update(vae.epochs * rowCount + p.rows, { where: `epoch ${vae.epochs + 1}/${s.epochs}`, loss: `−ELBO ${p.runningLoss.toFixed(2)}` });
  const fitLabels = labels ? { labels: labels.labels } : {};
  while (vae.epochs < s.epochs && !interrupted) {
    await yieldToEvents();
    if (interrupted) break;
    const h = vae.fit(x, { epochs: 1, batchSize: s['batch-size'], signal: controller.signal, onBatch, ...fitLabels });
    if (interrupted) break;
    const e = vae.epochs;
    bar.update(e * rowCount, { where: `epoch ${e}/${s.epochs}`, loss: `−ELBO ${h.loss[0].toFixed(2)} (reconstruction ${h.reconstruction[0].toFixed(2)}, KL ${h.kl[0].toFixed(2)})` });
    if (e % s['checkpoint-every'] === 0) writeFileAtomic(ckpt, checkpoint(vae));
    if (s['png-every'] > 0 && e % s['png-every'] === 0) {
      const n = Math.min(32, x.shape[0]);
      const batch = { data: x.data.subarray(0, n * width), shape: [n, width] };
      const r = vae.reconstruct(batch, labels ? { labels: labels.labels.slice(0, n) } : {});
      const pairs = rows(batch, 0, n).flatMap((row, i) => [row, rows(r, i, i + 1)[0]]);
      writeFileSync(pngPath, gridPng(pairs, shape, 0, 1));
    }
  }
  bar.stop();
  exitIfInterrupted(vae, ckpt);
  writeFileAtomic(ckpt, checkpoint(vae));
  writeFileAtomic(s.out, vae);
  const n = Math.min(1000, x.shape[0]);
  const head = { data: x.data.subarray(0, n * width), shape: [n, width] };
  console.log(`wrote ${s.out} after ${vae.epochs} epochs (ELBO ${vae.elbo(head, labels ? { labels: labels.labels.slice(0, n) } : {}).toFixed(2)} nats per row on the first ${n} rows); checkpoint ${ckpt}`);
}

async function trainSsl(s, given) {
  const { previous, data, shape } = trainingData(s, given, SemiSupervisedGAN, 'a semi-supervised GAN');
  const x = data.x;
  const n = x.shape[0];
  const d = x.shape[1];
  const part = loadPartialLabels(s.labels, n, s.data, s.unlabelled);
  const labelled = { data: new Float32Array(part.labelled.length * d), shape: [part.labelled.length, d] };
  part.labelled.forEach((r, i) => labelled.data.set(x.data.subarray(r * d, (r + 1) * d), i * d));
  const ckpt = s.checkpoint ?? `${s.out}.ckpt`;
  const pngPath = s.png ?? `${s.out}.png`;
  let model;
  if (s.resume) {
    model = previous;
    if (model.features.inputSize !== d) throw new CliError(`${s.resume} takes ${model.features.inputSize} values per row, the data has ${d}`);
    if (part.classes > model.classCount) throw new CliError(`${s.labels} has classes up to ${part.classes - 1} but ${s.resume} knows ${model.classCount}`);
  } else {
    if (n < s['batch-size']) throw new CliError(`${s.data} has ${n} images, fewer than --batch-size ${s['batch-size']}`);
    const defs = semiSupervisedGan(d, { classes: part.classes, noise: s['noise-dim'] });
    const [generator, features, classes] = stacks([defs.generator, defs.features, defs.classes], { seed: s.seed });
    const optimizer = { type: 'adam', lr: s.lr, beta1: 0.5 };
    model = new SemiSupervisedGAN({ generator, features, classes, noise: { dim: s['noise-dim'] }, batchSize: s['batch-size'], optimizerD: optimizer, optimizerG: optimizer, seed: s.seed + 3, ...(s.ema > 0 && { ema: { decay: s.ema } }) });
  }
  const all = part.labelled.length === n;
  console.log(`training on ${part.labelled.length} labelled image${part.labelled.length === 1 ? '' : 's'} of ${part.classes} classes and ${n} unlabelled${all ? ' (every image is labelled: all of them serve as unlabelled too)' : ' (every image, as Salimans et al.)'}, on ${threads().count} thread${threads().count > 1 ? 's' : ''}`);
  const perEpoch = Math.max(1, Math.floor(n / model.batchSize));
  const total = s.epochs * perEpoch;
  if (model.iterations >= total) console.log(`the checkpoint has trained ${model.iterations} iterations, ${s.epochs} epochs are ${total}: nothing left to train`);
  const bar = trainingProgress('train-ssl', { total, done: Math.min(model.iterations, total), unit: 'iterations' });
  const train = { labelled, labels: part.labels, unlabelled: x };
  while (model.iterations < total && !interrupted) {
    await yieldToEvents();
    for (let k = 0; k < 25 && model.iterations < total && !interrupted; k++) {
      const st = model.trainStep(train);
      const i = st.iteration;
      bar.update(i, { where: `epoch ${Math.ceil(i / perEpoch)}/${s.epochs}`, loss: `labelled ${st.lossLabelled.toFixed(3)} unlabelled ${st.lossUnlabelled.toFixed(3)} matching ${st.lossG.toFixed(4)}` });
      if (i % perEpoch === 0) {
        const e = i / perEpoch;
        if (e % s['checkpoint-every'] === 0) writeFileAtomic(ckpt, checkpoint(model));
        if (s['png-every'] > 0 && e % s['png-every'] === 0) {
          const drawn = model.sample(64, { seed: 1 });
          writeFileSync(pngPath, gridPng(Array.from({ length: 64 }, (_, j) => drawn.subarray(j * d, (j + 1) * d)), shape, 0, 1));
        }
      }
    }
  }
  bar.stop();
  exitIfInterrupted(model, ckpt);
  writeFileAtomic(ckpt, checkpoint(model));
  writeFileAtomic(s.out, model);
  const error = model.error(labelled, part.labels);
  console.log(`wrote ${s.out} after ${model.iterations} iterations (error on the labelled images ${(100 * error).toFixed(2)}%); checkpoint ${ckpt}`);
}

function modelOf(path, Kind, what) {
  const m = loadFile(path);
  if (!(m instanceof Kind)) throw new CliError(`${path} is not ${what}`);
  return m;
}

function autoencoderAndData(s, given) {
  const ae = modelOf(s.model, Autoencoder, 'an autoencoder model');
  const { x } = dataFor(ae, s, given);
  if (x.shape[1] !== ae.inputSize) throw new CliError(`the model takes ${ae.inputSize} values per row, ${s.data} has ${x.shape[1]}`);
  return { ae, x };
}

/**
 * --fast: Node 20 compiles relaxed SIMD only behind a V8 flag. This process is the CLI's own, so it
 * turns the flag on before the fast module is compiled (a library must not, in its user's process).
 */
async function useFastTier() {
  enableRelaxedSimd();
  if ((await setPrecision('fast')) === 'fast') console.log('computing on the fast tier (fused multiply-adds)');
}

async function main() {
  const { cmd, help, settings: s, given } = parse(process.argv.slice(2));
  if (!cmd) return console.log(usage());
  if (help) return console.log(usage(cmd));
  if (s.threads !== undefined) setThreads(s.threads);
  if (s.fast) await useFastTier();
  switch (cmd) {
    case 'train-ae': return trainAe(s, given);
    case 'train-gan': return trainGan(s, given);
    case 'train-vae': return trainVae(s, given);
    case 'train-ssl': return trainSsl(s, given);
    case 'sample': {
      const model = loadFile(s.model);
      if (!(model instanceof GAN) && !(model instanceof VAE)) throw new CliError(`${s.model} is not a GAN or VAE model`);
      if (s.label !== undefined && model.conditions > 0 && s.label >= model.conditions) throw new CliError(`--label must be below ${model.conditions}, the classes of ${s.model}; got ${s.label}`);
      writeFileSync(s.out, samplePng(model, s.n, { seed: s.seed, label: s.label }, imageShape(model)));
      const what = model.conditions === 0 ? '' : s.label === undefined ? `, one class per row of ${model.conditions}` : `, all of class ${s.label}`;
      return console.log(`wrote ${s.out} (${s.n} samples${what})`);
    }
    case 'encode': {
      const model = loadFile(s.model);
      if (!(model instanceof Autoencoder) && !(model instanceof VAE)) throw new CliError(`${s.model} is not an autoencoder or VAE model`);
      const { x } = dataFor(model, s, given);
      if (x.shape[1] !== model.inputSize) throw new CliError(`the model takes ${model.inputSize} values per row, ${s.data} has ${x.shape[1]}`);
      const conditions = model instanceof VAE ? model.conditions : 0;
      if (conditions > 0 && s.labels === undefined) throw new CliError(`${s.model} is a conditional VAE over ${conditions} classes: give --labels`);
      if (conditions === 0 && s.labels !== undefined) throw new CliError('--labels is for a conditional VAE; this model is unconditional');
      const labels = s.labels === undefined ? null : loadLabels(s.labels, x.shape[0], s.data);
      const z = labels ? model.encode(x, { labels: labels.labels }) : model.encode(x);
      writeFileSync(s.out, rows(z, 0, z.shape[0]).map((r) => Array.from(r).join(',')).join('\n') + '\n');
      return console.log(`wrote ${s.out} (${z.shape[0]} codes of ${z.shape[1]} values)`);
    }
    case 'eval': {
      const { ae, x } = autoencoderAndData(s, given);
      return console.log(`reconstruction MSE ${ae.reconstructionError(x).toFixed(6)} over ${x.shape[0]} rows`);
    }
    case 'classify': {
      const model = modelOf(s.model, SemiSupervisedGAN, 'a semi-supervised GAN model');
      const { x } = dataFor(model, s, given);
      if (x.shape[1] !== model.features.inputSize) throw new CliError(`the model takes ${model.features.inputSize} values per row, ${s.data} has ${x.shape[1]}`);
      const predicted = model.classify(x);
      const text = Array.from(predicted).join('\n') + '\n';
      if (s.out) writeFileSync(s.out, text);
      else process.stdout.write(text);
      if (s.labels !== undefined) {
        const { labels } = loadLabels(s.labels, x.shape[0], s.data);
        const wrong = predicted.filter((c, i) => c !== labels[i]).length;
        console.error(`error ${(100 * wrong / predicted.length).toFixed(2)}% (${wrong} of ${predicted.length} images)`);
      }
      if (s.out) console.log(`wrote ${s.out} (${predicted.length} predicted classes)`);
      return;
    }
    case 'export': {
      const model = loadFile(s.model);
      const what = model instanceof Autoencoder ? 'autoencoder' : model instanceof GAN ? 'GAN' : model instanceof VAE ? 'VAE' : model instanceof Classifier ? 'classifier' : model instanceof SemiSupervisedGAN ? 'semi-supervised GAN' : 'stack';
      const bytes = toOnnx(model, s.part === undefined ? {} : { part: s.part });
      writeFileAtomic(s.onnx, bytes);
      return console.log(`wrote ${s.onnx} (${s.part ?? `the ${what}`} of ${s.model}, ONNX opset 17, ${bytes.length} bytes)`);
    }
  }
}

main().catch((e) => {
  if (e instanceof CliError || e instanceof LatentkitError) {
    console.error(`latentkit: ${e.message.replace(/^latentkit: /, '')}`);
    process.exit(2);
  }
  throw e;
});
