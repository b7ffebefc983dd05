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
