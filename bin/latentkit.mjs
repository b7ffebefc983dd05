#!/usr/bin/env node
// The latentkit command line: train-ae, train-gan, sample, encode, eval.
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { Autoencoder, GAN, LatentkitError, checkpoint, encodePng, grayToBytes, idxImages, imageGrid, load, mlp, readIdx, rgbaToGray } from '../dist/index.js';
import { decodeJpegGray } from '../dist/jpeg.js';
import { loadFile, writeFileAtomic } from '../dist/node.js';

const COMMON = { seed: 'random seed (default 0)', help: 'show this help' };
const COMMANDS = {
  'train-ae': {
    about: 'train an autoencoder on an IDX file or a folder of PNG/JPEG images',
    flags: {
      data: 'IDX images file or folder of images (required)', out: 'model file to write (default autoencoder.safetensors)',
      layers: 'encoder sizes after the input, e.g. 128,32 (decoder mirrors them; default 128,32)', activation: 'hidden activation (default relu)',
      'output-activation': 'decoder output activation (default sigmoid)', optimizer: 'sgd|adam|adamw|rmsprop (default adam)', lr: 'learning rate (default 1e-3)',
      epochs: 'passes over the data (default 5)', 'batch-size': 'rows per step (default 128)', 'checkpoint-every': 'epochs between checkpoints (default 1)',
      checkpoint: 'checkpoint file (default <out>.ckpt)', 'png-every': 'epochs between reconstruction grids (default 1; 0 = never)', png: 'grid file (default <out>.png)',
      resume: 'continue from this checkpoint', ...COMMON,
    },
  },
  'train-gan': {
    about: 'train a GAN on an IDX file or a folder of images (pixels scaled to [-1, 1])',
    flags: {
      data: 'IDX images file or folder of images (required)', out: 'model file to write (default gan.safetensors)', 'noise-dim': 'noise width (default 100)',
      generator: 'generator hidden sizes (default 256,512)', discriminator: 'discriminator hidden sizes (default 512,256)', iterations: 'iterations (default 2000)',
      k: 'discriminator steps per iteration (default 1)', 'batch-size': 'm (default 64)', lr: 'learning rate of both (default 2e-4)',
      'label-smoothing': 'one-sided label smoothing (default 0)', loss: 'non-saturating|minimax (default non-saturating)',
      'checkpoint-every': 'iterations between checkpoints (default 500)', checkpoint: 'checkpoint file (default <out>.ckpt)',
      'png-every': 'iterations between sample grids (default 500; 0 = never)', png: 'grid file (default <out>.png)', resume: 'continue from this checkpoint', ...COMMON,
    },
  },
  sample: { about: 'write a PNG grid of GAN samples', flags: { model: 'GAN model file (required)', n: 'samples (default 64)', out: 'PNG file (default samples.png)', ...COMMON } },
  encode: { about: 'write the latent codes of data as CSV', flags: { model: 'autoencoder model file (required)', data: 'IDX file or image folder (required)', out: 'CSV file (default codes.csv)', help: COMMON.help } },
  eval: { about: 'reconstruction error of an autoencoder on data', flags: { model: 'autoencoder model file (required)', data: 'IDX file or image folder (required)', help: COMMON.help } },
};

class CliError extends Error {}

function usage(cmd) {
  if (!cmd) {
    return `usage: latentkit <command> [--flag value …]\n\ncommands:\n${Object.entries(COMMANDS).map(([c, d]) => `  ${c.padEnd(10)} ${d.about}`).join('\n')}\n\n'latentkit <command> --help' lists a command's flags.`;
  }
  const d = COMMANDS[cmd];
  return `usage: latentkit ${cmd} [flags]\n${d.about}\n\n${Object.entries(d.flags).map(([f, h]) => `  --${f.padEnd(18)} ${h}`).join('\n')}`;
}

