// latentkit/jpeg: JPEG → gray or RGB images, through jpeg-js (kept out of the core bundle).
import jpeg from 'jpeg-js';
import { type GrayImage, type Image, LatentkitError, rgbaToGray, rgbaToRgb } from 'latentkit';

/** Decodes a baseline or progressive JPEG to a grayscale image with values in [0, 1]. */
export function decodeJpegGray(bytes: Uint8Array, opts: { maxMegapixels?: number } = {}): GrayImage {
  const decoded = decodeRgba(bytes, opts.maxMegapixels);
  return rgbaToGray(decoded.data, decoded.width, decoded.height);
}

/**
 * Decodes a JPEG to an image of `channels` planes in [0, 1] (default: 1 when every pixel is gray,
 * else 3). Gray is decodeJpegGray's luma; `sourceChannels` says whether the file held colour.
 */
export function decodeJpeg(bytes: Uint8Array, opts: { channels?: 1 | 3; maxMegapixels?: number } = {}): Image & { sourceChannels: 1 | 3 } {
  if (opts.channels !== undefined && opts.channels !== 1 && opts.channels !== 3) throw new LatentkitError(`decodeJpeg: channels must be 1 or 3, got ${JSON.stringify(opts.channels)}`);
  const { data: rgba, width, height } = decodeRgba(bytes, opts.maxMegapixels);
  let gray = true;
  for (let i = 0; i < rgba.length && gray; i += 4) gray = rgba[i] === rgba[i + 1] && rgba[i] === rgba[i + 2];
  const sourceChannels = gray ? 1 : 3;
  const channels = opts.channels ?? sourceChannels;
  return channels === 1 ? { ...rgbaToGray(rgba, width, height), channels, sourceChannels } : { ...rgbaToRgb(rgba, width, height), sourceChannels };
}

function decodeRgba(bytes: Uint8Array, maxMegapixels = 100): { width: number; height: number; data: Uint8Array } {
  try {
    return jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: maxMegapixels });
  } catch (e) {
    throw new LatentkitError(`cannot decode JPEG: ${(e as Error).message}`);
  }
}
