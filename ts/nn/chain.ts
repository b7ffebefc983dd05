import { LatentkitError } from '../errors.js';
import { heap } from '../runtime/memory.js';
import type { Matrix } from './matrix.js';
import type { Stack } from './stack.js';

/** Throws unless each stack's output width is the next one's input width. */
export function assertChain(stacks: readonly Stack[], what: string): void {
  if (stacks.length === 0) throw new LatentkitError(`${what} needs at least one stack`);
  for (let i = 0; i + 1 < stacks.length; i++) {
    const a = stacks[i]!;
    const b = stacks[i + 1]!;
    if (a.outputSize !== b.inputSize) {
      throw new LatentkitError(
        `${what}: stack ${i} ${a.label} outputs ${a.outputSize} values but stack ${i + 1} ${b.label} takes ${b.inputSize}`,
      );
    }
  }
  for (const s of stacks) s.assertLive();
}

/** Forward through the stacks in order from the batch at byte offset `x` (with dropout when `training`); returns the output's offset. */
export function forwardChain(stacks: readonly Stack[], x: number, rows: number, training = false): number {
  let p = x;
  for (const s of stacks) p = s.forward(p, rows, training);
  return p;
}

/** Inference through the stacks in chunks of at most 1024 rows (inputs checked for NaN/Inf); returns a new Matrix. */
export function predictChain(stacks: readonly Stack[], m: Matrix, what: string): Matrix {
  const [rows, cols] = m.shape;
  const width = stacks[stacks.length - 1]!.outputSize;
  const out = new Float32Array(rows * width);
  const chunk = Math.min(rows, 1024);
  for (let r = 0; r < rows; r += chunk) {
    const n = Math.min(chunk, rows - r);
    const input = stacks[0]!.stageInput(m.data.subarray(r * cols, (r + n) * cols), n, what);
    const p = forwardChain(stacks, input.ptr, n);
    out.set(heap.f32.subarray(p >>> 2, (p >>> 2) + n * width), r * width);
  }
  return { data: out, shape: [rows, width] };
}
