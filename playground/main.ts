// The page: settings, charts and pictures. All training happens in worker.ts, so this thread
// only draws what the worker's frames carry.
import { type ScatterChart, lineChart, scatterChart } from './charts';
import { drawImages, drawPhoto } from './pictures';
import { type AeConfig, BUILT_IN_PHOTO, type ConvAeConfig, type DatasetInfo, type DcganConfig, type Frame, type FromWorker, type GanConfig, INTERPOLATION_STEPS, MANIFOLD, type ModelConfig, type ModelMode, type PatchesConfig, type ToWorker, type VaeConfig, VIEW_OF } from './protocol';
import { decodeImages, droppedFiles } from './user-images';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (m: ToWorker, transfer: Transferable[] = []) => worker.postMessage(m, transfer);

/** What the page shows, readable from the console (and by the browser tests). */
const state = {
  ready: false,
  threads: 0,
  cores: 0,
  tier: 'exact' as 'exact' | 'fast',
  dataset: null as DatasetInfo | null,
  running: false,
  model: null as ModelMode | null,
  frames: 0,
  last: null as Frame | null,
  firstHeldOutLoss: NaN,
  firstHeldOutElbo: NaN,
  /** Points on each live chart. */
  chartPoints: { aeLoss: 0, ganLoss: 0, ganD: 0, vaeElbo: 0, patchMse: 0 },
  message: '',
};
(globalThis as unknown as { playground: typeof state }).playground = state;

// --- charts -------------------------------------------------------------------------------
const aeLoss = lineChart($('ae-loss'), 'reconstruction loss (cross-entropy per pixel)', ['train', 'held-out'], ['#4e79a7', '#e15759'], 'loss');
const ganLoss = lineChart($('gan-loss'), 'losses', ['discriminator', 'generator'], ['#4e79a7', '#e15759'], 'loss');
const ganD = lineChart($('gan-d'), 'discriminator outputs', ['mean D(x)', 'mean D(G(z))'], ['#59a14f', '#f28e2b'], 'probability');
const vaeElbo = lineChart($('vae-elbo'), 'the ELBO and its two terms (nats per image)', ['held-out ELBO', '−reconstruction (train)', '−KL (train)'], ['#4e79a7', '#59a14f', '#e15759'], 'nats');
const patchMse = lineChart($('patch-mse'), 'error of the rebuilt photograph (mean squared, per pixel)', ['autoencoder 64-16-64', 'PCA, 16 components'], ['#e15759', '#4e79a7'], 'MSE');
let aeScatter: ScatterChart | null = null;
let vaeScatter: ScatterChart | null = null;
let pcaScatter: ScatterChart | null = null;
let ringScatter: ScatterChart | null = null;

function scatters(info: DatasetInfo): void {
  for (const id of ['ae-scatter', 'pca-scatter', 'ring-scatter', 'vae-scatter']) $(id).replaceChildren();
  const classes = info.labelled ? 10 : 0;
  const legend = (c: number) => `digit ${c}`;
  aeScatter = scatterChart($('ae-scatter'), 'autoencoder: 2-D codes of held-out images', { classes, legend });
  pcaScatter = scatterChart($('pca-scatter'), 'PCA: the same images projected to 2-D', { classes, legend });
  vaeScatter = scatterChart($('vae-scatter'), 'VAE: held-out images at their posterior means', { classes, legend });
  if (info.pca) pcaScatter.set(info.pca, info.labels);
  ringScatter = info.kind === 'ring' ? scatterChart($('ring-scatter'), 'generated samples over the 8 real modes', { classes: 1, legend: () => 'generated', background: '#c8c8c8', range: [-3.5, 3.5] }) : null;
  ringScatter?.setBackground(info.points);
  $('gan-grid-figure').hidden = info.kind === 'ring';
  $('gan-interp-figure').hidden = info.kind === 'ring';
}

