#!/usr/bin/env node
// What a browser app downloads for latentkit: esbuild --bundle --minify --splitting of a consumer
// that imports everything in the main entry (so nothing of it is tree-shaken away), gzip -9.
// `raw`/`gzip`: what loads with the page; `onDemand`: the chunks only a dynamic import reaches
// (the fast tier's module, fetched by setPrecision('fast')).
//   node bench/bundle-size.mjs       prints { raw, gzip, onDemand } in bytes for the built dist/
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
    splitting: true,
    outdir: join(root, 'target', 'bundle-size'),
    absWorkingDir: root,
    metafile: true,
    platform: 'browser',
    write: false,
    logLevel: 'silent',
    // The repo's tsconfig maps 'latentkit' to ts/ for type checking; a consumer sees the package.
    tsconfigRaw: {},
  });
  const files = new Map(result.outputFiles.map((f) => [f.path, f.contents]));
  const outputs = result.metafile.outputs;
  const entryOutput = Object.keys(outputs).find((k) => outputs[k].entryPoint !== undefined);
  // The entry and every chunk it reaches by static imports load with the page.
  const eager = new Set();
  const visit = (k) => {
    if (eager.has(k)) return;
    eager.add(k);
    for (const i of outputs[k].imports) if (i.kind === 'import-statement') visit(i.path);
  };
  visit(entryOutput);
  const measure = (keys) => {
    const parts = [...keys].map((k) => files.get(join(root, k)));
    return { raw: parts.reduce((s, b) => s + b.length, 0), gzip: parts.reduce((s, b) => s + gzipSync(b, { level: 9 }).length, 0) };
  };
  const lazy = new Set(Object.keys(outputs).filter((k) => !eager.has(k)));
  return { ...measure(eager), onDemand: measure(lazy) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const b = await consumerBundleBytes();
  console.log(JSON.stringify(b));
  console.log(`browser bundle of the main entry: ${(b.raw / 1024).toFixed(1)} KB minified, ${(b.gzip / 1024).toFixed(1)} KB gzip -9; loaded on demand (the fast tier): ${(b.onDemand.raw / 1024).toFixed(1)} KB, ${(b.onDemand.gzip / 1024).toFixed(1)} KB gzip -9`);
}
