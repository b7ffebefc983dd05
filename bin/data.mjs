// The command line's data: an IDX file or a folder of PNG/JPEG images, as rows of pixels in
// [0, 1], each row one image's channels one after another (NCHW).
//   channels 1 (the default): colour images become gray (BT.601 luma); 3: gray images are repeated
//   into R, G and B. Either conversion is said once, with how many images it touched.
//   size S: every image becomes S × S (the largest centred square, area-averaged to S × S);
//   without it, every image must already share one size.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { idxImages, readIdx, resizeImage, toChannels } from 'latentkit';
import { decodeJpeg } from 'latentkit/jpeg';
import { decodePng } from 'latentkit/png';

export class CliError extends Error {}

const IMAGE = /\.(png|jpe?g)$/i;

function decodeImage(path, channels) {
  const bytes = readFileSync(path);
  try {
    return extname(path).toLowerCase() === '.png' ? decodePng(bytes, { channels }) : decodeJpeg(bytes, { channels });
  } catch (e) {
    throw new CliError(`${path}: unreadable image (${e.message.replace(/^latentkit: /, '')})`);
  }
}

/**
 * `{ x: { data, shape: [rows, channels·height·width] }, width, height, channels }` from `path`,
 * with `channels` (1 or 3) per pixel and, given `size`, S × S images. `log` hears the conversions.
 */
export function loadData(path, { channels = 1, size, log = console.log } = {}) {
  if (!existsSync(path)) throw new CliError(`${path}: no such file or folder`);
  let images;
  let names;
  if (!statSync(path).isDirectory()) {
    const t = readIdx(readFileSync(path), path);
    const x = idxImages(t);
    const [width, height] = t.shape.length >= 3 ? [t.shape[2], t.shape[1]] : [x.shape[1], 1];
    if (channels === 1 && size === undefined) return { x, width, height, channels: 1 };
    const d = width * height;
    images = Array.from({ length: x.shape[0] }, (_, i) => ({ data: x.data.subarray(i * d, (i + 1) * d), width, height, channels: 1, sourceChannels: 1 }));
    names = images.map((_, i) => `${path} image ${i}`);
  } else {
    const files = readdirSync(path).filter((f) => IMAGE.test(f)).sort();
    if (files.length === 0) throw new CliError(`${path}: no .png, .jpg or .jpeg images in this folder`);
    images = files.map((f) => decodeImage(join(path, f), channels));
    names = files.map((f) => join(path, f));
  }
  const converted = images.filter((im) => im.sourceChannels !== channels).length;
  if (converted > 0) {
    log(channels === 1
      ? `${converted} of ${images.length} images are in colour: trained as gray (BT.601 luma; --channels 3 keeps colour)`
      : `${converted} of ${images.length} images are gray: repeated into R, G and B`);
  }
  images = images.map((im) => toChannels(im, channels));
  if (size !== undefined) {
    const resized = images.filter((im) => im.width !== size || im.height !== size).length;
    if (resized > 0) log(`${resized} of ${images.length} images are not ${size}×${size}: each cut to its centred square and area-averaged to ${size}×${size}`);
    images = images.map((im) => resizeImage(im, size, size));
  }
  const { width, height } = images[0];
  images.forEach((im, i) => {
    if (im.width !== width || im.height !== height) {
      throw new CliError(`${names[i]} is ${im.width}×${im.height} but ${basename(names[0])} is ${width}×${height}: all images must share one size (or give --size S to make each S×S)`);
    }
  });
  const d = channels * width * height;
  const data = new Float32Array(images.length * d);
  images.forEach((im, i) => data.set(im.data, i * d));
  return { x: { data, shape: [images.length, d] }, width, height, channels };
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

/**
 * A semi-supervised run's labels from an IDX file with one entry per image, `unlabelled` marking
 * the images without one: `{ labelled, labels, classes, rows }` (the labelled images' indices and
 * classes; classes = the largest label + 1).
 */
export function loadPartialLabels(path, rows, dataPath, unlabelled) {
  if (!existsSync(path)) throw new CliError(`${path}: no such file`);
  const t = readIdx(readFileSync(path), path);
  if (t.shape.length !== 1) throw new CliError(`${path}: a labels file holds one number per image, this IDX file has shape [${t.shape.join(', ')}]`);
  if (t.data.length !== rows) throw new CliError(`${path} has ${t.data.length} labels but ${dataPath} has ${rows} images`);
  const labelled = [];
  const labels = [];
  for (let i = 0; i < rows; i++) {
    const v = t.data[i];
    if (v === unlabelled) continue;
    if (!Number.isInteger(v) || v < 0) throw new CliError(`${path}: label ${i} is ${v}, expected a class index (an integer ≥ 0) or ${unlabelled} for an unlabelled image`);
    labelled.push(i);
    labels.push(v);
  }
  if (labelled.length === 0) throw new CliError(`${path}: every image is unlabelled (${unlabelled}); semi-supervised training needs a few labelled images of each class (for none, use train-gan)`);
  const classes = labels.reduce((m, v) => Math.max(m, v), 0) + 1;
  if (classes < 2) throw new CliError(`${path}: every labelled image is of class 0; a classifier needs at least two classes`);
  return { labelled: Int32Array.from(labelled), labels: Int32Array.from(labels), classes };
}
