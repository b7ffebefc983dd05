// The training worker: owns the data and the model, trains in slices of ~50 ms between
// messages so pause/reset act at once, and posts a frame of charts and pictures ~5 times a second.
import { Autoencoder, GAN, PCA, Rng, VAE, addRowMeans, centerRows, checkpoint, convAutoencoder, crop, dcgan, idxImages, load, minibatches, mlp, randomPatches, readIdx, sampleRing, save, setPrecision, setThreads, stacks, threads, tilePatches, untilePatches } from 'latentkit';
import type { GrayImage } from 'latentkit';
import { decodeJpegGray } from 'latentkit/jpeg';
import { decodePngGray } from 'latentkit/png';
import type { Matrix, Stack } from 'latentkit';
import { type AeConfig, type ConvAeConfig, type DataSource, type DatasetInfo, type DcganConfig, type FromWorker, type GanConfig, GRID, type ModelMode, INTERPOLATION_STEPS, MANIFOLD, type ModelConfig, PHOTO_SIDE, type PatchesConfig, SAMPLE_SEED, STRIP, type ToWorker, type VaeConfig } from './protocol';

const SLICE_MS = 50;
const FRAME_MS = 200;
const HELD_OUT = 1000;

interface Dataset {
  info: DatasetInfo;
  /** Training rows in [0, 1] (images) or raw coordinates (points). */
  train: Matrix;
  /** The training rows' classes, when the data has them (MNIST). */
  trainLabels: Int32Array | null;
  heldOut: Matrix;
}

/** An autoencoder's minibatches: seeded shuffled passes over the training rows, one after another. */
class Passes {
  /** Passes completed. */
  epoch = 0;
  private batches: Iterator<{ x: Matrix }> | null = null;

  constructor(
    private readonly rows: Matrix,
    private readonly batchSize: number,
  ) {}

  next(): Matrix {
    for (;;) {
      this.batches ??= minibatches(this.rows, this.batchSize, { seed: this.epoch + 1 });
      const b = this.batches.next();
      if (!b.done) return b.value.x;
      this.batches = null;
      this.epoch++;
    }
  }
}

/** A model in training: `kind` says which view shows it, `mode` which settings built it. */
type Model = { loaded: string | null; stacks: Stack[]; mode: ModelMode } & (
  | { kind: 'ae'; ae: Autoencoder; batchSize: number; passes: Passes | null }
  | { kind: 'gan'; gan: GAN; real: Matrix }
  | { kind: 'vae'; vae: VAE; batchSize: number; passes: Passes | null }
  | { kind: 'patches'; ae: Autoencoder; patches: PatchExperiment; passes: Passes | null }
);

/**
 * The lecture notes' compression experiment on one photograph: random 8×8 patches (each
 * centred on its own mean, kept aside) to train on, every 8×8 tile to rebuild the photograph
 * from, and PCA with 16 components on the same training patches to compare with.
 */
class PatchExperiment {
  readonly train: Matrix;
  readonly tiles: Matrix;
  readonly tileMeans: Float32Array;
  readonly pcaRebuild: Float32Array;
  readonly pcaMse: number;

  constructor(readonly photo: GrayImage, readonly name: string, seed: number) {
    const rng = new Rng(seed);
    this.train = centerRows(randomPatches(photo, 8, 20_000, rng)).x;
    rng.dispose();
    const tiles = centerRows(tilePatches(photo, 8));
    this.tiles = tiles.x;
    this.tileMeans = tiles.rowMeans;
    const pca = PCA.fit(this.train, { components: 16 });
    this.pcaRebuild = this.rebuild(pca.inverseTransform(pca.transform(this.tiles)));
    pca.dispose();
    this.pcaMse = this.error(this.pcaRebuild);
  }

  /** The photograph from centred tiles: their means added back, the tiles put in place. */
  rebuild(centred: Matrix): Float32Array {
    return untilePatches(addRowMeans(centred, this.tileMeans), 8, this.photo.width, this.photo.height).data;
  }

