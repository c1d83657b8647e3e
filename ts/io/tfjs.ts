/**
 * TF.js Layers import: a `model.json` (Keras topology + weights manifest) and its weight shards,
 * as written by `tf.io` / `tensorflowjs_converter`, for Sequential models (and functional models
 * that are a single chain) of Dense, activation, BatchNormalization, Flatten/Reshape and Dropout layers.
 * Weights are looked up by name, quantized ones dequantized (with `quantize: 'int8'`, a uint8 kernel's
 * integers are kept where they fit int8: `int8Kernel`). Everything is checked before
 * use: a malformed file is INVALID_MODEL naming the layer or field, and so is a well-formed one using
 * what simdnet does not support (other layers, activations, topologies): one code for "this file
 * cannot be loaded", as the ONNX reader gives.
 */
import type { ActivationOptions, ActivationSpec } from '../activations.js';
import { fail } from '../errors.js';
import { type Quantization, type QuantizedWeights, WEIGHT_LEVELS, quantizeWeights } from '../int8.js';
import { type ImportedLayer, addActivation, addAffine, batchNormAffine } from './chain.js';
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
  // Array.from turns holes into undefined, which every() would skip (and the copy below would not).
  const buffers: unknown[] = Array.isArray(data) ? Array.from(data) : [null];
  if (!buffers.every((b) => b instanceof ArrayBuffer)) {
    fail('INVALID_MODEL', 'weightData must be an ArrayBuffer, a list of them, or a Uint8Array');
  }
  const bytes = new Uint8Array(buffers.reduce((n: number, b: ArrayBuffer) => n + b.byteLength, 0));
  let at = 0;
  for (const b of buffers) {
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
  /** uint8 / uint16 weights: w = min + scale·level, with `level` the integer stored. */
  affine?: Affine;
}

/** How TF.js dequantizes uint8 and uint16 weights: w = min + scale·level. */
interface Affine {
  scale: number;
  min: number;
  level: (view: DataView, at: number) => number;
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
  // The converter writes scale 1 for a constant tensor: 0 or less is no quantization (and would make int8's zero point −min/0).
  if (!(scale > 0)) fail('INVALID_MODEL', `${what}: quantization scale must be > 0, got ${scale}`);
  const min = finiteField(q.min, `${what}: quantization min`);
  const level =
    q.dtype === 'uint8' ? (view: DataView, at: number) => view.getUint8(at) : (view: DataView, at: number) => view.getUint16(at, true);
  return {
    ...checked,
    width: q.dtype === 'uint8' ? 1 : 2,
    decode: (view, at) => level(view, at) * scale + min,
    affine: { scale, min, level },
  };
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
  /** The values as TF.js dequantizes them. */
  values: Float32Array;
  /** uint8 / uint16 weights: the integer stored for value `i` (read from the data when asked), the scale and min. */
  levels?: { level: (i: number) => number; scale: number; min: number };
}

