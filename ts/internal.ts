/**
 * Raw access to the kernels and the heap, for latentkit's own tests and
 * benchmarks. Not a stable API: pointers are byte offsets into WebAssembly
 * memory, and nothing here validates its input.
 */
export { kernels } from './runtime/wasm.js';
export { heap, Block } from './runtime/memory.js';
export { pool, denseForward } from './runtime/threads.js';