  error(rebuilt: Float32Array): number {
    let s = 0;
    for (let i = 0; i < rebuilt.length; i++) s += (rebuilt[i]! - this.photo.data[i]!) ** 2;
    return s / rebuilt.length;
  }
}

/** A photograph in gray, centre-cropped to at most PHOTO_SIDE and to whole 8×8 tiles. */
async function photograph(c: PatchesConfig): Promise<{ image: GrayImage; name: string }> {
  let bytes: Uint8Array;
  let name: string;
  if (c.photo.kind === 'built-in') {
    const res = await fetch(c.photo.url);
    if (!res.ok) throw new Error(`could not fetch the built-in photograph: HTTP ${res.status}`);
    bytes = new Uint8Array(await res.arrayBuffer());
    name = 'the built-in photograph (March pastoral)';
  } else {
    bytes = c.photo.bytes;
    name = c.photo.name;
  }
  const png = bytes[0] === 0x89 && bytes[1] === 0x50;
  const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  if (!png && !jpeg) throw new Error(`${name} is not a PNG or JPEG image`);
  const full = png ? decodePngGray(bytes) : decodeJpegGray(bytes);
  const w = Math.min(PHOTO_SIDE, full.width) & ~7;
  const h = Math.min(PHOTO_SIDE, full.height) & ~7;
  if (w < 16 || h < 16) throw new Error(`${name} is ${full.width}×${full.height}; the patch experiment needs at least 16×16 pixels`);
  return { image: crop(full, (full.width - w) >> 1, (full.height - h) >> 1, w, h), name };
}

let data: Dataset | null = null;
let model: Model | null = null;
let running = false;
let stats = { n: 0, loss: 0, reconstruction: 0, kl: 0, lossD: 0, lossG: 0, dReal: 0, dFake: 0, since: performance.now() };
let lastFrame = 0;
let frameCost = 0;

