import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTIVATION_NAMES, type ActivationName, type ActivationOptions } from '../ts/index.js';
import * as ref from '../ts/reference.js';
import { EDGE_VALUES, SIZES, denseTolerance, expectDense, expectSameBits, instances, randomArray } from './helpers.js';

const ACTIVATIONS: ActivationName[] = ['linear', 'relu', 'leaky_relu', 'sigmoid', 'tanh', 'softmax'];

describe.each(await instances())('dense on the %s build', (_variant, nn) => {
  function check(
    batch: number,
    inputDim: number,
    units: number,
    activation: ActivationName,
    seed: number,
    x = randomArray(batch * inputDim, seed, 2),
  ) {
    const kernel = randomArray(inputDim * units, seed + 1);
    const bias = randomArray(units, seed + 2);
    const layer = nn.dense({ inputDim, units, activation, kernel, bias });
    try {
      const expected = ref.dense({ inputDim, units, activation, kernel, bias }, x, batch);
      expectDense(layer.apply(x, batch), expected, units, denseTolerance(x, kernel, bias, inputDim, units));
    } finally {
      layer.dispose();
    }
  }

  it('covers every batch × inputs × outputs size of the grid (relu)', () => {
    for (const batch of SIZES)
      for (const inputDim of SIZES)
        for (const units of [1, 3, 4, 5, 8, 9, 17, 29, 33]) check(batch, inputDim, units, 'relu', batch * 1000 + inputDim * 10 + units);
  });

  it.each(SIZES.filter((n) => n > 0))('outputs = %i on each activation', (units) => {
    for (const activation of ACTIVATIONS) check(7, 33, units, activation, units);
  });

  it.each(ACTIVATIONS)('%s matches the reference on random shapes (property)', (activation) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 70 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer(),
        (batch, inputDim, units, seed) => {
          check(batch, inputDim, units, activation, seed);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('propagates edge values like the reference (±0, ±Inf, NaN, subnormals, 1e30)', () => {
    const inputDim = 9;
    const batch = EDGE_VALUES.length;
    const x = new Float32Array(batch * inputDim);
    EDGE_VALUES.forEach((v, r) => x.fill(v, r * inputDim, r * inputDim + 5).set(randomArray(4, r), r * inputDim + 5));
    for (const activation of ACTIVATIONS) check(batch, inputDim, 11, activation, 3, x);
  });

  it('fuses every activation into the store: the same bits as the linear layer, then activate', () => {
    const [batch, inputDim, units] = [9, 21, 19];
    const kernel = randomArray(inputDim * units, 4, 0.5);
    const bias = randomArray(units, 5, 0.5);
    const x = randomArray(batch * inputDim, 6, 3);
    const linear = nn.dense({ inputDim, units, kernel, bias }).apply(x);
    const specs: [ActivationName, ActivationOptions][] = [
      ...ACTIVATION_NAMES.filter((n) => n !== 'glu' && n !== 'prelu').map((n) => [n, {}] as [ActivationName, ActivationOptions]),
      ['relu', { negativeSlope: 0.1, maxValue: 1, threshold: 0.2 }],
      ['elu', { alpha: 0.3 }],
      ['gelu', { approximate: true }],
      ['hard_sigmoid', { preset: 'onnx' }],
      ['softplus', { preset: 'torch', beta: 2 }],
      ['threshold', { threshold: 0.1, value: -1 }],
    ];
    for (const [name, options] of specs) {
      const layer = nn.dense({ inputDim, units, kernel, bias, activation: { name, ...options } });
      expectSameBits(layer.apply(x), nn.activate(name, linear, { ...options, axisSize: units }));
      layer.dispose();
    }
  });

  it('accepts the [units × inputDim] layout (PyTorch, ONNX transB) with the same result', () => {
    const [inputDim, units] = [13, 6];
    const kernel = randomArray(inputDim * units, 1);
    const transposed = new Float32Array(units * inputDim);
    for (let k = 0; k < inputDim; k++) for (let o = 0; o < units; o++) transposed[o * inputDim + k] = kernel[k * units + o]!;
    const bias = randomArray(units, 2);
    const a = nn.dense({ inputDim, units, kernel, bias });
    const b = nn.dense({ inputDim, units, kernel: transposed, bias, kernelLayout: 'oi' });
    const x = randomArray(5 * inputDim, 3);
    expect(b.apply(x)).toEqual(a.apply(x));
    expect(b.getWeights()).toEqual([kernel, bias]);
    a.dispose();
    b.dispose();
  });

  it('round-trips weights and replaces them with setWeights', () => {
    const kernel = randomArray(20 * 9, 4);
    const bias = randomArray(9, 5);
    const layer = nn.dense({ inputDim: 20, units: 9, activation: 'tanh' });
    const [k0, b0] = layer.getWeights();
    expect(b0).toEqual(new Float32Array(9));
    const limit = Math.sqrt(6 / 29);
    expect(k0.every((w) => Math.abs(w) <= limit)).toBe(true);
    layer.setWeights(kernel, bias);
    expect(layer.getWeights()).toEqual([kernel, bias]);
    layer.dispose();
  });

  it('applies to tensors of any rank, keeping the leading axes', () => {
    const layer = nn.dense({ inputDim: 5, units: 3, activation: 'sigmoid', seed: 9 });
    const x = randomArray(2 * 3 * 5, 6);
    const t = nn.tensor(x, [2, 3, 5]);
    const y = layer.apply(t);
    expect(y.shape).toEqual([2, 3, 3]);
    expect(y.toArray()).toEqual(layer.apply(x));
    const into = nn.zeros([2, 3, 3]);
    expect(layer.apply(t, { into })).toBe(into);
    expect(into.toArray()).toEqual(y.toArray());
    y.dispose();
    into.dispose();
    t.dispose();
    layer.dispose();
  });
});

describe.each(await instances())('dense + prelu on the %s build', (_variant, nn) => {
  it('applies one slope per unit, or one for all: the bits of linear + nn.activate, within the dense bound of the reference', () => {
    for (const [batch, inputDim, units] of [
      [1, 3, 1],
      [5, 17, 9],
      [8, 33, 40],
      [0, 4, 4],
    ] as const) {
      const kernel = randomArray(inputDim * units, units, 1);
      const bias = randomArray(units, 2, 1);
      const x = randomArray(batch * inputDim, 3, 2);
      for (const slope of [randomArray(units, 4, 1), 0.25]) {
        const activation = { name: 'prelu' as const, slope };
        const layer = nn.dense({ inputDim, units, activation, kernel, bias });
        const linear = nn.dense({ inputDim, units, kernel, bias });
        // The same bits as the linear layer followed by nn.activate('prelu').
        expectSameBits(layer.apply(x, batch), nn.activate('prelu', linear.apply(x, batch), { slope, axisSize: units }));
        const expected = ref.dense({ inputDim, units, activation: 'prelu', activationOptions: { slope }, kernel, bias }, x, batch);
        expectDense(layer.apply(x, batch), expected, units, denseTolerance(x, kernel, bias, inputDim, units));
        layer.dispose();
        linear.dispose();
      }
    }
  });

  it('runs inside a Sequential model and needs its slopes', () => {
    const model = nn.sequential([
      { inputDim: 6, units: 5, activation: { name: 'prelu', slope: [0.1, 0.2, 0.3, 0.4, 0.5] } },
      { units: 2, activation: 'softmax' },
    ]);
    const x = randomArray(4 * 6, 9, 2);
    const [k0, b0, k1, b1] = model.getWeights();
    const expected = ref.predict(
      [
        { inputDim: 6, units: 5, activation: 'prelu', activationOptions: { slope: [0.1, 0.2, 0.3, 0.4, 0.5] }, kernel: k0!, bias: b0! },
        { inputDim: 5, units: 2, activation: 'softmax', kernel: k1!, bias: b1! },
      ],
      x,
      4,
    );
    model.predict(x).forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(1e-6));
    model.dispose();
    expect(() => nn.dense({ inputDim: 2, units: 3, activation: 'prelu' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => nn.dense({ inputDim: 2, units: 3, activation: { name: 'prelu', slope: [1, 2] } })).toThrow(
      expect.objectContaining({ code: 'SHAPE_MISMATCH' }),
    );
  });
});
