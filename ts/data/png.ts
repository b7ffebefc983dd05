import { LatentkitError } from '../errors.js';
import type { GrayImage } from './image.js';

// PNG with stored (uncompressed) deflate blocks: no zlib needed, so it works in every runtime.

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Encodes 8-bit pixels (1 = gray, 3 = RGB, 4 = RGBA channels) as a PNG file. */
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3 | 4): Uint8Array {
  if (pixels.length !== width * height * channels) throw new LatentkitError(`encodePng: ${pixels.length} bytes is not ${width}×${height}×${channels}`);
  const rowBytes = width * channels + 1;
  const raw = new Uint8Array(rowBytes * height);
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width * channels, (y + 1) * width * channels), y * rowBytes + 1);
  // zlib stream of stored blocks (≤ 65535 bytes each) + Adler-32.
  const blocks = Math.max(1, Math.ceil(raw.length / 65535));
  const z = new Uint8Array(2 + raw.length + blocks * 5 + 4);
  z[0] = 0x78;
  z[1] = 0x01;
  let o = 2;
  for (let b = 0; b < blocks; b++) {
    const start = b * 65535;
    const len = Math.min(65535, raw.length - start);
    z[o++] = b === blocks - 1 ? 1 : 0;
    z[o++] = len & 0xff;
    z[o++] = len >>> 8;
    z[o++] = ~len & 0xff;
    z[o++] = (~len >>> 8) & 0xff;
    z.set(raw.subarray(start, start + len), o);
    o += len;
  }
  let a = 1;
  let bsum = 0;
  for (let i = 0; i < raw.length; i++) {
    a = (a + raw[i]!) % 65521;
    bsum = (bsum + a) % 65521;
  }
  const adler = ((bsum << 16) | a) >>> 0;
  z[o++] = adler >>> 24;
  z[o++] = (adler >>> 16) & 0xff;
  z[o++] = (adler >>> 8) & 0xff;
  z[o++] = adler & 0xff;
  const colorType = channels === 1 ? 0 : channels === 3 ? 2 : 6;
  const chunks: [string, Uint8Array][] = [
    ['IHDR', new Uint8Array([...u32(width), ...u32(height), 8, colorType, 0, 0, 0])],
    ['IDAT', z],
    ['IEND', new Uint8Array(0)],
  ];
  const total = 8 + chunks.reduce((s, [, d]) => s + 12 + d.length, 0);
  const out = new Uint8Array(total);
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let p = 8;
  for (const [type, data] of chunks) {
    out.set(u32(data.length), p);
    for (let i = 0; i < 4; i++) out[p + 4 + i] = type.charCodeAt(i);
    out.set(data, p + 8);
    out.set(u32(crc32(out, p + 4, p + 8 + data.length)), p + 8 + data.length);
    p += 12 + data.length;
  }
  return out;
}

function u32(v: number): number[] {
  return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
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
