import { type ActivationOptions, type ActivationSpec, preluSlopes, resolveSpec } from '../activations.js';
import { SimdnetError, fail } from '../errors.js';
import type { LayerSpec, Sequential } from '../sequential.js';

/**
 * simdnet's own model format: a JSON document (the layers, their activations as given, and where each
 * weight array sits in the binary part) and a binary part of little-endian float32s. Saving and
 * loading round-trips exactly: same layers, same bits.
 */
export interface SavedModel {
  /** The JSON document, as text. */
  json: string;
  /** The weights: every kernel ([in × out]) then bias, layer by layer, little-endian float32. */
  weights: Uint8Array;
}

interface ModelDocument {
  format: 'simdnet-sequential';
  version: 1;
  /** The binary part's file name, for models saved to disk (beside the JSON). */
  weightsPath: string;
  layers: { inputDim: number; units: number; activation: ActivationSpec; kernel: [number, number]; bias: [number, number] }[];
}

export function saveModel(model: Sequential, weightsPath = 'model.bin'): SavedModel {
  const weights = model.getWeights();
  const floats = new Float32Array(weights.reduce((n, w) => n + w.length, 0));
  let offset = 0;
  const place = (w: Float32Array): [number, number] => {
    floats.set(w, offset);
    offset += w.length;
    return [offset - w.length, w.length];
  };
  const doc: ModelDocument = {
    format: 'simdnet-sequential',
    version: 1,
    weightsPath,
    layers: model.layers.map((l, i) => ({
      inputDim: l.inputDim,
      units: l.units,
      activation: l.activationSpec as ActivationSpec,
      kernel: place(weights[2 * i]!),
      bias: place(weights[2 * i + 1]!),
    })),
  };
  const bytes = new Uint8Array(floats.length * 4);
  const view = new DataView(bytes.buffer);
  floats.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return { json: JSON.stringify(doc, null, 1), weights: bytes };
}

/** A model document's JSON, parsed once, or INVALID_MODEL. */
export function parseJson(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch (e) {
    fail('INVALID_MODEL', `the model document is not JSON (${(e as Error).message})`);
  }
}

/** The most weight bytes a model file may declare: what wasm32's 4 GiB memory could hold. */
export const MAX_WEIGHT_BYTES = 2 ** 32;

/** A size or offset from a model file: a non-negative safe integer, or INVALID_MODEL naming `what`. */
export function modelCount(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    fail('INVALID_MODEL', `${what} must be a non-negative integer, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

/** A plain object (not null, not an array) from a model file, or INVALID_MODEL naming `what`. */
export function modelObject(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('INVALID_MODEL', `${what} must be an object`);
  return value as Record<string, unknown>;
}

/** The float count of `dims`, refused when it could not fit in memory (a safe integer whatever the dims). */
export function elementCount(dims: readonly number[], what: string): number {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count * 4 > MAX_WEIGHT_BYTES) fail('INVALID_MODEL', `${what} has ${count} values, more than wasm32's 4 GiB memory holds`);
  return count;
}

/**
 * A dense layer's activation from a model file, checked as `nn.dense` would check it (name, options,
 * prelu's slopes for `units`, no glu), so that a bad one is INVALID_MODEL naming `where`.
 */
export function modelActivation<T>(spec: T, units: number, where: string): T {
  try {
    const { name } = resolveSpec(spec);
    if (name === 'glu') fail('INVALID_MODEL', 'glu halves the width: a dense layer cannot apply it');
    if (name === 'prelu') preluSlopes((spec as ActivationOptions).slope, units);
  } catch (e) {
    if (!(e instanceof SimdnetError)) throw e;
    fail('INVALID_MODEL', `${where}: ${e.message}`);
  }
  return spec;
}

type Place = [offset: number, length: number];

/** A saved model's document, checked: its layers and where their weights lie in `byteLength` bytes. */
export interface ModelPlan {
  weightsPath: string;
  byteLength: number;
  layers: { inputDim: number; units: number; activation: ActivationSpec; kernel: Place; bias: Place }[];
}

/**
 * Checks a parsed model document before anything else is read: every layer's sizes (each layer's
 * input is the previous one's output), activation, and weight places (whole float32s, inside the
 * weights, whose length is the sum of all kernel and bias lengths).
 */
export function planModel(document: unknown): ModelPlan {
  const doc = document as Partial<ModelDocument> | null;
  if (doc === null || typeof doc !== 'object' || doc.format !== 'simdnet-sequential' || doc.version !== 1) {
    fail('INVALID_MODEL', 'not a simdnet model document (format "simdnet-sequential", version 1)');
  }
  const weightsPath = doc.weightsPath ?? 'model.bin';
  if (typeof weightsPath !== 'string') fail('INVALID_MODEL', 'weightsPath must be a string');
  if (!Array.isArray(doc.layers) || doc.layers.length === 0) fail('INVALID_MODEL', 'layers must be a non-empty array');
  let floats = 0;
  let width: number | undefined;
  const layers = Array.from(doc.layers, (layer: unknown, i) => {
    const where = `layer ${i}`;
    const l = modelObject(layer, where);
    const inputDim = modelCount(l.inputDim, `${where}'s inputDim`);
    const units = modelCount(l.units, `${where}'s units`);
    if (width !== undefined && inputDim !== width) {
      fail('INVALID_MODEL', `${where} has inputDim ${inputDim} but the previous layer has ${width} units`);
    }
    width = units;
    const place = (value: unknown, length: number, part: string): Place => {
      const what = `${where}'s ${part}`;
      if (!Array.isArray(value) || value.length !== 2) fail('INVALID_MODEL', `${what} must be [offset, length]`);
      const [offset, count] = [modelCount(value[0], `${what} offset`), modelCount(value[1], `${what} length`)];
      if (count !== length) fail('INVALID_MODEL', `${what} has ${count} values, expected ${length}`);
      floats += count;
      return [offset, count];
    };
    return {
      inputDim,
      units,
      activation: modelActivation(l.activation as ActivationSpec, units, where),
      kernel: place(l.kernel, elementCount([inputDim, units], `${where}'s kernel`), 'kernel'),
      bias: place(l.bias, units, 'bias'),
    };
  });
  const byteLength = floats * 4;
  if (byteLength > MAX_WEIGHT_BYTES) {
    fail('INVALID_MODEL', `the layers need ${byteLength} bytes of weights, more than wasm32's 4 GiB memory holds`);
  }
  for (const [i, l] of layers.entries()) {
    for (const [part, [offset, length]] of [['kernel', l.kernel], ['bias', l.bias]] as const) {
      if ((offset + length) * 4 > byteLength) fail('INVALID_MODEL', `layer ${i}'s ${part} lies outside the ${byteLength} bytes of weights`);
    }
  }
  return { weightsPath, byteLength, layers };
}

/** The layer specs of a checked model document with its weights, which must be exactly as long as it declares. */
export function parseModel(plan: ModelPlan, weights: Uint8Array): LayerSpec[] {
  if (weights.byteLength !== plan.byteLength) {
    fail('INVALID_MODEL', `the weights have ${weights.byteLength} bytes; the layers need ${plan.byteLength}`);
  }
  const view = new DataView(weights.buffer, weights.byteOffset, weights.byteLength);
  const read = ([offset, length]: Place) => Float32Array.from({ length }, (_, i) => view.getFloat32(4 * (offset + i), true));
  return plan.layers.map(({ inputDim, units, activation, kernel, bias }) => (
    { inputDim, units, activation, kernel: read(kernel), bias: read(bias) }
  ));
}
