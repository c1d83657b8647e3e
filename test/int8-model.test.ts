// Int8 models: model.quantize, loadModel's quantize option, save/load of int8 weights, the refusal
// to train them, and the agreement of their predictions with float32 on two classifiers.
import { describe, expect, it } from 'vitest';
import { KERAS_MLP, type Sequential, init } from '../ts/index.js';
import { expectSameBits, randomArray, rejectsCleanly } from './helpers.js';

const nn = await init();

/** The decision of each row: the argmax of `units` outputs, or for one output whether it exceeds 0.5. */
function decisions(y: Float32Array, units: number): number[] {
  const rows = y.length / units;
  return Array.from({ length: rows }, (_, r) => {
    const row = Array.from(y.subarray(r * units, (r + 1) * units));
    return units === 1 ? Number(row[0]! > 0.5) : row.indexOf(Math.max(...row));
  });
}

/** The share of rows on which int8 and float32 decide alike, and the max and mean absolute deviation. */
function agreement(float: Sequential, int8: Sequential, x: Float32Array) {
  const [a, b] = [float.predict(x), int8.predict(x)];
  const [da, db] = [decisions(a, float.outputDim), decisions(b, float.outputDim)];
  const deviations = a.map((v, i) => Math.abs(v - b[i]!));
  return {
    agree: da.filter((d, i) => d === db[i]).length / da.length,
    max: Math.max(...deviations),
    mean: deviations.reduce((s, d) => s + d, 0) / deviations.length,
  };
}