// --- settings -------------------------------------------------------------------------------
const mode = () => (document.querySelector<HTMLInputElement>('input[name=mode]:checked')!.value as ModelMode);
const sizes = (v: string, what: string) => {
  const parts = v.split(/[\s,]+/).filter(Boolean).map(Number);
  if (parts.some((n) => !Number.isInteger(n) || n < 1 || n > 4096)) throw new Error(`${what} must be whole numbers from 1 to 4096 separated by commas, got "${v}"`);
  return parts;
};
const num = (form: HTMLFormElement, name: string, what: string, integer: boolean) => {
  const v = Number((form.elements.namedItem(name) as HTMLInputElement).value);
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) throw new Error(`${what} must be a positive ${integer ? 'integer' : 'number'}`);
  return v;
};
/** The patch experiment's photograph: the built-in one, or the file the user chose. */
let userPhoto: { name: string; bytes: Uint8Array } | null = null;

function config(): ModelConfig {
  if (mode() === 'patches') {
    const f = $<HTMLFormElement>('patches-settings');
    const own = (f.elements.namedItem('photo') as RadioNodeList).value === 'file';
    if (own && !userPhoto) throw new Error('choose a PNG or JPEG photograph first, or use the built-in one');
    const c: PatchesConfig = {
      mode: 'patches', photo: own ? { kind: 'file', name: userPhoto!.name, bytes: userPhoto!.bytes.slice() } : { kind: 'built-in', url: new URL(BUILT_IN_PHOTO, document.baseURI).href },
      lr: num(f, 'lr', 'learning rate', false), seed: Number((f.elements.namedItem('seed') as HTMLInputElement).value) | 0,
    };
    return c;
  }
  if (mode() === 'ae') {
    const f = $<HTMLFormElement>('ae-settings');
    const c: AeConfig = {
      mode: 'ae', hidden: sizes((f.elements.namedItem('hidden') as HTMLInputElement).value, 'encoder hidden sizes'),
      code: num(f, 'code', 'code width', true), lr: num(f, 'lr', 'learning rate', false), batchSize: num(f, 'batchSize', 'batch size', true),
      seed: Number((f.elements.namedItem('seed') as HTMLInputElement).value) | 0,
    };
    return c;
  }
  if (mode() === 'conv-ae') {
    const f = $<HTMLFormElement>('conv-ae-settings');
    const c: ConvAeConfig = {
      mode: 'conv-ae', code: num(f, 'code', 'code width', true), width: num(f, 'width', 'channels of the first convolution', true),
      lr: num(f, 'lr', 'learning rate', false), batchSize: num(f, 'batchSize', 'batch size', true), seed: Number((f.elements.namedItem('seed') as HTMLInputElement).value) | 0,
    };
    return c;
  }
  if (mode() === 'dcgan') {
    const f = $<HTMLFormElement>('dcgan-settings');
    const c: DcganConfig = {
      mode: 'dcgan', noiseDim: num(f, 'noiseDim', 'noise dim', true), width: num(f, 'width', 'channels of the first convolution', true),
      lr: num(f, 'lr', 'learning rate', false), batchSize: num(f, 'batchSize', 'm', true), seed: Number((f.elements.namedItem('seed') as HTMLInputElement).value) | 0,
    };
    return c;
  }
  if (mode() === 'vae') {
    const f = $<HTMLFormElement>('vae-settings');
    const beta = Number((f.elements.namedItem('beta') as HTMLInputElement).value);
    if (!Number.isFinite(beta) || beta < 0) throw new Error('β must be a number ≥ 0');
    const c: VaeConfig = {
      mode: 'vae', hidden: sizes((f.elements.namedItem('hidden') as HTMLInputElement).value, 'hidden sizes'),
      latent: num(f, 'latent', 'latent dimensions', true), beta, lr: num(f, 'lr', 'learning rate', false), batchSize: num(f, 'batchSize', 'batch size', true),
      seed: Number((f.elements.namedItem('seed') as HTMLInputElement).value) | 0,
    };
    return c;
  }
  const f = $<HTMLFormElement>('gan-settings');
  const c: GanConfig = {
    mode: 'gan',
    generatorHidden: sizes((f.elements.namedItem('generatorHidden') as HTMLInputElement).value, 'generator hidden sizes'),
    discriminatorHidden: sizes((f.elements.namedItem('discriminatorHidden') as HTMLInputElement).value, 'discriminator hidden sizes'),
    noiseDim: num(f, 'noiseDim', 'noise dim', true), k: num(f, 'k', 'k', true), batchSize: num(f, 'batchSize', 'm', true),
    loss: (f.elements.namedItem('loss') as HTMLSelectElement).value as GanConfig['loss'],
    lrG: num(f, 'lrG', 'generator lr', false), lrD: num(f, 'lrD', 'discriminator lr', false),
    seed: Number((f.elements.namedItem('seed') as HTMLInputElement).value) | 0,
    conditional: (f.elements.namedItem('conditional') as HTMLInputElement).checked,
  };
  return c;
}

