import type { Block } from '../runtime/memory.js';
import { heap } from '../runtime/memory.js';
import { writeOneHot } from './minibatches.js';
import type { Stack } from './stack.js';
import type { ChainNode } from './train-step.js';

/**
 * A conditional model's join (Mirza & Osindero 2014): each row of the previous link's output,
 * followed by the one-hot of its label, written into the next stack's input block. Backward
 * keeps ∂L/∂x and drops the gradient with respect to the label columns.
 */
export class LabelColumns implements ChainNode {
  constructor(
    private readonly width: number,
    private readonly classes: number,
    /** The label of each row of the current batch. */
    private readonly labels: () => Int32Array,
    private readonly next: Stack,
    /** ∂L/∂[x, y]: rows × (width + classes) floats, written by the next stack's backward (the model sizes it to its batches). */
    private readonly grad: () => Block,
  ) {}

  get outputSize(): number {
    return this.width + this.classes;
  }

  get outputGradPtr(): number {
    return this.grad().ptr;
  }

  forward(x: number, rows: number): number {
    const labels = this.labels();
    return joinLabels(x, rows, this.width, this.classes, (r) => labels[r]!, this.next.inputBlock(rows));
  }

  backward(rows: number, dInput: number): number {
    const f = this.width;
    const c = this.classes;
    const f32 = heap.f32;
    const grad = this.grad();
    for (let r = 0; r < rows; r++) f32.copyWithin((dInput >>> 2) + r * f, grad.index + r * (f + c), grad.index + r * (f + c) + f);
    return 0;
  }
}

/** Rows of `width` floats at byte offset `x`, each followed by the one-hot of label(r) over `classes`, into `dst`; returns dst's offset. */
export function joinLabels(x: number, rows: number, width: number, classes: number, label: (r: number) => number, dst: Block): number {
  const f32 = heap.f32;
  for (let r = 0; r < rows; r++) {
    const at = dst.index + r * (width + classes);
    f32.copyWithin(at, (x >>> 2) + r * width, (x >>> 2) + r * width + width);
    writeOneHot(f32, at + width, classes, label(r));
  }
  return dst.ptr;
}
