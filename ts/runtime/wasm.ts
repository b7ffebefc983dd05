import tinyInflate from 'tiny-inflate';
import exactEmbedded from '../../wasm/latentkit.wasm';
import { LatentkitError } from '../errors.js';
import { adler32 } from './adler32.js';
import { type KernelExports, type Kernels, bindKernels } from './kernels.js';
import { sharedModules } from './shared-module.js';

// (module (func (result v128) i32.const 0 i8x16.splat)): valid only where 128-bit SIMD is.
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00,
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0x0b,
]);

/** Throws a clear error where WebAssembly or its 128-bit SIMD is missing. */
export function assertWasmSimd(wasm: Pick<typeof WebAssembly, 'validate'> | undefined = globalThis.WebAssembly): void {
  if (!wasm || typeof wasm.validate !== 'function') {
    throw new LatentkitError('this JavaScript runtime has no WebAssembly; latentkit needs WebAssembly with 128-bit SIMD (Node ≥ 16.4, Deno, Chrome ≥ 91, Firefox ≥ 89, Safari ≥ 16.4).');
  }
  if (!wasm.validate(SIMD_PROBE)) {
    throw new LatentkitError('this runtime supports WebAssembly but not its 128-bit SIMD extension, which latentkit needs (Node ≥ 16.4, Deno, Chrome ≥ 91, Firefox ≥ 89, Safari ≥ 16.4).');
  }
}

