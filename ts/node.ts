// latentkit/node: file helpers for Node, and the V8 flag Node 20 needs for the fast tier (the core
// stays free of Node APIs).
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
// The package's own entry (not relative paths), so the bundle shares one module instance with it.
import { LatentkitError, type SavableModel, load, save } from 'latentkit';

/**
 * Writes bytes (or a model, through `save`) atomically: to a temporary file in
 * the same folder, fsync, then rename over the target and fsync the folder. A
 * crash mid-write leaves the previous file intact.
 */
export function writeFileAtomic(path: string, data: Uint8Array | SavableModel): void {
  const bytes = data instanceof Uint8Array ? data : save(data);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let fd = -1;
  try {
    fd = openSync(tmp, 'w', 0o644);
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new LatentkitError(`cannot write ${path}: ${(e as Error).message}`);
  }
  try {
    const dfd = openSync(dirname(path), 'r');
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    // Some file systems cannot fsync a directory; the rename itself is atomic.
  }
}

/** Reads a model file written by `save`/`checkpoint` (or writeFileAtomic). */
export function loadFile(path: string): SavableModel {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new LatentkitError(`cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return load(bytes);
  } catch (e) {
    if (e instanceof LatentkitError) throw new LatentkitError(`${path}: ${e.message.replace(/^latentkit: /, '')}`);
    throw e;
  }
}

// (module (func (param v128 v128 v128) (result v128) local.get 0 local.get 1 local.get 2 f32x4.relaxed_madd))
const RELAXED_SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 0x60, 3, 0x7b, 0x7b, 0x7b, 1, 0x7b, 3, 2, 1, 0, 10, 13, 1, 11, 0, 0x20, 0, 0x20, 1, 0x20, 2, 0xfd, 0x85, 0x02, 0x0b]);

/**
 * Lets this Node process compile WebAssembly relaxed SIMD, which the fast tier needs: Node 20 has
 * it only behind V8's `--experimental-wasm-relaxed-simd`, turned on here where the engine lacks
 * it. Call it before `setPrecision('fast')`. The flag is process-wide, so it is for applications
 * (a CLI, a script, a bench) to call, not for a library inside someone else's process. Returns
 * whether the engine now compiles relaxed SIMD; where it cannot, `setPrecision('fast')` stays
 * exact and says why.
 */
export function enableRelaxedSimd(): boolean {
  if (!WebAssembly.validate(RELAXED_SIMD_PROBE)) setFlagsFromString('--experimental-wasm-relaxed-simd');
  return WebAssembly.validate(RELAXED_SIMD_PROBE);
}
