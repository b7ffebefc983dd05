// latentkit/png: PNG in and out through fast-png (every colour type, 1–16-bit depths,
// palettes, Adam7 interlacing), kept out of the core bundle like latentkit/jpeg.
import { convertIndexedToRgb, decode, encode } from 'fast-png';
import { type GrayImage, type Image, LatentkitError } from 'latentkit';

// ITU-R BT.601 luma, as rgbaToGray uses: a PNG and the same pixels as RGBA give the same gray image.
const LUMA = [0.299, 0.587, 0.114] as const;

interface Samples {
  samples: ArrayLike<number>;
  channels: number;
  max: number;
  width: number;
  height: number;
}

/** The PNG's samples, one per byte or word, interleaved, whatever its colour type and depth. */
function decodeSamples(bytes: Uint8Array): Samples {
  let png: ReturnType<typeof decode>;
  try {
    png = decode(bytes, { checkCrc: true });
  } catch (e) {
    throw new LatentkitError(`cannot decode PNG: ${(e as Error).message}`);
  }
  const { width, height } = png;
  let samples: ArrayLike<number> = png.data;
  let channels = png.channels;
  let max = 2 ** png.depth - 1;
  if (png.palette) {
    try {
      samples = convertIndexedToRgb(png);
    } catch (e) {
      throw new LatentkitError(`cannot decode PNG palette: ${(e as Error).message}`);
    }
    channels = png.palette[0]?.length ?? 3;
    max = 255;
  } else if (png.depth < 8) {
    samples = unpackRows(png.data as Uint8Array, width, height, png.depth);
  }
  if (samples.length < width * height * channels) {
    throw new LatentkitError(`cannot decode PNG: ${width}×${height}×${channels} samples expected, ${samples.length} present`);
  }
  return { samples, channels, max, width, height };
}

/**
 * Decodes any PNG (gray, gray+alpha, RGB, RGBA or palette; 1, 2, 4, 8 or 16 bits;
 * interlaced or not) to a grayscale image with values in [0, 1]. Alpha is ignored.
 */
export function decodePngGray(bytes: Uint8Array): GrayImage {
  const { samples, channels, max, width, height } = decodeSamples(bytes);
  const colour = channels >= 3;
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) {
    const s = i * channels;
    data[i] = colour
      ? (LUMA[0] * samples[s]! + LUMA[1] * samples[s + 1]! + LUMA[2] * samples[s + 2]!) / max
      : samples[s]! / max;
  }
  return { data, width, height };
}

/**
 * Decodes any PNG to an image of `channels` planes in [0, 1] (default: the file's own, 1 for gray
 * and 3 for colour; alpha is ignored). Gray asked of a colour file is decodePngGray's luma; colour
 * asked of a gray file repeats the plane. `sourceChannels` says which the file held.
 */
export function decodePng(bytes: Uint8Array, opts: { channels?: 1 | 3 } = {}): Image & { sourceChannels: 1 | 3 } {
  if (opts.channels !== undefined && opts.channels !== 1 && opts.channels !== 3) throw new LatentkitError(`decodePng: channels must be 1 or 3, got ${JSON.stringify(opts.channels)}`);
  const decoded = decodeSamples(bytes);
  const sourceChannels = decoded.channels >= 3 ? 3 : 1;
  const channels = opts.channels ?? sourceChannels;
  if (channels === 1) return { ...decodePngGray(bytes), channels, sourceChannels };
  const { samples, channels: stride, max, width, height } = decoded;
  const n = width * height;
  const data = new Float32Array(3 * n);
  for (let k = 0; k < 3; k++) for (let i = 0; i < n; i++) data[k * n + i] = samples[i * stride + (sourceChannels === 3 ? k : 0)]! / max;
  return { data, width, height, channels, sourceChannels };
}

/** Gray samples of 1, 2 or 4 bits, packed MSB first with each row starting on a byte, one per byte. */
function unpackRows(packed: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      out[y * width + x] = (packed[y * rowBytes + (bit >> 3)]! >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/**
 * Encodes pixels (1 = gray, 2 = gray+alpha, 3 = RGB, 4 = RGBA channels, row-major) as a
 * PNG of 8 bits per sample (`Uint8Array`) or 16 (`Uint16Array`).
 */
export function encodePng(pixels: Uint8Array | Uint16Array, width: number, height: number, channels: 1 | 2 | 3 | 4): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new LatentkitError(`encodePng: width and height must be positive integers, got ${width}×${height}`);
  }
  if (![1, 2, 3, 4].includes(channels)) throw new LatentkitError(`encodePng: channels must be 1, 2, 3 or 4, got ${channels}`);
  if (pixels.length !== width * height * channels) {
    throw new LatentkitError(`encodePng: ${pixels.length} samples is not ${width}×${height}×${channels}`);
  }
  return encode({ width, height, data: pixels, channels, depth: pixels instanceof Uint16Array ? 16 : 8 });
}
