// The hash that ties wasm/latentkit.wasm to the Rust sources it was built from:
// SHA-256 over every file under crates/ plus the workspace manifest and lock
// file, each as "path\0content\0", in sorted path order.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

export function rustSourceFiles(root) {
  const files = walk(join(root, 'crates'), []);
  files.push(join(root, 'Cargo.toml'), join(root, 'Cargo.lock'));
  return files.map((f) => relative(root, f).split(sep).join('/')).sort();
}

export function rustSourceHash(root) {
  const h = createHash('sha256');
  for (const rel of rustSourceFiles(root)) {
    h.update(rel + '\0');
    // Normalise line endings so a Windows checkout hashes the same.
    h.update(readFileSync(join(root, rel), 'utf8').replace(/\r\n/g, '\n') + '\0');
  }
  return h.digest('hex');
}