function parse(argv) {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h') return { cmd: null };
  if (!COMMANDS[cmd]) throw new CliError(`unknown command '${cmd}' (try: ${Object.keys(COMMANDS).join(', ')})`);
  const flags = {};
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (!a.startsWith('--')) throw new CliError(`unexpected argument '${a}' (flags look like --name value)`);
    const name = a.slice(2);
    if (!(name in COMMANDS[cmd].flags)) throw new CliError(`unknown flag --${name} for ${cmd} (see latentkit ${cmd} --help)`);
    if (name === 'help') { flags.help = true; continue; }
    if (i + 1 >= rest.length) throw new CliError(`--${name} needs a value`);
    flags[name] = rest[++i];
  }
  return { cmd, flags };
}

const num = (flags, name, fallback, { integer = false, min = -Infinity } = {}) => {
  if (flags[name] === undefined) return fallback;
  const v = Number(flags[name]);
  if (!Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min) throw new CliError(`--${name} must be ${integer ? 'an integer' : 'a number'}${min > -Infinity ? ` ≥ ${min}` : ''}, got '${flags[name]}'`);
  return v;
};
const sizes = (flags, name, fallback) => {
  const s = flags[name] ?? fallback;
  const v = s.split(',').map(Number);
  if (v.some((x) => !Number.isInteger(x) || x < 1)) throw new CliError(`--${name} must list positive integers like 128,32, got '${s}'`);
  return v;
};
const required = (flags, name) => {
  if (flags[name] === undefined) throw new CliError(`--${name} is required`);
  return flags[name];
};

function decodePng(bytes, name) {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 8 || sig.some((b, i) => bytes[i] !== b)) throw new CliError(`${name}: not a PNG file`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 8, width = 0, height = 0, depth = 0, type = 0, interlace = 0;
  const idat = [];
  while (p + 8 <= bytes.length) {
    const len = dv.getUint32(p);
    const t = String.fromCharCode(...bytes.subarray(p + 4, p + 8));
    if (p + 12 + len > bytes.length) throw new CliError(`${name}: truncated PNG chunk ${t}`);
    const body = bytes.subarray(p + 8, p + 8 + len);
    if (t === 'IHDR') { width = dv.getUint32(p + 8); height = dv.getUint32(p + 12); depth = body[8]; type = body[9]; interlace = body[12]; }
    if (t === 'IDAT') idat.push(body);
    if (t === 'IEND') break;
    p += 12 + len;
  }
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[type];
  if (depth !== 8 || !channels || interlace !== 0) throw new CliError(`${name}: only 8-bit non-interlaced gray/RGB/RGBA PNGs are supported`);
  let raw;
  try { raw = inflateSync(Buffer.concat(idat)); } catch { throw new CliError(`${name}: corrupt PNG data`); }
  const stride = width * channels;
  if (raw.length < height * (stride + 1)) throw new CliError(`${name}: truncated PNG data`);
  const px = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x];
      const a = x >= channels ? px[y * stride + x - channels] : 0;
      const b = y > 0 ? px[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? px[(y - 1) * stride + x - channels] : 0;
      const pr = () => { const pp = a + b - c; const pa = Math.abs(pp - a), pb = Math.abs(pp - b), pc = Math.abs(pp - c); return pa <= pb && pa <= pc ? a : pb <= pc ? b : c; };
      px[y * stride + x] = (v + [0, a, b, (a + b) >> 1, 0][f] + (f === 4 ? pr() : 0)) & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const s = px.subarray(i * channels, i * channels + channels);
    const [r, g, b] = channels >= 3 ? [s[0], s[1], s[2]] : [s[0], s[0], s[0]];
    rgba.set([r, g, b, 255], i * 4);
  }
  return rgbaToGray(rgba, width, height);
}