const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);
const fail = (e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
const postState = () => post({ type: 'state', running, model: model?.mode ?? null, loaded: model?.loaded ?? null });

async function fetchIdx(url: string): Promise<ReturnType<typeof readIdx>> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not fetch ${url}: HTTP ${res.status}`);
  return readIdx(new Uint8Array(await res.arrayBuffer()), url);
}

async function loadData(source: DataSource): Promise<Dataset> {
  if (source.kind === 'ring') {
    const r = new Rng(7);
    const train = sampleRing(20_000, r);
    const heldOut = sampleRing(HELD_OUT, r);
    return { train, trainLabels: null, heldOut, info: { kind: 'ring', rows: 20_000, features: 2, side: 0, channels: 1, heldOut: HELD_OUT, labelled: false, pca: null, labels: new Int32Array(0), points: heldOut.data.slice() } };
  }
  let images: Matrix;
  let labels: Int32Array | null = null;
  let held: Matrix;
  let heldLabels: Int32Array;
  let side = 28;
  let channels = 1;
  if (source.kind === 'mnist') {
    const [tx, tl, vx, vl] = await Promise.all(['train-images', 'train-labels', 'test-images', 'test-labels'].map((f) => fetchIdx(new URL(`${f}.idx`, source.baseUrl).href)));
    images = idxImages(tx!, 1 / 255);
    labels = Int32Array.from(tl!.data);
    const v = idxImages(vx!, 1 / 255);
    held = { data: v.data.subarray(0, HELD_OUT * 784), shape: [HELD_OUT, 784] };
    heldLabels = Int32Array.from(vl!.data.subarray(0, HELD_OUT));
  } else {
    ({ side, channels } = source);
    const f = channels * side * side;
    images = { data: source.pixels, shape: [source.count, f] };
    // The user's few images are both what it trains on and what it shows.
    held = images;
    heldLabels = new Int32Array(source.count).fill(-1);
  }
  const features = images.shape[1];
  const pca = PCA.fit(images, { components: 2 });
  const projected = pca.transform(held).data;
  pca.dispose();
  return { train: images, trainLabels: labels, heldOut: held, info: { kind: source.kind, rows: images.shape[0], features, side, channels, heldOut: held.shape[0], labelled: labels !== null, pca: projected, labels: heldLabels, points: null } };
}

function disposeModel(): void {
  if (!model) return;
  if (model.kind === 'ae' || model.kind === 'patches') model.ae.dispose();
  else if (model.kind === 'vae') model.vae.dispose();
  else model.gan.dispose();
  model.stacks.forEach((s) => s.dispose());
  model = null;
}

async function build(config: ModelConfig): Promise<void> {
  if (config.mode === 'patches') {
    // The photograph comes with the experiment, not from the data choice.
    const { image, name } = await photograph(config);
    disposeModel();
    const encoder = mlp([64, 16], { outputActivation: 'tanh', seed: config.seed });
    const decoder = mlp([16, 64], { outputActivation: 'linear', seed: config.seed + 1 });
    const ae = new Autoencoder({ encoder, decoder, loss: 'mse', optimizer: { type: 'adam', lr: config.lr }, seed: config.seed });
    model = { kind: 'patches', mode: 'patches', ae, patches: new PatchExperiment(image, name, config.seed), passes: null, stacks: [encoder, decoder], loaded: null };
    resetStats();
    return;
  }
  if (!data) throw new Error('choose data first');
  disposeModel();
  const f = data.info.features;
  if (config.mode === 'ae') {
    if (data.info.side === 0) throw new Error('the autoencoder views are for images: choose MNIST or your own images');
    model = buildAe(config, f);
  } else if (config.mode === 'conv-ae' || config.mode === 'dcgan') {
    if (data.info.side === 0) throw new Error('convolutions are for images: choose MNIST or your own images');
    model = config.mode === 'dcgan' ? buildDcgan(config) : buildConvAe(config);
  } else if (config.mode === 'vae') {
    if (data.info.side === 0) throw new Error('the VAE views are for images: choose MNIST or your own images');
    model = buildVae(config, f);
  } else {
    model = buildGan(config, f);
  }
  resetStats();
}

/** What a GAN trains on: images in [−1, 1] to match the generator's tanh, points as they are. */
function ganRows(d: Dataset): Matrix {
  return d.info.side === 0 ? d.train : { data: d.train.data.map((v) => 2 * v - 1), shape: d.train.shape };
}

function buildAe(c: AeConfig, f: number) {
  const encoder = mlp([f, ...c.hidden, c.code], { activation: 'relu', outputActivation: 'linear', seed: c.seed });
  const decoder = mlp([c.code, ...[...c.hidden].reverse(), f], { activation: 'relu', outputActivation: 'linear', seed: c.seed + 1 });
  const ae = new Autoencoder({ encoder, decoder, loss: 'bce-with-logits', optimizer: { type: 'adam', lr: c.lr }, seed: c.seed + 2 });
  return { kind: 'ae' as const, mode: 'ae' as const, ae, stacks: [encoder, decoder], batchSize: c.batchSize, passes: null, loaded: null };
}

/** The data's images as [C, H, W]. */
const imageShape = (): number[] => [data!.info.channels, data!.info.side, data!.info.side];

/** Stacks from definitions, the ones already built disposed if a later one is refused. */
/** latentkit's convolutional autoencoder for the image size, with logits out as the dense mode's. */
function buildConvAe(c: ConvAeConfig) {
  const { encoder: e, decoder: d } = convAutoencoder(imageShape(), { code: c.code, width: c.width, output: 'linear' });
  const [encoder, decoder] = stacks([e, d], { seed: c.seed });
  const ae = new Autoencoder({ encoder: encoder!, decoder: decoder!, loss: 'bce-with-logits', optimizer: { type: 'adam', lr: c.lr }, seed: c.seed + 2 });
  return { kind: 'ae' as const, mode: 'conv-ae' as const, ae, stacks: [encoder!, decoder!], batchSize: c.batchSize, passes: null, loaded: null };
}

function buildDcgan(c: DcganConfig) {
  const { generator: g, discriminator: d } = dcgan(imageShape(), { noise: c.noiseDim, width: c.width });
  const [generator, discriminator] = stacks([g, d], { seed: c.seed });
  const optimizer = { type: 'adam', lr: c.lr, beta1: 0.5 } as const;
  const gan = new GAN({
    generator: generator!, discriminator: discriminator!, noise: { dim: c.noiseDim, distribution: 'normal' }, batchSize: Math.min(c.batchSize, data!.train.shape[0]),
    optimizerD: optimizer, optimizerG: optimizer, seed: c.seed + 2,
  });
  return { kind: 'gan' as const, mode: 'dcgan' as const, gan, stacks: [generator!, discriminator!], real: ganRows(data!), loaded: null };
}

/** Burda et al.'s recipe at the page's scale: tanh layers, q(z|x) = N(μ, σ²), Bernoulli pixels. */
function buildVae(c: VaeConfig, f: number) {
  const encoder = mlp([f, ...c.hidden, 2 * c.latent], { activation: 'tanh', outputActivation: 'linear', seed: c.seed });
  const decoder = mlp([c.latent, ...[...c.hidden].reverse(), f], { activation: 'tanh', outputActivation: 'linear', seed: c.seed + 1 });
  const vae = new VAE({ encoder, decoder, likelihood: 'bernoulli', beta: c.beta, optimizer: { type: 'adam', lr: c.lr }, seed: c.seed + 2 });
  return { kind: 'vae' as const, mode: 'vae' as const, vae, stacks: [encoder, decoder], batchSize: c.batchSize, passes: null, loaded: null };
}

function buildGan(c: GanConfig, f: number) {
  const points = data!.info.side === 0;
  if (c.conditional && !data!.trainLabels) throw new Error('a conditional GAN needs labelled data: choose MNIST');
  const conditions = c.conditional ? 10 : 0;
  const leaky = { type: 'leaky-relu', alpha: 0.2 } as const;
  const generator = mlp([c.noiseDim + conditions, ...c.generatorHidden, f], { activation: points ? 'tanh' : leaky, outputActivation: points ? 'linear' : 'tanh', seed: c.seed });
  const discriminator = mlp([f + conditions, ...c.discriminatorHidden, 1], { activation: points ? 'tanh' : leaky, outputActivation: 'linear', seed: c.seed + 1 });
  const gan = new GAN({
    generator, discriminator, conditions, noise: { dim: c.noiseDim, distribution: 'normal' }, k: c.k, batchSize: Math.min(c.batchSize, data!.train.shape[0]), generatorLoss: c.loss,
    optimizerD: { type: 'adam', lr: c.lrD, beta1: 0.5 }, optimizerG: { type: 'adam', lr: c.lrG, beta1: 0.5 }, seed: c.seed + 2,
  });
  return { kind: 'gan' as const, mode: 'gan' as const, gan, stacks: [generator, discriminator], real: ganRows(data!), loaded: null };
}

function resetStats(): void {
  stats = { n: 0, loss: 0, reconstruction: 0, kl: 0, lossD: 0, lossG: 0, dReal: 0, dFake: 0, since: performance.now() };
}

function trainSlice(): void {
  const until = performance.now() + SLICE_MS;
  if (model?.kind === 'ae') {
    const passes = (model.passes ??= new Passes(data!.train, Math.min(model.batchSize, data!.train.shape[0])));
    while (performance.now() < until) {
      stats.loss += model.ae.trainStep(passes.next());
      stats.n++;
    }
  } else if (model?.kind === 'patches') {
    const passes = (model.passes ??= new Passes(model.patches.train, 256));
    while (performance.now() < until) {
      stats.loss += model.ae.trainStep(passes.next());
      stats.n++;
    }
  } else if (model?.kind === 'vae') {
    const passes = (model.passes ??= new Passes(data!.train, Math.min(model.batchSize, data!.train.shape[0])));
    while (performance.now() < until) {
      const st = model.vae.trainStep(passes.next());
      stats.loss += st.loss; stats.reconstruction += st.reconstruction; stats.kl += st.kl; stats.n++;
    }
  } else if (model?.kind === 'gan') {
    const gan = model.gan;
    if (gan.conditions > 0 && !data!.trainLabels) throw new Error(`this GAN is conditioned on ${gan.conditions} classes: train it on MNIST, whose digits are labelled`);
    const opts = gan.conditions > 0 ? { labels: data!.trainLabels! } : {};
    while (performance.now() < until) {
      const st = gan.trainStep(model.real, opts);
      stats.lossD += st.lossD; stats.lossG += st.lossG; stats.dReal += st.dReal; stats.dFake += st.dFake; stats.n++;
    }
  }
}

function frame(): void {
  if (model?.kind === 'patches') {
    const now = performance.now();
    const p = model.patches;
    const aeRebuild = p.rebuild(model.ae.reconstruct(p.tiles));
    post({
      type: 'frame',
      frame: {
        mode: 'patches', iteration: model.ae.steps, aeMse: p.error(aeRebuild), pcaMse: p.pcaMse, width: p.photo.width, height: p.photo.height,
        photo: p.photo.data.slice(), aeRebuild, pcaRebuild: p.pcaRebuild.slice(), photoName: p.name, itPerSec: (stats.n * 1000) / Math.max(now - stats.since, 1), running,
      },
    });
    resetStats();
    lastFrame = now;
    return;
  }
  if (!model || !data) return;
  const now = performance.now();
  // No step since the last frame (just built or loaded): nothing to average.
  const n = stats.n || NaN;
  const itPerSec = (stats.n * 1000) / Math.max(now - stats.since, 1);
  if (model.kind === 'ae') {
    const ae = model.ae;
    const strip = rowsOf(data.heldOut, 0, Math.min(STRIP, data.heldOut.shape[0]));
    const recon = ae.reconstruct(strip).data;
    const codes = ae.codeSize === 2 ? ae.encode(data.heldOut).data : null;
    post({
      type: 'frame',
      frame: { mode: 'ae', iteration: ae.steps, epoch: model.passes?.epoch ?? 0, trainLoss: stats.loss / n, heldOutLoss: ae.loss(data.heldOut), inputs: strip.data.slice(), reconstructions: recon, codes, itPerSec, running },
    });
  } else if (model.kind === 'vae') {
    const vae = model.vae;
    const strip = rowsOf(data.heldOut, 0, Math.min(STRIP, data.heldOut.shape[0]));
    const twoD = vae.latentSize === 2;
    post({
      type: 'frame',
      frame: {
        mode: 'vae', iteration: vae.steps, epoch: model.passes?.epoch ?? 0, trainLoss: stats.loss / n, reconstruction: stats.reconstruction / n, kl: stats.kl / n,
        heldOutElbo: vae.elbo(data.heldOut), inputs: strip.data.slice(), reconstructions: vae.reconstruct(strip).data, samples: vae.sample(GRID, { seed: SAMPLE_SEED }).data,
        sampleCount: GRID, manifold: twoD ? vae.manifold(MANIFOLD).data : null, codes: twoD ? vae.encode(data.heldOut).data : null, itPerSec, running,
      },
    });
  } else {
    const gan = model.gan;
    const count = data.info.side === 0 ? 512 : GRID;
    const samples = gan.sample(count, { seed: SAMPLE_SEED, ...(gan.conditions > 0 && { labels: gridLabels(gan, count) }) });
    post({
      type: 'frame',
      frame: {
        mode: 'gan', iteration: gan.iterations, lossD: stats.lossD / n, lossG: stats.lossG / n, dReal: stats.dReal / n, dFake: stats.dFake / n,
        samples, sampleCount: count, interpolation: interpolate(gan), itPerSec, running,
      },
    });
  }
  resetStats();
  lastFrame = now;
}

function rowsOf(x: Matrix, start: number, n: number): Matrix {
  const f = x.shape[1];
  return { data: x.data.slice(start * f, (start + n) * f), shape: [n, f] };
}

/** A conditional GAN's grid: one class per row of 8. */
function gridLabels(gan: GAN, count: number): Int32Array {
  return Int32Array.from({ length: count }, (_, i) => Math.floor(i / 8) % gan.conditions);
}

/** Generator outputs along the straight line between two fixed noise vectors (a conditional GAN's for class 0). */
function interpolate(gan: GAN): Float32Array {
  const r = new Rng(SAMPLE_SEED + 1);
  const a = r.normalArray(gan.noiseDim);
  const b = r.normalArray(gan.noiseDim);
  r.dispose();
  const width = gan.noiseDim + gan.conditions;
  const z = new Float32Array(INTERPOLATION_STEPS * width);
  for (let s = 0; s < INTERPOLATION_STEPS; s++) {
    const t = s / (INTERPOLATION_STEPS - 1);
    for (let j = 0; j < gan.noiseDim; j++) z[s * width + j] = (1 - t) * a[j]! + t * b[j]!;
    if (gan.conditions > 0) z[s * width + gan.noiseDim] = 1;
  }
  const G = gan.generatorEma ?? gan.generator;
  return G.predict({ data: z, shape: [INTERPOLATION_STEPS, width] }).data;
}

async function loop(): Promise<void> {
  while (running) {
    try {
      trainSlice();
    } catch (e) {
      running = false;
      fail(e);
      postState();
    }
    // Frames of a large model (a convolutional one scores the held-out images) take their time:
    // at most a fifth of it goes to frames.
    if (performance.now() - lastFrame >= Math.max(FRAME_MS, 4 * frameCost) || !running) {
      const t = performance.now();
      frame();
      frameCost = performance.now() - t;
    }
    // Yield to the message queue so pause, reset and saves are handled between slices.
    await new Promise((r) => setTimeout(r, 0));
  }
}

function start(): void {
  if (running) return;
  running = true;
  resetStats();
  postState();
  void loop();
}

/** Whether a loaded model's first stack reads images of another shape than the data's. */
function imageMismatch(first: Stack, name: string): void {
  if (!data || first.inputShape.length !== 3) return;
  const want = [data.info.channels, data.info.side, data.info.side];
  if (first.inputShape.some((v, i) => v !== want[i])) throw new Error(`${name} reads images of ${first.inputShape.join('×')} but the data's are ${want.join('×')}`);
}

