// latentkit/jpeg: JPEG → grayscale, through jpeg-js (kept out of the core bundle).
import jpeg from 'jpeg-js';
import { type GrayImage, LatentkitError, rgbaToGray } from 'latentkit';

/** Decodes a baseline or progressive JPEG to a grayscale image with values in [0, 1]. */
export function decodeJpegGray(bytes: Uint8Array, opts: { maxMegapixels?: number } = {}): GrayImage {
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: opts.maxMegapixels ?? 100 });
  } catch (e) {
    throw new LatentkitError(`cannot decode JPEG: ${(e as Error).message}`);
  }
  return rgbaToGray(decoded.data, decoded.width, decoded.height);
}