function showMode(): void {
  const m = mode();
  for (const each of Object.keys(VIEW_OF) as ModelMode[]) $(`${each}-settings`).hidden = m !== each;
  for (const view of new Set(Object.values(VIEW_OF))) $(`${view}-view`).hidden = VIEW_OF[m] !== view;
}

function say(message: string): void {
  state.message = message;
  $('message').textContent = message;
}

function buttons(): void {
  $<HTMLButtonElement>('start').disabled = !state.dataset;
  $<HTMLButtonElement>('pause').disabled = !state.model;
  $('pause').textContent = state.running ? 'Pause' : 'Resume';
  $<HTMLButtonElement>('reset').disabled = !state.model;
  $<HTMLButtonElement>('download-model').disabled = !state.model;
  $<HTMLButtonElement>('download-checkpoint').disabled = !state.model;
}

// --- data -------------------------------------------------------------------------------
function chooseData(kind: string): void {
  say('');
  if (kind === 'mnist') send({ type: 'data', source: { kind: 'mnist', baseUrl: new URL('mnist/', document.baseURI).href } });
  else if (kind === 'ring') send({ type: 'data', source: { kind: 'ring' } });
  else say('drop PNG or JPEG images on the box, or choose files or a folder');
}

/** The user's last files, decoded again when the size or colour choice changes. */
let userFiles: File[] = [];

async function useFiles(files: File[]): Promise<void> {
  if (!files.length) return;
  userFiles = files;
  const side = Number($<HTMLSelectElement>('image-size').value);
  const channels = $<HTMLInputElement>('image-colour').checked ? 3 : 1;
  const { pixels, names, rejected } = await decodeImages(files, side, channels);
  const problems = rejected.length ? `${rejected.join('; ')}.` : '';
  if (!names.length) {
    // Nothing usable: keep the current data and model as they are.
    say(`${problems} Nothing was changed: the current data and model are kept.`);
    return;
  }
  document.querySelector<HTMLInputElement>('input[name=data][value=images]')!.checked = true;
  say(problems ? `${problems} Using the other ${names.length}.` : '');
  send({ type: 'data', source: { kind: 'images', pixels, count: names.length, side, channels, names } }, [pixels.buffer]);
}

