import { LatentkitError } from '../errors.js';
import { LOSS } from '../runtime/codes.js';
import { kernels } from '../runtime/dispatch.js';
import { heap } from '../runtime/memory.js';

/**
 * - `mse`: mean over all elements of (prediction − target)².
 * - `bce-with-logits`: binary cross-entropy on logits, targets in [0, 1].
 * - `softmax-cross-entropy`: softmax cross-entropy on logits, one target distribution (one-hot) per row.
 */
export type LossName = 'mse' | 'bce-with-logits' | 'softmax-cross-entropy';

const CODES: Record<LossName, number> = LOSS;

export function lossCode(name: LossName, where: string): number {
  if (typeof name !== 'string' || !(name in CODES)) {
    throw new LatentkitError(`unknown loss ${JSON.stringify(name)} for ${where}; expected one of ${Object.keys(CODES).join(', ')}`);
  }
  return CODES[name];
}

/**
 * A training step's loss on a chain's output: writes ∂L/∂output (rows × cols at `grad`) and
 * returns the loss. One kernel call each.
 */
export interface LossUnit {
  readonly name: string;
  apply(output: number, rows: number, cols: number, grad: number): number;
}

/** A named loss against the target rows at `target()` (a byte offset read at each step). */
export function targetLoss(name: LossName, target: () => number, where: string): LossUnit {
  const code = lossCode(name, where);
  return { name, apply: (out, rows, cols, grad) => kernels.loss(code, out, target(), 0, rows, cols, grad, 1) };
}

/**
 * A VAE decoder's reconstruction term: mean over rows of −log p(x|z) in nats per row (summed over
 * the features), for the likelihood `kind` (LIKELIHOOD) with log-variance `logVar` when fixed.
 * Threads share the rows; each row's term lands in f64 at `rowSums(rows)` (a byte offset, 8-byte
 * aligned) and is added here in row order, as the one-call kernel adds them: the same bits.
 * A `weight` other than 1 scales the term and its gradient. `rowWeights`, when given, is the byte
 * offset of one f32 weight per row (M2's q(y|x) over its (row, class) pairs): each row's term and
 * gradient count that many times, and a row of weight 0 adds nothing even where its own term is
 * not finite. The row sums stay unweighted (M2 reads them for q(y|x)'s gradient).
 */
export function likelihoodLoss(
  kind: number, logVar: number, target: () => number, features: number, rowSums: (rows: number) => number, weight: () => number = () => 1,
  rowWeights: () => number = () => 0,
): LossUnit {
  return {
    name: 'negative log-likelihood',
    apply(out, rows, _cols, grad) {
      const sums = rowSums(rows);
      const w = weight();
      const weights = rowWeights();
      kernels.likelihood_nll_rows(kind, target(), out, rows, features, logVar, grad, w, weights, sums);
      const f64 = new Float64Array(heap.memoryBuffer, sums, rows);
      let total = 0;
      if (weights === 0) {
        for (let r = 0; r < rows; r++) total += f64[r]!;
      } else {
        const f32 = heap.f32;
        for (let r = 0; r < rows; r++) {
          const q = f32[(weights >>> 2) + r]!;
          if (q !== 0) total += q * f64[r]!;
        }
      }
      return (w * total) / rows;
    },
  };
}

/** A GAN objective on the discriminator's logits; it keeps the mean D output, σ(logit), of its last batch. */
export interface GanObjective extends LossUnit {
  meanD: number;
}

function bceAgainst(name: string, target: number, weight: number): GanObjective {
  const unit: GanObjective = {
    name,
    meanD: 0,
    apply(out, rows, cols, grad) {
      const loss = kernels.loss(LOSS['bce-with-logits'], out, 0, target, rows, cols, grad, weight);
      unit.meanD = meanSigmoid(out, rows * cols);
      return loss;
    },
  };
  return unit;
}

/** The objectives of Goodfellow et al. (2014), Algorithm 1, each a loss to descend. */
export const ganObjectives = {
  /** Discriminator on real rows: −log D(x), against 1 − smoothing with one-sided label smoothing. */
  real: (labelSmoothing: number) => bceAgainst('discriminator on real rows', 1 - labelSmoothing, 1),
  /** Discriminator on generated rows: −log(1 − D(G(z))). */
  fake: () => bceAgainst('discriminator on generated rows', 0, 1),
  /** Generator, non-saturating: −log D(G(z)). */
  'non-saturating': () => bceAgainst('generator, non-saturating', 1, 1),
  /** Generator, minimax: log(1 − D(G(z))), i.e. minus the cross-entropy against 0. */
  minimax: () => bceAgainst('generator, minimax', 0, -1),
};

function meanSigmoid(ptr: number, n: number): number {
  const f32 = heap.f32;
  let s = 0;
  for (let i = 0; i < n; i++) s += 1 / (1 + Math.exp(-f32[(ptr >>> 2) + i]!));
  return s / n;
}
