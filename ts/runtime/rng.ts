import { LatentkitError } from '../errors.js';
import { Block, heap } from './memory.js';
import { kernels } from './dispatch.js';

/** Parses a seed: a non-negative safe integer or a bigint below 2^64. */
export function seedWords(seed: number | bigint): [number, number] {
  if (typeof seed === 'number') {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new LatentkitError(`seed must be a non-negative integer (or bigint), got ${seed}`);
    }
    return [seed % 0x100000000 >>> 0, Math.floor(seed / 0x100000000) >>> 0];
  }
  if (typeof seed === 'bigint' && seed >= 0n && seed < 1n << 64n) {
    return [Number(seed & 0xffffffffn), Number(seed >> 32n)];
  }
  throw new LatentkitError(`seed must be a non-negative integer below 2^64, got ${String(seed)}`);
}

function arrayCount(count: number, what: string): void {
  if (!Number.isSafeInteger(count) || count < 0) throw new LatentkitError(`${what}: count must be a non-negative integer, got ${count}`);
}

/**
 * xoshiro128** seeded through splitmix64, its 16-byte state in WebAssembly
 * memory (so a checkpoint can capture it). Every random number latentkit
 * uses comes from one of these.
 */
export class Rng {
  /** @internal */
  readonly state: Block;

  constructor(seed: number | bigint = 0) {
    const [lo, hi] = seedWords(seed);
    this.state = heap.alloc(4, 'random number generator state');
    kernels.rng_seed(this.state.ptr, lo, hi);
  }

  /** @internal */
  uniform(out: Block, lo = 0, hi = 1, count = out.length): void {
    kernels.rng_uniform(this.state.ptr, out.ptr, count, lo, hi);
  }

  /** @internal */
  normal(out: Block, mean = 0, std = 1, count = out.length): void {
    kernels.rng_normal(this.state.ptr, out.ptr, count, mean, std);
  }

  /** `count` numbers uniform in [lo, hi), as a new array (the same stream `uniform` draws). */
  uniformArray(count: number, lo = 0, hi = 1): Float32Array {
    arrayCount(count, 'uniformArray');
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi)) {
      throw new LatentkitError(`uniformArray needs finite lo < hi, got [${lo}, ${hi})`);
    }
    return heap.scoped((scope) => {
      const out = scope.alloc(count, `${count} uniform numbers`);
      this.uniform(out, lo, hi);
      return out.read();
    });
  }

  /** `count` normal numbers of the given mean and standard deviation, as a new array. */
  normalArray(count: number, mean = 0, std = 1): Float32Array {
    arrayCount(count, 'normalArray');
    if (!Number.isFinite(mean) || !Number.isFinite(std) || std < 0) {
      throw new LatentkitError(`normalArray needs a finite mean and a finite std ≥ 0, got mean ${mean}, std ${std}`);
    }
    return heap.scoped((scope) => {
      const out = scope.alloc(count, `${count} normal numbers`);
      this.normal(out, mean, std);
      return out.read();
    });
  }

  /**
   * Binary draws: out[i] = 1 with probability p[i], else 0 (dynamic binarisation of grey levels).
   * Each draw compares the next number of `uniformArray`'s stream with p[i], so it is the same as
   * `uniformArray(p.length)[i] < p[i]`, without the array. Writes into `out` (a new array by default;
   * it may be `p` itself) and returns it. A p[i] that is NaN or outside [0, 1] throws with its index
   * and leaves the generator where it was.
   */
  bernoulliArray(p: Float32Array, into?: Float32Array): Float32Array {
    if (!(p instanceof Float32Array) || !(into === undefined || into instanceof Float32Array)) throw new LatentkitError('bernoulliArray needs Float32Arrays of probabilities and for the draws');
    const out = into ?? new Float32Array(p.length);
    if (out.length !== p.length) throw new LatentkitError(`bernoulliArray: ${p.length} probabilities but room for ${out.length} draws`);
    const saved = this.getState();
    // In slices, so that a training set's worth of pixels needs no heap of its size.
    const slice = Math.min(p.length, 1 << 20);
    heap.scoped((scope) => {
      const block = scope.alloc(slice, `${slice} probabilities`);
      for (let at = 0; at < p.length; at += slice) {
        const n = Math.min(slice, p.length - at);
        block.write(p.subarray(at, at + n));
        const bad = kernels.rng_bernoulli(this.state.ptr, block.ptr, n);
        if (bad >= 0) {
          this.setState(saved);
          throw new LatentkitError(`bernoulliArray: p[${at + bad}] = ${p[at + bad]} is not a probability in [0, 1] (of ${p.length})`);
        }
        out.set(block.view().subarray(0, n), at);
      }
    });
    return out;
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return kernels.rng_below(this.state.ptr, n);
  }

  /**
   * Shuffles `items` in place (Fisher–Yates on this generator's stream) and returns them: the
   * same permutation latentkit's own minibatch order takes from the same state.
   */
  shuffle<T extends { length: number; [i: number]: unknown }>(items: T): T {
    const n = items.length;
    if (!Number.isSafeInteger(n) || n < 0) throw new LatentkitError('shuffle needs an array or typed array');
    heap.scoped((scope) => {
      const order = scope.alloc(n, `the order of ${n} items`);
      const u32 = heap.u32;
      for (let i = 0; i < n; i++) u32[order.index + i] = i;
      this.shuffleBlock(order, n);
      const idx = heap.u32.slice(order.index, order.index + n);
      const copy = Array.from({ length: n }, (_, i) => items[i]);
      for (let i = 0; i < n; i++) items[i] = copy[idx[i]!];
    });
    return items;
  }

  /** @internal Shuffles a block of u32 indices in place. */
  shuffleBlock(indices: Block, count = indices.length): void {
    kernels.rng_shuffle(this.state.ptr, indices.ptr, count);
  }

  /** The four state words, for checkpoints. */
  getState(): Uint32Array {
    return heap.u32.slice(this.state.index, this.state.index + 4);
  }

  setState(words: ArrayLike<number>): void {
    if (words.length !== 4) throw new LatentkitError(`an RNG state is 4 words, got ${words.length}`);
    heap.u32.set(words, this.state.index);
  }

  dispose(): void {
    heap.free(this.state);
  }
}