// --- frames -------------------------------------------------------------------------------
function draw(f: Frame): void {
  state.frames++;
  state.last = f;
  const info = state.dataset;
  const side = info?.side || 28;
  const channels = info?.channels ?? 1;
  const speed = f.running && f.itPerSec > 0 ? ` · ${f.itPerSec.toFixed(0)} iterations/s on ${state.threads} thread${state.threads === 1 ? '' : 's'}` : '';
  $('status').textContent = `${f.running ? 'training' : 'paused'} · iteration ${f.iteration.toLocaleString('en')}${f.mode === 'ae' || f.mode === 'vae' ? ` · epoch ${f.epoch}` : ''}${speed}`;
  if (f.mode === 'ae') {
    if (Number.isNaN(state.firstHeldOutLoss)) state.firstHeldOutLoss = f.heldOutLoss;
    aeLoss.push(f.iteration, [f.trainLoss, f.heldOutLoss]);
    const n = f.inputs.length / (channels * side * side);
    const both = new Float32Array(2 * f.inputs.length);
    both.set(f.inputs);
    both.set(f.reconstructions, f.inputs.length);
    drawImages($('ae-strip'), both, 2 * n, side, Math.max(n, 1), 0, 1, channels);
    $('ae-scatter-note').hidden = !!f.codes;
    if (f.codes && info) aeScatter?.set(f.codes, info.labels);
  } else if (f.mode === 'patches') {
    patchMse.push(f.iteration, [f.aeMse, f.pcaMse]);
    drawPhoto($('patch-photo'), f.photo, f.width, f.height);
    drawPhoto($('patch-ae'), f.aeRebuild, f.width, f.height);
    drawPhoto($('patch-pca'), f.pcaRebuild, f.width, f.height);
    $('patch-photo-caption').textContent = `${f.photoName}, ${f.width} × ${f.height}: ${(f.width * f.height) / 64} tiles of 8 × 8`;
    $('patch-ae-caption').textContent = `rebuilt from 16 autoencoder numbers per tile: MSE ${f.aeMse.toExponential(3)}`;
    $('patch-pca-caption').textContent = `rebuilt from 16 PCA numbers per tile: MSE ${f.pcaMse.toExponential(3)}`;
  } else if (f.mode === 'vae') {
    if (Number.isNaN(state.firstHeldOutElbo)) state.firstHeldOutElbo = f.heldOutElbo;
    vaeElbo.push(f.iteration, [f.heldOutElbo, -f.reconstruction, -f.kl]);
    const n = f.inputs.length / (channels * side * side);
    const both = new Float32Array(2 * f.inputs.length);
    both.set(f.inputs);
    both.set(f.reconstructions, f.inputs.length);
    drawImages($('vae-strip'), both, 2 * n, side, Math.max(n, 1), 0, 1, channels);
    drawImages($('vae-samples'), f.samples, f.sampleCount, side, 8, 0, 1, channels);
    $('vae-manifold-figure').hidden = !f.manifold;
    $('vae-scatter').hidden = !f.codes;
    $('vae-2d-note').hidden = !!f.manifold;
    if (f.manifold) drawImages($('vae-manifold'), f.manifold, MANIFOLD * MANIFOLD, side, MANIFOLD, 0, 1, channels);
    if (f.codes && info) vaeScatter?.set(f.codes, info.labels);
  } else {
    ganLoss.push(f.iteration, [f.lossD, f.lossG]);
    ganD.push(f.iteration, [f.dReal, f.dFake]);
    if (info?.side) {
      drawImages($('gan-grid'), f.samples, f.sampleCount, info.side, 8, -1, 1, channels);
      drawImages($('gan-interp'), f.interpolation, INTERPOLATION_STEPS, info.side, INTERPOLATION_STEPS, -1, 1, channels);
    } else {
      ringScatter?.set(f.samples, new Int32Array(f.sampleCount));
    }
  }
  countPoints();
}

function countPoints(): void {
  state.chartPoints = { aeLoss: aeLoss.points, ganLoss: ganLoss.points, ganD: ganD.points, vaeElbo: vaeElbo.points, patchMse: patchMse.points };
}

