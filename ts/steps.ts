/**
 * Steps a layer of a Sequential model runs after its fused activation, inside the same wasm call:
 * further activations (an imported model's activation layers after a Dense that already has one)
 * and per-unit affine maps (an inference-mode BatchNormalization that could not be folded, ONNX's
 * Mul/Div/Add/Sub by a constant).
 */
import { AFFINE_CODE, type ModelStep } from './abi.js';
import {
  type ActivationName,
  type ActivationOptions,
  type ActivationSpec,
  type ResolvedActivation,
  preluSlopes,
  resolveSpec,
} from './activations.js';
import { SimdnetError, checkKeys, fail } from './errors.js';

/** `y = x·scale + shift` per unit: one value for all units, or one per unit. `label` names it in `summary()`. */
export interface AffineStep {
  scale: number | ArrayLike<number>;
  shift: number | ArrayLike<number>;
  label?: string;
}

/** A step after a layer's activation: any activation `nn.activate` applies along a row (but glu), or an affine map. */
export type LayerStep = ActivationSpec | AffineStep;

/** A step checked for a layer of `units`: what the kernel runs (`values`: prelu's slopes, or the scales then the shifts). */
export type CheckedStep =
  | { kind: 'activation'; spec: { name: ActivationName } & ActivationOptions; activation: ResolvedActivation; values: Float32Array | null }
  | { kind: 'affine'; label: string; values: Float32Array };

const AFFINE_KEYS = ['scale', 'shift', 'label'] as const satisfies readonly (keyof AffineStep)[];

/** One value per unit from `value` (a number, or an array of 1 or `units` numbers), each finite. */
function perUnit(value: unknown, units: number, what: string): Float32Array {
  const values = typeof value === 'number' ? [value] : value;
  if (values === null || typeof values !== 'object' || typeof (values as ArrayLike<number>).length !== 'number') {
    fail('INVALID_ARGUMENT', `${what} must be a number or an array of numbers`);
  }
  const list = values as ArrayLike<unknown>;
  if (list.length !== 1 && list.length !== units) fail('SHAPE_MISMATCH', `${what} has ${list.length} values for ${units} units`);
  return Float32Array.from({ length: units }, (_, i) => {
    const v = list[list.length === 1 ? 0 : i];
    if (typeof v !== 'number' || !Number.isFinite(v)) fail('INVALID_ARGUMENT', `${what} must hold finite numbers, got ${String(v)}`);
    return v;
  });
}

/** `check()`, its error (same code) prefixed with `what`. */
function naming<T>(what: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (!(e instanceof SimdnetError)) throw e;
    fail(e.code, `${what}: ${e.message.slice(`${e.code}: `.length)}`);
  }
}

/** A layer's `then` checked for `units` (INVALID_ARGUMENT, SHAPE_MISMATCH or UNKNOWN_ACTIVATION naming `where`). */
export function checkSteps(steps: unknown, units: number, where: string): CheckedStep[] {
  if (steps === undefined) return [];
  if (!Array.isArray(steps)) fail('INVALID_ARGUMENT', `${where}: then must be an array of steps`);
  return Array.from(steps, (step: unknown, j): CheckedStep => {
    const what = `${where}'s step ${j}`;
    if (step !== null && typeof step === 'object' && 'scale' in step) {
      checkKeys(step, AFFINE_KEYS, what);
      const { scale, shift, label = 'Affine' } = step as AffineStep;
      if (typeof label !== 'string') fail('INVALID_ARGUMENT', `${what}: label must be a string`);
      const values = new Float32Array(2 * units);
      values.set(perUnit(scale, units, `${what}'s scale`));
      values.set(perUnit(shift, units, `${what}'s shift`), units);
      return { kind: 'affine', label, values };
    }
    const options = typeof step === 'object' && step !== null ? (step as ActivationOptions) : {};
    const [activation, slopes] = naming(what, () => {
      const resolved = resolveSpec(step);
      if (resolved.name === 'glu') fail('INVALID_ARGUMENT', 'glu halves the width, which a step may not');
      return [resolved, resolved.name === 'prelu' ? preluSlopes(options.slope, units) : null] as const;
    });
    // What save() records: the options as given, prelu's slopes as a plain array.
    const spec = { ...options, name: activation.name, ...(slopes ? { slope: Array.from(slopes) } : {}) };
    return { kind: 'activation', spec, activation, values: slopes };
  });
}

/** The step's entry in the kernel's table, its values at byte address `values` (0 when it has none). */
export function stepDesc(step: CheckedStep, values: number): ModelStep {
  return step.kind === 'affine'
    ? { code: AFFINE_CODE, params: [0, 0, 0], values }
    : { code: step.activation.code, params: step.activation.params, values: step.values ? values : 0 };
}

/** Keras' layer class for an activation applied as a layer of its own. */
const KERAS_LAYERS: Partial<Record<ActivationName, string>> = {
  leaky_relu: 'LeakyReLU',
  elu: 'ELU',
  relu: 'ReLU',
  prelu: 'PReLU',
  softmax: 'Softmax',
};

/** The layer type `summary()` shows for the step. */
export function stepType(step: CheckedStep): string {
  return step.kind === 'affine' ? step.label : (KERAS_LAYERS[step.activation.name] ?? `Activation, ${step.activation.name}`);
}
