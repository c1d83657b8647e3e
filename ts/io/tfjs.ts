/**
 * TF.js Layers import: a `model.json` (Keras topology + weights manifest) and its weight shards,
 * as written by `tf.io` / `tensorflowjs_converter`, for Sequential models of Dense and activation
 * layers. Weights are looked up by name, quantized ones dequantized. Everything is checked before
 * use: a malformed file is INVALID_MODEL naming the layer or field, and so is a well-formed one using
 * what simdnet does not support (other layers, activations, topologies): one code for "this file
 * cannot be loaded", as the ONNX reader gives.
 */
import type { ActivationOptions, ActivationSpec } from '../activations.js';
import { fail } from '../errors.js';
import { MAX_WEIGHT_BYTES, elementCount, modelActivation, modelCount, modelObject } from './format.js';
import type { WeightFiles } from './read.js';
import type { LayerSpec } from '../sequential.js';

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}

/**
 * What `tf.io` hands a save handler (`tf.io.ModelArtifacts`: its fields are optional there, and its
 * weight data may come as several buffers), or `model.json` with its shards read.
 */
export interface TfjsArtifacts {
  modelTopology?: unknown;
  weightSpecs?: readonly WeightSpec[];
  weightData?: ArrayBuffer | readonly ArrayBuffer[] | Uint8Array;
}

/** The weight data as one byte array (TF.js ≥ 4.11 may hand a list of buffers, in order). */
function weightBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (!Array.isArray(data) || !data.every((b) => b instanceof ArrayBuffer)) {
    fail('INVALID_MODEL', 'weightData must be an ArrayBuffer, a list of them, or a Uint8Array');
  }
  const bytes = new Uint8Array(data.reduce((n: number, b: ArrayBuffer) => n + b.byteLength, 0));
  let at = 0;
  for (const b of data as ArrayBuffer[]) {
    bytes.set(new Uint8Array(b), at);
    at += b.byteLength;
  }
  return bytes;
}

function halfToFloat(h: number): number {
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** A weight spec, checked: its shape, value count, bytes per value in the weight data, and how to decode a value. */
interface CheckedSpec {
  name: string;
  shape: number[];
  count: number;
  width: 1 | 2 | 4;
  decode: (view: DataView, at: number) => number;
}

const finiteField = (value: unknown, what: string): number => {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    fail('INVALID_MODEL', `${what} must be a finite number, got ${JSON.stringify(value)}`);
  }
  return value;
};

/** One weight spec checked: name, integer dims, float32 dtype, quantization with what it needs. */
function checkSpec(value: unknown, where: string): CheckedSpec {
  const spec = modelObject(value, where);
  const { name, shape, dtype, quantization } = spec;
  if (typeof name !== 'string' || name === '') fail('INVALID_MODEL', `${where}: name must be a non-empty string`);
  const what = `weight ${JSON.stringify(name)}`;
  if (!Array.isArray(shape)) fail('INVALID_MODEL', `${what}: shape must be an array of sizes`);
  // Array.from visits holes (arrays passed directly may have them), where map would skip them.
  const dims = Array.from(shape, (d: unknown, i) => modelCount(d, `${what}: shape[${i}]`));
  const count = elementCount(dims, what);
  if (dtype !== 'float32') {
    fail('INVALID_MODEL', `${what} has dtype ${JSON.stringify(dtype)}; only float32 (or quantized) weights are supported`);
  }
  const checked = { name, shape: dims, count };
  if (quantization === undefined) return { ...checked, width: 4, decode: (view, at) => view.getFloat32(at, true) };
  const q = modelObject(quantization, `${what}: quantization`);
  if (q.dtype === 'float16') return { ...checked, width: 2, decode: (view, at) => halfToFloat(view.getUint16(at, true)) };
  if (q.dtype !== 'uint8' && q.dtype !== 'uint16') {
    fail('INVALID_MODEL', `${what}: quantization dtype ${JSON.stringify(q.dtype)} is not uint8, uint16 or float16`);
  }
  const scale = finiteField(q.scale, `${what}: quantization scale`);
  const min = finiteField(q.min, `${what}: quantization min`);
  return q.dtype === 'uint8'
    ? { ...checked, width: 1, decode: (view, at) => view.getUint8(at) * scale + min }
    : { ...checked, width: 2, decode: (view, at) => view.getUint16(at, true) * scale + min };
}