function adopt(bytes: Uint8Array, name: string): void {
  const m = load(bytes);
  if (m instanceof GAN) {
    if (data && m.generator.outputSize !== data.info.features) throw new Error(`${name} generates ${m.generator.outputSize} values per sample but the data has ${data.info.features}`);
    imageMismatch(m.discriminator, name);
    disposeModel();
    model = { kind: 'gan', mode: m.discriminator.inputShape.length === 3 ? 'dcgan' : 'gan', gan: m, stacks: [m.generator, m.discriminator, ...(m.generatorEma ? [m.generatorEma] : [])], real: data ? ganRows(data) : { data: new Float32Array(0), shape: [0, 0] }, loaded: name };
  } else if (m instanceof Autoencoder) {
    if (data && m.inputSize !== data.info.features) throw new Error(`${name} encodes ${m.inputSize} values per image but the data has ${data.info.features}`);
    imageMismatch(m.encoder, name);
    disposeModel();
    model = { kind: 'ae', mode: m.encoder.inputShape.length === 3 ? 'conv-ae' : 'ae', ae: m, stacks: [m.encoder, m.decoder], batchSize: 64, passes: null, loaded: name };
  } else if (m instanceof VAE) {
    if (m.conditions > 0) throw new Error(`${name} is a conditional VAE; the playground trains and shows unconditional ones`);
    if (data && m.inputSize !== data.info.features) throw new Error(`${name} encodes ${m.inputSize} values per image but the data has ${data.info.features}`);
    imageMismatch(m.encoder, name);
    disposeModel();
    model = { kind: 'vae', mode: 'vae', vae: m, stacks: [m.encoder, m.decoder], batchSize: 100, passes: null, loaded: name };
  } else {
    throw new Error(`${name} holds a ${m.constructor.name}; the playground shows autoencoders, VAEs and GANs`);
  }
  resetStats();
  frame();
}

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'data': {
      // A source that fails to load leaves the current data and model as they were.
      const next = await loadData(msg.source);
      running = false;
      disposeModel();
      data = next;
      post({ type: 'dataset', info: data.info });
      postState();
      return;
    }
    case 'start':
      running = false;
      await build(msg.config);
      frame();
      start();
      return;
    case 'pause':
      running = false;
      // A frame of the weights as they are now, so what is shown is what a download saves.
      frame();
      postState();
      return;
    case 'resume':
      if (!model) throw new Error('nothing to resume: start a model first');
      // Choosing data disposes the model, so only a model loaded before any data lacks it.
      if (!data && model.kind !== 'patches') throw new Error('choose data before training a loaded model');
      start();
      return;
    case 'reset':
      running = false;
      disposeModel();
      postState();
      return;
    case 'save': {
      if (!model) throw new Error('nothing to save: start or load a model first');
      const target = trained(model);
      const bytes = msg.what === 'model' ? save(target) : checkpoint(target);
      const kind = { ae: 'autoencoder', 'conv-ae': 'conv-autoencoder', patches: 'patch-autoencoder', vae: 'vae', gan: 'gan', dcgan: 'dcgan' }[model.mode];
      const count = model.kind === 'ae' || model.kind === 'patches' ? model.ae.steps : model.kind === 'vae' ? model.vae.steps : model.gan.iterations;
      const name = `latentkit-${kind}-${count}${msg.what === 'checkpoint' ? '.checkpoint' : ''}.safetensors`;
      post({ type: 'file', name, bytes: bytes as Uint8Array<ArrayBuffer> }, [bytes.buffer as ArrayBuffer]);
      return;
    }
    case 'load':
      running = false;
      adopt(msg.bytes, msg.name);
      postState();
      return;
    case 'threads':
      post({ type: 'threads', threads: setThreads(msg.count) });
      return;
    case 'precision': {
      // Each tier's module has a memory of its own: the model goes across as a checkpoint
      // (weights, optimizer state, RNG and data order) and trains on where it stopped.
      const wasRunning = running;
      running = false;
      const carried = model ? { bytes: checkpoint(trained(model)), was: model } : null;
      disposeModel();
      const tier = await setPrecision(msg.tier);
      if (carried) model = reattach(carried.was, load(carried.bytes));
      post({ type: 'precision', tier, asked: msg.tier });
      if (wasRunning) start();
      else postState();
      return;
    }
  }
}

