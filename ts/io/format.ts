import { type ActivationOptions, type ActivationSpec, preluSlopes, resolveSpec } from '../activations.js';
import { SimdnetError, fail } from '../errors.js';
import { MAX_INT8_INPUTS } from '../int8.js';
import { elementCountOf } from '../memory.js';
import type { LayerSpec, Sequential } from '../sequential.js';
import type { LayerStep } from '../steps.js';

/**
 * simdnet's own model format: a JSON document (the layers, their activations as given, and where each
 * weight array sits in the binary part) and a binary part of little-endian float32s. Saving and
 * loading round-trips exactly: same layers, same bits.
 */
export interface SavedModel {
  /** The JSON document, as text. */
  json: string;
  /**
   * The weights: every kernel ([in × out]) then bias, layer by layer, little-endian float32; an int8
   * layer's kernel as its codes (one byte each, padded to 4) then its scales (float32, one per unit).
   */
  weights: Uint8Array;
}

/** An affine step as saved: where its scales and shifts lie in the weights. */
interface SavedAffine {
  scale: Place;
  shift: Place;
  label: string;
}

/**
 * Version 2 adds to a layer its steps after the activation (`then`) and the layers folded into its
 * weights (`folded`); version 3 int8 layers (`quantize: 'int8'`, with `codes` and `scales` in place of
 * `kernel`). A model is saved in the lowest version that holds it, so that older readers still read it.
 */
interface ModelDocument {
  format: 'simdnet-sequential';
  version: 1 | 2 | 3;
  /** The binary part's file name, for models saved to disk (beside the JSON). */
  weightsPath: string;
  layers: {
    inputDim: number;
    units: number;
    activation: ActivationSpec;
    /** Float32 layers: the kernel's floats. */
    kernel?: Place;
    /** Int8 layers: 'int8', the codes (offset in 4-byte words, length in bytes) and the scales. */
    quantize?: 'int8';
    codes?: Place;
    scales?: Place;
    bias: Place;
    then?: (ActivationSpec | SavedAffine)[];
    folded?: string[];
  }[];
}

export function saveModel(model: Sequential, weightsPath = 'model.bin'): SavedModel {
  // Each part is whole 4-byte words; a place's offset counts words.
  const parts: Uint8Array[] = [];
  let words = 0;
  const put = (bytes: Uint8Array, length: number): Place => {
    parts.push(bytes);
    words += bytes.length / 4;
    return [words - bytes.length / 4, length];
  };
  const place = (w: Float32Array): Place => {
    const bytes = new Uint8Array(w.length * 4);
    const view = new DataView(bytes.buffer);
    w.forEach((v, i) => view.setFloat32(4 * i, v, true));
    return put(bytes, w.length);
  };
  const placeCodes = (codes: Int8Array): Place => {
    const bytes = new Uint8Array(Math.ceil(codes.length / 4) * 4);
    bytes.set(new Uint8Array(codes.buffer, codes.byteOffset, codes.length));
    return put(bytes, codes.length);
  };
  const specs = model.layerSpecs();
  const extended = model.steps.some((list) => list.length > 0) || model.folded.some((list) => list.length > 0);
  const quantized = specs.some((spec) => spec.quantize !== undefined);
  const doc: ModelDocument = {
    format: 'simdnet-sequential',
    version: quantized ? 3 : extended ? 2 : 1,
    weightsPath,
    layers: specs.map(({ units, activation, kernel, bias, then, folded }, i) => ({
      inputDim: model.layers[i]!.inputDim,
      units: units,
      activation: activation as ActivationSpec,
      ...(kernel && 'codes' in kernel
        ? { quantize: 'int8' as const, codes: placeCodes(kernel.codes), scales: place(Float32Array.from(kernel.scales)) }
        : { kernel: place(kernel as Float32Array) }),
      bias: place(bias as Float32Array),
      ...(then!.length > 0
        ? {
            then: then!.map((step) =>
              typeof step === 'object' && 'scale' in step
                ? { scale: place(step.scale as Float32Array), shift: place(step.shift as Float32Array), label: step.label ?? 'Affine' }
                : step,
            ),
          }
        : {}),
      ...(folded!.length > 0 ? { folded: [...folded!] } : {}),
    })),
  };
  const weights = new Uint8Array(words * 4);
  let at = 0;
  for (const part of parts) {
    weights.set(part, at);
    at += part.length;
  }
  return { json: JSON.stringify(doc, null, 1), weights };
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
  const count = elementCountOf(dims);
  if (count * 4 > MAX_WEIGHT_BYTES) fail('INVALID_MODEL', `${what} has ${count} values, more than wasm32's 4 GiB memory holds`);
  return count;
}

/**
 * A dense layer's activation (or a `step` after it) from a model file, checked as `nn.dense` would
 * check it (name, options, prelu's slopes for `units`, no glu), so that a bad one is INVALID_MODEL naming `where`.
 */
export function modelActivation<T>(spec: T, units: number, where: string, step = false): T {
  try {
    const { name } = resolveSpec(spec);
    if (name === 'glu') fail('INVALID_MODEL', `glu halves the width: a ${step ? 'step' : 'dense layer'} cannot apply it`);
    if (name === 'prelu') preluSlopes((spec as ActivationOptions).slope, units);
  } catch (e) {
    if (!(e instanceof SimdnetError)) throw e;
    fail('INVALID_MODEL', `${where}: ${e.message.slice(`${e.code}: `.length)}`);
  }
  return spec;
}

type Place = [offset: number, length: number];

