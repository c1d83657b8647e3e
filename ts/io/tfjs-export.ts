/**
 * A Sequential model as TF.js Layers files (`tf.loadLayersModel` reads them): a Keras Sequential
 * topology of Dense layers, each with the TF.js activation that computes simdnet's; leaky_relu and
 * prelu become a linear Dense followed by a LeakyReLU or PReLU layer (prelu's slopes are its
 * `alpha` weight). Activations TF.js Layers cannot express are refused before anything is read.
 */
import { ActivationCode } from '../abi.js';
import type { DenseLayer } from '../dense.js';
import { fail } from '../errors.js';
import type { Sequential } from '../sequential.js';

/** A weight of the manifest, as TF.js names it: `<layer>/<variable>`. */
interface WeightEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
}

/** A layer of a Keras topology. */
interface KerasLayer {
  class_name: string;
  config: Record<string, unknown>;
}

/** `model.json` of the TF.js Layers format. */
export interface TfjsModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  modelTopology: { class_name: 'Sequential'; config: { name: string; layers: KerasLayer[] }; backend: string };
  weightsManifest: { paths: string[]; weights: WeightEntry[] }[];
}

export interface TfjsExport {
  modelJson: TfjsModelJson;
  /** The weights in manifest order, little-endian float32. */
  weightsBin: Uint8Array;
}

/**
 * TF.js Layers' name of each activation whose simdnet form (code and parameters) it computes. Not
 * gelu's tanh form: TF.js 4.22 writes it `gelu_new` but reads that name back as `geluNew`, unknown.
 */
function tfjsActivation({ activation: { name, code, params } }: DenseLayer): string | undefined {
  const [p0, p1] = params;
  switch (code) {
    case ActivationCode.linear:
      return 'linear';
    case ActivationCode.relu:
      return 'relu';
    case ActivationCode.relu6:
      return 'relu6';
    case ActivationCode.sigmoid:
      return 'sigmoid';
    case ActivationCode.tanh:
      return 'tanh';
    case ActivationCode.softsign:
      return 'softsign';
    case ActivationCode.mish:
      return 'mish';
    case ActivationCode.gelu:
      return 'gelu';
    case ActivationCode.elu:
      return name === 'selu' ? 'selu' : name === 'elu' && p0 === 1 ? 'elu' : undefined;
    case ActivationCode.swish:
      return p0 === 1 ? 'swish' : undefined;
    case ActivationCode.softplus:
      return p0 === 1 && p1 === Infinity ? 'softplus' : undefined;
    // The kernel's parameters are alpha and beta/alpha: TF.js' hard sigmoid is 0.2x + 0.5.
    case ActivationCode.hard_sigmoid:
      return p0 === 0.2 && p1 === 0.5 / 0.2 ? 'hardSigmoid' : undefined;
    default:
      return name === 'softmax' ? 'softmax' : undefined;
  }
}

/** The Keras layers of one dense layer: `Dense`, then `LeakyReLU` or `PReLU` when its activation is one. */
function kerasLayers(layer: DenseLayer, index: number): KerasLayer[] {
  const suffix = index === 0 ? '' : `_${index}`;
  const name = layer.activation.name;
  const separate = name === 'leaky_relu' || name === 'prelu';
  const activation = separate ? 'linear' : tfjsActivation(layer);
  if (activation === undefined) {
    fail('INVALID_ARGUMENT', `layer ${index}: TF.js Layers has no activation that computes ${JSON.stringify(layer.activationSpec)}`);
  }
  const dense: KerasLayer = {
    class_name: 'Dense',
    config: {
      name: `dense${suffix}`,
      units: layer.units,
      activation,
      use_bias: true,
      trainable: true,
      dtype: 'float32',
      ...(index === 0 ? { batch_input_shape: [null, layer.inputDim] } : {}),
    },
  };
  const slope = layer.activation.params[0];
  if (name === 'leaky_relu') return [dense, { class_name: 'LeakyReLU', config: { name: `leaky_re_lu${suffix}`, alpha: slope } }];
  if (name === 'prelu') return [dense, { class_name: 'PReLU', config: { name: `p_re_lu${suffix}`, shared_axes: null, trainable: true } }];
  return [dense];
}

/** The model's TF.js Layers `model.json` (its weights file named `weightsPath`) and weight bytes. */
export function toTfjs(model: Sequential, weightsPath = 'model.weights.bin'): TfjsExport {
  if (typeof weightsPath !== 'string') fail('INVALID_ARGUMENT', `weightsPath must be a string, got ${String(weightsPath)}`);
  // Steps after an activation (an imported model's extra layers) would be dropped silently.
  const stepped = model.steps.findIndex((list) => list.length > 0);
  if (stepped >= 0) fail('INVALID_ARGUMENT', `layer ${stepped} has steps after its activation, which the TF.js export does not write yet`);
  const layers = model.layers.flatMap(kerasLayers);
  const weights = model.getWeights();
  const entries: WeightEntry[] = [];
  const values: Float32Array[] = [];
  model.layers.forEach((layer, i) => {
    const suffix = i === 0 ? '' : `_${i}`;
    entries.push(
      { name: `dense${suffix}/kernel`, shape: [layer.inputDim, layer.units], dtype: 'float32' },
      { name: `dense${suffix}/bias`, shape: [layer.units], dtype: 'float32' },
    );
    values.push(weights[2 * i]!, weights[2 * i + 1]!);
    if (layer.activation.name === 'prelu') {
      entries.push({ name: `p_re_lu${suffix}/alpha`, shape: [layer.units], dtype: 'float32' });
      values.push(layer.slopes());
    }
  });
  const weightsBin = new Uint8Array(values.reduce((n, v) => n + 4 * v.length, 0));
  const view = new DataView(weightsBin.buffer);
  let at = 0;
  for (const v of values) for (const x of v) view.setFloat32((at += 4) - 4, x, true);
  return {
    modelJson: {
      format: 'layers-model',
      generatedBy: 'simdnet',
      convertedBy: null,
      modelTopology: { class_name: 'Sequential', config: { name: 'sequential', layers }, backend: 'tensor_flow.js' },
      weightsManifest: [{ paths: [weightsPath], weights: entries }],
    },
    weightsBin,
  };
}