/** Rows of pixels in [0, 1] from an IDX file or a folder of PNG/JPEG images of one size. */
function loadData(path) {
  if (!existsSync(path)) throw new CliError(`${path}: no such file or folder`);
  if (statSync(path).isDirectory()) {
    const files = readdirSync(path).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();
    if (files.length === 0) throw new CliError(`${path}: no .png, .jpg or .jpeg images in this folder`);
    let size = null;
    const images = files.map((f) => {
      const bytes = readFileSync(join(path, f));
      let img;
      try {
        img = extname(f).toLowerCase() === '.png' ? decodePng(bytes, f) : decodeJpegGray(bytes);
      } catch (e) {
        throw new CliError(`${join(path, f)}: unreadable image (${e.message.replace(/^latentkit: /, '')})`);
      }
      if (size && (img.width !== size[0] || img.height !== size[1])) throw new CliError(`${join(path, f)} is ${img.width}×${img.height} but ${files[0]} is ${size[0]}×${size[1]}: all images must share one size`);
      size = [img.width, img.height];
      return img;
    });
    const d = size[0] * size[1];
    const data = new Float32Array(images.length * d);
    images.forEach((im, i) => data.set(im.data, i * d));
    return { x: { data, shape: [images.length, d] }, width: size[0], height: size[1] };
  }
  const t = readIdx(readFileSync(path), path);
  const x = idxImages(t);
  const [w, h] = t.shape.length >= 3 ? [t.shape[2], t.shape[1]] : [x.shape[1], 1];
  return { x, width: w, height: h };
}

function progress(label, total) {
  const t0 = performance.now();
  const tty = process.stderr.isTTY;
  let lastLine = 0;
  return (done, extra) => {
    const elapsed = (performance.now() - t0) / 1000;
    const rate = done / Math.max(elapsed, 1e-9);
    const eta = (total - done) / Math.max(rate, 1e-9);
    if (tty) {
      const bar = '#'.repeat(Math.round((30 * done) / total)).padEnd(30, '.');
      process.stderr.write(`\r${label} [${bar}] ${done}/${total} ${rate.toFixed(1)}/s ETA ${eta.toFixed(0)}s ${extra}   `);
      if (done === total) process.stderr.write('\n');
    } else if (done === total || performance.now() - lastLine > 2000) {
      lastLine = performance.now();
      console.log(`${label} ${done}/${total} (${rate.toFixed(1)}/s, ETA ${eta.toFixed(0)} s) ${extra}`);
    }
  };
}

function grid(images, width, height, lo, hi) {
  const ims = images.map((data) => ({ data, width, height }));
  const g = imageGrid(ims, Math.ceil(Math.sqrt(ims.length)), 2, lo);
  return encodePng(grayToBytes(g, lo, hi), g.width, g.height, 1);
}

let interrupted = false;
const controller = new AbortController();
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  controller.abort();
});

// Signals are delivered by the event loop, so long training loops yield to it regularly.
const yieldToEvents = () => new Promise((r) => setImmediate(r));