/** A saved model's document, checked: its layers and where their weights lie in `byteLength` bytes. */
export interface ModelPlan {
  weightsPath: string;
  byteLength: number;
  layers: {
    inputDim: number;
    units: number;
    activation: ActivationSpec;
    /** A float32 layer's kernel, or an int8 layer's codes (in bytes) and scales. */
    kernel: Place | { codes: Place; scales: Place };
    bias: Place;
    then: PlannedStep[];
    folded: string[];
  }[];
}

type PlannedStep = ActivationSpec | SavedAffine;

/**
 * Checks a parsed model document before anything else is read: every layer's sizes (each layer's
 * input is the previous one's output), activation, and weight places (whole float32s, inside the
 * weights, whose length is the sum of all kernel and bias lengths).
 */
export function planModel(document: unknown): ModelPlan {
  const doc = document as Partial<ModelDocument> | null;
  if (doc === null || typeof doc !== 'object' || doc.format !== 'simdnet-sequential' || ![1, 2, 3].includes(doc.version!)) {
    fail('INVALID_MODEL', 'not a simdnet model document (format "simdnet-sequential", version 1 to 3)');
  }
  const weightsPath = doc.weightsPath ?? 'model.bin';
  if (typeof weightsPath !== 'string') fail('INVALID_MODEL', 'weightsPath must be a string');
  if (!Array.isArray(doc.layers) || doc.layers.length === 0) fail('INVALID_MODEL', 'layers must be a non-empty array');
  let floats = 0;
  let width: number | undefined;
  const places: [what: string, place: Place][] = [];
  const layers = Array.from(doc.layers, (layer: unknown, i) => {
    const where = `layer ${i}`;
    const l = modelObject(layer, where);
    const inputDim = modelCount(l.inputDim, `${where}'s inputDim`);
    const units = modelCount(l.units, `${where}'s units`);
    if (width !== undefined && inputDim !== width) {
      fail('INVALID_MODEL', `${where} has inputDim ${inputDim} but the previous layer has ${width} units`);
    }
    width = units;
    // `perWord` values share each 4-byte word: 1 for floats, 4 for int8 codes.
    const place = (value: unknown, length: number, part: string, perWord = 1): Place => {
      const what = `${where}'s ${part}`;
      if (!Array.isArray(value) || value.length !== 2) fail('INVALID_MODEL', `${what} must be [offset, length]`);
      const [offset, count] = [modelCount(value[0], `${what} offset`), modelCount(value[1], `${what} length`)];
      if (count !== length) fail('INVALID_MODEL', `${what} has ${count} values, expected ${length}`);
      floats += Math.ceil(count / perWord);
      places.push([what, [offset, Math.ceil(count / perWord)]]);
      return [offset, count];
    };
    if (l.quantize !== undefined && (l.quantize !== 'int8' || doc.version !== 3))
      fail('INVALID_MODEL', `${where}'s quantize must be 'int8', in a version 3 document`);
    if (l.quantize !== undefined && inputDim > MAX_INT8_INPUTS)
      fail('INVALID_MODEL', `${where} is int8 with ${inputDim} inputs; int8 layers take at most ${MAX_INT8_INPUTS}`);
    const kernelCount = elementCount([inputDim, units], `${where}'s kernel`);
    if (l.then !== undefined && !Array.isArray(l.then)) fail('INVALID_MODEL', `${where}'s then must be an array of steps`);
    const then = Array.from(l.then ?? [], (step: unknown, j): PlannedStep => {
      const what = `${where}'s step ${j}`;
      if (step === null || typeof step !== 'object' || !('scale' in step))
        return modelActivation(step as ActivationSpec, units, what, true);
      const { scale, shift, label } = step as Record<string, unknown>;
      if (typeof label !== 'string') fail('INVALID_MODEL', `${what}'s label must be a string`);
      return { scale: place(scale, units, `step ${j}'s scale`), shift: place(shift, units, `step ${j}'s shift`), label };
    });
    const folded = l.folded ?? [];
    if (!Array.isArray(folded) || !folded.every((f) => typeof f === 'string'))
      fail('INVALID_MODEL', `${where}'s folded must be an array of names`);
    return {
      inputDim,
      units,
      activation: modelActivation(l.activation as ActivationSpec, units, where),
      kernel:
        l.quantize === 'int8'
          ? { codes: place(l.codes, kernelCount, 'codes', 4), scales: place(l.scales, units, 'scales') }
          : place(l.kernel, kernelCount, 'kernel'),
      bias: place(l.bias, units, 'bias'),
      then,
      folded,
    };
  });
  const byteLength = floats * 4;
  if (byteLength > MAX_WEIGHT_BYTES) {
    fail('INVALID_MODEL', `the layers need ${byteLength} bytes of weights, more than wasm32's 4 GiB memory holds`);
  }
  for (const [what, [offset, length]] of places) {
    if ((offset + length) * 4 > byteLength) fail('INVALID_MODEL', `${what} lies outside the ${byteLength} bytes of weights`);
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
  const readCodes = ([offset, length]: Place) => new Int8Array(weights.buffer, weights.byteOffset + 4 * offset, length).slice();
  return plan.layers.map(({ inputDim, units, activation, kernel, bias, then, folded }) => ({
    inputDim,
    units,
    activation,
    ...('codes' in kernel
      ? { quantize: 'int8' as const, kernel: { codes: readCodes(kernel.codes), scales: read(kernel.scales) } }
      : { kernel: read(kernel) }),
    bias: read(bias),
    folded,
    then: then.map((step): LayerStep =>
      typeof step === 'object' && 'scale' in step ? { scale: read(step.scale), shift: read(step.shift), label: step.label } : step,
    ),
  }));
}
