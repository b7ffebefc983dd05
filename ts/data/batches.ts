import { LatentkitError } from '../errors.js';
import { Rng } from '../runtime/rng.js';
import { type Matrix, asMatrix, positiveInt } from '../nn/matrix.js';

/**
 * Seeded minibatch iteration: yields copies of consecutive batches of rows in
 * an order shuffled by xoshiro128** (the same order for the same seed in
 * every runtime). `ys` are sliced along with x when given.
 */
export function* minibatches(x: Matrix, batchSize: number, opts: { seed?: number | bigint; shuffle?: boolean; ys?: Matrix[] } = {}): Generator<{ x: Matrix; ys: Matrix[]; indices: Uint32Array }> {
  const m = asMatrix(x, x.shape[1], 'minibatches x');
  const rows = m.shape[0];
  positiveInt(batchSize, 'batchSize');
  const ys = (opts.ys ?? []).map((y, i) => {
    const ym = asMatrix(y, y.shape[1], `minibatches ys[${i}]`);
    if (ym.shape[0] !== rows) throw new LatentkitError(`minibatches: ys[${i}] has ${ym.shape[0]} rows, x has ${rows}`);
    return ym;
  });
  const order = new Uint32Array(rows).map((_, i) => i);
  if (opts.shuffle ?? true) {
    const rng = new Rng(opts.seed ?? 0);
    try {
      rng.shuffle(order);
    } finally {
      rng.dispose();
    }
  }
  for (let start = 0; start < rows; start += batchSize) {
    const indices = order.slice(start, Math.min(rows, start + batchSize));
    const pick = (src: Matrix) => {
      const w = src.shape[1];
      const data = new Float32Array(indices.length * w);
      indices.forEach((r, i) => data.set(src.data.subarray(r * w, r * w + w), i * w));
      return { data, shape: [indices.length, w] as [number, number] };
    };
    yield { x: pick(m), ys: ys.map(pick), indices };
  }
}
