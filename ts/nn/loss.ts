import { LatentkitError } from '../errors.js';
import { LOSS } from '../runtime/codes.js';

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
