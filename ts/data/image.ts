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

/**
 * An image of `channels` planes (1: gray, 3: RGB), each row-major, one after another: the layout
 * of one NCHW row a convolution takes. A GrayImage is one with a single channel.
 */
export interface Image extends GrayImage {
  channels: number;
}

const BT601 = [0.299, 0.587, 0.114] as const;

/** The image with `channels` channels: gray → RGB repeats the plane, RGB → gray is BT.601 luma (as rgbaToGray). */
export function toChannels(img: Image, channels: 1 | 3): Image {
  const c = img.channels;
  if (c === channels) return img;
  const n = img.width * img.height;
  if (c === 1 && channels === 3) {
    const data = new Float32Array(3 * n);
    for (let k = 0; k < 3; k++) data.set(img.data.subarray(0, n), k * n);
    return { data, width: img.width, height: img.height, channels };
  }
  if (c === 3 && channels === 1) {
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = BT601[0] * img.data[i]! + BT601[1] * img.data[n + i]! + BT601[2] * img.data[2 * n + i]!;
    return { data, width: img.width, height: img.height, channels };
  }
  throw new LatentkitError(`toChannels: from ${c} to ${channels} channels (expected 1 or 3)`);
}

/**
 * The image scaled to exactly width×height: the largest centred crop of the target's aspect ratio,
 * then area averaging (each output pixel the mean of the source area it covers, fractional pixels
 * weighted by their overlap), so a downscale does not alias and an upscale repeats pixels.
 */
export function resizeImage(img: Image, width: number, height: number): Image {
  positiveInt(width, 'width');
  positiveInt(height, 'height');
  if (img.width === width && img.height === height) return img;
  // The centred crop with the target's aspect ratio.
  const scale = Math.min(img.width / width, img.height / height);
  const cw = width * scale;
  const ch = height * scale;
  const x0 = (img.width - cw) / 2;
  const y0 = (img.height - ch) / 2;
  const xs = areaWeights(x0, cw / width, width, img.width);
  const ys = areaWeights(y0, ch / height, height, img.height);
  const c = img.channels;
  const data = new Float32Array(c * width * height);
  const row = new Float64Array(img.width);
  for (let k = 0; k < c; k++) {
    const plane = img.data.subarray(k * img.width * img.height, (k + 1) * img.width * img.height);
    for (let oy = 0; oy < height; oy++) {
      row.fill(0);
      for (const [sy, wy] of ys[oy]!) for (let x = 0; x < img.width; x++) row[x]! += wy * plane[sy * img.width + x]!;
      for (let ox = 0; ox < width; ox++) {
        let v = 0;
        for (const [sx, wx] of xs[ox]!) v += wx * row[sx]!;
        data[k * width * height + oy * width + ox] = v;
      }
    }
  }
  return { data, width, height, channels: c };
}

/** For each of `n` output pixels of width `step` starting at `start`: the source pixels it covers and their weights (summing to 1). */
function areaWeights(start: number, step: number, n: number, limit: number): Array<Array<[number, number]>> {
  return Array.from({ length: n }, (_, i) => {
    const a = start + i * step;
    const b = a + step;
    const out: Array<[number, number]> = [];
    for (let s = Math.floor(a); s < Math.min(Math.ceil(b), limit); s++) {
      const overlap = Math.min(b, s + 1) - Math.max(a, s);
      if (overlap > 1e-12) out.push([s, overlap / step]);
    }
    return out;
  });
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

/** RGBA bytes as a planar RGB image in [0, 1] (alpha dropped). */
export function rgbaToRgb(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Image {
  positiveInt(width, 'width');
  positiveInt(height, 'height');
  const n = width * height;
  if (rgba.length !== n * 4) throw new LatentkitError(`RGBA data of ${rgba.length} bytes is not ${width}×${height}×4`);
  const data = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) data[k * n + i] = rgba[4 * i + k]! / 255;
  return { data, width, height, channels: 3 };
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
 * An image of `channels` planes (as Image) as 8-bit pixels interleaved for encodePng (RGBRGB…),
 * mapping [lo, hi] to [0, 255] (clamped).
 */
export function imageToBytes(img: Image, lo = 0, hi = 1): Uint8Array {
  const n = img.width * img.height;
  const c = img.channels;
  if (img.data.length !== c * n) throw new LatentkitError(`imageToBytes: ${img.data.length} values is not ${c}×${img.height}×${img.width}`);
  const k = 255 / (hi - lo);
  const out = new Uint8Array(c * n);
  for (let ch = 0; ch < c; ch++) for (let i = 0; i < n; i++) out[i * c + ch] = Math.max(0, Math.min(255, Math.round((img.data[ch * n + i]! - lo) * k)));
  return out;
}

/**
 * Tiles equally sized images into one grid image with a `gap`-pixel border of value `background`;
 * `columns` per row. Images with `channels` (as Image) give a grid with as many.
 */
export function imageGrid(images: GrayImage[], columns: number, gap?: number, background?: number): GrayImage;
export function imageGrid(images: Image[], columns: number, gap?: number, background?: number): Image;
export function imageGrid(images: Array<GrayImage & { channels?: number }>, columns: number, gap = 2, background = 1): GrayImage | Image {
  if (images.length === 0) throw new LatentkitError('imageGrid needs at least one image');
  const { width: w, height: h } = images[0]!;
  const c = images[0]!.channels ?? 1;
  const bad = images.findIndex((im) => im.width !== w || im.height !== h || (im.channels ?? 1) !== c);
  if (bad >= 0) throw new LatentkitError(`imageGrid: images must share one size, image ${bad} is ${images[bad]!.channels ?? 1}×${images[bad]!.height}×${images[bad]!.width} and image 0 ${c}×${h}×${w}`);
  const rows = Math.ceil(images.length / columns);
  const W = columns * (w + gap) + gap;
  const H = rows * (h + gap) + gap;
  const data = new Float32Array(c * W * H).fill(background);
  images.forEach((im, i) => {
    const x0 = gap + (i % columns) * (w + gap);
    const y0 = gap + Math.floor(i / columns) * (h + gap);
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) data.set(im.data.subarray((ch * h + y) * w, (ch * h + y + 1) * w), ch * W * H + (y0 + y) * W + x0);
    }
  });
  return images[0]!.channels === undefined ? { data, width: W, height: H } : { data, width: W, height: H, channels: c };
}
