import { expect } from 'vitest';
import type { ActivationSpec, Simdnet } from '../ts/index.js';
import type { TfjsModelJson } from '../ts/io/tfjs-export.js';
import type { DenseWeights } from '../ts/reference.js';
import { randomArray } from './helpers.js';

/** A model's layers as both builds take them: simdnet specs and reference weights (the same float32 values). */
export function layersOf(widths: readonly number[], activations: readonly ActivationSpec[], seed: number, limit = 0.8) {
  return activations.map((activation, i) => {
    const [inputDim, units] = [widths[i]!, widths[i + 1]!];
    const kernel = randomArray(inputDim * units, seed + 10 * i, limit);
    const bias = randomArray(units, seed + 10 * i + 1, 0.2);
    const { name, ...options } = typeof activation === 'string' ? { name: activation } : activation;
    const reference: DenseWeights = { inputDim, units, activation: name, activationOptions: options, kernel, bias };
    return { spec: { inputDim, units, activation, kernel, bias }, reference };
  });
}

export function buildModel(nn: Simdnet, layers: ReturnType<typeof layersOf>) {
  return nn.sequential(layers.map((l) => l.spec));
}

/** One-hot rows for class ids. */
export function oneHot(labels: ArrayLike<number>, classes: number): Float32Array {
  const out = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) out[i * classes + labels[i]!] = 1;
  return out;
}

/** Every value within `relative` × the largest magnitude of its expected array, plus `absolute`. */
export function expectNear(actual: ArrayLike<number>, expected: ArrayLike<number>, relative: number, absolute = 0, what = '') {
  expect(actual.length).toBe(expected.length);
  const scale = Math.max(0, ...Array.from(expected, Math.abs));
  const tolerance = relative * scale + absolute;
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i]! - expected[i]!) <= tolerance)) {
      expect.fail(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (tolerance ${tolerance})`);
    }
  }
}

/** `model.toTfjs()`'s files (or the parsed model.json and the weights file's bytes) loaded by TF.js Layers, from memory. */
export async function loadTfjsExport(modelJson: TfjsModelJson, weights: Uint8Array) {
  const [tf, tfl] = await Promise.all([import('@tensorflow/tfjs-core'), import('@tensorflow/tfjs-layers')]);
  const weightSpecs = modelJson.weightsManifest[0]!.weights;
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData: weights.slice().buffer }));
}
