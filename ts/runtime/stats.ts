import { heap } from './memory.js';
import { wasmByteLength } from './wasm.js';

/** Linear-memory size and live allocation count, for leak checks and reports. */
export function memoryStats(): { memoryBytes: number; liveAllocations: number; wasmBytes: number } {
  return { memoryBytes: heap.byteLength, liveAllocations: heap.liveAllocations, wasmBytes: wasmByteLength };
}
