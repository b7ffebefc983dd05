import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'ts/index.ts' },
  format: ['esm'],
  target: 'es2022',
  platform: 'neutral',
  dts: true,
  clean: true,
  minify: true,
  sourcemap: false,
  // The WebAssembly module is embedded, so one file works in Node, Deno and browsers.
  loader: { '.wasm': 'binary' },
});
