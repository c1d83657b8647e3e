import { LossCode } from '../abi.js';
import { fail } from '../errors.js';

/** The kernel's losses, and the sparse one: its labels reach the kernel one-hot, as categorical. */
const LOSS_CODES = { ...LossCode, sparse_categorical_crossentropy: LossCode.categorical_crossentropy } as const;

export type LossName = keyof typeof LOSS_CODES;

/** Keras' short names and TF.js' camelCase spellings of the losses. */
const LOSS_ALIASES: Record<string, LossName> = {
  mse: 'mean_squared_error',
  meanSquaredError: 'mean_squared_error',
  mae: 'mean_absolute_error',
  meanAbsoluteError: 'mean_absolute_error',
  huberLoss: 'huber',
  binaryCrossentropy: 'binary_crossentropy',
  categoricalCrossentropy: 'categorical_crossentropy',
  sparseCategoricalCrossentropy: 'sparse_categorical_crossentropy',
};

export const LOSS_NAMES = [...Object.keys(LOSS_CODES), ...Object.keys(LOSS_ALIASES)].sort();

/** A loss as `compile()` takes it: a name, or a name with Keras' options. */
export type LossSpec = string | { name: string; fromLogits?: boolean; delta?: number };

export interface ResolvedLoss {
  readonly name: LossName;
  readonly code: number;
  readonly fromLogits: boolean;
  /** huber's delta (Keras default 1). */
  readonly delta: number;
  /** Targets are class ids, one per sample (expanded one-hot for the kernel). */
  readonly sparse: boolean;
}

const CROSSENTROPIES: readonly LossName[] = ['binary_crossentropy', 'categorical_crossentropy', 'sparse_categorical_crossentropy'];

export function resolveLoss(spec: unknown): ResolvedLoss {
  const {
    name: given,
    fromLogits = false,
    delta = 1,
    ...rest
  } = (typeof spec === 'object' && spec !== null ? spec : { name: spec }) as {
    name: unknown;
    fromLogits?: unknown;
    delta?: unknown;
  };
  if (typeof given !== 'string') fail('INVALID_ARGUMENT', `loss must be a name or { name, ... }, got ${String(given)}`);
  const name = Object.hasOwn(LOSS_ALIASES, given) ? LOSS_ALIASES[given]! : given;
  if (!Object.hasOwn(LOSS_CODES, name)) fail('INVALID_ARGUMENT', `unknown loss ${JSON.stringify(given)}; known: ${LOSS_NAMES.join(', ')}`);
  const unknown = Object.keys(rest);
  if (unknown.length > 0) fail('INVALID_ARGUMENT', `unknown loss option ${unknown[0]}`);
  if (typeof fromLogits !== 'boolean') fail('INVALID_ARGUMENT', `fromLogits must be a boolean, got ${String(fromLogits)}`);
  const lossName = name as LossName;
  if (fromLogits && !CROSSENTROPIES.includes(lossName))
    fail('INVALID_ARGUMENT', `fromLogits applies to the cross-entropies, not ${lossName}`);
  if (typeof delta !== 'number' || !(delta > 0) || !Number.isFinite(delta))
    fail('INVALID_ARGUMENT', `huber delta must be a positive number, got ${String(delta)}`);
  return { name: lossName, code: LOSS_CODES[lossName], fromLogits, delta, sparse: lossName === 'sparse_categorical_crossentropy' };
}
