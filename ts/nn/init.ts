import { LatentkitError } from '../errors.js';
import { INIT } from '../runtime/codes.js';

export type InitName = 'glorot-uniform' | 'glorot-normal' | 'he-normal' | 'he-uniform';

const CODES: Record<InitName, number> = INIT;

export function initCode(name: InitName, where: string): number {
  if (typeof name !== 'string' || !(name in CODES)) {
    throw new LatentkitError(`unknown initialiser ${JSON.stringify(name)} for ${where}; expected one of ${Object.keys(CODES).join(', ')}`);
  }
  return CODES[name];
}

/** He for the ReLU family, Glorot otherwise. */
export function defaultInit(activation: string): InitName {
  return activation === 'relu' || activation === 'leaky-relu' ? 'he-normal' : 'glorot-uniform';
}