/** A list of weight specs checked, names unique; `where` names the list. */
function checkSpecs(specs: unknown, where: string): CheckedSpec[] {
  if (!Array.isArray(specs)) fail('INVALID_MODEL', `${where} must be an array of weight specs`);
  const checked = Array.from(specs, (s: unknown, i) => checkSpec(s, `${where}[${i}]`));
  const names = new Set<string>();
  for (const { name } of checked) {
    if (names.has(name)) fail('INVALID_MODEL', `weight ${JSON.stringify(name)} is listed twice`);
    names.add(name);
  }
  return checked;
}

const byteLengthOf = (specs: readonly CheckedSpec[]) => specs.reduce((n, s) => n + s.count * s.width, 0);

interface Weight {
  shape: number[];
  values: Float32Array;
}

/** Every weight by name, as float32; the data must hold exactly the bytes the specs need, in their order. */
function weightsByName(specs: readonly CheckedSpec[], data: Uint8Array): Map<string, Weight> {
  const needed = byteLengthOf(specs);
  if (data.byteLength !== needed) fail('INVALID_MODEL', `the weight data has ${data.byteLength} bytes; the weight specs need ${needed}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Map<string, Weight>();
  let at = 0;
  for (const { name, shape, count, width, decode } of specs) {
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = decode(view, at + i * width);
    out.set(name, { shape, values });
    at += count * width;
  }
  return out;
}

const KERAS_ACTIVATIONS: Readonly<Record<string, ActivationSpec>> = {
  linear: 'linear', relu: 'relu', relu6: 'relu6', elu: 'elu', selu: 'selu', sigmoid: 'sigmoid', tanh: 'tanh',
  softmax: 'softmax', softplus: 'softplus', softsign: 'softsign', swish: 'silu', silu: 'silu', mish: 'mish',
  gelu: 'gelu', exponential: 'exponential', log_softmax: 'log_softmax', hard_silu: 'hard_silu', hard_swish: 'hard_silu',
  hardSigmoid: { name: 'hard_sigmoid', preset: 'tfjs' },
};

/** A Keras / TF.js activation identifier as simdnet's, with the defaults of the file's Keras (none: linear). */
function activation(name: unknown, keras3: boolean, layer: string): ActivationSpec {
  if (name === undefined || name === null) return 'linear';
  if (typeof name !== 'string') fail('INVALID_MODEL', `layer ${layer}: activation must be a name, got ${JSON.stringify(name)}`);
  // hard_sigmoid is x/6 + 0.5 in Keras 3, 0.2x + 0.5 in Keras 2 and TF.js.
  if (name === 'hard_sigmoid') return { name: 'hard_sigmoid', preset: keras3 ? 'keras' : 'tfjs' };
  // An own property only: a name such as "__proto__" or "toString" is not an activation.
  if (!Object.hasOwn(KERAS_ACTIVATIONS, name)) {
    fail('INVALID_MODEL', `layer ${layer}: activation ${JSON.stringify(name)} is not supported`);
  }
  return KERAS_ACTIVATIONS[name]!;
}

/** A layer's optional number under the first of `keys` it has (none, or null: `fallback`), finite. */
function option(config: Record<string, unknown>, keys: string[], fallback: number, layer: string): number {
  const key = keys.find((k) => config[k] !== undefined && config[k] !== null);
  return key === undefined ? fallback : finiteField(config[key], `layer ${layer}: ${key}`);
}

/** The layer list of a Sequential topology (Keras 2 and TF.js: the config itself or `config.layers`). */
function kerasLayers(topology: unknown): { layers: unknown[]; keras3: boolean } {
  const top = modelObject(topology, 'modelTopology');
  const root = modelObject(top.model_config ?? top, 'modelTopology.model_config');
  if (root.class_name !== 'Sequential') {
    fail('INVALID_MODEL', `only Sequential TF.js models are supported, got ${JSON.stringify(root.class_name)}`);
  }
  const keras3 = String(top.keras_version ?? root.keras_version ?? '').startsWith('3');
  const config = root.config;
  const layers = Array.isArray(config) ? config : modelObject(config, 'the Sequential config').layers;
  if (!Array.isArray(layers)) fail('INVALID_MODEL', 'the Sequential config has no layers array');
  return { layers, keras3 };
}

/** The dense layers of a TF.js Layers Sequential model. */
export function parseTfjs(artifacts: TfjsArtifacts): LayerSpec[] {
  const { modelTopology, weightSpecs, weightData } = modelObject(artifacts, 'the TF.js artifacts') as Partial<TfjsArtifacts>;
  const data = weightBytes(weightData);
  const specs = checkSpecs(weightSpecs, 'weightSpecs');
  const { layers: keraLayers, keras3 } = kerasLayers(modelTopology);
  const weights = weightsByName(specs, data);
  /** The weight of `layer` named `part`, whose shape must be one of `shapes`. */
  const find = (layer: string, part: string, shapes: number[][]): Float32Array => {
    for (const [name, { shape, values }] of weights) {
      if (name !== `${layer}/${part}` && !name.endsWith(`/${layer}/${part}`)) continue;
      if (!shapes.some((s) => s.length === shape.length && s.every((d, i) => d === shape[i]))) {
        const expected = shapes.map((s) => `[${s.join(', ')}]`).join(' or ');
        fail('INVALID_MODEL', `layer ${layer}: weight ${name} has shape [${shape.join(', ')}], expected ${expected}`);
      }
      return values;
    }
    fail('INVALID_MODEL', `layer ${layer}: no weight named ${layer}/${part}`);
  };
  const layers: (LayerSpec & { inputDim: number; units: number })[] = [];
  let width: number | undefined;
  const shapeWidth = (c: Record<string, unknown>, layer: string) => {
    const shape = c.batch_input_shape ?? c.batch_shape;
    if (shape === undefined || shape === null) return undefined;
    if (!Array.isArray(shape) || shape.length < 2) fail('INVALID_MODEL', `layer ${layer}: the input shape must be [batch, ..., features]`);
    return modelCount(shape.at(-1), `layer ${layer}: the input width`);
  };
  /** The Dense layer an activation layer applies to: the last one, which must not have an activation yet. */
  const activated = (layer: string) => {
    const last = layers.at(-1);
    if (!last || (last.activation !== undefined && last.activation !== 'linear')) {
      fail('INVALID_MODEL', `layer ${layer}: an activation layer must follow a Dense layer without an activation`);
    }
    return last;
  };
  const setActivation = (layer: string, spec: ActivationSpec) => {
    const last = activated(layer);
    last.activation = modelActivation(spec, last.units, `layer ${layer}`);
  };
  for (const [i, entry] of keraLayers.entries()) {
    const { class_name: kind, config } = modelObject(entry, `layer ${i}`);
    const c = modelObject(config, `layer ${i}'s config`);
    if (typeof c.name !== 'string') fail('INVALID_MODEL', `layer ${i}: name must be a string`);
    const name = c.name;
    switch (kind) {
      case 'InputLayer':
        width = shapeWidth(c, name) ?? width;
        break;
      case 'Dense': {
        const inputDim = shapeWidth(c, name) ?? width;
        if (inputDim === undefined) fail('INVALID_MODEL', `layer ${name}: the input width is unknown (no input shape)`);
        if (width !== undefined && inputDim !== width) {
          fail('INVALID_MODEL', `layer ${name}: input width ${inputDim}, but the previous layer has ${width} units`);
        }
        const units = modelCount(c.units, `layer ${name}: units`);
        if (c.use_bias !== undefined && typeof c.use_bias !== 'boolean') fail('INVALID_MODEL', `layer ${name}: use_bias must be a boolean`);
        const kernel = find(name, 'kernel', [[inputDim, units]]);
        const bias = c.use_bias === false ? undefined : find(name, 'bias', [[units]]);
        const spec = modelActivation(activation(c.activation, keras3, name), units, `layer ${name}`);
        layers.push({ inputDim, units, kernel, bias, activation: spec });
        width = units;
        break;
      }
      case 'Activation':
        setActivation(name, activation(c.activation, keras3, name));
        break;
      case 'LeakyReLU':
        // The layer's default slope is 0.3 (Keras 2, TF.js: alpha; Keras 3: negative_slope).
        setActivation(name, { name: 'leaky_relu', negativeSlope: option(c, ['negative_slope', 'alpha'], 0.3, name) });
        break;
      case 'ELU':
        setActivation(name, { name: 'elu', alpha: option(c, ['alpha'], 1, name) });
        break;
      case 'ReLU': {
        const options: ActivationOptions = {};
        const maxValue = option(c, ['max_value'], Infinity, name);
        const negativeSlope = option(c, ['negative_slope'], 0, name);
        const threshold = option(c, ['threshold'], 0, name);
        if (maxValue !== Infinity) options.maxValue = maxValue;
        if (negativeSlope !== 0) options.negativeSlope = negativeSlope;
        if (threshold !== 0) options.threshold = threshold;
        setActivation(name, { name: 'relu', ...options });
        break;
      }
      case 'PReLU': {
        // alpha has one slope per unit, or one in all when shared_axes covers the feature axis.
        setActivation(name, { name: 'prelu', slope: find(name, 'alpha', [[activated(name).units], [1]]) });
        break;
      }
      case 'Softmax': {
        // Inputs are [batch, features]: axis 1 (TF.js' default) is the last axis, as is -1.
        const axis = option(c, ['axis'], -1, name);
        if (axis !== -1 && axis !== 1) fail('INVALID_MODEL', `layer ${name}: softmax over axis ${axis}; only the last axis is supported`);
        setActivation(name, 'softmax');
        break;
      }
      case 'Dropout':
        break;
      default:
        fail('INVALID_MODEL', `layer ${name}: ${JSON.stringify(kind)} layers are not supported`);
    }
  }
  if (layers.length === 0) fail('INVALID_MODEL', 'the model has no Dense layer');
  return layers;
}

