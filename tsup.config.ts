import { defineConfig } from 'tsup';

export default defineConfig({
  // index: the library, WebAssembly embedded. jpeg: the optional JPEG helper, kept
  // separate so the core bundle does not carry a JPEG decoder.
  entry: { index: 'ts/index.ts', jpeg: 'ts/jpeg.ts', node: 'ts/node.ts' },
  format: ['esm'],
  target: 'es2022',
  platform: 'neutral',
  dts: true,
  clean: true,
  minify: true,
  sourcemap: false,
  // latentkit/node and latentkit/jpeg import the main entry by name, so each file stands alone.
  external: ['jpeg-js', 'latentkit', /^node:/],
  // The WebAssembly module is embedded, so one file works in Node, Deno and browsers.
  loader: { '.wasm': 'base64' },
});
