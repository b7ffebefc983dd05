// The command line's data: an IDX file or a folder of PNG/JPEG images of one size,
// as rows of pixels in [0, 1].
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { idxImages, readIdx } from 'latentkit';
import { decodeJpegGray } from 'latentkit/jpeg';
import { decodePngGray } from 'latentkit/png';

export class CliError extends Error {}

const IMAGE = /\.(png|jpe?g)$/i;

function decodeImage(path) {
  const bytes = readFileSync(path);
  try {
    return extname(path).toLowerCase() === '.png' ? decodePngGray(bytes) : decodeJpegGray(bytes);
  } catch (e) {
    throw new CliError(`${path}: unreadable image (${e.message.replace(/^latentkit: /, '')})`);
  }
}

/** `{ x: { data, shape: [rows, width·height] }, width, height }` from `path`. */
export function loadData(path) {
  if (!existsSync(path)) throw new CliError(`${path}: no such file or folder`);
  if (!statSync(path).isDirectory()) {
    const t = readIdx(readFileSync(path), path);
    const x = idxImages(t);
    const [width, height] = t.shape.length >= 3 ? [t.shape[2], t.shape[1]] : [x.shape[1], 1];
    return { x, width, height };
  }
  const files = readdirSync(path).filter((f) => IMAGE.test(f)).sort();
  if (files.length === 0) throw new CliError(`${path}: no .png, .jpg or .jpeg images in this folder`);
  const images = files.map((f) => decodeImage(join(path, f)));
  const { width, height } = images[0];
  images.forEach((im, i) => {
    if (im.width !== width || im.height !== height) {
      throw new CliError(`${join(path, files[i])} is ${im.width}×${im.height} but ${files[0]} is ${width}×${height}: all images must share one size`);
    }
  });
  const d = width * height;
  const data = new Float32Array(images.length * d);
  images.forEach((im, i) => data.set(im.data, i * d));
  return { x: { data, shape: [images.length, d] }, width, height };
}

/** Class labels for `rows` images from an IDX file: `{ labels, classes }` (classes = max label + 1). */
export function loadLabels(path, rows, dataPath) {
  if (!existsSync(path)) throw new CliError(`${path}: no such file`);
  const t = readIdx(readFileSync(path), path);
  if (t.shape.length !== 1) throw new CliError(`${path}: a labels file holds one number per image, this IDX file has shape [${t.shape.join(', ')}]`);
  if (t.data.length !== rows) throw new CliError(`${path} has ${t.data.length} labels but ${dataPath} has ${rows} images`);
  const labels = Int32Array.from(t.data);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== t.data[i] || labels[i] < 0) throw new CliError(`${path}: label ${i} is ${t.data[i]}, expected a class index (an integer ≥ 0)`);
  }
  const classes = labels.reduce((m, v) => Math.max(m, v), 0) + 1;
  if (classes < 2) throw new CliError(`${path}: every label is 0; a conditional model needs at least two classes`);
  return { labels, classes };
}
