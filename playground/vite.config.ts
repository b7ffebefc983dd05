// The playground: `npm run playground` (dev server) and `npm run playground:build` (static site in
// playground/dist). Both send the two cross-origin-isolation headers, without which browsers
// withhold SharedArrayBuffer and latentkit trains on one thread; a static host must send them too.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { pageAssets } from './assets-plugin.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: here('.'),
  base: './',
  // The page uses the package exactly as users get it: the built dist, through its exports.
  resolve: {
    alias: [
      { find: /^latentkit$/, replacement: here('../dist/index.js') },
      { find: /^latentkit\/(png|jpeg)$/, replacement: here('../dist/$1.js') },
    ],
  },
  plugins: [pageAssets()],
  worker: { format: 'es' },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  build: { outDir: here('dist'), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1024 },
});