describe('int8 models', () => {
  it('agree with float32 on ≥ 99% of decisions: the Keras seed MLP and a 784→256→10 softmax classifier', () => {
    const classifier = [
      { inputDim: 784, units: 256, activation: 'relu' as const },
      { units: 10, activation: 'softmax' as const },
    ];
    for (const [specs, inputs, low] of [
      [KERAS_MLP, 64, -1],
      [classifier, 784, 0],
    ] as const) {
      const float = nn.sequential(specs);
      const int8 = float.quantize('int8');
      // Inputs uniform in [low, 1]: the classifier's as pixels are, in [0, 1].
      const x = randomArray(1000 * inputs, inputs, 1).map((v) => (low === 0 ? Math.abs(v) : v));
      const { agree, max, mean } = agreement(float, int8, x);
      expect(agree).toBeGreaterThanOrEqual(0.99);
      expect(max).toBeLessThan(0.05);
      expect(mean).toBeLessThan(0.005);
      float.dispose();
      int8.dispose();
    }
  });

  it('quantize() makes a new model of int8 layers, each running as nn.dense would, and leaves the original as it was', () => {
    const specs = [
      { inputDim: 13, units: 9, activation: 'tanh' as const, then: [{ scale: 2, shift: 0.5 }, 'relu' as const] },
      { units: 5, activation: 'log_softmax' as const },
    ];
    const float = nn.sequential(specs);
    const x = randomArray(7 * 13, 3, 2);
    const before = float.predict(x);
    const int8 = float.quantize('int8');
    expectSameBits(float.predict(x), before);
    expect(int8.layers.map((l) => l.quantization)).toEqual(['int8', 'int8']);
    // Layer by layer through nn.dense with the same weights, steps applied by hand: the same bits.
    const [k0, b0, k1, b1] = float.getWeights();
    const first = nn.dense({ inputDim: 13, units: 9, activation: 'tanh', kernel: k0, bias: b0, quantize: 'int8' });
    const second = nn.dense({ inputDim: 9, units: 5, activation: 'log_softmax', kernel: k1, bias: b1, quantize: 'int8' });
    const hidden = nn.activate(
      'relu',
      first.apply(x, 7).map((v) => Math.fround(v * 2 + 0.5)),
    );
    expectSameBits(int8.predict(x), second.apply(hidden, 7));
    expect(int8.summary()).toMatch(/Dense, tanh, int8/);
    expect(int8.summary()).toMatch(/Int8 weights: 162 /);
    // setWeights quantizes the float weights it is given: getWeights' dequantized ones give the same codes back.
    const predicted = int8.predict(x);
    int8.setWeights(int8.getWeights());
    expectSameBits(int8.predict(x), predicted);
    int8.setWeights(float.getWeights().map((w) => w.map((v) => 2 * v)));
    const reference = float.quantize('int8');
    const doubled = reference.layers[1]!.getQuantizedWeights().scales.map((v) => 2 * v);
    expect(int8.layers[1]!.getQuantizedWeights().scales).toEqual(doubled);
    reference.dispose();
    int8.setWeights(float.getWeights());
    // Quantizing again keeps the int8 weights as they are.
    const again = int8.quantize('int8');
    expectSameBits(again.predict(x), int8.predict(x));
    for (const m of [float, int8, again]) m.dispose();
    first.dispose();
    second.dispose();
  });

  it('saves int8 weights as bytes (version 3, about 4× smaller) and loads them back bit for bit', async () => {
    const float = nn.sequential([
      { inputDim: 64, units: 128, activation: 'relu' },
      { units: 10, activation: 'softmax' },
    ]);
    const int8 = float.quantize('int8');
    const [savedFloat, savedInt8] = [float.save(), int8.save()];
    expect(JSON.parse(savedFloat.json).version).toBe(1);
    expect(JSON.parse(savedInt8.json).version).toBe(3);
    expect(savedFloat.weights.length / savedInt8.weights.length).toBeGreaterThan(3.5);
    const x = randomArray(33 * 64, 4, 1);
    const loaded = await nn.loadModel(savedInt8);
    expectSameBits(loaded.predict(x), int8.predict(x));
    expect(loaded.layers[0]!.getQuantizedWeights()).toEqual(int8.layers[0]!.getQuantizedWeights());
    const quantizedOnLoad = await nn.loadModel(savedFloat, { quantize: 'int8' });
    expectSameBits(quantizedOnLoad.predict(x), int8.predict(x));
    for (const m of [float, int8, loaded, quantizedOnLoad]) m.dispose();
  });

  it('refuses to train an int8 model, an unknown scheme, and malformed int8 files, changing nothing', async () => {
    const int8 = nn.sequential([{ inputDim: 6, units: 4, quantize: 'int8' }]);
    const x = randomArray(2 * 6, 5, 1);
    const kept = () => [int8.predict(x)];
    rejectsCleanly(nn, 'INVALID_ARGUMENT', () => int8.compile({ loss: 'mse', optimizer: 'sgd' }), kept);
    rejectsCleanly(nn, 'INVALID_ARGUMENT', () => int8.quantize('int4' as never), kept);
    rejectsCleanly(
      nn,
      'INVALID_ARGUMENT',
      () => nn.dense({ inputDim: 6, units: 4, kernel: { codes: new Int8Array(24), scales: [1, 1, 1, 1] } }),
      kept,
    );
    const codes = (n: number) => ({ codes: new Int8Array(n), scales: [1, 1, 1, 1] });
    rejectsCleanly(nn, 'SHAPE_MISMATCH', () => nn.dense({ inputDim: 6, units: 4, quantize: 'int8', kernel: codes(23) }), kept);
    rejectsCleanly(
      nn,
      'INVALID_ARGUMENT',
      () => nn.dense({ inputDim: 6, units: 4, quantize: 'int8', kernel: { codes: [1, 2] as never, scales: [1] } }),
      kept,
    );
    const saved = int8.save();
    const doc = JSON.parse(saved.json);
    const variants = [
      { ...doc, version: 2 },
      { ...doc, layers: [{ ...doc.layers[0], quantize: 'int4' }] },
      { ...doc, layers: [{ ...doc.layers[0], codes: [0, 23] }] },
      { ...doc, layers: [{ ...doc.layers[0], codes: [9, 24] }] },
    ];
    for (const variant of variants) {
      const bytes = nn.allocatedBytes;
      await expect(nn.loadModel({ json: JSON.stringify(variant), weights: saved.weights })).rejects.toMatchObject({
        code: 'INVALID_MODEL',
      });
      expect(nn.allocatedBytes).toBe(bytes);
    }
    const bytes = nn.allocatedBytes;
    await expect(nn.loadModel(saved, { quantize: 'int4' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(nn.allocatedBytes).toBe(bytes);
    int8.dispose();
  });
});