/** Every weight by name, as float32; the data must hold exactly the bytes the specs need, in their order. */
function weightsByName(specs: readonly CheckedSpec[], data: Uint8Array): Map<string, Weight> {
  const needed = byteLengthOf(specs);
  if (data.byteLength !== needed) fail('INVALID_MODEL', `the weight data has ${data.byteLength} bytes; the weight specs need ${needed}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Map<string, Weight>();
  let at = 0;
  for (const { name, shape, count, width, decode, affine } of specs) {
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = decode(view, at + i * width);
    const start = at;
    const levels = affine && { level: (i: number) => affine.level(view, start + i * width), scale: affine.scale, min: affine.min };
    out.set(name, { shape, values, ...(levels && { levels }) });
    at += count * width;
  }
  return out;
}

/**
 * A uint8 (or uint16) kernel [inputs × units] as int8 weights. TF.js' converter nudges min to −zero·scale
 * for an integer zero point when the weights span 0, so w = scale·(level − zero): a unit whose
 * `level − zero` all lie in −127..127 keeps them as its codes, with the file's scale (as a float32);
 * the other units, and every unit of a tensor without such a zero point (all of one sign, or
 * constant: the converter does not nudge those), are quantized from TF.js' dequantized values as any
 * float32 kernel is.
 */
function int8Kernel({ values, levels }: Weight, inputs: number, units: number): QuantizedWeights {
  const quantized = quantizeWeights(values, inputs, units, false);
  if (!levels) return quantized;
  const zero = Math.round(-levels.min / levels.scale);
  // The converter computes min as −zero·scale in float64: the same product here, bit for bit. A float32
  // scale that is subnormal or infinite would not give TF.js' values back: those tensors are quantized too.
  const scale = Math.fround(levels.scale);
  if (-zero * levels.scale !== levels.min || !(scale >= 2 ** -126 && scale < Infinity)) return quantized;
  for (let o = 0; o < units; o++) {
    let fits = true;
    for (let k = 0; k < inputs && fits; k++) fits = Math.abs(levels.level(k * units + o) - zero) <= WEIGHT_LEVELS;
    if (!fits) continue;
    for (let k = 0; k < inputs; k++) quantized.codes[k * units + o] = levels.level(k * units + o) - zero;
    quantized.scales[o] = scale;
  }
  return quantized;
}

const KERAS_ACTIVATIONS: Readonly<Record<string, ActivationSpec>> = {
  linear: 'linear',
  relu: 'relu',
  relu6: 'relu6',
  elu: 'elu',
  selu: 'selu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  softmax: 'softmax',
  softplus: 'softplus',
  softsign: 'softsign',
  swish: 'silu',
  silu: 'silu',
  mish: 'mish',
  gelu: 'gelu',
  exponential: 'exponential',
  log_softmax: 'log_softmax',
  hard_silu: 'hard_silu',
  hard_swish: 'hard_silu',
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

/** A layer's optional boolean (absent or null: true, as for use_bias, center, scale). */
function flag(config: Record<string, unknown>, key: string, layer: string): boolean {
  const value = config[key] ?? true;
  if (typeof value !== 'boolean') fail('INVALID_MODEL', `layer ${layer}: ${key} must be a boolean`);
  return value;
}

const SEQUENTIAL = ['Sequential'];
/** A functional model's class: `Model` in TF.js and Keras 2, `Functional` in Keras ≥ 2.4. */
const FUNCTIONAL = ['Model', 'Functional'];

/** The layer list of a topology, in the order data flows: a Sequential's, or a functional model's single chain. */
function kerasLayers(topology: unknown): { layers: unknown[]; keras3: boolean } {
  const top = modelObject(topology, 'modelTopology');
  const root = modelObject(top.model_config ?? top, 'modelTopology.model_config');
  const kind = root.class_name;
  if (!SEQUENTIAL.includes(kind as string) && !FUNCTIONAL.includes(kind as string)) {
    fail(
      'INVALID_MODEL',
      `only Sequential models and functional models that are a single chain are supported, got ${JSON.stringify(kind)}`,
    );
  }
  const keras3 = String(top.keras_version ?? root.keras_version ?? '').startsWith('3');
  const config = root.config;
  const layers = Array.isArray(config) ? config : modelObject(config, `the ${String(kind)} config`).layers;
  if (!Array.isArray(layers)) fail('INVALID_MODEL', `the ${String(kind)} config has no layers array`);
  return { layers: SEQUENTIAL.includes(kind as string) ? layers : chainOf(modelObject(config, 'the model config'), layers), keras3 };
}

/** The layer name an `input_layers` / `output_layers` entry names: `[[name, 0, 0]]`, or Keras 3's `[name, 0, 0]` for one. */
function endpoint(value: unknown, what: string): string {
  const list = Array.isArray(value) && typeof value[0] === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length !== 1 || !Array.isArray(list[0]) || typeof list[0][0] !== 'string') {
    fail('INVALID_MODEL', `${what} must name exactly one layer: only models with one input and one output are supported`);
  }
  return list[0][0] as string;
}

/**
 * The layers an inbound node takes its inputs from: TF.js and Keras 2 write `[[name, node, tensor,
 * kwargs], ...]`, Keras 3 `{ args: [...] }` holding `{ config: { keras_history: [name, ...] } }`
 * (searched a few levels deep only: a hostile file cannot nest deeper than we recurse).
 */
function inboundLayers(node: unknown, layer: string): string[] {
  if (Array.isArray(node)) {
    return node.map((entry: unknown) =>
      Array.isArray(entry) && typeof entry[0] === 'string'
        ? entry[0]
        : fail('INVALID_MODEL', `layer ${layer}: an inbound node entry must be [layer name, node, tensor, kwargs]`),
    );
  }
  const found: string[] = [];
  const visit = (value: unknown, depth: number): void => {
    if (value === null || typeof value !== 'object' || depth > 4) return;
    const history = (value as { config?: { keras_history?: unknown } }).config?.keras_history;
    if (Array.isArray(history) && typeof history[0] === 'string') found.push(history[0]);
    else for (const v of Object.values(value)) visit(v, depth + 1);
  };
  visit(modelObject(node, `layer ${layer}: inbound node`).args, 0);
  return found;
}

/**
 * A functional model's layers from its input to its output, refused (INVALID_MODEL naming the layer)
 * unless they form one chain: each layer called once on one input, each feeding one other, all on the path.
 */
function chainOf(config: Record<string, unknown>, entries: unknown[]): unknown[] {
  const byName = new Map<string, unknown>();
  const next = new Map<string, string[]>();
  for (const [i, entry] of entries.entries()) {
    const e = modelObject(entry, `layer ${i}`);
    const name = e.name ?? modelObject(e.config, `layer ${i}'s config`).name;
    if (typeof name !== 'string') fail('INVALID_MODEL', `layer ${i}: name must be a string`);
    if (byName.has(name)) fail('INVALID_MODEL', `layer ${name} is listed twice`);
    byName.set(name, entry);
  }
  for (const [name, entry] of byName) {
    const nodes = (entry as Record<string, unknown>).inbound_nodes ?? [];
    if (!Array.isArray(nodes)) fail('INVALID_MODEL', `layer ${name}: inbound_nodes must be an array`);
    if (nodes.length > 1) fail('INVALID_MODEL', `layer ${name} is called ${nodes.length} times: only a single chain is supported`);
    const sources = nodes.length === 0 ? [] : inboundLayers(nodes[0], name);
    if (sources.length > 1)
      fail('INVALID_MODEL', `layer ${name} merges ${sources.length} inputs (${sources.join(', ')}): only a single chain is supported`);
    for (const source of sources) {
      if (!byName.has(source)) fail('INVALID_MODEL', `layer ${name} takes its input from ${source}, which is not a layer of the model`);
      next.set(source, [...(next.get(source) ?? []), name]);
    }
  }
  const [input, output] = [endpoint(config.input_layers, 'input_layers'), endpoint(config.output_layers, 'output_layers')];
  const chain = [input];
  for (let at = input; at !== output;) {
    const following = next.get(at) ?? [];
    if (following.length !== 1) {
      fail(
        'INVALID_MODEL',
        following.length === 0
          ? `layer ${at} leads nowhere: the output ${output} is not reached from the input ${input}`
          : `layer ${at} branches to ${following.join(', ')}: only a single chain is supported`,
      );
    }
    at = following[0]!;
    // A cycle would revisit a layer: every step must add a new one.
    if (chain.includes(at)) fail('INVALID_MODEL', `layer ${at} is reached twice: the graph has a cycle`);
    chain.push(at);
  }
  if ((next.get(output) ?? []).length > 0)
    fail('INVALID_MODEL', `layer ${output}, the output, branches to ${next.get(output)!.join(', ')}`);
  const stray = [...byName.keys()].find((name) => !chain.includes(name));
  if (stray !== undefined)
    fail('INVALID_MODEL', `layer ${stray} is not on the chain from ${input} to ${output}: only a single chain is supported`);
  return chain.map((name) => byName.get(name));
}

