import { readFile } from 'node:fs/promises';
import { deflateRawSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';
import { defineConfig } from 'tsup';
import { adler32 } from './ts/runtime/adler32.js';

/**
 * `import embedded from '….wasm'`: the module deflated (raw DEFLATE, level 9), then base64, with
 * its length and the Adler-32 of the deflated bytes, which ts/runtime/wasm.ts checks and inflates.
 * esbuild's base64 loader embedded the bytes as they are, and gzip wins back only a part of
 * base64's third more from text that encodes uncompressed code: the exact tier's module was
 * 57.8 KB of the page's gzip, deflated first it is 42.6 KB.
 */
const deflatedWasm: Plugin = {
  name: 'deflated-wasm',
  setup(b) {
    b.onLoad({ filter: /\.wasm$/ }, async (args) => {
      const bytes = await readFile(args.path);
      const deflated = deflateRawSync(bytes, { level: 9, memLevel: 9 });
      return { contents: `export default { length: ${bytes.length}, adler32: ${adler32(deflated)}, deflated: ${JSON.stringify(deflated.toString('base64'))} };`, loader: 'js' };
    });
  },
};

/**
 * `import source from './worker.ts?worker-source'`: the worker bundled on its own into one
 * script with no imports left (an IIFE), embedded as text, so a thread can start from it as a
 * node:worker_threads script or a Blob-URL Web Worker. Being a string, no consumer's bundler
 * minifies it, so it is built without whitespace or comments (names kept, so a worker's stack
 * trace still names our functions): 5 KB less text to load and parse, which kept the browser
 * bundle within its 80 KB gzip budget (81.1 → 79.5 KB).
 */
const workerSource: Plugin = {
  name: 'worker-source',
  setup(b) {
    b.onResolve({ filter: /\?worker-source$/ }, (args) => ({
      path: new URL(args.path.replace(/\?worker-source$/, ''), `file://${args.resolveDir}/`).pathname,
      namespace: 'worker-source',
    }));
    b.onLoad({ filter: /.*/, namespace: 'worker-source' }, async (args) => {
      const out = await build({ entryPoints: [args.path], bundle: true, format: 'iife', target: 'es2022', platform: 'neutral', external: ['node:*'], write: false, metafile: true, minifyWhitespace: true, minifySyntax: true });
      return { contents: `export default ${JSON.stringify(out.outputFiles[0]!.text)};`, loader: 'js', watchFiles: Object.keys(out.metafile.inputs) };
    });
  },
};

export default defineConfig({
  // index: the library, WebAssembly embedded. jpeg, png: the optional image codecs, and onnx,
  // the ONNX export, kept separate so the core bundle carries no decoder or protobuf library. internal: the raw kernels and heap for
  // latentkit's own tests and benchmarks; it shares modules with index (one WebAssembly
  // instance) and is not in package.json's exports.
  entry: { index: 'ts/index.ts', internal: 'ts/internal.ts', jpeg: 'ts/jpeg.ts', png: 'ts/png.ts', node: 'ts/node.ts', onnx: 'ts/onnx.ts' },
  format: ['esm'],
  target: 'es2022',
  platform: 'neutral',
  // Members marked @internal stay out of the published declarations.
  dts: { compilerOptions: { stripInternal: true } },
  clean: true,
  // Whitespace only: names and statements stay as written, so stack traces name our functions
  // and the source maps lead back to the TypeScript. Node parses 300 → 250 KB at import:
  // `node bench/compare-builds.mjs --base 708e1e4 --cold-start-only` gave 0.94× the cold start,
  // faster in 41 of 55 alternate pairs. Further minifying is the user's bundler's job (the size
  // budget is measured through one, see bench/bundle-size.mjs).
  minifyWhitespace: true,
  sourcemap: true,
  // latentkit/node and latentkit/jpeg import the main entry by name, so each file stands alone.
  external: ['jpeg-js', 'fast-png', 'onnx-proto', 'latentkit', /^node:/],
  // The WebAssembly module is embedded, so one file works in Node, Deno and browsers; so is the
  // inflater that unpacks it (the main entry imports no package by name).
  noExternal: ['tiny-inflate'],
  esbuildPlugins: [workerSource, deflatedWasm],
});
