// The committed modules: built from the current Rust sources, really SIMD, and the fast tier's
// really relaxed SIMD.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { memoryStats } from '../dist/index.js';
import { embeddedModule, embeddedModules, inflateInJs, nativeInflate, streamInflate } from '../dist/internal.js';
// @ts-expect-error plain .mjs helper shared with the build script
import { rustSourceHash } from '../scripts/source-hash.mjs';

const root = new URL('..', import.meta.url).pathname;
const wasm = readFileSync(new URL('../wasm/latentkit.wasm', import.meta.url));
const fast = readFileSync(new URL('../wasm/latentkit-fast.wasm', import.meta.url));
const meta = JSON.parse(readFileSync(new URL('../wasm/latentkit.wasm.json', import.meta.url), 'utf8'));

function leb(bytes: Uint8Array, at: number): [number, number] {
  let v = 0;
  let shift = 0;
  let b: number;
  do {
    b = bytes[at++]!;
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  return [v, at];
}

/** Functions of the code section whose locals include a v128 (type 0x7b). */
function functionsWithV128Locals(bytes: Uint8Array): { total: number; simd: number } {
  let i = 8;
  while (i < bytes.length) {
    const id = bytes[i++]!;
    let size: number;
    [size, i] = leb(bytes, i);
    if (id === 10) {
      let count: number;
      let p = i;
      [count, p] = leb(bytes, p);
      let simd = 0;
      for (let f = 0; f < count; f++) {
        let bodySize: number;
        [bodySize, p] = leb(bytes, p);
        const end = p + bodySize;
        let groups: number;
        let q = p;
        [groups, q] = leb(bytes, q);
        let hasV128 = false;
        for (let g = 0; g < groups; g++) {
          [, q] = leb(bytes, q);
          if (bytes[q++] === 0x7b) hasV128 = true;
        }
        if (hasV128) simd++;
        p = end;
      }
      return { total: count, simd };
    }
    i += size;
  }
  return { total: 0, simd: 0 };
}

describe('the committed WebAssembly module', () => {
  it('was built from the Rust sources as they are now (run `npm run build:wasm` if not)', () => {
    expect(meta.sourceHash, 'wasm/latentkit.wasm.json sourceHash vs the hash of crates/').toBe(rustSourceHash(root));
    expect(createHash('sha256').update(wasm).digest('hex'), 'wasm/latentkit.wasm').toBe(meta.modules.exact.sha256);
    expect(createHash('sha256').update(fast).digest('hex'), 'wasm/latentkit-fast.wasm').toBe(meta.modules.fast.sha256);
    expect(meta.rustc).toMatch(/^rustc 1\.96\./);
  });

  it('both tiers contain 128-bit SIMD code', () => {
    for (const [name, bytes] of [['exact', wasm], ['fast', fast]] as const) {
      const { total, simd } = functionsWithV128Locals(bytes);
      expect(total).toBeGreaterThan(10);
      expect(simd, `${name}: ${simd} of ${total} functions use v128 locals`).toBeGreaterThan(3);
    }
  });

  it('the fast module needs relaxed SIMD and the exact one does not', () => {
    // Node 20 validates relaxed SIMD only with its flag: a process without it, and one with it.
    const script = `const fs = require('node:fs'); console.log(JSON.stringify(['wasm/latentkit.wasm', 'wasm/latentkit-fast.wasm'].map((f) => WebAssembly.validate(fs.readFileSync(${JSON.stringify(root)} + f)))));`;
    expect(JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })), 'without relaxed SIMD: [exact, fast]').toEqual([true, false]);
    expect(JSON.parse(execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '-e', script], { encoding: 'utf8' })), 'with relaxed SIMD: [exact, fast]').toEqual([true, true]);
  });

  it('the exact module is the one embedded in the main bundle', () => {
    expect(memoryStats().wasmBytes).toBe(wasm.length);
  });

  it('both embedded modules unpack to the committed bytes with zlib, DecompressionStream (browsers) and tiny-inflate (older engines), and refuse damaged ones', async () => {
    const modules = await embeddedModules();
    const inflaters = { zlib: nativeInflate(), DecompressionStream: streamInflate(), 'tiny-inflate': inflateInJs };
    expect(inflaters.zlib, 'Node 20.16+ offers node:zlib through process.getBuiltinModule').not.toBeNull();
    expect(inflaters.DecompressionStream, 'Node 20.12+ has DecompressionStream with raw DEFLATE').not.toBeNull();
    for (const [tier, embedded] of Object.entries(modules)) {
      const sha256 = meta.modules[tier].sha256;
      for (const [how, inflate] of Object.entries(inflaters)) {
        const bytes = await embeddedModule(embedded, inflate!);
        expect(bytes.buffer.byteLength, `${tier} via ${how}: the bytes own their buffer`).toBe(bytes.byteLength);
        expect(createHash('sha256').update(bytes).digest('hex'), `${tier} tier unpacked by ${how}`).toBe(sha256);
      }
      // Damaged: cut in half, or one byte changed. tiny-inflate alone would never return from
      // either; zlib and DecompressionStream stop at the end of their input (a changed byte they
      // may not notice: raw DEFLATE has no checksum, and the bytes they give then fail to compile).
      const deflated = Buffer.from(embedded.deflated, 'base64');
      const flipped = Buffer.from(deflated);
      flipped[flipped.length >> 1]! ^= 0x10;
      const damaged = (bytes: Buffer) => ({ ...embedded, deflated: bytes.toString('base64') });
      const half = damaged(deflated.subarray(0, deflated.length >> 1));
      await expect(embeddedModule(half, inflaters.zlib!), `${tier}: half its bytes, zlib`).rejects.toThrow(/embedded WebAssembly module is damaged \(zlib: .*\): reinstall/);
      await expect(embeddedModule(half, inflaters.DecompressionStream!), `${tier}: half its bytes, DecompressionStream`).rejects.toThrow(/embedded WebAssembly module is damaged \(DecompressionStream: .*\): reinstall/);
      for (const [what, e] of [['half its bytes', half], ['a byte changed', damaged(flipped)]] as const) {
        await expect(embeddedModule(e, inflateInJs), `${tier}: ${what}, tiny-inflate`).rejects.toThrow(/embedded WebAssembly module is damaged \(the Adler-32 of its \d+ deflated bytes is \d+, built as \d+\): reinstall/);
      }
    }
  });
});
