import { ActivationCode } from './abi.js';
import { fail } from './errors.js';

export type ActivationName = keyof typeof ActivationCode;
export const ACTIVATION_NAMES = Object.keys(ActivationCode) as ActivationName[];

/** keras.activations.leaky_relu's default negative slope. */
export const DEFAULT_LEAKY_ALPHA = 0.2;

export interface ActivationOptions {
  /** leaky_relu's slope for x ≤ 0 (default 0.2, as keras.activations.leaky_relu). */
  alpha?: number;
}

/** A validated activation: its kernel code and its parameter. */
export interface ResolvedActivation {
  readonly name: ActivationName;
  readonly code: number;
  readonly alpha: number;
}

export function resolveActivation(name: unknown, options: ActivationOptions = {}): ResolvedActivation {
  const key = name === undefined || name === null ? 'linear' : name;
  if (typeof key !== 'string' || !Object.hasOwn(ActivationCode, key)) {
    fail('UNKNOWN_ACTIVATION', `unknown activation ${JSON.stringify(name)}; known: ${ACTIVATION_NAMES.join(', ')}`);
  }
  const activation = key as ActivationName;
  const alpha = options.alpha ?? DEFAULT_LEAKY_ALPHA;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) {
    fail('INVALID_ARGUMENT', `alpha must be a finite number, got ${String(options.alpha)}`);
  }
  return { name: activation, code: ActivationCode[activation], alpha: activation === 'leaky_relu' ? alpha : 0 };
}
