// The exponential moving average of stacks' weights (Polyak averaging): a GAN's generator, a
// semi-supervised model's classifier. Each update is one `ema` kernel call per stack; running
// statistics are copied, not averaged, so the average normalises with the trained stack's.
import { LatentkitError } from '../errors.js';
import { kernels } from '../runtime/dispatch.js';
import { MLP } from './mlp.js';
import { checkKeys } from './sequential.js';
import { Stack } from './stack.js';

/** The `ema` option's decay, checked (a number in (0, 1)) with the stacks to average (their own weights), before a model allocates anything. */
export function emaDecay(option: { decay: number }, what: string, averaged: readonly Stack[]): number {
  checkKeys(option, ['decay'], `${what} ema options`);
  const d = option?.decay;
  if (typeof d !== 'number' || !(d > 0 && d < 1)) throw new LatentkitError(`ema.decay must be a number in (0, 1), got ${d}`);
  for (const s of averaged) if (s.tiedTo) throw new LatentkitError(`ema needs stacks with their own weights (${s.label} is tied to another stack)`);
  return d;
}

/** A new stack of `s`'s architecture (a dense stack as the same MLP) holding a copy of its weights and statistics. */
function copyOf(s: Stack): Stack {
  let copy: Stack;
  if (s.isMlp) {
    const d = s.describe();
    copy = new MLP(s.sizes, { activation: d.activation, outputActivation: d.outputActivation });
  } else {
    copy = new Stack(s.definition());
  }
  copy.copyFrom(s);
  return copy;
}

export class MovingAverage {
  /** The averages, one per averaged stack, owned by this object. */
  readonly stacks: readonly Stack[];
  /** decay^t after t updates, in f64: repeated products give the same bits on every engine, Math.pow may not. */
  private power = 1;

  /**
   * `decay` and `of` as emaDecay checked them. `corrected`: the zero-started average divided by
   * 1 − decay^t, as Adam corrects its moments, so the starting weights weigh nothing; otherwise the
   * average starts as a copy of the weights.
   */
  constructor(private readonly of: readonly Stack[], readonly decay: number, private readonly corrected: boolean) {
    this.stacks = of.map(copyOf);
  }

  /** avg ← keep·avg + (1 − keep)·θ for every stack; keep is the decay, or its bias-corrected form. */
  update(): void {
    let keep = this.decay;
    if (this.corrected) {
      const before = this.power;
      this.power *= this.decay;
      // The corrected average as one recursion: the first update copies the weights.
      keep = (this.decay * (1 - before)) / (1 - this.power);
    }
    this.stacks.forEach((avg, i) => {
      const trained = this.of[i]!;
      kernels.ema(avg.params.ptr, trained.params.ptr, trained.parameterCount, keep);
      avg.copyStateFrom(trained);
    });
  }

  /** After a restore: the averages have had `updates` updates. */
  resume(updates: number): void {
    this.power = 1;
    for (let t = 0; t < updates; t++) this.power *= this.decay;
  }

  /** Loads saved averages (stacks of the same shapes); `names` label them in errors. */
  load(saved: readonly Stack[], names: readonly string[]): void {
    this.stacks.forEach((avg, i) => {
      const s = saved[i]!;
      if (s.parameterCount !== avg.parameterCount) throw new LatentkitError(`corrupt latentkit model: the average ${names[i]} ${s.label} does not match ${avg.label}`);
      avg.copyFrom(s);
    });
  }

  dispose(): void {
    for (const s of this.stacks) s.dispose();
  }
}
