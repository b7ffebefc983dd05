// Weight normalisation (Salimans & Kingma 2016) of a dense or convolutional layer's weight:
// w = g·v/‖v‖, one g per unit — PyTorch's `torch.nn.utils.parametrizations.weight_norm(dim=0)`,
// whose tensors are `parametrizations.weight.original0` (g, the weight's shape with every
// dimension but the first 1) and `original1` (v). The layer computes with w and accumulates
// ∂L/∂w, from which ∂L/∂g and ∂L/∂v follow (crates/kernels/src/norm/weight_norm.rs).
import { type Block, heap } from '../../runtime/memory.js';
import { kernels } from '../../runtime/dispatch.js';
import { gradientPass } from '../train-step.js';

/** Unit u's elements at u·unitStride + e·elemStride, e < len. */
export interface WeightUnits {
  units: number;
  len: number;
  unitStride: number;
  elemStride: number;
}

export class WeightNorm {
  /** w and ∂L/∂w, and ‖v‖ per unit. */
  private readonly w: Block;
  private readonly dw: Block;
  private readonly norms: Block;
  /** The gradient pass w was last derived in (0: outside one, so derived again before use). */
  private derivedIn = 0;

  constructor(readonly layout: WeightUnits, what: string) {
    const n = layout.units * layout.len;
    this.w = heap.alloc(n, `the weight-normalised weight of ${what}`);
    this.dw = heap.alloc(n, `its gradient`);
    this.norms = heap.alloc(layout.units, `its norms`);
  }

  get weightPtr(): number {
    return this.w.ptr;
  }

  get weightGradPtr(): number {
    return this.dw.ptr;
  }

  private args(): [number, number, number, number] {
    const l = this.layout;
    return [l.units, l.len, l.unitStride, l.elemStride];
  }

  /** g ← ‖v‖ per unit, so that w = v at the start (as PyTorch's weight_norm does). */
  initialize(v: number, g: number): void {
    kernels.fill(g, this.layout.units, 1);
    kernels.weight_norm_forward(...this.args(), v, g, this.w.ptr, this.norms.ptr);
    heap.f32.copyWithin(g >>> 2, this.norms.index, this.norms.index + this.layout.units);
  }

  /** w ← g·v/‖v‖ before a forward pass: g and v change with every step, not within one gradient pass (its terms reuse w). */
  forward(v: number, g: number): void {
    const pass = gradientPass();
    if (pass !== 0 && pass === this.derivedIn) return;
    kernels.weight_norm_forward(...this.args(), v, g, this.w.ptr, this.norms.ptr);
    this.derivedIn = pass;
  }

  /** Zeroes ∂L/∂w before the layer accumulates into it. */
  startBackward(): void {
    kernels.fill(this.dw.ptr, this.dw.length, 0);
  }

  /** dv, dg += from the ∂L/∂w the layer accumulated. */
  backward(v: number, g: number, dv: number, dg: number): void {
    kernels.weight_norm_backward(...this.args(), v, g, this.norms.ptr, this.dw.ptr, dv, dg);
  }

  dispose(): void {
    heap.free(this.w);
    heap.free(this.dw);
    heap.free(this.norms);
  }
}
