/**
 * TF.js Layers import: a `model.json` (Keras topology + weights manifest) and its weight shards,
 * as written by `tf.io` / `tensorflowjs_converter`, for Sequential models of Dense and activation
 * layers. Weights are looked up by name, quantized ones dequantized.
 */
import type { ActivationOptions, ActivationSpec } from './activations.js';
import { fail } from './errors.js';
import type { LayerSpec } from './sequential.js';

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}

/** What `tf.io` hands a save handler, or `model.json` with its shards read. */
export interface TfjsArtifacts {
  modelTopology: unknown;
  weightSpecs: WeightSpec[];
  weightData: ArrayBuffer | Uint8Array;
}

interface KerasLayer {
  class_name: string;
  config: Record<string, unknown>;
}

function halfToFloat(h: number): number {
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Every weight by name, as float32 (dequantized: q·scale + min, or float16 decoded). */
function weightsByName(specs: WeightSpec[], data: Uint8Array): Map<string, Float32Array> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Map<string, Float32Array>();
  let at = 0;
  for (const spec of specs) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const q = spec.quantization;
    const bytesPer = q ? (q.dtype === 'uint8' ? 1 : 2) : 4;
    if (!q && spec.dtype !== 'float32') fail('INVALID_ARGUMENT', `weight ${spec.name} has dtype ${spec.dtype}; only float32 (or quantized) weights are supported`);
    if (at + n * bytesPer > data.byteLength) fail('SHAPE_MISMATCH', `weight ${spec.name} lies past the ${data.byteLength} bytes of weight data`);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const p = at + i * bytesPer;
      values[i] = !q ? view.getFloat32(p, true)
        : q.dtype === 'float16' ? halfToFloat(view.getUint16(p, true))
        : (q.dtype === 'uint8' ? view.getUint8(p) : view.getUint16(p, true)) * (q.scale ?? 1) + (q.min ?? 0);
    }
    out.set(spec.name, values);
    at += n * bytesPer;
  }
  return out;
}

/** A Keras / TF.js activation identifier as simdnet's, with the defaults of the file's Keras. */
function activation(name: unknown, keras3: boolean, layer: string): ActivationSpec {
  const names: Record<string, ActivationSpec> = {
    linear: 'linear', relu: 'relu', relu6: 'relu6', elu: 'elu', selu: 'selu', sigmoid: 'sigmoid', tanh: 'tanh',
    softmax: 'softmax', softplus: 'softplus', softsign: 'softsign', swish: 'silu', silu: 'silu', mish: 'mish',
    gelu: 'gelu', exponential: 'exponential', log_softmax: 'log_softmax', hard_silu: 'hard_silu', hard_swish: 'hard_silu',
    // hard_sigmoid is x/6 + 0.5 in Keras 3, 0.2x + 0.5 in Keras 2 and TF.js.
    hard_sigmoid: { name: 'hard_sigmoid', preset: keras3 ? 'keras' : 'tfjs' },
    hardSigmoid: { name: 'hard_sigmoid', preset: 'tfjs' },
  };
  const key = typeof name === 'string' ? name : 'linear';
  const spec = names[key];
  if (!spec) fail('INVALID_ARGUMENT', `layer ${layer}: activation ${JSON.stringify(name)} is not supported`);
  return spec;
}

const num = (v: unknown, fallback: number) => (typeof v === 'number' ? v : fallback);