/** Base64 → bytes with the runtime's native decoder (Buffer in Node, atob elsewhere). */
function decodeBase64(s: string): Uint8Array {
  const B = (globalThis as { Buffer?: { from(s: string, enc: string): Uint8Array } }).Buffer;
  if (B) return B.from(s, 'base64');
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

type Embedded = { length: number; adler32: number; deflated: string };

/** The embedded form's deflated bytes → the module's `length` bytes, or an error. */
export type Inflate = (deflated: Uint8Array, embedded: Embedded) => Uint8Array | Promise<Uint8Array>;

/**
 * The runtime's own zlib where it offers one (Node ≥ 20.16 and Deno, through
 * process.getBuiltinModule, which bundlers do not follow), else null: it inflates the exact module
 * in about 1 ms, where DecompressionStream took 30 in a new Node process (its streams loading on
 * first use), and stops at the end of a damaged stream with an error of its own.
 */
export function nativeInflate(): Inflate | null {
  const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const zlib = process?.getBuiltinModule?.('node:zlib') as { inflateRawSync(b: Uint8Array): Uint8Array } | undefined;
  if (!zlib) return null;
  return (deflated) => {
    try {
      return zlib.inflateRawSync(deflated);
    } catch (e) {
      throw damaged(`zlib: ${(e as Error).message}`);
    }
  };
}

/** The engine's DecompressionStream where it takes raw DEFLATE (Chrome ≥ 103, Firefox ≥ 113, Safari ≥ 16.4), else null. */
export function streamInflate(): Inflate | null {
  const DS = (globalThis as { DecompressionStream?: new (format: string) => TransformStream<Uint8Array, Uint8Array> }).DecompressionStream;
  try {
    if (!DS) return null;
    new DS('deflate-raw');
  } catch {
    return null;
  }
  return async (deflated) => {
    try {
      return new Uint8Array(await new Response(new Blob([deflated as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DS('deflate-raw'))).arrayBuffer());
    } catch (e) {
      throw damaged(`DecompressionStream: ${(e as Error).message}`);
    }
  };
}

/**
 * tiny-inflate, in JavaScript (1.5 KB gzip), for engines with neither: fflate's tables took 14 ms
 * of a cold start to build. It has no bounds checks: a damaged stream can take it past its input's
 * end into a loop that never ends, so the deflated bytes' Adler-32 is checked first.
 */
export const inflateInJs: Inflate = (deflated, embedded) => {
  const sum = adler32(deflated);
  if (sum !== embedded.adler32) throw damaged(`the Adler-32 of its ${deflated.length} deflated bytes is ${sum}, built as ${embedded.adler32}`);
  return tinyInflate(deflated, new Uint8Array(embedded.length));
};

function damaged(what: string): LatentkitError {
  return new LatentkitError(`the embedded WebAssembly module is damaged (${what}): reinstall latentkit`);
}

/** A module's bytes from its embedded form (see ts/wasm.d.ts), in an ArrayBuffer of their own. */
export async function embeddedModule(embedded: Embedded, inflate: Inflate = nativeInflate() ?? streamInflate() ?? inflateInJs): Promise<Uint8Array<ArrayBuffer>> {
  const inflated = await inflate(decodeBase64(embedded.deflated), embedded);
  if (inflated.byteLength !== embedded.length) throw damaged(`it inflated to ${inflated.byteLength} bytes, not ${embedded.length}`);
  const bytes = new Uint8Array(embedded.length);
  bytes.set(inflated);
  return bytes;
}

/** The exact tier's module, embedded. */
export const exactBytes = await embeddedModule(exactEmbedded);

/** Both tiers' embedded forms, for the test that unpacks them with each inflater. */
export const embeddedModules = async (): Promise<Record<Precision, Embedded>> => ({ exact: exactEmbedded, fast: (await import('./fast-module.js')).default });

function compile(bytes: Uint8Array<ArrayBuffer>): WebAssembly.Module | Promise<WebAssembly.Module> {
  try {
    // Synchronous compilation skips a round trip through the compile threads
    // (0.4–0.7 ms of a cold start in Node). Browsers that cap it on the main
    // thread throw a RangeError; they get the asynchronous API instead.
    return new WebAssembly.Module(bytes);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return WebAssembly.compile(bytes);
  }
}

/**
 * How the module was instantiated. With `shared`, its memory is a shared WebAssembly.Memory that
 * worker threads can run the same kernels over (`workerBytes()`: the module variant they load,
 * built when the first thread starts).
 * Without, `why` says what the runtime lacked (browsers share memory only when the page is
 * cross-origin isolated).
 */
export type MemoryMode =
  | { shared: true; memory: WebAssembly.Memory; workerBytes: () => Uint8Array<ArrayBuffer> }
  | { shared: false; why: string };

/** The two builds of the kernels: `exact` rounds the same everywhere, `fast` may fuse multiply-adds. */
export type Precision = 'exact' | 'fast';

function sharedMemoryUnavailable(): string | null {
  // Browsers hide SharedArrayBuffer from pages that are not isolated: name the cause, not the symptom.
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) {
    return 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  }
  if (typeof SharedArrayBuffer !== 'function') return 'this runtime has no SharedArrayBuffer';
  return null;
}

/** A new instance, ready to become this realm's without awaiting anything more. */
type Compiled = { start(): { kernels: KernelExports; mode: MemoryMode } };

/** Compiles and instantiates `bytes` with a fresh memory; `start` hands the instance over. */
async function compileModule(bytes: Uint8Array<ArrayBuffer>): Promise<Compiled> {
  const unshared = async (why: string): Promise<Compiled> => {
    const module = await compile(bytes);
    return { start: () => ({ kernels: new WebAssembly.Instance(module, {}).exports as unknown as KernelExports, mode: { shared: false, why } }) };
  };
  const unavailable = sharedMemoryUnavailable();
  if (unavailable !== null) return unshared(unavailable);
  try {
    const variants = sharedModules(bytes);
    const module = await compile(variants.main);
    // Made here, not in start, so a runtime that refuses it still gets the unshared module.
    const memory = new WebAssembly.Memory({ initial: variants.initialPages, maximum: variants.maximumPages, shared: true });
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    return { start: () => ({ kernels: instance.exports as unknown as KernelExports, mode: { shared: true, memory, workerBytes: variants.worker } }) };
  } catch (e) {
    return unshared(`shared WebAssembly memory failed: ${(e as Error).message}`);
  }
}

assertWasmSimd();
const first = (await compileModule(exactBytes)).start();

/** The exports of this JavaScript realm's one instance, ready once the module is imported. */
export let wasmExports: KernelExports = first.kernels;

/** The kernels called on this thread alone (dispatch.ts adds the threads and the trace). */
export const direct: Kernels = bindKernels(wasmExports);

/** Whether worker threads can share this instance's memory (see threads.ts). */
export let memoryMode: MemoryMode = first.mode;

/** Byte size of the module in use (for reports). */
export let wasmByteLength = exactBytes.byteLength;

/** The tier of the module in use. */
export let precisionInUse: Precision = 'exact';

const replaced: (() => void)[] = [];

/** Calls `f` after the module has been replaced (dispatch.ts rebinds its kernels). */
export function onModuleReplaced(f: () => void): void {
  replaced.push(f);
}

/**
 * Instantiates `bytes` with a new memory, then returns a function that makes it this realm's
 * instance: everything in the old memory is gone, so the caller checks that nothing lives there
 * just before calling it, with no await in between.
 */
export async function prepareModule(bytes: Uint8Array<ArrayBuffer>, tier: Precision): Promise<() => void> {
  const compiled = await compileModule(bytes);
  return () => {
    const next = compiled.start();
    wasmExports = next.kernels;
    Object.assign(direct, bindKernels(wasmExports));
    memoryMode = next.mode;
    wasmByteLength = bytes.byteLength;
    precisionInUse = tier;
    for (const f of replaced) f();
  };
}
