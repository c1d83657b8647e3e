import type { ActivationSpec } from './activations.js';
import { fail } from './errors.js';
import type { LayerSpec, Sequential } from './sequential.js';

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

/** A model document's JSON, parsed once, or INVALID_ARGUMENT. */
export function parseJson(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch (e) {
    fail('INVALID_ARGUMENT', `the model document is not JSON (${(e as Error).message})`);
  }
}

/** The layer specs (with their weights) of a saved model's parsed document, validated. */
export function parseModel(document: unknown, weights: Uint8Array): LayerSpec[] {
  const doc = document as ModelDocument | null;
  if (doc?.format !== 'simdnet-sequential' || doc.version !== 1 || !Array.isArray(doc.layers)) {
    fail('INVALID_ARGUMENT', 'not a simdnet model document (format "simdnet-sequential", version 1)');
  }
  if (weights.byteLength % 4 !== 0) fail('SHAPE_MISMATCH', `the weights have ${weights.byteLength} bytes, not a whole number of float32s`);
  const view = new DataView(weights.buffer, weights.byteOffset, weights.byteLength);
  const read = ([offset, length]: [number, number], expected: number, what: string) => {
    if (length !== expected) fail('SHAPE_MISMATCH', `${what} has ${length} values, expected ${expected}`);
    if (!(offset >= 0 && (offset + length) * 4 <= weights.byteLength)) fail('SHAPE_MISMATCH', `${what} lies outside the ${weights.byteLength} bytes of weights`);
    return Float32Array.from({ length }, (_, i) => view.getFloat32(4 * (offset + i), true));
  };
  return doc.layers.map((l, i) => ({
    inputDim: l.inputDim,
    units: l.units,
    activation: l.activation,
    kernel: read(l.kernel, l.inputDim * l.units, `layer ${i}'s kernel`),
    bias: read(l.bias, l.units, `layer ${i}'s bias`),
  }));
}

/** The binary part's name recorded in a model document (for loading from disk or a URL). */
export function weightsPathOf(document: unknown): string {
  const path = (document as Partial<ModelDocument> | null)?.weightsPath;
  return typeof path === 'string' ? path : 'model.bin';
}