/** Whether a parsed JSON document is a TF.js `model.json` (or artifacts). */
export function isTfjsDocument(document: unknown): document is { modelTopology: unknown } {
  // Any of TF.js' own keys: artifacts that lack their topology are a broken TF.js model, not another kind of source.
  return document !== null && typeof document === 'object' && TFJS_KEYS.some((key) => key in document);
}
const TFJS_KEYS = ['modelTopology', 'weightsManifest', 'weightSpecs', 'weightData'];

/** A `model.json`'s manifest, checked before any shard is read: its weight specs and each group's files and byte count. */
export function tfjsManifest(document: { modelTopology: unknown }): { weightSpecs: WeightSpec[]; groups: WeightFiles[] } {
  const { weightsManifest } = document as { weightsManifest?: unknown };
  if (!Array.isArray(weightsManifest)) fail('INVALID_MODEL', 'weightsManifest must be an array of { paths, weights } groups');
  const groups = Array.from(weightsManifest, (entry: unknown, g) => {
    const where = `weightsManifest[${g}]`;
    const { paths, weights } = modelObject(entry, where);
    if (!Array.isArray(paths) || !Array.from(paths).every((p) => typeof p === 'string')) {
      fail('INVALID_MODEL', `${where}.paths must be an array of file names`);
    }
    return { paths, weights: weights as WeightSpec[], byteLength: byteLengthOf(checkSpecs(weights, `${where}.weights`)) };
  });
  const total = groups.reduce((n, g) => n + g.byteLength, 0);
  if (total > MAX_WEIGHT_BYTES) {
    fail('INVALID_MODEL', `the manifest declares ${total} bytes of weights, more than wasm32's 4 GiB memory holds`);
  }
  const weightSpecs = groups.flatMap((g) => g.weights);
  // Each group was checked alone: this finds a name listed in two groups.
  checkSpecs(weightSpecs, 'weightsManifest');
  return { weightSpecs, groups: groups.map(({ paths, byteLength }) => ({ paths, byteLength })) };
}
