// latentkit/node: file helpers for Node (the core stays free of Node APIs).
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
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
