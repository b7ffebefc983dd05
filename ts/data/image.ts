import { LatentkitError } from '../errors.js';
import type { Matrix } from '../nn/matrix.js';
import { positiveInt } from '../nn/matrix.js';
import type { Rng } from '../runtime/rng.js';

/** A grayscale image, row-major, values usually in [0, 1]. */
export interface GrayImage {
  data: Float32Array;
  width: number;
  height: number;
}

/** Luma (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B) of RGBA bytes, scaled to [0, 1]. */
export function rgbaToGray(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): GrayImage {
  positiveInt(width, 'width');
  positiveInt(height, 'height');
  if (rgba.length !== width * height * 4) throw new LatentkitError(`RGBA data of ${rgba.length} bytes is not ${width}×${height}×4`);
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = (0.299 * rgba[4 * i]! + 0.587 * rgba[4 * i + 1]! + 0.114 * rgba[4 * i + 2]!) / 255;
  return { data, width, height };
}

/** The w×h region whose top-left corner is (x, y). */
export function crop(img: GrayImage, x: number, y: number, w: number, h: number): GrayImage {
  if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 || x + positiveInt(w, 'crop width') > img.width || y + positiveInt(h, 'crop height') > img.height) {
    throw new LatentkitError(`crop ${w}×${h} at (${x}, ${y}) does not fit in a ${img.width}×${img.height} image`);
  }
  const data = new Float32Array(w * h);
  for (let r = 0; r < h; r++) data.set(img.data.subarray((y + r) * img.width + x, (y + r) * img.width + x + w), r * w);
  return { data, width: w, height: h };
}

/** Non-overlapping size×size crops covering the image in reading order (edges that do not fit are dropped). */
export function gridCrops(img: GrayImage, size: number): GrayImage[] {
  positiveInt(size, 'crop size');
  const out: GrayImage[] = [];
  for (let y = 0; y + size <= img.height; y += size) for (let x = 0; x + size <= img.width; x += size) out.push(crop(img, x, y, size, size));
  return out;
}

/** `count` size×size patches at random positions (drawn from `rng`), one per row. */
export function randomPatches(img: GrayImage, size: number, count: number, rng: Rng): Matrix {
  positiveInt(size, 'patch size');
  positiveInt(count, 'patch count');
  if (size > img.width || size > img.height) throw new LatentkitError(`${size}×${size} patches do not fit in a ${img.width}×${img.height} image`);
  const data = new Float32Array(count * size * size);
  for (let i = 0; i < count; i++) {
    const x = rng.below(img.width - size + 1);
    const y = rng.below(img.height - size + 1);
    for (let r = 0; r < size; r++) data.set(img.data.subarray((y + r) * img.width + x, (y + r) * img.width + x + size), i * size * size + r * size);
  }
  return { data, shape: [count, size * size] };
}

/** Every non-overlapping size×size patch in reading order, one per row (the inverse of untilePatches). */
export function tilePatches(img: GrayImage, size: number): Matrix {
  const tiles = gridCrops(img, size);
  const data = new Float32Array(tiles.length * size * size);
  tiles.forEach((t, i) => data.set(t.data, i * size * size));
  return { data, shape: [tiles.length, size * size] };
}

/** Reassembles patches from tilePatches into a width×height image. */
export function untilePatches(patches: Matrix, size: number, width: number, height: number): GrayImage {
  const across = Math.floor(width / size);
  const down = Math.floor(height / size);
  if (patches.shape[0] !== across * down || patches.shape[1] !== size * size) {
    throw new LatentkitError(`patches [${patches.shape}] do not tile a ${width}×${height} image with ${size}×${size} patches`);
  }
  const data = new Float32Array(across * size * down * size);
  const w = across * size;
  for (let p = 0; p < patches.shape[0]; p++) {
    const px = (p % across) * size;
    const py = Math.floor(p / across) * size;
    for (let r = 0; r < size; r++) data.set(patches.data.subarray(p * size * size + r * size, p * size * size + (r + 1) * size), (py + r) * w + px);
  }
  return { data, width: w, height: down * size };
}
/** A grayscale image as 8-bit pixels, mapping [lo, hi] to [0, 255] (clamped). */
export function grayToBytes(img: GrayImage, lo = 0, hi = 1): Uint8Array {
  const k = 255 / (hi - lo);
  return Uint8Array.from(img.data, (v) => Math.max(0, Math.min(255, Math.round((v - lo) * k))));
}

/**
 * Tiles equally sized grayscale images into one grid image with a `gap`-pixel
 * border of value `background`; `columns` per row.
 */
export function imageGrid(images: GrayImage[], columns: number, gap = 2, background = 1): GrayImage {
  if (images.length === 0) throw new LatentkitError('imageGrid needs at least one image');
  const { width: w, height: h } = images[0]!;
  if (images.some((im) => im.width !== w || im.height !== h)) throw new LatentkitError('imageGrid: images must share one size');
  const rows = Math.ceil(images.length / columns);
  const W = columns * (w + gap) + gap;
  const H = rows * (h + gap) + gap;
  const data = new Float32Array(W * H).fill(background);
  images.forEach((im, i) => {
    const x0 = gap + (i % columns) * (w + gap);
    const y0 = gap + Math.floor(i / columns) * (h + gap);
    for (let y = 0; y < h; y++) data.set(im.data.subarray(y * w, (y + 1) * w), (y0 + y) * W + x0);
  });
  return { data, width: W, height: H };
}
