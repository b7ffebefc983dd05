// The one training step every model composes: zero the gradients of what this step trains →
// for each loss term, forward through its chain, one loss call, backward through what needs a
// gradient → the non-finite guard → one optimizer pass → the scalar loss. A GAN runs it k times
// for the discriminator and once for the generator; an autoencoder, a classifier and a
// Sequential once per minibatch. Nothing here allocates.
import { LatentkitError } from '../errors.js';
import { heap } from '../runtime/memory.js';
import { kernels } from '../runtime/dispatch.js';
import type { LossUnit } from './loss.js';
import type { Optimizer } from './optimizer.js';

/** A link of a chain: a stack, or a step between stacks (a conditional GAN's label columns, a code penalty). */
export interface ChainNode {
  /** Forward from the rows at byte offset `x`; returns the output's offset. */
  forward(x: number, rows: number, training: boolean): number;
  /** Where the next link writes ∂L/∂output, and that output's width. */
  readonly outputGradPtr: number;
  readonly outputSize: number;
  /**
   * Backward from ∂L/∂output at outputGradPtr, writing ∂L/∂input to `dInput` when non-zero and
   * accumulating parameter gradients when `accumulate`; returns any loss the link adds itself.
   */
  backward(rows: number, dInput: number, accumulate: boolean): number;
}

/** One term of a step's loss: rows through a chain into a loss. */
export interface LossTerm {
  readonly chain: readonly ChainNode[];
  /** The input rows' byte offset, fetched when the term runs (so inputs drawn from an RNG keep their order). */
  readonly input: (rows: number) => number;
  readonly loss: LossUnit;
  /** Rows of this term when they are not the step's (a semi-supervised GAN's labelled rows may be fewer than a batch). */
  readonly rows?: () => number;
}

export interface StepPlan {
  /** Updates the unfrozen stacks it owns: these are zeroed, accumulate, and change; every other link only passes gradients. */
  readonly optimizer: Optimizer;
  readonly terms: readonly LossTerm[];
  /**
   * Stop before the update when the loss, or any gradient of a stack this step trains, is NaN or
   * ±Inf, with this message; `why` reads "loss is …" (null: no guard).
   */
  readonly diverged: ((why: string) => string) | null;
}

/**
 * The guard of a model whose updates are counted by `steps()`: the message names the step that
 * diverged, or, for one `part` of a model trained in alternating steps (a GAN's discriminator),
 * the part and the iteration. Null (no guard) when `on` is false.
 */
export function divergenceGuard(on: boolean, steps: () => number, part?: string): StepPlan['diverged'] {
  if (!on) return null;
  return part
    ? (why) => `training diverged: the ${part} ${why} at iteration ${steps() + 1}; the ${part} was left as it was before this step`
    : (why) => `training diverged: the ${why} at step ${steps() + 1}; the parameters were left as they were before this step`;
}

let passes = 0;
let current = 0;

/**
 * The gradient pass in progress, numbered from 1 (0 outside one). No parameter changes within a
 * pass, so a layer may reuse what it derived from its parameters for the same pass (a weight-
 * normalised layer's w, through every term of the step); outside a pass it must derive it again.
 */
export function gradientPass(): number {
  return current;
}

/** Zero → forward → loss → backward for every term; returns the summed loss. Nothing is updated. */
export function computeGradients(plan: StepPlan, rows: number): number {
  current = ++passes;
  try {
    return gradients(plan, rows);
  } finally {
    current = 0;
  }
}

function gradients(plan: StepPlan, rows: number): number {
  const opt = plan.optimizer;
  for (const s of opt.stacks) if (!s.frozen) s.zeroGradients();
  let total = 0;
  for (const term of plan.terms) {
    const chain = term.chain;
    const n = term.rows?.() ?? rows;
    let x = term.input(n);
    for (const node of chain) x = node.forward(x, n, true);
    const last = chain[chain.length - 1]!;
    let loss = term.loss.apply(x, n, last.outputSize, last.outputGradPtr);
    // Below the first link this step trains, nothing needs a gradient.
    const first = chain.findIndex((node) => opt.trains(node));
    if (first >= 0) {
      for (let i = chain.length - 1; i >= first; i--) {
        loss += chain[i]!.backward(n, i > first ? chain[i - 1]!.outputGradPtr : 0, opt.trains(chain[i]));
      }
    }
    total += loss;
  }
  if (plan.diverged) guard(plan.diverged, total, opt);
  return total;
}

// A finite loss can still carry a non-finite gradient (a term weighted by an exact 0 times an
// overflowed gradient), and one such update leaves every weight it touches NaN; so the guard
// reads the gradients as well as the loss, one scan per stack this step trains.
function guard(diverged: (why: string) => string, total: number, opt: Optimizer): void {
  if (!Number.isFinite(total)) throw new LatentkitError(diverged(`loss is ${total}`));
  for (const s of opt.stacks) {
    if (s.frozen) continue;
    const i = kernels.find_nonfinite(s.grads.ptr, s.parameterCount);
    if (i >= 0) {
      const g = heap.f32[(s.grads.ptr >>> 2) + i];
      throw new LatentkitError(diverged(`loss is ${total}, but its gradient is ${g} at parameter ${i} of the ${s.label} stack,`));
    }
  }
}

/** One optimizer step: the gradients, the guard, then the update. Returns the loss before the update. */
export function trainingStep(plan: StepPlan, rows: number): number {
  const loss = computeGradients(plan, rows);
  plan.optimizer.step();
  return loss;
}