/**
 * The dense layers of a TF.js Layers model (Sequential, or functional as a single chain); with
 * `quantize`, int8 layers whose uint8 kernels keep their integers where they fit (`int8Kernel`).
 */
export function parseTfjs(artifacts: TfjsArtifacts, quantize?: Quantization): LayerSpec[] {
  const { modelTopology, weightSpecs, weightData } = modelObject(artifacts, 'the TF.js artifacts') as Partial<TfjsArtifacts>;
  const data = weightBytes(weightData);
  const specs = checkSpecs(weightSpecs, 'weightSpecs');
  const { layers: keraLayers, keras3 } = kerasLayers(modelTopology);
  const weights = weightsByName(specs, data);
  /** The weight of `layer` named `part`, whose shape must be one of `shapes`. */
  const weight = (layer: string, part: string, shapes: number[][]): Weight => {
    for (const [name, found] of weights) {
      const { shape } = found;
      if (name !== `${layer}/${part}` && !name.endsWith(`/${layer}/${part}`)) continue;
      if (!shapes.some((s) => s.length === shape.length && s.every((d, i) => d === shape[i]))) {
        const expected = shapes.map((s) => `[${s.join(', ')}]`).join(' or ');
        fail('INVALID_MODEL', `layer ${layer}: weight ${name} has shape [${shape.join(', ')}], expected ${expected}`);
      }
      return found;
    }
    fail('INVALID_MODEL', `layer ${layer}: no weight named ${layer}/${part}`);
  };
  const find = (layer: string, part: string, shapes: number[][]) => weight(layer, part, shapes).values;
  const layers: ImportedLayer[] = [];
  /** The dims (but the batch's) of what the layers read so far output; undefined until an input shape is given. */
  let dims: unknown[] | undefined;
  /** A layer's own input shape, but the batch (`batch_input_shape` in Keras 2 and TF.js, `batch_shape` in Keras 3). */
  const inputShape = (c: Record<string, unknown>, layer: string) => {
    const shape = c.batch_input_shape ?? c.batch_shape;
    if (shape === undefined || shape === null) return undefined;
    if (!Array.isArray(shape) || shape.length < 2) fail('INVALID_MODEL', `layer ${layer}: the input shape must be [batch, ..., features]`);
    return shape.slice(1) as unknown[];
  };
  /** The layer an activation or normalization layer applies to: the last Dense layer. */
  const last = (layer: string) =>
    layers.at(-1) ?? fail('INVALID_MODEL', `layer ${layer}: an activation or normalization layer must follow a Dense layer`);
  /**
   * Flatten, or Reshape to `[features]`: the flat input width, before the first Dense layer; after
   * one, only where it leaves a [batch, features] tensor as it is.
   */
  const flatten = (c: Record<string, unknown>, layer: string, target?: unknown) => {
    const given = inputShape(c, layer) ?? dims;
    if (given === undefined) fail('INVALID_MODEL', `layer ${layer}: the input shape is unknown (no input shape)`);
    if (layers.length > 0 && given.length !== 1) {
      fail('INVALID_MODEL', `layer ${layer} reshapes [batch, ${given.join(', ')}] after a Dense layer: only a flat input is supported`);
    }
    const width = elementCount(
      given.map((d, i) => modelCount(d, `layer ${layer}: input shape[${i + 1}]`)),
      `layer ${layer}'s input`,
    );
    if (target !== undefined && !(Array.isArray(target) && target.length === 1 && (target[0] === -1 || target[0] === width))) {
      fail('INVALID_MODEL', `layer ${layer}: a reshape to ${JSON.stringify(target)} is not to [batch, ${width}] (features flat)`);
    }
    dims = [width];
  };
  // Weights are found by layer name: two layers of one name would both take the same weights, and a
  // small file could then make the model allocate many times what it holds (Keras forbids it too).
  const names = new Set<string>();
  for (const [i, entry] of keraLayers.entries()) {
    const { class_name: kind, config } = modelObject(entry, `layer ${i}`);
    const c = modelObject(config, `layer ${i}'s config`);
    if (typeof c.name !== 'string') fail('INVALID_MODEL', `layer ${i}: name must be a string`);
    const name = c.name;
    if (names.has(name)) fail('INVALID_MODEL', `layer ${i}: the name ${JSON.stringify(name)} is used by an earlier layer too`);
    names.add(name);
    switch (kind) {
      case 'InputLayer':
        dims = inputShape(c, name) ?? dims;
        break;
      case 'Dense': {
        const own = inputShape(c, name);
        const input = own ?? dims;
        if (input === undefined) fail('INVALID_MODEL', `layer ${name}: the input width is unknown (no input shape)`);
        const inputDim = modelCount(input.at(-1), `layer ${name}: the input width`);
        if (own && dims !== undefined && inputDim !== dims.at(-1)) {
          fail('INVALID_MODEL', `layer ${name}: input width ${inputDim}, but the previous layer has ${String(dims.at(-1))} units`);
        }
        const units = modelCount(c.units, `layer ${name}: units`);
        const kernel = weight(name, 'kernel', [[inputDim, units]]);
        const bias = flag(c, 'use_bias', name) ? find(name, 'bias', [[units]]) : undefined;
        const fused = modelActivation(activation(c.activation, keras3, name), units, `layer ${name}`);
        layers.push({
          inputDim,
          units,
          ...(quantize === 'int8' ? { quantize, kernel: int8Kernel(kernel, inputDim, units) } : { kernel: kernel.values }),
          bias,
          activation: fused,
          then: [],
          folded: [],
        });
        dims = [...input.slice(0, -1), units];
        break;
      }
      case 'Activation':
        addActivation(last(name), activation(c.activation, keras3, name), `layer ${name}`);
        break;
      case 'LeakyReLU':
        // The layer's default slope is 0.3 (Keras 2, TF.js: alpha; Keras 3: negative_slope).
        addActivation(
          last(name),
          { name: 'leaky_relu', negativeSlope: option(c, ['negative_slope', 'alpha'], 0.3, name) },
          `layer ${name}`,
        );
        break;
      case 'ELU':
        addActivation(last(name), { name: 'elu', alpha: option(c, ['alpha'], 1, name) }, `layer ${name}`);
        break;
      case 'ReLU': {
        const options: ActivationOptions = {};
        const maxValue = option(c, ['max_value'], Infinity, name);
        const negativeSlope = option(c, ['negative_slope'], 0, name);
        const threshold = option(c, ['threshold'], 0, name);
        if (maxValue !== Infinity) options.maxValue = maxValue;
        if (negativeSlope !== 0) options.negativeSlope = negativeSlope;
        if (threshold !== 0) options.threshold = threshold;
        addActivation(last(name), { name: 'relu', ...options }, `layer ${name}`);
        break;
      }
      case 'PReLU': {
        // alpha has one slope per unit, or one in all when shared_axes covers the feature axis.
        const layer = last(name);
        addActivation(layer, { name: 'prelu', slope: find(name, 'alpha', [[layer.units], [1]]) }, `layer ${name}`);
        break;
      }
      case 'Softmax': {
        // Inputs are [batch, features]: axis 1 (TF.js' default) is the last axis, as is -1.
        const axis = option(c, ['axis'], -1, name);
        if (axis !== -1 && axis !== 1) fail('INVALID_MODEL', `layer ${name}: softmax over axis ${axis}; only the last axis is supported`);
        addActivation(last(name), 'softmax', `layer ${name}`);
        break;
      }
      case 'BatchNormalization': {
        const layer = last(name);
        const axis = c.axis ?? -1;
        // The feature axis: -1, or its index in [batch, features] (Keras 3 may write it as a list of one).
        const feature = Array.isArray(axis) && axis.length === 1 ? axis[0] : axis;
        if (feature !== -1 && feature !== dims!.length) {
          fail(
            'INVALID_MODEL',
            `layer ${name}: normalization over axis ${JSON.stringify(axis)}; only the feature (last) axis is supported`,
          );
        }
        const perUnit = (part: string) => find(name, part, [[layer.units]]);
        const [scale, shift] = batchNormAffine(
          {
            gamma: flag(c, 'scale', name) ? perUnit('gamma') : undefined,
            beta: flag(c, 'center', name) ? perUnit('beta') : undefined,
            mean: perUnit('moving_mean'),
            variance: perUnit('moving_variance'),
            epsilon: option(c, ['epsilon'], 1e-3, name),
          },
          `layer ${name}`,
        );
        addAffine(layer, scale, shift, 'BatchNormalization');
        break;
      }
      case 'Flatten':
        flatten(c, name);
        break;
      case 'Reshape':
        flatten(c, name, c.target_shape);
        break;
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
