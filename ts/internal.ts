/**
 * Raw access to the kernels, the heap and the thread pool, for latentkit's own tests and
 * benchmarks: built as dist/internal.js, which shares its modules with the main entry but is
 * not in the package's exports. Not a stable API: pointers are byte offsets into WebAssembly
 * memory, and nothing here validates its input.
 */
export { kernels } from './runtime/dispatch.js';
export { KERNELS } from './runtime/kernels.js';
export { ACTIVATION, GEMM_LAYOUT, INIT, LIKELIHOOD, LOSS, PACK_A } from './runtime/codes.js';
export { embeddedModule, embeddedModules, inflateInJs, nativeInflate, streamInflate, wasmExports } from './runtime/wasm.js';
export { heap, Block } from './runtime/memory.js';
export { partBound, partCount, pool } from './runtime/threads.js';
