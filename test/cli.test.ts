import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Autoencoder, type GAN, type VAE, load } from '../dist/index.js';
import { decodePng, encodePng } from '../dist/png.js';
import { colourTiles } from './helpers.js';
import { pngKinds } from './png-kinds.js';

const cli = join(process.cwd(), 'bin/latentkit.mjs');
// Each run starts in an empty folder of its own, so nothing on the machine outside it matters.
const run = (...args: string[]) => spawnSync('node', [cli, ...args], { encoding: 'utf8', cwd: mkdtempSync(join(tmpdir(), 'lk-cwd-')) });
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Starts a long training command, sends it SIGINT once it trains: it must exit 130 having written <out>.ckpt. */
async function expectCheckpointOnCtrlC(args: string[], out: string): Promise<void> {
  const { spawn } = await import('node:child_process');
  const child = spawn('node', [cli, ...args]);
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  // Its first line says it is training (its Ctrl-C handler is in place by then), however long loading took.
  await new Promise<void>((ok, fail) => {
    child.stdout.on('data', (d) => { if (String(d).includes('training')) ok(); });
    child.on('exit', (code) => fail(new Error(`exited with ${code} before training:\n${stderr}`)));
  });
  child.kill('SIGINT');
  const code = await new Promise((r) => child.on('exit', r));
  expect(code, stderr).toBe(130);
  expect(stderr).toMatch(/interrupted: wrote checkpoint/);
  expect(existsSync(`${out}.ckpt`)).toBe(true);
}

/** An IDX labels file of `values` in a folder of its own; returns its path. */
function idxLabels(values: number[]): string {
  const b = new Uint8Array(8 + values.length);
  new DataView(b.buffer).setUint32(0, 0x801);
  new DataView(b.buffer).setUint32(4, values.length);
  b.set(values, 8);
  const path = join(mkdtempSync(join(tmpdir(), 'lk-labels-')), 'labels.idx');
  writeFileSync(path, b);
  return path;
}

function pngFolder(sizes: [number, number][]): string {
  const dir = mkdtempSync(join(tmpdir(), 'lk-img-'));
  sizes.forEach(([w, h], i) => {
    const px = Uint8Array.from({ length: w * h }, (_, j) => (j * 37 + i * 11) % 256);
    writeFileSync(join(dir, `img${i}.png`), encodePng(px, w, h, 1));
  });
  return dir;
}