async function trainAe(f) {
  const data = loadData(required(f, 'data'));
  const out = f.out ?? 'autoencoder.safetensors';
  const ckpt = f.checkpoint ?? `${out}.ckpt`;
  const pngPath = f.png ?? `${out}.png`;
  const epochs = num(f, 'epochs', 5, { integer: true, min: 1 });
  const every = num(f, 'checkpoint-every', 1, { integer: true, min: 1 });
  const pngEvery = num(f, 'png-every', 1, { integer: true, min: 0 });
  let ae;
  if (f.resume) {
    ae = loadFile(f.resume);
    if (!(ae instanceof Autoencoder)) throw new CliError(`${f.resume} is not an autoencoder checkpoint`);
    if (ae.inputSize !== data.x.shape[1]) throw new CliError(`${f.resume} takes ${ae.inputSize} values per row, the data has ${data.x.shape[1]}`);
  } else {
    const hidden = sizes(f, 'layers', '128,32');
    const seed = num(f, 'seed', 0, { integer: true, min: 0 });
    const act = f.activation ?? 'relu';
    const encoder = mlp([data.x.shape[1], ...hidden], { activation: act, outputActivation: 'linear', seed });
    const decoder = mlp([...hidden].reverse().concat(data.x.shape[1]), { activation: act, outputActivation: f['output-activation'] ?? 'sigmoid', seed: seed + 1 });
    ae = new Autoencoder({ encoder, decoder, optimizer: { type: f.optimizer ?? 'adam', lr: num(f, 'lr', 1e-3, { min: 0 }) }, seed });
  }
  const bar = progress('train-ae epoch', epochs);
  for (let e = 0; e < epochs && !interrupted; e++) {
    await yieldToEvents();
    if (interrupted) break;
    const h = ae.fit(data.x, { epochs: 1, batchSize: num(f, 'batch-size', 128, { integer: true, min: 1 }), signal: controller.signal });
    bar(e + 1, `loss ${h.loss.at(-1)?.toFixed(5) ?? '—'}`);
    if ((e + 1) % every === 0) writeFileAtomic(ckpt, checkpoint(ae));
    if (pngEvery > 0 && (e + 1) % pngEvery === 0) {
      const n = Math.min(32, data.x.shape[0]);
      const x = { data: data.x.data.subarray(0, n * data.x.shape[1]), shape: [n, data.x.shape[1]] };
      const r = ae.reconstruct(x);
      const rows = [];
      for (let i = 0; i < n; i++) rows.push(x.data.subarray(i * x.shape[1], (i + 1) * x.shape[1]), r.data.subarray(i * x.shape[1], (i + 1) * x.shape[1]));
      writeFileSync(pngPath, grid(rows, data.width, data.height, 0, 1));
    }
  }
  exitIfInterrupted(ae, ckpt);
  writeFileAtomic(out, ae);
  console.log(`wrote ${out} (reconstruction MSE ${ae.reconstructionError(data.x).toFixed(5)}); checkpoint ${ckpt}`);
}

/** After Ctrl-C: write a checkpoint of the model and exit with 130. */
function exitIfInterrupted(model, ckpt) {
  if (!interrupted) return;
  writeFileAtomic(ckpt, checkpoint(model));
  console.error(`interrupted: wrote checkpoint ${ckpt} (resume with --resume ${ckpt})`);
  process.exit(130);
}

async function trainGan(f) {
  const data = loadData(required(f, 'data'));
  const x = { data: data.x.data.map((v) => 2 * v - 1), shape: data.x.shape };
  const out = f.out ?? 'gan.safetensors';
  const ckpt = f.checkpoint ?? `${out}.ckpt`;
  const pngPath = f.png ?? `${out}.png`;
  const iterations = num(f, 'iterations', 2000, { integer: true, min: 1 });
  const every = num(f, 'checkpoint-every', 500, { integer: true, min: 1 });
  const pngEvery = num(f, 'png-every', 500, { integer: true, min: 0 });
  let gan;
  if (f.resume) {
    gan = loadFile(f.resume);
    if (!(gan instanceof GAN)) throw new CliError(`${f.resume} is not a GAN checkpoint`);
  } else {
    const seed = num(f, 'seed', 0, { integer: true, min: 0 });
    const z = num(f, 'noise-dim', 100, { integer: true, min: 1 });
    const leaky = { type: 'leaky-relu', alpha: 0.2 };
    const d = x.shape[1];
    const generator = mlp([z, ...sizes(f, 'generator', '256,512'), d], { activation: leaky, outputActivation: 'tanh', seed });
    const discriminator = mlp([d, ...sizes(f, 'discriminator', '512,256'), 1], { activation: leaky, seed: seed + 1 });
    const lr = num(f, 'lr', 2e-4, { min: 0 });
    const loss = f.loss ?? 'non-saturating';
    if (loss !== 'non-saturating' && loss !== 'minimax') throw new CliError(`--loss must be non-saturating or minimax, got '${loss}'`);
    gan = new GAN({
      generator, discriminator, noise: { dim: z }, k: num(f, 'k', 1, { integer: true, min: 1 }), batchSize: num(f, 'batch-size', 64, { integer: true, min: 1 }),
      generatorLoss: loss, labelSmoothing: num(f, 'label-smoothing', 0, { min: 0 }), optimizerD: { type: 'adam', lr, beta1: 0.5 }, optimizerG: { type: 'adam', lr, beta1: 0.5 }, seed: seed + 2,
    });
  }
  const start = gan.iterations;
  const bar = progress('train-gan iteration', iterations);
  const chunk = 25;
  for (let doneIts = 0; doneIts < iterations && !interrupted; doneIts += chunk) {
  await yieldToEvents();
  if (interrupted) break;
  gan.fit(x, {
    iterations: Math.min(chunk, iterations - doneIts), signal: controller.signal,
    onStep: (s) => {
      const i = s.iteration - start;
      if (i % 10 === 0 || i === iterations) bar(i, `lossD ${s.lossD.toFixed(3)} lossG ${s.lossG.toFixed(3)} D(x) ${s.dReal.toFixed(2)} D(G(z)) ${s.dFake.toFixed(2)}`);
      if (i % every === 0) writeFileAtomic(ckpt, checkpoint(gan));
      if (pngEvery > 0 && i % pngEvery === 0) {
        const s2 = gan.sample(64, { seed: 1 });
        writeFileSync(pngPath, grid(Array.from({ length: 64 }, (_, j) => s2.subarray(j * x.shape[1], (j + 1) * x.shape[1])), data.width, data.height, -1, 1));
      }
    },
  });
  }
  exitIfInterrupted(gan, ckpt);
  writeFileAtomic(out, gan);
  console.log(`wrote ${out} after ${gan.iterations} iterations; checkpoint ${ckpt}`);
}

