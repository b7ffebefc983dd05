import { LatentkitError } from '../errors.js';
import { direct as kernels, wasmExports } from './wasm.js';

const MAX_BYTES = 4 * 1024 * 1024 * 1024;

/**
 * Owner of WebAssembly linear memory. Typed-array views are re-created
 * whenever memory has grown (growth detaches the old buffer), so callers must
 * take a view after any call that can allocate, never keep one across it.
 */
class Heap {
  private buffer: ArrayBuffer | null = null;
  private f32View = new Float32Array(0);
  private u32View = new Uint32Array(0);

  private refresh(): void {
    const buf = wasmExports.memory.buffer;
    if (buf !== this.buffer) {
      this.buffer = buf;
      this.f32View = new Float32Array(buf);
      this.u32View = new Uint32Array(buf);
    }
  }

  get f32(): Float32Array {
    this.refresh();
    return this.f32View;
  }

  get u32(): Uint32Array {
    this.refresh();
    return this.u32View;
  }

  /** The memory's buffer right now (for f64 views; replaced whenever memory grows). */
  get memoryBuffer(): ArrayBufferLike {
    return wasmExports.memory.buffer;
  }

  /** Bytes of linear memory right now. */
  get byteLength(): number {
    return wasmExports.memory.buffer.byteLength;
  }

  /** Blocks allocated and not yet freed. */
  get liveAllocations(): number {
    return kernels.live_allocations();
  }

  /** A 16-byte-aligned block of `count` 4-byte elements; `what` names it in errors. */
  alloc(count: number, what: string): Block {
    const bytes = Math.max(count, 1) * 4;
    const ptr = bytes >= MAX_BYTES ? 0 : kernels.alloc(bytes);
    if (ptr === 0) {
      const mib = (n: number) => (n / 1048576).toFixed(1);
      throw new LatentkitError(
        `cannot allocate ${mib(bytes)} MiB for ${what}: WebAssembly memory is limited to 4096 MiB and ${mib(this.byteLength)} MiB are in use. Use a smaller model or batch size.`,
      );
    }
    return new Block(ptr, count);
  }

  /** `existing` if it holds at least `count` elements, else a fresh block (the old one freed). */
  reserve(existing: Block | null, count: number, what: string): Block {
    if (existing && existing.length >= count) return existing;
    if (existing) this.free(existing);
    return this.alloc(count, what);
  }

  /** Runs `body` with a scope whose blocks are all freed when it returns or throws. */
  scoped<T>(body: (scope: BlockScope) => T): T {
    const scope = new BlockScope();
    try {
      return body(scope);
    } finally {
      scope.free();
    }
  }

  free(block: Block): void {
    if (block.ptr !== 0) {
      kernels.free(block.ptr, Math.max(block.length, 1) * 4);
      block.ptr = 0;
    }
  }
}

/** A region of linear memory: a byte offset and a count of 4-byte elements. */
export class Block {
  constructor(
    public ptr: number,
    public readonly length: number,
  ) {}

  /** Element index of the start within a Float32Array/Uint32Array view. */
  get index(): number {
    return this.ptr >>> 2;
  }

  /** A live Float32Array view; valid only until the next call that can allocate. */
  view(): Float32Array {
    return heap.f32.subarray(this.index, this.index + this.length);
  }

  /** A copy of the contents. */
  read(): Float32Array {
    return heap.f32.slice(this.index, this.index + this.length);
  }

  write(src: ArrayLike<number>, offset = 0): void {
    heap.f32.set(src, this.index + offset);
  }

  fill(value: number): void {
    kernels.fill(this.ptr, this.length, value);
  }
}

/**
 * A block its owner stages batches in: grown when a call asks for more than it holds (never per
 * step once the batch size is reached), freed with its owner.
 */
export class Scratch {
  private current: Block | null = null;

  constructor(private readonly what: string) {}

  /** The block, holding at least `count` elements. */
  reserve(count: number): Block {
    this.current = heap.reserve(this.current, count, this.what);
    return this.current;
  }

  /** The block as last reserved. */
  get block(): Block {
    if (!this.current) throw new Error(`${this.what}: used before it was reserved`);
    return this.current;
  }

  dispose(): void {
    if (this.current) heap.free(this.current);
    this.current = null;
  }
}

/** Temporary blocks freed together (see Heap.scoped). */
export class BlockScope {
  private readonly blocks: Block[] = [];

  alloc(count: number, what: string): Block {
    return this.own(heap.alloc(count, what));
  }

  /** Frees `block` with the scope's own blocks. */
  own(block: Block): Block {
    this.blocks.push(block);
    return block;
  }

  /** Takes `block` out of the scope: it outlives it. */
  keep(block: Block): void {
    const i = this.blocks.indexOf(block);
    if (i >= 0) this.blocks.splice(i, 1);
  }

  free(): void {
    this.blocks.forEach((b) => heap.free(b));
    this.blocks.length = 0;
  }
}

export const heap = new Heap();