function clearCharts(): void {
  aeLoss.clear();
  ganLoss.clear();
  ganD.clear();
  vaeElbo.clear();
  patchMse.clear();
  state.firstHeldOutLoss = NaN;
  state.firstHeldOutElbo = NaN;
  state.frames = 0;
  state.last = null;
  countPoints();
}

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  switch (m.type) {
    case 'ready':
      state.ready = true;
      state.cores = m.cores;
      showThreads(m.threads);
      $('runtime').textContent = `${m.threads} thread${m.threads === 1 ? '' : 's'}${m.isolated ? '' : ' (this page is not cross-origin isolated, so training uses one thread)'}`;
      $<HTMLInputElement>('threads').disabled = !m.isolated;
      chooseData('mnist');
      break;
    case 'threads':
      showThreads(m.threads);
      $('runtime').textContent = `${m.threads} thread${m.threads === 1 ? '' : 's'}, ${state.tier} tier`;
      break;
    case 'precision':
      state.tier = m.tier;
      $<HTMLInputElement>('fast').checked = m.tier === 'fast';
      $('runtime').textContent = `${state.threads} thread${state.threads === 1 ? '' : 's'}, ${m.tier} tier${m.asked === 'fast' && m.tier !== 'fast' ? ' (this browser has no WebAssembly relaxed SIMD, so it stays exact)' : ''}`;
      break;
    case 'dataset':
      state.dataset = m.info;
      state.model = null;
      clearCharts();
      scatters(m.info);
      $('dataset').textContent = `${m.info.kind === 'images' ? 'your images' : m.info.kind === 'ring' ? '8-Gaussian ring' : 'MNIST'}: ${m.info.rows.toLocaleString('en')} training rows of ${m.info.side ? `${m.info.channels === 3 ? 'colour' : 'gray'} ${m.info.side} × ${m.info.side} images, ` : ''}${m.info.features} values, ${m.info.heldOut.toLocaleString('en')} held out`;
      break;
    case 'state':
      state.running = m.running;
      state.model = m.model;
      if (m.loaded && m.model) {
        // Show the view of what was loaded.
        document.querySelector<HTMLInputElement>(`input[name=mode][value=${m.model}]`)!.checked = true;
        showMode();
        $('status').textContent = `loaded ${m.loaded}`;
      }
      break;
    case 'frame':
      draw(m.frame);
      break;
    case 'file': {
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([m.bytes], { type: 'application/octet-stream' }));
      a.download = m.name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
      break;
    }
    case 'error':
      say(m.message);
      break;
  }
  buttons();
};
worker.onerror = (e) => say(`the training worker failed: ${e.message}`);

/** The thread count in effect, and whether it leaves the page a core of its own. */
function showThreads(n: number): void {
  state.threads = n;
  const input = $<HTMLInputElement>('threads');
  input.max = String(state.cores);
  input.value = String(n);
  $('threads-note').textContent = n < state.cores
    ? `of ${state.cores} cores: ${state.cores - n === 1 ? 'one is' : `${state.cores - n} are`} left for this page, so it stays responsive while training`
    : `of ${state.cores} cores: every core trains, and the page may stall while anything else runs`;
}

// --- wiring -------------------------------------------------------------------------------
for (const r of document.querySelectorAll<HTMLInputElement>('input[name=mode]')) r.addEventListener('change', showMode);
for (const r of document.querySelectorAll<HTMLInputElement>('input[name=data]')) r.addEventListener('change', () => chooseData(r.value));
$('start').addEventListener('click', () => {
  try {
    const c = config();
    say('');
    clearCharts();
    send({ type: 'start', config: c });
  } catch (e) {
    say((e as Error).message);
  }
});
$('pause').addEventListener('click', () => send({ type: state.running ? 'pause' : 'resume' }));
$('reset').addEventListener('click', () => {
  clearCharts();
  send({ type: 'reset' });
});
$<HTMLInputElement>('threads').addEventListener('change', (e) => {
  const n = Number((e.target as HTMLInputElement).value);
  if (Number.isInteger(n) && n >= 1 && n <= state.cores) send({ type: 'threads', count: n });
  else showThreads(state.threads);
});
$<HTMLInputElement>('fast').addEventListener('change', (e) => send({ type: 'precision', tier: (e.target as HTMLInputElement).checked ? 'fast' : 'exact' }));
$('download-model').addEventListener('click', () => send({ type: 'save', what: 'model' }));
$('download-checkpoint').addEventListener('click', () => send({ type: 'save', what: 'checkpoint' }));
$<HTMLInputElement>('load').addEventListener('change', async (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  clearCharts();
  send({ type: 'load', bytes, name: file.name }, [bytes.buffer]);
});
$<HTMLInputElement>('photo-file').addEventListener('change', async (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  userPhoto = { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
  document.querySelector<HTMLInputElement>('input[name=photo][value=file]')!.checked = true;
});
for (const id of ['image-size', 'image-colour']) {
  $(id).addEventListener('change', () => {
    if (state.dataset?.kind === 'images') void useFiles(userFiles);
  });
}
for (const id of ['files', 'folder']) $<HTMLInputElement>(id).addEventListener('change', (e) => void useFiles([...((e.target as HTMLInputElement).files ?? [])]));
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  if (e.dataTransfer) void droppedFiles(e.dataTransfer).then(useFiles, (err: Error) => say(err.message));
});
showMode();
buttons();
