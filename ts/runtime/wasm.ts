import wasmBase64 from '../../wasm/latentkit.wasm';
import { LatentkitError } from '../errors.js';
import { sharedModules } from './shared-module.js';

/** The C ABI of crates/wasm/src/lib.rs; pointers are byte offsets into `memory`. */
export interface KernelExports {
  memory: WebAssembly.Memory;
  lk_alloc(bytes: number): number;
  lk_free(ptr: number, bytes: number): void;
  lk_live_allocations(): number;
  lk_gemm(layout: number, m: number, k: number, n: number, a: number, b: number, c: number, accumulate: number): void;
  lk_dense_forward(m: number, k: number, n: number, x: number, w: number, b: number, y: number, activation: number, alpha: number, transposed: number): void;
  lk_dense_backward(m: number, k: number, n: number, x: number, w: number, y: number, dy: number, dx: number, dw: number, db: number, activation: number, alpha: number, transposed: number): void;
  lk_dense_forward_columns(m: number, k: number, n: number, x: number, w: number, b: number, y: number, activation: number, alpha: number, transposed: number, j0: number, j1: number, pack: number): void;
  lk_dense_backward_params_columns(m: number, k: number, n: number, x: number, y: number, dy: number, dw: number, db: number, activation: number, alpha: number, transposed: number, j0: number, j1: number, pack: number): void;
  lk_dense_backward_input_columns(m: number, k: number, n: number, dz: number, w: number, dx: number, transposed: number, i0: number, i1: number, pack: number): void;
  lk_pack_floats(): number;
  lk_covariance_prepare(x: number, rows: number, d: number, dense: number, nd: number, sparse: number, ns: number, shift: number, panel: number, rowBuf: number, ms: number, accumulate: number): void;
  lk_syrk_upper_columns(panel: number, rows: number, nd: number, md: number, accumulate: number, j0: number, j1: number, pack: number): void;
  lk_activation_forward(activation: number, alpha: number, y: number, n: number): void;
  lk_activation_backward(activation: number, alpha: number, y: number, dy: number, n: number): void;
  lk_loss(kind: number, pred: number, target: number, constTarget: number, rows: number, cols: number, grad: number, weight: number): number;
  lk_mse_rows(pred: number, target: number, rows: number, cols: number, out: number): void;
  lk_argmax_rows(pred: number, rows: number, cols: number, out: number): void;
  lk_sgd(p: number, g: number, vel: number, n: number, lr: number, momentum: number, nesterov: number): void;
  lk_adam(p: number, g: number, m: number, v: number, n: number, lr: number, b1: number, b2: number, eps: number, weightDecay: number, t: number): void;
  lk_rmsprop(p: number, g: number, nu: number, n: number, lr: number, decay: number, eps: number): void;
  lk_ema(avg: number, p: number, n: number, decay: number): void;
  lk_sum_squares(g: number, n: number): number;
  lk_scale(g: number, n: number, factor: number): void;
  lk_fill(p: number, n: number, value: number): void;
  lk_find_nonfinite(p: number, n: number): number;
  lk_rng_seed(state: number, lo: number, hi: number): void;
  lk_rng_uniform(state: number, out: number, n: number, lo: number, hi: number): void;
  lk_rng_normal(state: number, out: number, n: number, mean: number, std: number): void;
  lk_rng_below(state: number, n: number): number;
  lk_rng_shuffle(state: number, idx: number, n: number): void;
  lk_init_weights(state: number, kind: number, w: number, fanIn: number, fanOut: number): void;
  lk_rng_add_normal(state: number, x: number, n: number, std: number): void;
  lk_rng_mask(state: number, x: number, n: number, rate: number): void;
  lk_rng_dropout(state: number, y: number, mask: number, n: number, rate: number): void;
  lk_mul(x: number, m: number, n: number): void;
  lk_l1_penalty(h: number, dh: number, n: number, scale: number): number;
  lk_symmetric_eigen(a: number, p: number, vals: number, vecs: number): void;
  lk_column_stats(x: number, rows: number, d: number, sum: number, nonzeros: number): number;
  lk_covariance_chunk(x: number, rows: number, d: number, dense: number, nd: number, sparse: number, ns: number, shift: number, panel: number, rowBuf: number, md: number, ms: number, accumulate: number): void;
  lk_covariance_assemble(md: number, dense: number, nd: number, ms: number, sparse: number, ns: number, delta: number, n: number, d: number, c: number): void;
  lk_top_eigen(c: number, d: number, k: number, state: number, tol: number, maxSteps: number, vals: number, vecs: number): number;
}

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
function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const B = (globalThis as { Buffer?: { from(s: string, enc: string): Uint8Array } }).Buffer;
  if (B) {
    const b = B.from(s, 'base64');
    return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
  }
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const wasmBytes = decodeBase64(wasmBase64);

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
 * worker threads can run the same kernels over (`workerBytes`: the module variant they load).
 * Without, `why` says what the runtime lacked (browsers share memory only when the page is
 * cross-origin isolated).
 */
export type MemoryMode =
  | { shared: true; memory: WebAssembly.Memory; workerBytes: Uint8Array<ArrayBuffer> }
  | { shared: false; why: string };

function sharedMemoryUnavailable(): string | null {
  // Browsers hide SharedArrayBuffer from pages that are not isolated: name the cause, not the symptom.
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) {
    return 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  }
  if (typeof SharedArrayBuffer !== 'function') return 'this runtime has no SharedArrayBuffer';
  return null;
}

async function instantiate(): Promise<{ kernels: KernelExports; mode: MemoryMode }> {
  assertWasmSimd();
  const unavailable = sharedMemoryUnavailable();
  if (unavailable === null) {
    try {
      const variants = sharedModules(wasmBytes);
      const memory = new WebAssembly.Memory({ initial: variants.initialPages, maximum: variants.maximumPages, shared: true });
      const instance = new WebAssembly.Instance(await compile(variants.main), { env: { memory } });
      return { kernels: instance.exports as unknown as KernelExports, mode: { shared: true, memory, workerBytes: variants.worker } };
    } catch (e) {
      return instantiateUnshared(`shared WebAssembly memory failed: ${(e as Error).message}`);
    }
  }
  return instantiateUnshared(unavailable);
}

async function instantiateUnshared(why: string): Promise<{ kernels: KernelExports; mode: MemoryMode }> {
  const instance = new WebAssembly.Instance(await compile(wasmBytes), {});
  return { kernels: instance.exports as unknown as KernelExports, mode: { shared: false, why } };
}

const instantiated = await instantiate();

/** The one kernel instance of this JavaScript realm, ready once the module is imported. */
export const kernels: KernelExports = instantiated.kernels;

/** Whether worker threads can share this instance's memory (see threads.ts). */
export const memoryMode: MemoryMode = instantiated.mode;

/** Byte size of the embedded module (for reports). */
export const wasmByteLength = wasmBytes.byteLength;