function modelOf(f, Kind, what) {
  const m = loadFile(required(f, 'model'));
  if (!(m instanceof Kind)) throw new CliError(`${f.model} is not ${what}`);
  return m;
}

async function main() {
  const { cmd, flags } = parse(process.argv.slice(2));
  if (!cmd) return console.log(usage());
  if (flags.help) return console.log(usage(cmd));
  switch (cmd) {
    case 'train-ae': return trainAe(flags);
    case 'train-gan': return trainGan(flags);
    case 'sample': {
      const gan = modelOf(flags, GAN, 'a GAN model');
      const n = num(flags, 'n', 64, { integer: true, min: 1 });
      const d = gan.generator.outputSize;
      const side = Math.round(Math.sqrt(d));
      const s = gan.sample(n, { seed: num(flags, 'seed', 0, { integer: true, min: 0 }) });
      const [w, h] = side * side === d ? [side, side] : [d, 1];
      writeFileSync(flags.out ?? 'samples.png', grid(Array.from({ length: n }, (_, j) => s.subarray(j * d, (j + 1) * d)), w, h, -1, 1));
      return console.log(`wrote ${flags.out ?? 'samples.png'} (${n} samples)`);
    }
    case 'encode': {
      const ae = modelOf(flags, Autoencoder, 'an autoencoder model');
      const { x } = loadData(required(flags, 'data'));
      if (x.shape[1] !== ae.inputSize) throw new CliError(`the model takes ${ae.inputSize} values per row, ${flags.data} has ${x.shape[1]}`);
      const z = ae.encode(x);
      const lines = [];
      for (let i = 0; i < z.shape[0]; i++) lines.push(Array.from(z.data.subarray(i * z.shape[1], (i + 1) * z.shape[1])).join(','));
      writeFileSync(flags.out ?? 'codes.csv', lines.join('\n') + '\n');
      return console.log(`wrote ${flags.out ?? 'codes.csv'} (${z.shape[0]} codes of ${z.shape[1]} values)`);
    }
    case 'eval': {
      const ae = modelOf(flags, Autoencoder, 'an autoencoder model');
      const { x } = loadData(required(flags, 'data'));
      if (x.shape[1] !== ae.inputSize) throw new CliError(`the model takes ${ae.inputSize} values per row, ${flags.data} has ${x.shape[1]}`);
      return console.log(`reconstruction MSE ${ae.reconstructionError(x).toFixed(6)} over ${x.shape[0]} rows`);
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