/** The dense layers of a TF.js Layers Sequential model. */
export function parseTfjs(artifacts: TfjsArtifacts): LayerSpec[] {
  const topology = artifacts.modelTopology as { class_name?: string; config?: unknown; keras_version?: string; model_config?: unknown } | null;
  const root = (topology?.model_config ?? topology) as { class_name?: string; config?: unknown; keras_version?: string } | null;
  if (root?.class_name !== 'Sequential') fail('INVALID_ARGUMENT', `only Sequential TF.js models are supported, got ${root?.class_name}`);
  const keras3 = String(topology?.keras_version ?? root.keras_version ?? '').startsWith('3');
  const config = root.config as { layers?: KerasLayer[] } | KerasLayer[];
  const keraLayers = Array.isArray(config) ? config : config?.layers ?? [];
  const data = artifacts.weightData instanceof Uint8Array ? artifacts.weightData : new Uint8Array(artifacts.weightData);
  const weights = weightsByName(artifacts.weightSpecs, data);
  const find = (layer: string, part: string) => {
    for (const [name, values] of weights) if (name === `${layer}/${part}` || name.endsWith(`/${layer}/${part}`)) return values;
    return undefined;
  };
  const layers: (LayerSpec & { inputDim: number })[] = [];
  let width: number | undefined;
  const shapeWidth = (c: Record<string, unknown>) => {
    const shape = (c.batch_input_shape ?? c.batch_shape) as (number | null)[] | undefined;
    return shape ? shape.at(-1) ?? undefined : undefined;
  };
  const setActivation = (layer: string, spec: ActivationSpec) => {
    const last = layers.at(-1);
    if (!last || (last.activation !== undefined && last.activation !== 'linear')) {
      fail('INVALID_ARGUMENT', `layer ${layer}: an activation layer must follow a Dense layer without an activation`);
    }
    last.activation = spec;
  };
  for (const { class_name: kind, config: c } of keraLayers) {
    const name = String(c.name);
    switch (kind) {
      case 'InputLayer':
        width = shapeWidth(c) ?? width;
        break;
      case 'Dense': {
        const inputDim = shapeWidth(c) ?? width;
        if (inputDim === undefined || inputDim === null) fail('INVALID_ARGUMENT', `layer ${name}: the input width is unknown (no input shape)`);
        const units = num(c.units, NaN);
        const kernel = find(name, 'kernel');
        if (!kernel) fail('INVALID_ARGUMENT', `layer ${name}: no weight named ${name}/kernel`);
        const bias = c.use_bias === false ? undefined : find(name, 'bias');
        if (c.use_bias !== false && !bias) fail('INVALID_ARGUMENT', `layer ${name}: no weight named ${name}/bias`);
        layers.push({ inputDim, units, kernel, bias, activation: activation(c.activation, keras3, name) });
        width = units;
        break;
      }
      case 'Activation':
        setActivation(name, activation(c.activation, keras3, name));
        break;
      case 'LeakyReLU':
        // The layer's default slope is 0.3 (Keras 2, TF.js: alpha; Keras 3: negative_slope).
        setActivation(name, { name: 'leaky_relu', negativeSlope: num(c.negative_slope ?? c.alpha, 0.3) });
        break;
      case 'ELU':
        setActivation(name, { name: 'elu', alpha: num(c.alpha, 1) });
        break;
      case 'ReLU': {
        const options: ActivationOptions = {};
        if (typeof c.max_value === 'number') options.maxValue = c.max_value;
        if (typeof c.negative_slope === 'number' && c.negative_slope !== 0) options.negativeSlope = c.negative_slope;
        if (typeof c.threshold === 'number' && c.threshold !== 0) options.threshold = c.threshold;
        setActivation(name, { name: 'relu', ...options });
        break;
      }
      case 'PReLU': {
        // alpha has one slope per unit, or one in all when shared_axes covers the feature axis.
        const slope = find(name, 'alpha');
        if (!slope) fail('INVALID_ARGUMENT', `layer ${name}: no weight named ${name}/alpha`);
        const units = layers.at(-1)?.units;
        if (slope.length !== 1 && slope.length !== units) fail('SHAPE_MISMATCH', `layer ${name}: ${slope.length} slopes for ${units} units`);
        setActivation(name, { name: 'prelu', slope });
        break;
      }
      case 'Softmax':
        // Inputs are [batch, features]: axis 1 (TF.js' default) is the last axis, as is -1.
        if (![-1, 1].includes(num(c.axis, -1))) fail('INVALID_ARGUMENT', `layer ${name}: softmax over axis ${c.axis}; only the last axis is supported`);
        setActivation(name, 'softmax');
        break;
      case 'Dropout':
        break;
      default:
        fail('INVALID_ARGUMENT', `layer ${name}: ${kind} layers are not supported`);
    }
  }
  if (layers.length === 0) fail('INVALID_ARGUMENT', 'the model has no Dense layer');
  return layers;
}

/** Whether a parsed JSON document is a TF.js `model.json`. */
export function isTfjsDocument(document: unknown): document is { modelTopology: unknown } {
  return document !== null && typeof document === 'object' && 'modelTopology' in document;
}

/** The artifacts of a parsed `model.json` at `url`: its shards (paths relative to it) concatenated in manifest order. */
export async function readTfjs(document: unknown, url: URL, read: (url: URL) => Promise<Uint8Array>): Promise<TfjsArtifacts> {
  const doc = document as { modelTopology?: unknown; weightsManifest?: { paths: string[]; weights: WeightSpec[] }[] };
  if (!doc.modelTopology || !Array.isArray(doc.weightsManifest)) fail('INVALID_ARGUMENT', 'not a TF.js Layers model.json (modelTopology + weightsManifest)');
  const shards = await Promise.all(doc.weightsManifest.flatMap((group) => group.paths.map((p) => read(new URL(p, url)))));
  const weightData = new Uint8Array(shards.reduce((n, s) => n + s.length, 0));
  let at = 0;
  for (const s of shards) {
    weightData.set(s, at);
    at += s.length;
  }
  return { modelTopology: doc.modelTopology, weightSpecs: doc.weightsManifest.flatMap((g) => g.weights), weightData };
}
