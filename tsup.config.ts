import { defineConfig } from 'tsup';

export default defineConfig({
  // index: the library, WebAssembly embedded. jpeg, png: the optional image codecs, kept
  // separate so the core bundle carries no decoder.
  entry: { index: 'ts/index.ts', jpeg: 'ts/jpeg.ts', png: 'ts/png.ts', node: 'ts/node.ts' },
  format: ['esm'],
  target: 'es2022',
  platform: 'neutral',
  dts: true,
  clean: true,
  // Readable code with source maps: stack traces name our functions, and minifying is the
  // user's bundler's job (the size budget is measured through one, see bench/bundle-size.mjs).
  minify: false,
  sourcemap: true,
  // latentkit/node and latentkit/jpeg import the main entry by name, so each file stands alone.
  external: ['jpeg-js', 'fast-png', 'latentkit', /^node:/],
  // The WebAssembly module is embedded, so one file works in Node, Deno and browsers.
  loader: { '.wasm': 'base64' },
});