describe('latentkit command line', () => {
  it('prints help for each command', () => {
    expect(run('--help').stdout).toMatch(/train-ae.*\n.*train-gan/s);
    for (const c of ['train-ae', 'train-gan', 'train-vae', 'train-ssl', 'sample', 'encode', 'eval', 'classify', 'export']) expect(run(c, '--help').stdout).toMatch(new RegExp(`usage: latentkit ${c}`));
  });

  it('trains a conditional VAE on a folder of PNGs with labels, resumes it, samples one class and encodes', () => {
    const dir = pngFolder(Array.from({ length: 40 }, () => [8, 8] as [number, number]));
    const labels = idxLabels(Array.from({ length: 40 }, (_, i) => i % 4));
    const out = join(mkdtempSync(join(tmpdir(), 'lk-out-')), 'vae.safetensors');
    const r = run('train-vae', '--data', dir, '--labels', labels, '--layers', '16', '--latent', '3', '--epochs', '2', '--batch-size', '8', '--kl-warmup', '5', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/training a conditional VAE over 4 classes/);
    expect(r.stdout).toMatch(/wrote .*vae\.safetensors after 2 epochs \(ELBO -?[0-9.]+ nats per row on the first 40 rows\)/);
    expect(existsSync(`${out}.ckpt`) && existsSync(`${out}.png`)).toBe(true);
    const resumed = run('train-vae', '--data', dir, '--labels', labels, '--epochs', '3', '--batch-size', '8', '--out', out, '--resume', `${out}.ckpt`);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/after 3 epochs/);
    expect(run('train-vae', '--data', dir, '--epochs', '4', '--out', out, '--resume', `${out}.ckpt`).stderr).toMatch(/is a conditional VAE over 4 classes: give its --labels/);
    const png = join(mkdtempSync(join(tmpdir(), 'lk-out-')), 'threes.png');
    expect(run('sample', '--model', out, '--label', '3', '--n', '9', '--out', png).stdout).toMatch(/wrote .*threes\.png \(9 samples, all of class 3\)/);
    expect(run('encode', '--model', out, '--data', dir, '--out', join(dir, 'codes.csv')).stderr).toMatch(/is a conditional VAE over 4 classes: give --labels/);
    expect(run('encode', '--model', out, '--data', dir, '--labels', labels, '--out', join(dir, 'codes.csv')).stdout).toMatch(/40 codes of 3 values/);
  });

  it('train-ssl learns from a labels file where most images are unlabelled (255), resumes, and classify prints classes and the error; bad labels files are refused', () => {
    // Two kinds of image, bright on the left or on the right; 4 of 48 labelled.
    const dir = mkdtempSync(join(tmpdir(), 'lk-img-'));
    const kinds = Array.from({ length: 48 }, (_, i) => i % 2);
    kinds.forEach((k, i) => {
      const px = Uint8Array.from({ length: 64 }, (_, j) => ((j % 8 < 4) === (k === 0) ? 200 : 30) + ((j * 7 + i * 13) % 40));
      writeFileSync(join(dir, `img${String(i).padStart(2, '0')}.png`), encodePng(px, 8, 8, 1));
    });
    const labels = idxLabels(kinds.map((k, i) => (i < 4 ? k : 255)));
    const out = join(mkdtempSync(join(tmpdir(), 'lk-out-')), 'ssgan.safetensors');
    // With the discriminator's moving average: resume and classify go through it.
    const r = run('train-ssl', '--data', dir, '--labels', labels, '--epochs', '2', '--batch-size', '16', '--ema', '0.9', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/training on 4 labelled images of 2 classes and 48 unlabelled \(every image, as Salimans et al\.\)/);
    expect(r.stdout).toMatch(/wrote .*ssgan\.safetensors after 6 iterations \(error on the labelled images [0-9.]+%\)/);
    expect(existsSync(`${out}.ckpt`) && existsSync(`${out}.png`)).toBe(true);
    const resumed = run('train-ssl', '--data', dir, '--labels', labels, '--epochs', '3', '--out', out, '--resume', `${out}.ckpt`);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/after 9 iterations/);
    const all = idxLabels(kinds);
    const classified = run('classify', '--model', out, '--data', dir, '--labels', all);
    expect(classified.status, classified.stderr).toBe(0);
    expect(classified.stdout.trim().split('\n')).toHaveLength(48);
    expect(classified.stdout.trim().split('\n').every((c) => c === '0' || c === '1')).toBe(true);
    expect(classified.stderr).toMatch(/error [0-9.]+% \([0-9]+ of 48 images\)/);
    // Bad labels files: the wrong length, out of range, none labelled; every image labelled trains, and says so.
    expect(run('train-ssl', '--data', dir, '--labels', idxLabels([0, 1, 255]), '--out', out).stderr).toMatch(/has 3 labels but .* has 48 images/);
    expect(run('train-ssl', '--data', dir, '--labels', idxLabels(kinds.map(() => 255)), '--out', out).stderr).toMatch(/every image is unlabelled \(255\); semi-supervised training needs a few labelled images/);
    expect(run('train-ssl', '--data', dir, '--labels', idxLabels(kinds.map((k, i) => (i === 0 ? 5 : i < 4 ? k : 255))), '--epochs', '4', '--out', out, '--resume', `${out}.ckpt`).stderr).toMatch(/has classes up to 5 but .*ssgan\.safetensors\.ckpt knows 2/);
    expect(run('train-ssl', '--data', dir, '--labels', idxLabels(kinds.map((k, i) => (i < 4 ? 0 : 255))), '--batch-size', '16', '--out', out).stderr).toMatch(/every labelled image is of class 0; a classifier needs at least two classes/);
    expect(run('train-ssl', '--data', dir, '--out', out).stderr).toMatch(/--labels is required/);
    expect(run('train-ssl', '--data', dir, '--labels', all, '--epochs', '1', '--batch-size', '16', '--out', out).stdout).toMatch(/48 labelled images of 2 classes and 48 unlabelled \(every image is labelled: all of them serve as unlabelled too\)/);
    expect(run('classify', '--model', `${out}.missing`, '--data', dir).stderr).toMatch(/no such file|not found|ENOENT|missing/i);
  });

  it('trains an autoencoder on a folder of PNGs, checkpoints, resumes, encodes and evaluates', () => {
    const dir = pngFolder(Array.from({ length: 40 }, () => [8, 8] as [number, number]));
    const out = join(mkdtempSync(join(tmpdir(), 'lk-out-')), 'ae.safetensors');
    const r = run('train-ae', '--data', dir, '--layers', '16,4', '--epochs', '2', '--batch-size', '8', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(out) && existsSync(`${out}.ckpt`) && existsSync(`${out}.png`)).toBe(true);
    // --epochs is the total: the checkpoint's two epochs count towards it.
    const resumed = run('train-ae', '--data', dir, '--epochs', '3', '--batch-size', '8', '--out', out, '--resume', `${out}.ckpt`);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/after 3 epochs/);
    const again = run('train-ae', '--data', dir, '--epochs', '3', '--batch-size', '8', '--out', out, '--resume', `${out}.ckpt`);
    expect(again.stdout).toMatch(/has trained 3 epochs, --epochs is 3: nothing left to train/);
    const enc = run('encode', '--model', out, '--data', dir, '--out', join(dir, 'codes.csv'));
    expect(enc.stdout).toMatch(/40 codes of 4 values/);
    expect(run('eval', '--model', out, '--data', dir).stdout).toMatch(/reconstruction MSE [0-9.]+ over 40 rows/);
  });

  it('trains a GAN and samples from it', () => {
    const dir = pngFolder(Array.from({ length: 64 }, () => [4, 4] as [number, number]));
    const out = join(mkdtempSync(join(tmpdir(), 'lk-out-')), 'gan.safetensors');
    const r = run('train-gan', '--data', dir, '--iterations', '20', '--batch-size', '16', '--generator', '8', '--discriminator', '8', '--noise-dim', '4', '--out', out, '--png-every', '10', '--ema', '0.9');
    expect(r.status, r.stderr).toBe(0);
    const s = run('sample', '--model', out, '--n', '9', '--out', join(dir, 's.png'));
    expect(s.stdout).toMatch(/wrote .*s.png \(9 samples\)/);
    expect((load(readFileSync(out)) as GAN).emaDecay).toBe(0.9);
  });

  it('trains a conditional GAN from --labels and samples a chosen class with sample --label', () => {
    const dir = pngFolder(Array.from({ length: 60 }, () => [4, 4] as [number, number]));
    const labels = idxLabels(Array.from({ length: 60 }, (_, i) => i % 3));
    const out = join(mkdtempSync(join(tmpdir(), 'lk-out-')), 'cgan.safetensors');
    const common = ['--data', dir, '--batch-size', '16', '--generator', '8', '--discriminator', '8', '--noise-dim', '4', '--out', out];
    const r = run('train-gan', ...common, '--labels', labels, '--iterations', '20');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/training a conditional GAN over 3 classes/);
    const gan = load(readFileSync(out)) as GAN;
    expect([gan.conditions, gan.noiseDim, gan.sampleSize]).toEqual([3, 4, 16]);
    const png = join(dirname(out), 's.png');
    expect(run('sample', '--model', out, '--n', '9', '--label', '2', '--out', png).stdout).toMatch(/\(9 samples, all of class 2\)/);
    expect(run('sample', '--model', out, '--n', '9', '--out', png).stdout).toMatch(/\(9 samples, one class per row of 3\)/);
    const resumed = run('train-gan', ...common, '--labels', labels, '--iterations', '30', '--resume', `${out}.ckpt`);
    expect(resumed.stdout, resumed.stderr).toMatch(/after 30 iterations/);
    const failures: [string[], RegExp][] = [
      [['sample', '--model', out, '--label', '3'], /--label must be below 3, the classes of .*cgan.safetensors; got 3/],
      [['train-gan', ...common, '--iterations', '40', '--resume', `${out}.ckpt`], /is a conditional GAN over 3 classes: give its --labels/],
      [['train-gan', ...common, '--labels', idxLabels([0, 1, 2])], /has 3 labels but .* has 60 images/],
      [['train-gan', ...common, '--labels', idxLabels(new Array(60).fill(0))], /every label is 0; a conditional model needs at least two classes/],
      [['train-gan', ...common, '--labels', '/nonexistent/labels.idx'], /no such file/],
    ];
    const plain = join(mkdtempSync(join(tmpdir(), 'lk-out-')), 'gan.safetensors');
    expect(run('train-gan', '--data', dir, '--batch-size', '16', '--generator', '8', '--discriminator', '8', '--iterations', '5', '--out', plain).status).toBe(0);
    failures.push([['sample', '--model', plain, '--label', '1'], /--label is for a conditional model; this model is unconditional/]);
    for (const [args, pattern] of failures) {
      const f = run(...args);
      expect(f.status, args.join(' ')).toBe(2);
      expect(f.stderr.trim().split('\n')).toHaveLength(1);
      expect(f.stderr).toMatch(pattern);
    }
  });

  it('--iterations is the total: 100 then the same command with --resume equals 200 straight, bit for bit', () => {
    const dir = pngFolder(Array.from({ length: 48 }, () => [4, 4] as [number, number]));
    const flags = ['--data', dir, '--batch-size', '8', '--generator', '8', '--discriminator', '8', '--noise-dim', '4', '--png-every', '0', '--checkpoint-every', '50'];
    const straight = join(mkdtempSync(join(tmpdir(), 'lk-out-')), 'gan.safetensors');
    expect(run('train-gan', ...flags, '--iterations', '200', '--out', straight).status).toBe(0);
    const split = join(mkdtempSync(join(tmpdir(), 'lk-out-')), 'gan.safetensors');
    expect(run('train-gan', ...flags, '--iterations', '100', '--out', split).status).toBe(0);
    const r = run('train-gan', ...flags, '--iterations', '200', '--out', split, '--resume', `${split}.ckpt`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/after 200 iterations/);
    expect(sha256(split)).toBe(sha256(straight));
    expect(sha256(`${split}.ckpt`)).toBe(sha256(`${straight}.ckpt`));
  });

  it('--threads 2 writes the same model bits as --threads 1, and Ctrl-C on 2 threads still checkpoints', async () => {
    const dir = pngFolder(Array.from({ length: 128 }, () => [32, 32] as [number, number]));
    const flags = ['--data', dir, '--batch-size', '64', '--generator', '512', '--discriminator', '512', '--noise-dim', '64', '--png-every', '0', '--iterations', '300'];
    const outs = ['1', '2'].map((t) => {
      const out = join(mkdtempSync(join(tmpdir(), 'lk-out-')), 'gan.safetensors');
      const r = run('train-gan', ...flags, '--threads', t, '--out', out);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`training on ${t} thread`));
      return out;
    });
    expect(sha256(outs[1]!)).toBe(sha256(outs[0]!));
    const out = join(mkdtempSync(join(tmpdir(), 'lk-int-')), 'gan.safetensors');
    await expectCheckpointOnCtrlC(['train-gan', ...flags.slice(0, -2), '--iterations', '1000000', '--threads', '2', '--checkpoint-every', '1000000', '--out', out], out);
  });

  it('--fast trains on the fast tier (the CLI turns on Node 20\'s relaxed-SIMD flag): the same bits on 1 and 2 threads, not the exact bits on a CPU with FMA', () => {
    const cpuHasFma = /\bfma\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
    const dir = pngFolder(Array.from({ length: 128 }, () => [32, 32] as [number, number]));
    const flags = ['--data', dir, '--batch-size', '64', '--layers', '256,16', '--epochs', '3', '--png-every', '0'];
    const [exact, fast1, fast2] = [['--threads', '1'], ['--threads', '1', '--fast'], ['--threads', '2', '--fast']].map((extra) => {
      const out = join(mkdtempSync(join(tmpdir(), 'lk-out-')), 'ae.safetensors');
      const r = run('train-ae', ...flags, ...extra, '--out', out);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.includes('computing on the fast tier (fused multiply-adds)'), r.stdout).toBe(extra.includes('--fast'));
      return out;
    });
    expect(sha256(fast2!)).toBe(sha256(fast1!));
    expect(sha256(fast1!) === sha256(exact!), `fast and exact files equal (CPU has FMA: ${cpuHasFma})`).toBe(!cpuHasFma);
  });

  it('reads PNGs of every colour type and bit depth, palettes and interlacing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lk-kinds-'));
    const kinds = pngKinds();
    for (const k of kinds) writeFileSync(join(dir, `${k.name}.png`), k.bytes);
    const out = join(mkdtempSync(join(tmpdir(), 'lk-out-')), 'ae.safetensors');
    const r = run('train-ae', '--data', dir, '--layers', '4', '--epochs', '1', '--batch-size', '4', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(run('eval', '--model', out, '--data', dir).stdout).toMatch(new RegExp(`over ${kinds.length} rows`));
  });

  it('shows progress inside an epoch in a log: rows per second and the ETA from the first update, the running loss; a resumed run counts from where it resumed', () => {
    const dir = pngFolder(Array.from({ length: 200 }, () => [16, 16] as [number, number]));
    const out = join(mkdtempSync(join(tmpdir(), 'lk-progress-')), 'ae.safetensors');
    const line = /^train-ae (\d+)% · epoch (\d+)\/(\d+) · ([\d,.]+) rows\/s · ETA (\d+[hms][\dms]*) · loss (\d\.\d{5})$/;
    const progress = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('train-ae ') && !l.includes('starting'));
    const first = run('train-ae', '--data', dir, '--epochs', '1', '--batch-size', '4', '--png-every', '0', '--out', out);
    expect(first.status, first.stderr).toBe(0);
    const lines = progress(first.stderr);
    expect(lines.length, first.stderr).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l, first.stderr).toMatch(line);
    // The first line comes after the first minibatch, inside the epoch, with a rate and an ETA already.
    const [, pct, , , rate] = line.exec(lines[0]!)!;
    expect(Number(pct)).toBeLessThan(100);
    expect(Number(rate!.replace(/,/g, ''))).toBeGreaterThan(0);
    expect(lines.at(-1)).toMatch(/^train-ae 100% · epoch 1\/1 /);
    const resumed = run('train-ae', '--data', dir, '--resume', `${out}.ckpt`, '--epochs', '2', '--batch-size', '4', '--png-every', '0', '--out', out);
    expect(resumed.status, resumed.stderr).toBe(0);
    const again = progress(resumed.stderr);
    expect(resumed.stderr).toMatch(/^train-ae 50% · starting /m);
    expect(again[0], resumed.stderr).toMatch(/^train-ae 5\d% · epoch 2\/2 /);
    expect(Number(line.exec(again[0]!)![4]!.replace(/,/g, ''))).toBeGreaterThan(0);
  });

  it('on a terminal the progress is one bar redrawn in place as the epochs go', () => {
    const dir = pngFolder(Array.from({ length: 200 }, () => [16, 16] as [number, number]));
    const out = join(mkdtempSync(join(tmpdir(), 'lk-tty-')), 'ae.safetensors');
    // script(1) (util-linux, in every Debian) runs the command on a pseudo-terminal; -e passes on its exit code.
    const command = ['node', cli, 'train-ae', '--data', dir, '--epochs', '3', '--batch-size', '2', '--png-every', '0', '--out', out].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', cwd: mkdtempSync(join(tmpdir(), 'lk-cwd-')) });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    // cli-progress moves to column 1 and rewrites the line for every frame.
    const frames = r.stdout.split('\x1b[1G').map((f) => f.split(/[\r\n]/)[0]!.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, '').trim()).filter((f) => f.startsWith('train-ae ['));
    const bar = /^train-ae \[[#.]{24}\] (\d+)% · epoch (\d)\/3 · [\d,.]+ rows\/s · ETA \d+[hms][\dms]* · loss \d\.\d{5}$/;
    const shown = frames.filter((f) => bar.test(f));
    expect(shown.length, r.stdout).toBeGreaterThanOrEqual(1);
    expect(shown.at(-1), r.stdout).toMatch(/^train-ae \[#{24}\] 100% · epoch 3\/3 /);
    expect(r.stdout.split('\n').filter((l) => l.includes('train-ae [')).length, 'lines holding a bar: one, redrawn').toBe(1);
  });

  it('writes a checkpoint on Ctrl-C (SIGINT) and exits with 130', async () => {
    const dir = pngFolder(Array.from({ length: 200 }, () => [16, 16] as [number, number]));
    const out = join(mkdtempSync(join(tmpdir(), 'lk-int-')), 'ae.safetensors');
    await expectCheckpointOnCtrlC(['train-ae', '--data', dir, '--epochs', '100000', '--batch-size', '4', '--checkpoint-every', '100000', '--png-every', '0', '--out', out], out);
    const resumed = run('eval', '--model', `${out}.ckpt`, '--data', dir);
    expect(resumed.stdout).toMatch(/reconstruction MSE/);
  });

  it('gives a one-line error and a non-zero exit for bad input', () => {
    const cases: [string[], RegExp][] = [
      [['train-ae', '--data', '/nonexistent/x'], /no such file or folder/],
      [['train-ae', '--epoch', '3'], /unknown flag --epoch/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['train-ae'], /--data is required/],
      [['train-ae', '--data', pngFolder([[8, 8], [9, 8]])], /is 9×8 but img0.png is 8×8: all images must share one size/],
      [['eval', '--model', '/nonexistent.safetensors', '--data', '/nonexistent/x'], /cannot read/],
      // Flags are checked before any file is read: the data path is never looked at.
      [['train-ae', '--data', '/nonexistent/x', '--epochs', 'many'], /--epochs must be an integer ≥ 1, got 'many'/],
      [['train-gan', '--data', '/nonexistent/x', '--loss', 'hinge'], /--loss must be one of non-saturating, minimax/],
      [['train-ae', '--data', '/nonexistent/x', '--layers', '128,,32'], /--layers must be positive integers/],
      [['train-ae', '--data', '/nonexistent/x', '--activation', 'gelu'], /--activation must be one of linear, tanh/],
      [['train-gan', '--data', '/nonexistent/x', '--label-smoothing', '1.5'], /--label-smoothing must be a number in \[0, 1\)/],
      [['train-ae', '--data', '/nonexistent/x', '--lr', '0'], /--lr must be a number > 0/],
      [['train-ae', '--data'], /--data needs a value/],
      [['train-ae', 'images/'], /unexpected argument 'images\/'/],
      [['train-gan', '--data', '/nonexistent/x', '--threads', 'many'], /--threads must be 'auto' or an integer from 1 to 64/],
      [['train-ae', '--data', '/nonexistent/x', '--fast=yes'], /--fast takes no value/],
      [['sample', '--model', '/nonexistent/x', '--label', 'seven'], /--label must be an integer ≥ 0, got 'seven'/],
    ];
    const broken = mkdtempSync(join(tmpdir(), 'lk-bad-'));
    writeFileSync(join(broken, 'a.jpg'), new Uint8Array([1, 2, 3, 4]));
    cases.push([['train-ae', '--data', broken], /a.jpg: unreadable image/]);
    const empty = join(mkdtempSync(join(tmpdir(), 'lk-empty-')), 'sub');
    mkdirSync(empty);
    cases.push([['train-ae', '--data', empty], /no .png, .jpg or .jpeg images/]);
    for (const [args, pattern] of cases) {
      const r = run(...args);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    }
  });

  it('--conv on colour tiles (--channels 3 --size 32): prints the architecture, trains a DCGAN, resumes it, samples an RGB grid', () => {
    const tiles = colourTiles(24, 40);
    const out = join(mkdtempSync(join(tmpdir(), 'lk-dcgan-')), 'g.safetensors');
    const r = run('train-gan', '--data', tiles, '--channels', '3', '--size', '32', '--conv', '--iterations', '6', '--batch-size', '8', '--png-every', '3', '--checkpoint-every', '3', '--out', out, '--threads', '1');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/24 of 24 images are not 32×32: each cut to its centred square and area-averaged to 32×32/);
    expect(r.stdout).toMatch(/generator:\n  input 100\n  dense\(units 4096\) → 4096\n  reshape\(shape 256×4×4\)/);
    expect(r.stdout).toMatch(/discriminator:\n  input 3×32×32\n  conv2d\(channels 64, kernel 4×4, stride 2×2, padding 1×1, activation leaky-relu 0.2\) → 64×16×16/);
    const grid = decodePng(readFileSync(`${out}.png`));
    expect(grid.sourceChannels, 'the sample grid is an RGB PNG').toBe(3);
    const resumed = run('train-gan', '--data', tiles, '--channels', '3', '--size', '32', '--resume', `${out}.ckpt`, '--iterations', '9', '--batch-size', '8', '--out', out, '--threads', '1');
    expect(resumed.status, resumed.stderr).toBe(0);
    const gan = load(readFileSync(`${out}.ckpt`)) as GAN;
    expect(gan.iterations).toBe(9);
    expect(gan.discriminator.inputShape).toEqual([3, 32, 32]);
    gan.dispose();
    const samples = join(dirname(out), 's.png');
    expect(run('sample', '--model', out, '--n', '16', '--out', samples).status).toBe(0);
    const png = decodePng(readFileSync(samples));
    expect([png.sourceChannels, png.width, png.height]).toEqual([3, 4 * 34 + 2, 4 * 34 + 2]);
  });

  it('--conv autoencoder and VAE on MNIST-sized images: train, resume, encode and evaluate with the model\'s own image shape', () => {
    const dir = pngFolder(Array.from({ length: 40 }, () => [28, 28] as [number, number]));
    const out = join(mkdtempSync(join(tmpdir(), 'lk-cae-')), 'ae.safetensors');
    const ae = run('train-ae', '--data', dir, '--conv', '--layers', '8', '--epochs', '1', '--batch-size', '8', '--out', out, '--threads', '1');
    expect(ae.status, ae.stderr).toBe(0);
    expect(ae.stdout).toMatch(/encoder:\n  input 1×28×28\n  conv2d\(channels 32.*→ 32×14×14\n  batch-norm\(activation relu\) → 32×14×14\n  conv2d\(channels 64.*→ 64×7×7\n  batch-norm\(activation relu\) → 64×7×7\n  flatten → 3136\n  dense\(units 256, activation relu\) → 256\n  dense\(units 8\) → 8/);
    expect(run('train-ae', '--data', dir, '--resume', `${out}.ckpt`, '--epochs', '2', '--batch-size', '8', '--out', out, '--threads', '1').status).toBe(0);
    const model = load(readFileSync(`${out}.ckpt`)) as Autoencoder;
    expect([model.epochs, ...model.encoder.inputShape]).toEqual([2, 1, 28, 28]);
    model.dispose();
    const codes = join(dirname(out), 'codes.csv');
    expect(run('encode', '--model', out, '--data', dir, '--out', codes).status).toBe(0);
    expect(readFileSync(codes, 'utf8').trim().split('\n').map((l) => l.split(',').length)).toEqual(Array(40).fill(8));
    expect(run('eval', '--model', out, '--data', dir).stdout).toMatch(/reconstruction MSE \d/);

    const vout = join(dirname(out), 'vae.safetensors');
    const vae = run('train-vae', '--data', dir, '--conv', '--latent', '4', '--epochs', '1', '--batch-size', '8', '--out', vout, '--threads', '1');
    expect(vae.status, vae.stderr).toBe(0);
    expect(vae.stdout).toMatch(/decoder:\n  input 4\n  dense\(units 256, activation relu\) → 256\n  dense\(units 3136, activation relu\)/);
    const v = load(readFileSync(vout)) as VAE;
    expect([v.latentSize, ...v.encoder.inputShape]).toEqual([4, 1, 28, 28]);
    v.dispose();
  });

  it('colour in a gray run and gray in a colour run are converted and said once; mixed sizes need --size; a size no architecture reaches is refused', () => {
    const tiles = colourTiles(10, 16);
    const gray = run('train-ae', '--data', tiles, '--epochs', '1', '--batch-size', '4', '--png-every', '0', '--out', join(mkdtempSync(join(tmpdir(), 'lk-g-')), 'a.safetensors'), '--threads', '1');
    expect(gray.status, gray.stderr).toBe(0);
    expect(gray.stdout.match(/10 of 10 images are in colour: trained as gray \(BT\.601 luma; --channels 3 keeps colour\)/g)).toHaveLength(1);
    const colour = run('train-ae', '--data', pngFolder([[16, 16], [16, 16], [16, 16], [16, 16]]), '--channels', '3', '--epochs', '1', '--batch-size', '2', '--png-every', '0', '--out', join(mkdtempSync(join(tmpdir(), 'lk-c-')), 'a.safetensors'), '--threads', '1');
    expect(colour.status, colour.stderr).toBe(0);
    expect(colour.stdout.match(/4 of 4 images are gray: repeated into R, G and B/g)).toHaveLength(1);
    const mixed = pngFolder([[16, 16], [20, 12], [16, 16], [16, 16]]);
    const refused = run('train-ae', '--data', mixed, '--epochs', '1');
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/img1.png is 20×12 but img0.png is 16×16: all images must share one size \(or give --size S to make each S×S\)/);
    const sized = run('train-ae', '--data', mixed, '--size', '16', '--epochs', '1', '--batch-size', '2', '--png-every', '0', '--out', join(mkdtempSync(join(tmpdir(), 'lk-s-')), 'a.safetensors'), '--threads', '1');
    expect(sized.status, sized.stderr).toBe(0);
    expect(sized.stdout).toMatch(/1 of 4 images are not 16×16: each cut to its centred square and area-averaged to 16×16/);
    const odd = run('train-gan', '--data', mixed, '--size', '27', '--conv', '--iterations', '1', '--batch-size', '2');
    expect(odd.status).not.toBe(0);
    expect(odd.stderr.trim().split('\n')).toHaveLength(1);
    expect(odd.stderr).toMatch(/dcgan: each stage halves the image, so its sides must be even and at least 8; 27×27 cannot be halved/);
    const both = run('train-gan', '--data', mixed, '--size', '16', '--conv', '--architecture', 'x.json');
    expect(both.stderr).toMatch(/--conv and --architecture both choose the architecture/);
  });

  it('--architecture reads the two stacks from a JSON file; a file without them is refused by name', () => {
    const dir = pngFolder(Array.from({ length: 8 }, () => [8, 8] as [number, number]));
    const work = mkdtempSync(join(tmpdir(), 'lk-arch-'));
    const arch = join(work, 'arch.json');
    writeFileSync(arch, JSON.stringify({
      encoder: { input: [1, 8, 8], layers: [{ type: 'conv2d', channels: 4, kernel: 3, padding: 1, activation: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 3 }] },
      decoder: { input: [3], layers: [{ type: 'dense', units: 64, activation: 'sigmoid' }] },
    }));
    const r = run('train-ae', '--data', dir, '--architecture', arch, '--epochs', '1', '--batch-size', '4', '--out', join(work, 'a.safetensors'), '--threads', '1');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/encoder:\n  input 1×8×8\n  conv2d\(channels 4, kernel 3×3, stride 1×1, padding 1×1, activation relu\) → 4×8×8/);
    writeFileSync(arch, JSON.stringify({ encoder: { input: [64], layers: [] } }));
    const bad = run('train-ae', '--data', dir, '--architecture', arch);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/"decoder" is missing or has no layers/);
  });
});