/** The model object a model entry trains. */
function trained(m: Model): Autoencoder | VAE | GAN {
  return m.kind === 'ae' || m.kind === 'patches' ? m.ae : m.kind === 'vae' ? m.vae : m.gan;
}

/** `was` with its model replaced by `m`, the same model loaded into the other tier. */
function reattach(was: Model, m: ReturnType<typeof load>): Model {
  if (was.kind === 'gan' && m instanceof GAN) return { ...was, gan: m, stacks: [m.generator, m.discriminator, ...(m.generatorEma ? [m.generatorEma] : [])] };
  if (was.kind === 'vae' && m instanceof VAE) return { ...was, vae: m, stacks: [m.encoder, m.decoder] };
  if ((was.kind === 'ae' || was.kind === 'patches') && m instanceof Autoencoder) return { ...was, ae: m, stacks: [m.encoder, m.decoder] };
  throw new Error(`the ${was.kind} model came back as a ${m.constructor.name}`);
}

// Messages are handled one at a time, in order, even when one awaits a download.
let queue = Promise.resolve();
self.onmessage = (e: MessageEvent<ToWorker>) => {
  queue = queue.then(() => handle(e.data)).catch(fail);
};

// Training on every core starves the page's own thread (drawing, input) whenever anything else
// runs: leave it one core, as any app that trains in a worker should (the page can ask for all).
const cores = Math.max(1, navigator.hardwareConcurrency ?? 1);
setThreads(Math.max(1, cores - 1));
post({ type: 'ready', threads: threads().count, cores, isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true });
