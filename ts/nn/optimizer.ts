import { LatentkitError } from '../errors.js';
import { Block, heap } from '../runtime/memory.js';
import { kernels } from '../runtime/dispatch.js';
import type { Stack } from './stack.js';

/** Update rules as in optax (see crates/kernels/src/optim.rs). `clipNorm` clips the global gradient norm first. */
export type OptimizerConfig =
  | { type: 'sgd'; lr?: number; momentum?: number; nesterov?: boolean; clipNorm?: number }
  | { type: 'adam'; lr?: number; beta1?: number; beta2?: number; eps?: number; clipNorm?: number }
  | { type: 'adamw'; lr?: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number; clipNorm?: number }
  | { type: 'rmsprop'; lr?: number; decay?: number; eps?: number; clipNorm?: number };

export type OptimizerSpec = OptimizerConfig | OptimizerConfig['type'];

type Resolved = Required<Pick<OptimizerConfig, 'type'>> & {
  lr: number; momentum: number; nesterov: boolean; beta1: number; beta2: number; eps: number; weightDecay: number; decay: number; clipNorm: number;
};

const DEFAULTS: Record<OptimizerConfig['type'], Partial<Resolved>> = {
  sgd: { lr: 0.01, momentum: 0, nesterov: false },
  adam: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
  adamw: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-4 },
  rmsprop: { lr: 1e-3, decay: 0.9, eps: 1e-8 },
};

const KEYS: Record<OptimizerConfig['type'], string[]> = {
  sgd: ['type', 'lr', 'momentum', 'nesterov', 'clipNorm'],
  adam: ['type', 'lr', 'beta1', 'beta2', 'eps', 'clipNorm'],
  adamw: ['type', 'lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'clipNorm'],
  rmsprop: ['type', 'lr', 'decay', 'eps', 'clipNorm'],
};

function resolve(spec: OptimizerSpec, where: string): Resolved {
  const cfg = (typeof spec === 'string' ? { type: spec } : spec) as Record<string, unknown>;
  const type = cfg?.type as OptimizerConfig['type'];
  if (typeof type !== 'string' || !(type in DEFAULTS)) {
    throw new LatentkitError(`unknown optimizer ${JSON.stringify(spec)} for ${where}; expected one of ${Object.keys(DEFAULTS).join(', ')}`);
  }
  for (const k of Object.keys(cfg)) {
    if (!KEYS[type].includes(k)) throw new LatentkitError(`unknown option '${k}' for the ${type} optimizer of ${where}; expected ${KEYS[type].join(', ')}`);
  }
  const r = { clipNorm: 0, momentum: 0, nesterov: false, beta1: 0, beta2: 0, eps: 0, weightDecay: 0, decay: 0, ...DEFAULTS[type], ...cfg } as Resolved;
  const num = (k: keyof Resolved, ok: (v: number) => boolean, range: string) => {
    const v = r[k] as number;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new LatentkitError(`${type} ${k} must be ${range}, got ${String(v)}`);
  };
  num('lr', (v) => v > 0, 'a positive number');
  num('clipNorm', (v) => v >= 0, 'a non-negative number (0 = no clipping)');
  if (type === 'sgd') num('momentum', (v) => v >= 0 && v < 1, 'in [0, 1)');
  if (type === 'adam' || type === 'adamw') {
    num('beta1', (v) => v >= 0 && v < 1, 'in [0, 1)');
    num('beta2', (v) => v >= 0 && v < 1, 'in [0, 1)');
    num('eps', (v) => v > 0, 'positive');
    num('weightDecay', (v) => v >= 0, 'non-negative');
  }
  if (type === 'rmsprop') {
    num('decay', (v) => v >= 0 && v < 1, 'in [0, 1)');
    num('eps', (v) => v > 0, 'positive');
  }
  return r;
}

/**
 * One optimizer over a set of stacks, with its state (momentum, moments) in
 * WebAssembly memory beside each stack's flat parameter buffer. `step()`
 * makes one kernel call per unfrozen stack (plus two for clipping).
 */
export class Optimizer {
  readonly config: Readonly<Resolved>;
  /** Updates taken so far (Adam's t). */
  steps = 0;
  private states = new Map<Stack, Block[]>();

  constructor(spec: OptimizerSpec, readonly stacks: readonly Stack[], where = 'the model') {
    this.config = resolve(spec, where);
    const slots = this.config.type === 'sgd' ? (this.config.momentum > 0 ? 1 : 0) : this.config.type === 'rmsprop' ? 1 : 2;
    for (const s of stacks) {
      const blocks: Block[] = [];
      try {
        for (let i = 0; i < slots; i++) {
          const b = heap.alloc(s.parameterCount, `${this.config.type} optimizer state`);
          blocks.push(b);
          b.fill(0);
        }
      } catch (e) {
        blocks.forEach((b) => heap.free(b));
        this.dispose();
        throw e;
      }
      this.states.set(s, blocks);
    }
  }

  /** Learning rate, changeable between steps (schedules). */
  get lr(): number {
    return this.config.lr;
  }

  set lr(v: number) {
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new LatentkitError(`learning rate must be a positive number, got ${v}`);
    (this.config as Resolved).lr = v;
  }

  /** Whether a step trains `s`: one of this optimizer's stacks, not frozen. */
  trains(s: unknown): boolean {
    return this.stacks.includes(s as Stack) && !(s as Stack).frozen;
  }

  /** Applies the accumulated gradients of every unfrozen stack; returns the global gradient norm when clipping. */
  step(): number {
    const c = this.config;
    const live = this.stacks.filter((s) => !s.frozen);
    let norm = NaN;
    if (c.clipNorm > 0) {
      let sq = 0;
      for (const s of live) sq += kernels.sum_squares(s.grads.ptr, s.parameterCount);
      norm = Math.sqrt(sq);
      if (norm > c.clipNorm) for (const s of live) kernels.scale(s.grads.ptr, s.parameterCount, c.clipNorm / norm);
    }
    this.steps++;
    for (const s of live) {
      const st = this.states.get(s)!;
      const { ptr: p } = s.params;
      const { ptr: g } = s.grads;
      const n = s.parameterCount;
      switch (c.type) {
        case 'sgd':
          kernels.sgd(p, g, st[0]?.ptr ?? 0, n, c.lr, c.momentum, c.nesterov ? 1 : 0);
          break;
        case 'adam':
        case 'adamw':
          kernels.adam(p, g, st[0]!.ptr, st[1]!.ptr, n, c.lr, c.beta1, c.beta2, c.eps, c.type === 'adamw' ? c.weightDecay : 0, this.steps);
          break;
        case 'rmsprop':
          kernels.rmsprop(p, g, st[0]!.ptr, n, c.lr, c.decay, c.eps);
          break;
      }
    }
    return norm;
  }

  /** The configuration as given to the constructor's resolver (for saving). */
  get spec(): OptimizerConfig {
    const c = this.config;
    const keys = KEYS[c.type].filter((k) => k !== 'type');
    return Object.fromEntries([['type', c.type], ...keys.map((k) => [k, (c as Record<string, unknown>)[k]])]) as OptimizerConfig;
  }

  /** @internal State blocks per stack, for checkpoints. */
  stateOf(s: Stack): readonly Block[] {
    return this.states.get(s) ?? [];
  }

  dispose(): void {
    for (const blocks of this.states.values()) blocks.forEach((b) => heap.free(b));
    this.states.clear();
  }
}
