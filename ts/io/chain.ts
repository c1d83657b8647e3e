/**
 * What the TF.js and ONNX importers share: a chain of dense layers being built, each activation or
 * per-unit affine (BatchNormalization, a scaling by a constant) attached to the last layer — fused
 * into its activation or folded into its weights where that computes the same, else a step after it.
 */
import { type ActivationSpec, resolveSpec } from '../activations.js';
import { fail } from '../errors.js';
import type { QuantizedWeights } from '../int8.js';
import type { LayerSpec } from '../sequential.js';
import type { LayerStep } from '../steps.js';
import { modelActivation } from './format.js';

/** A dense layer being imported: its weights as read (shared, never changed in place; int8 ones with a scale per unit), then what follows it. */
export type ImportedLayer = LayerSpec & {
  inputDim: number;
  units: number;
  kernel: Float32Array | QuantizedWeights;
  then: LayerStep[];
  folded: string[];
};

/** Whether the layer still computes x·W + b: no activation, no step yet. */
function isLinear(layer: ImportedLayer): boolean {
  return resolveSpec(layer.activation).name === 'linear' && layer.then.length === 0;
}

/** Appends `spec` to the layer: its activation while it has none, else a step (a linear one changes nothing). */
export function addActivation(layer: ImportedLayer, spec: ActivationSpec, where: string): void {
  const checked = modelActivation(spec, layer.units, where, !isLinear(layer));
  if (isLinear(layer)) layer.activation = checked;
  else if (resolveSpec(checked).name !== 'linear') layer.then.push(checked);
}

/**
 * Appends `y = x·scale + shift` (one value per unit, finite) to the layer: folded into its kernel and
 * bias while it is linear (recorded as `label` in `folded`), else a step labelled `label`.
 */
export function addAffine(layer: ImportedLayer, scale: Float32Array, shift: Float32Array, label: string): void {
  if (!isLinear(layer)) {
    layer.then.push({ scale, shift, label });
    return;
  }
  const { inputDim, units, kernel } = layer;
  const unitOf = layer.kernelLayout === 'oi' ? (i: number) => Math.floor(i / inputDim) : (i: number) => i % units;
  // Int8 weights keep their codes: the unit's scale takes the factor.
  layer.kernel =
    'codes' in kernel
      ? { codes: kernel.codes, scales: Float32Array.from(kernel.scales, (s, o) => s * scale[o]!) }
      : kernel.map((w, i) => w * scale[unitOf(i)]!);
  const bias = layer.bias ?? new Float32Array(units);
  layer.bias = Float32Array.from({ length: units }, (_, o) => bias[o]! * scale[o]! + shift[o]!);
  layer.folded.push(label);
}

/** Inference-mode batch normalization's parameters, one value per unit each (gamma and beta optional: 1 and 0). */
export interface BatchNorm {
  gamma?: Float32Array;
  beta?: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

/**
 * `γ·(x − mean)/√(variance + ε) + β` as `x·scale + shift`, computed in float64; INVALID_MODEL naming
 * `where` for a parameter that is not finite, a negative variance or ε, or a zero variance + ε.
 */
export function batchNormAffine(
  { gamma, beta, mean, variance, epsilon }: BatchNorm,
  where: string,
): [scale: Float32Array, shift: Float32Array] {
  if (!Number.isFinite(epsilon) || epsilon < 0) fail('INVALID_MODEL', `${where}: epsilon must be a finite number ≥ 0, got ${epsilon}`);
  for (const [name, values] of Object.entries({ gamma, beta, mean, variance })) {
    const bad = values?.findIndex((v) => !Number.isFinite(v)) ?? -1;
    if (bad >= 0) fail('INVALID_MODEL', `${where}: ${name}[${bad}] is ${values![bad]}`);
  }
  const bad = variance.findIndex((v) => !(v + epsilon > 0));
  if (bad >= 0) fail('INVALID_MODEL', `${where}: variance[${bad}] is ${variance[bad]}, and with epsilon ${epsilon} not > 0`);
  const scale = variance.map((v, c) => (gamma?.[c] ?? 1) / Math.sqrt(v + epsilon));
  const shift = scale.map((s, c) => (beta?.[c] ?? 0) - mean[c]! * s);
  const overflow = [...scale, ...shift].findIndex((v) => !Number.isFinite(v));
  if (overflow >= 0) fail('INVALID_MODEL', `${where}: unit ${overflow % scale.length}'s normalization overflows float32`);
  return [scale, shift];
}
