// latentkit/png: every PNG kind decodes to the gray image its samples define; the encoder round-trips.
import { describe, expect, it } from 'vitest';
import { LatentkitError } from '../dist/index.js';
import { decodePngGray, encodePng } from '../dist/png.js';
import { expectClose } from './helpers.js';
import { PNG_KIND_SIZE, pngKinds } from './png-kinds.js';

describe('latentkit/png', () => {
  it('decodes gray, gray+alpha, RGB, RGBA and palette PNGs of every bit depth, interlaced or not', () => {
    const kinds = pngKinds();
    expect(kinds.length).toBeGreaterThanOrEqual(17);
    for (const k of kinds) {
      const img = decodePngGray(k.bytes);
      expect([img.width, img.height], k.name).toEqual([PNG_KIND_SIZE.width, PNG_KIND_SIZE.height]);
      expectClose(img.data, k.gray, 0, 1e-6, k.name);
    }
  });

  it('round-trips 8- and 16-bit gray and RGB through encodePng', () => {
    const gray8 = Uint8Array.from({ length: 12 }, (_, i) => i * 21);
    expectClose(decodePngGray(encodePng(gray8, 4, 3, 1)).data, Array.from(gray8, (v) => v / 255), 0, 1e-7, 'gray 8-bit');
    const gray16 = Uint16Array.from({ length: 12 }, (_, i) => i * 5000 + 7);
    expectClose(decodePngGray(encodePng(gray16, 3, 4, 1)).data, Array.from(gray16, (v) => v / 65535), 0, 1e-7, 'gray 16-bit');
    const rgb = Uint8Array.from({ length: 2 * 2 * 3 }, (_, i) => (i * 40) % 256);
    const want = [0, 1, 2, 3].map((p) => (0.299 * rgb[3 * p]! + 0.587 * rgb[3 * p + 1]! + 0.114 * rgb[3 * p + 2]!) / 255);
    expectClose(decodePngGray(encodePng(rgb, 2, 2, 3)).data, want, 0, 1e-6, 'RGB 8-bit');
  });

  it('names the problem for corrupt files and bad arguments', () => {
    const good = encodePng(new Uint8Array(16), 4, 4, 1);
    const cases: [() => unknown, RegExp][] = [
      [() => decodePngGray(new Uint8Array([1, 2, 3, 4])), /cannot decode PNG/],
      [() => decodePngGray(good.subarray(0, good.length - 20)), /cannot decode PNG/],
      [() => { const b = good.slice(); b[40] ^= 0xff; return decodePngGray(b); }, /cannot decode PNG/],
      [() => encodePng(new Uint8Array(5), 2, 2, 1), /5 samples is not 2×2×1/],
      [() => encodePng(new Uint8Array(4), 2, 2, 5 as 1), /channels must be 1, 2, 3 or 4/],
      [() => encodePng(new Uint8Array(0), 0, 2, 1), /positive integers, got 0×2/],
    ];
    for (const [f, pattern] of cases) {
      expect(f).toThrow(LatentkitError);
      expect(f).toThrow(pattern);
    }
  });
});
