// PNG files of every kind the decoder must read, made with fast-png's encoder from known
// samples, and the gray image (BT.601 luma in [0, 1], alpha ignored) each must decode to.
import { encode } from 'fast-png';

export interface PngKind {
  name: string;
  bytes: Uint8Array;
  gray: Float32Array;
}

const W = 5; // odd, so packed rows of 1, 2 and 4 bits end mid-byte
const H = 3;
const luma = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;

/** Samples of `depth` bits, one per byte, packed MSB first with each row starting on a byte. */
function pack(samples: number[], depth: number): Uint8Array {
  const rowBytes = Math.ceil((W * depth) / 8);
  const out = new Uint8Array(rowBytes * H);
  samples.forEach((v, i) => {
    const y = Math.floor(i / W);
    const bit = (i % W) * depth;
    out[y * rowBytes + (bit >> 3)]! |= v << (8 - depth - (bit & 7));
  });
  return out;
}

function sample(i: number, c: number, max: number): number {
  return (i * 7 + c * 5 + 3) % (max + 1);
}

export function pngKinds(): PngKind[] {
  const n = W * H;
  const kinds: PngKind[] = [];
  const add = (name: string, bytes: Uint8Array, gray: (i: number) => number) =>
    kinds.push({ name, bytes, gray: Float32Array.from({ length: n }, (_, i) => gray(i)) });

  for (const depth of [1, 2, 4, 8, 16] as const) {
    const max = 2 ** depth - 1;
    const s = Array.from({ length: n }, (_, i) => sample(i, 0, max));
    const data = depth < 8 ? pack(s, depth) : depth === 16 ? Uint16Array.from(s) : Uint8Array.from(s);
    add(`gray-${depth}bit`, encode({ width: W, height: H, channels: 1, depth, data }), (i) => s[i]! / max);
  }
  for (const [channels, label] of [[2, 'gray-alpha'], [3, 'rgb'], [4, 'rgba']] as const) {
    for (const depth of [8, 16] as const) {
      const max = 2 ** depth - 1;
      const s = Array.from({ length: n * channels }, (_, j) => sample(Math.floor(j / channels), j % channels, max));
      const data = depth === 16 ? Uint16Array.from(s) : Uint8Array.from(s);
      const gray = (i: number) => (channels === 2 ? s[2 * i]! : luma(s[channels * i]!, s[channels * i + 1]!, s[channels * i + 2]!)) / max;
      add(`${label}-${depth}bit`, encode({ width: W, height: H, channels, depth, data }), gray);
    }
  }
  for (const depth of [1, 2, 4, 8] as const) {
    const colours = 2 ** depth;
    const palette = Array.from({ length: colours }, (_, k) => [(k * 97) % 256, (k * 31 + 40) % 256, (k * 53 + 7) % 256]);
    const idx = Array.from({ length: n }, (_, i) => (i * 3 + 1) % colours);
    const data = depth < 8 ? pack(idx, depth) : Uint8Array.from(idx);
    const bytes = encode({ width: W, height: H, channels: 1, depth, data, palette });
    add(`palette-${depth}bit`, bytes, (i) => luma(...(palette[idx[i]!] as [number, number, number])) / 255);
  }
  {
    const s = Array.from({ length: n }, (_, i) => sample(i, 0, 255));
    add('gray-8bit-interlaced', encode({ width: W, height: H, channels: 1, depth: 8, data: Uint8Array.from(s) }, { interlace: 'Adam7' }), (i) => s[i]! / 255);
    const rgb = Array.from({ length: n * 3 }, (_, j) => sample(Math.floor(j / 3), j % 3, 65535));
    add('rgb-16bit-interlaced', encode({ width: W, height: H, channels: 3, depth: 16, data: Uint16Array.from(rgb) }, { interlace: 'Adam7' }),
      (i) => luma(rgb[3 * i]!, rgb[3 * i + 1]!, rgb[3 * i + 2]!) / 65535);
  }
  return kinds;
}

export const PNG_KIND_SIZE = { width: W, height: H };
