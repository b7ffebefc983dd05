#!/usr/bin/env node
// What a browser app downloads for latentkit: esbuild --bundle --minify of a consumer that
// imports everything in the main entry (so nothing of it is tree-shaken away), gzip -9.
//   node bench/bundle-size.mjs       prints { raw, gzip } in bytes for the built dist/
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Bytes of the minified browser bundle of a consumer of `entry` (a package name or path). */
export async function consumerBundleBytes({ resolveDir = root, entry = 'latentkit' } = {}) {
  const result = await build({
    stdin: { contents: `import * as latentkit from ${JSON.stringify(entry)};\nglobalThis.latentkit = latentkit;\n`, resolveDir, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
    // The repo's tsconfig maps 'latentkit' to ts/ for type checking; a consumer sees the package.
    tsconfigRaw: {},
  });
  const bytes = result.outputFiles[0].contents;
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const b = await consumerBundleBytes();
  console.log(JSON.stringify(b));
  console.log(`browser bundle of the main entry: ${(b.raw / 1024).toFixed(1)} KB minified, ${(b.gzip / 1024).toFixed(1)} KB gzip -9`);
}
