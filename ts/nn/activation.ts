import { LatentkitError } from '../errors.js';
import { ACTIVATION } from '../runtime/codes.js';

export type ActivationName = keyof typeof ACTIVATION;
/** Every activation's name, in the kernels' code order (for a CLI's or a form's choices). */
export const activationNames = Object.freeze(Object.keys(ACTIVATION) as ActivationName[]);
/** A name, or leaky ReLU with its negative slope α ∈ [0, 1) (default 0.01). */
export type ActivationSpec = ActivationName | { type: 'leaky-relu'; alpha: number };

const CODES: Record<ActivationName, number> = ACTIVATION;

export interface ResolvedActivation {
  name: ActivationName;
  code: number;
  alpha: number;
}

export function resolveActivation(spec: ActivationSpec, where: string): ResolvedActivation {
  const name = typeof spec === 'string' ? spec : spec?.type;
  if (typeof name !== 'string' || !(name in CODES)) {
    throw new LatentkitError(`unknown activation ${JSON.stringify(spec)} for ${where}; expected one of ${activationNames.join(', ')}`);
  }
  let alpha = name === 'leaky-relu' ? 0.01 : 0;
  if (typeof spec === 'object') {
    alpha = spec.alpha;
    if (typeof alpha !== 'number' || !(alpha >= 0 && alpha < 1)) {
      throw new LatentkitError(`leaky-relu slope alpha must be in [0, 1) for ${where}, got ${alpha}`);
    }
  }
  return { name: name as ActivationName, code: CODES[name as ActivationName], alpha };
}

export function activationToSpec(a: ResolvedActivation): ActivationSpec {
  return a.name === 'leaky-relu' ? { type: 'leaky-relu', alpha: a.alpha } : a.name;
}
