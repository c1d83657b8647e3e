import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { init } from '../ts/index.js';
import { randomArray } from './helpers.js';
import { concat, edit, expectRejected, key, lengthDelimited, model, onnx, varint, withNodes } from './onnx-model.js';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
const nn = await init();

async function expectSameAsOnnxRuntime(bytes: Uint8Array, inputDim: number) {
  const x = randomArray(5 * inputDim, inputDim, 2);
  const session = await ort.InferenceSession.create(bytes);
  const expected = (await session.run({ X: new ort.Tensor('float32', x, [5, inputDim]) })).Y!.data as Float32Array;
  const m = await nn.loadModel(bytes);
  const y = m.predict(x);
  expect(y).toHaveLength(expected.length);
  y.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected[i]!))));
  return m;
}

describe('ONNX import, checked against onnxruntime-node', () => {
  const w = (n: number, seed: number) => randomArray(n, seed, 0.5);

  it('Gemm (transB, alpha, beta) with Relu, LeakyRelu and Softmax', async () => {
    const bytes = model(
      [
        { op: 'Gemm', inputs: ['W0', 'B0'], attributes: { transB: 1 } },
        { op: 'Relu', inputs: [] },
        { op: 'Gemm', inputs: ['W1', 'B1'], attributes: { alpha: 0.5, beta: 2 } },
        { op: 'LeakyRelu', inputs: [], attributes: { alpha: 0.1 } },
        { op: 'Gemm', inputs: ['W2', 'B2'] },
        { op: 'Softmax', inputs: [] },
      ],
      {
        W0: [[6, 5], w(30, 1)],
        B0: [[6], w(6, 2)],
        W1: [[6, 7], w(42, 3)],
        B1: [[7], w(7, 4)],
        W2: [[7, 3], w(21, 5)],
        B2: [[3], w(3, 6)],
      },
    );
    const m = await expectSameAsOnnxRuntime(bytes, 5);
    expect(m.layers.map((l) => [l.inputDim, l.units, l.activation.name])).toEqual([
      [5, 6, 'relu'],
      [6, 7, 'leaky_relu'],
      [7, 3, 'softmax'],
    ]);
  });

  it('MatMul + Add and MatMul alone, float_data initializers, Sigmoid, Tanh, HardSigmoid, Elu, Gelu', async () => {
    const bytes = model(
      [
        { op: 'MatMul', inputs: ['W0'] },
        { op: 'Add', inputs: ['B0'] },
        { op: 'Sigmoid', inputs: [] },
        { op: 'MatMul', inputs: ['W1'] },
        { op: 'Tanh', inputs: [] },
        { op: 'Gemm', inputs: ['W2', 'B2'] },
        { op: 'HardSigmoid', inputs: [], attributes: { alpha: 0.3, beta: 0.4 } },
        { op: 'Gemm', inputs: ['W3', 'B3'] },
        { op: 'Elu', inputs: [], attributes: { alpha: 0.7 } },
        { op: 'Gemm', inputs: ['W4', 'B4'] },
        { op: 'Gelu', inputs: [] },
      ],
      {
        W0: [[4, 8], w(32, 7)],
        B0: [[8], w(8, 8)],
        W1: [[8, 6], w(48, 9)],
        W2: [[6, 5], w(30, 10)],
        B2: [[5], w(5, 11)],
        W3: [[5, 5], w(25, 12)],
        B3: [[5], w(5, 13)],
        W4: [[5, 2], w(10, 14)],
        B4: [[2], w(2, 15)],
      },
      20,
      true,
    );
    await expectSameAsOnnxRuntime(bytes, 4);
  });

  it('PRelu (a slope per feature, or one for all), Selu, HardSwish, Softplus, Mish, Identity and Flatten', async () => {
    const bytes = model(
      [
        { op: 'Flatten', inputs: [] },
        { op: 'Gemm', inputs: ['W0', 'B0'], attributes: { transB: 1 } },
        { op: 'PRelu', inputs: ['S0'] },
        { op: 'MatMul', inputs: ['W1'] },
        { op: 'PRelu', inputs: ['S1'] },
        { op: 'Identity', inputs: [] },
        { op: 'Gemm', inputs: ['W2', 'B2'] },
        { op: 'Selu', inputs: [] },
        { op: 'Gemm', inputs: ['W3', 'B3'] },
        { op: 'HardSwish', inputs: [] },
        { op: 'Gemm', inputs: ['W4', 'B4'] },
        { op: 'Softplus', inputs: [] },
        { op: 'Gemm', inputs: ['W5', 'B5'] },
        { op: 'Mish', inputs: [] },
      ],
      {
        W0: [[9, 4], w(36, 21)],
        B0: [[9], w(9, 22)],
        S0: [[9], randomArray(9, 23, 1)],
        W1: [[9, 5], w(45, 24)],
        S1: [[1], Float32Array.of(0.25)],
        W2: [[5, 6], w(30, 25)],
        B2: [[6], w(6, 26)],
        W3: [[6, 7], w(42, 27)],
        B3: [[7], w(7, 28)],
        W4: [[7, 4], w(28, 29)],
        B4: [[4], w(4, 30)],
        W5: [[4, 3], w(12, 31)],
        B5: [[3], w(3, 32)],
      },
      20,
    );
    const m = await expectSameAsOnnxRuntime(bytes, 4);
    expect(m.layers.map((l) => l.activation.name)).toEqual(['prelu', 'prelu', 'selu', 'hard_silu', 'softplus', 'mish']);
    // The slopes are part of the model: saved and loaded back exactly.
    const copy = await nn.loadModel(m.save());
    const x = randomArray(3 * 4, 5, 2);
    expect(copy.predict(x)).toEqual(m.predict(x));
    const wrong = model(
      [
        { op: 'Gemm', inputs: ['W', 'B'] },
        { op: 'PRelu', inputs: ['S'] },
      ],
      { W: [[3, 4], w(12, 1)], B: [[4], w(4, 2)], S: [[3], w(3, 3)] },
    );
    await expect(nn.loadModel(wrong)).rejects.toMatchObject({ code: 'INVALID_MODEL', message: expect.stringMatching(/PRelu node prelu1/) });
  });

  it('loads from a .onnx path', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const path = join(mkdtempSync(join(tmpdir(), 'simdnet-onnx-')), 'mlp.onnx');
    writeFileSync(
      path,
      model(
        [
          { op: 'Gemm', inputs: ['W', 'B'] },
          { op: 'Sigmoid', inputs: [] },
        ],
        { W: [[3, 2], w(6, 1)], B: [[2], w(2, 2)] },
      ),
    );
    const m = await nn.loadModel(path);
    expect([m.inputDim, m.outputDim]).toEqual([3, 2]);
  });

  it('names what it does not support', async () => {
    const conv = model(
      [
        { op: 'Gemm', inputs: ['W', 'B'] },
        { op: 'Conv', inputs: [] },
      ],
      { W: [[3, 2], w(6, 1)], B: [[2], w(2, 2)] },
    );
    await expect(nn.loadModel(conv)).rejects.toThrow(/Conv/);
  });
});

describe('ONNX models of real shapes: BatchNormalization, Clip, scalings by constants, stacked activations, Flatten, Reshape', () => {
  const w = (n: number, seed: number) => randomArray(n, seed, 0.5);
  /** BatchNormalization's scale, B, mean and var for `units` channels (var positive, some near 0). */
  const bn = (prefix: string, units: number, seed: number): Record<string, [number[], Float32Array]> => ({
    [`${prefix}s`]: [[units], randomArray(units, seed, 1.5)],
    [`${prefix}b`]: [[units], randomArray(units, seed + 1, 1)],
    [`${prefix}m`]: [[units], randomArray(units, seed + 2, 1)],
    [`${prefix}v`]: [[units], randomArray(units, seed + 3, 1).map((v) => v * v + 0.01)],
  });
  const bnInputs = (prefix: string) => ['s', 'b', 'm', 'v'].map((p) => `${prefix}${p}`);

  it('folds BatchNormalization, Mul, Div, Add and Sub into a Gemm, applies them as steps after an activation', async () => {
    const bytes = model(
      [
        { op: 'Flatten', inputs: [] },
        { op: 'Reshape', inputs: ['flat'] },
        { op: 'Gemm', inputs: ['W0', 'B0'], attributes: { transB: 1 } },
        { op: 'BatchNormalization', inputs: bnInputs('n0'), attributes: { epsilon: 1e-3 } },
        { op: 'Mul', inputs: ['M0'] },
        { op: 'Relu', inputs: [] },
        { op: 'Div', inputs: ['D0'] },
        { op: 'Sub', inputs: ['S0'] },
        { op: 'MatMul', inputs: ['W1'] },
        { op: 'Add', inputs: ['B1'] },
        { op: 'Add', inputs: ['A1'] },
        { op: 'Tanh', inputs: [] },
        { op: 'BatchNormalization', inputs: bnInputs('n1') },
        { op: 'Reshape', inputs: ['keep'] },
        { op: 'Gemm', inputs: ['W2'] },
        { op: 'Sigmoid', inputs: [] },
        { op: 'Mul', inputs: ['M2'] },
        { op: 'Softmax', inputs: [] },
      ],
      {
        flat: [[2], BigInt64Array.of(0n, -1n)],
        keep: [[2], BigInt64Array.of(-1n, 5n)],
        W0: [[8, 6], w(48, 1)],
        B0: [[8], w(8, 2)],
        ...bn('n0', 8, 3),
        M0: [[], Float32Array.of(1.5)],
        D0: [[1, 8], randomArray(8, 7, 1).map((v) => v + 2)],
        S0: [[8], w(8, 8)],
        W1: [[8, 5], w(40, 9)],
        B1: [[5], w(5, 10)],
        A1: [[1], Float32Array.of(0.3)],
        ...bn('n1', 5, 11),
        W2: [[5, 4], w(20, 15)],
        M2: [[4], randomArray(4, 16, 3)],
      },
    );
    const m = await expectSameAsOnnxRuntime(bytes, 6);
    expect(m.folded).toEqual([['BatchNormalization', 'Mul'], ['Add'], []]);
    expect(m.layers.map((l) => l.activation.name)).toEqual(['relu', 'tanh', 'sigmoid']);
    expect(m.steps.map((list) => list.map((step) => (step.kind === 'affine' ? step.label : step.activation.name)))).toEqual([
      ['Div', 'Sub'],
      ['BatchNormalization'],
      ['Mul', 'softmax'],
    ]);
    const x = randomArray(3 * 6, 4, 2);
    expect((await nn.loadModel(m.save())).predict(x)).toEqual(m.predict(x));
  });

  it('Clip as relu6, relu with a maximum, relu, and hard_tanh (bounds as inputs, or as attributes before opset 11)', async () => {
    const scalar = (v: number): [number[], Float32Array] => [[], Float32Array.of(v)];
    const bounds = { zero: scalar(0), six: scalar(6), half: scalar(0.5), low: scalar(-0.4) };
    const bytes = model(
      [
        { op: 'Gemm', inputs: ['W0', 'B0'] },
        { op: 'Clip', inputs: ['zero', 'six'] },
        { op: 'Clip', inputs: ['', 'half'] },
        { op: 'Gemm', inputs: ['W1', 'B1'] },
        { op: 'Clip', inputs: ['zero'] },
        { op: 'Clip', inputs: ['low', 'half'] },
        { op: 'Gemm', inputs: ['W2', 'B2'] },
        { op: 'Clip', inputs: ['zero', 'half'] },
      ],
      {
        ...bounds,
        W0: [[4, 6], randomArray(24, 1, 3)],
        B0: [[6], w(6, 2)],
        W1: [[6, 5], w(30, 3)],
        B1: [[5], w(5, 4)],
        W2: [[5, 3], w(15, 5)],
        B2: [[3], w(3, 6)],
      },
      13,
    );
    const m = await expectSameAsOnnxRuntime(bytes, 4);
    expect(m.layers.map((l) => l.activation.name)).toEqual(['relu6', 'relu', 'relu']);
    expect(m.steps.map((list) => list.map((step) => (step.kind === 'activation' ? step.spec : step.label)))).toEqual([
      [{ name: 'hard_tanh', minVal: -Infinity, maxVal: 0.5 }],
      [{ name: 'hard_tanh', minVal: Math.fround(-0.4), maxVal: 0.5 }],
      [],
    ]);
    expect(m.layers[2]!.activationSpec).toEqual({ name: 'relu', maxValue: 0.5 });
    const old = model(
      [
        { op: 'Gemm', inputs: ['W', 'B'] },
        { op: 'Clip', inputs: [], attributes: { min: -0.25, max: 0.75 } },
      ],
      { W: [[4, 3], randomArray(12, 7, 2)], B: [[3], w(3, 8)] },
      10,
    );
    expect((await expectSameAsOnnxRuntime(old, 4)).layers[0]!.activation.name).toBe('hard_tanh');
  });
});

describe('ONNX import of a Gemm bias broadcast as a row, and of initializers listed as graph inputs', () => {
  it('matches onnxruntime-node', async () => {
    const bytes = model(
      [
        { op: 'Gemm', inputs: ['W0', 'B0'] },
        { op: 'Relu', inputs: [] },
        { op: 'MatMul', inputs: ['W1'] },
        { op: 'Add', inputs: ['B1'] },
        { op: 'Gemm', inputs: ['W2', 'B2'], attributes: { beta: 0.5 } },
      ],
      {
        W0: [[3, 4], randomArray(12, 1)],
        B0: [[1, 4], randomArray(4, 2)],
        W1: [[4, 5], randomArray(20, 3)],
        B1: [[1, 5], randomArray(5, 4)],
        W2: [[5, 2], randomArray(10, 5)],
        B2: [[1], randomArray(1, 6)],
      },
    );
    // Before IR version 4 an initializer was also listed as a graph input.
    const listed = edit(bytes, (g) => g.input.push(...g.initializer.map((t) => ({ name: t.name }))));
    await expectSameAsOnnxRuntime(listed, 3);
  });
});

/** A 3 → 2 layer's weights, and a model of it. */
const weights: Record<string, [number[], Float32Array]> = { W: [[3, 2], randomArray(6, 1)], B: [[2], randomArray(2, 2)] };
const base = model(
  [
    { op: 'Gemm', inputs: ['W', 'B'] },
    { op: 'Relu', inputs: [] },
  ],
  weights,
);
/** Loaded before each hostile file, whose rejection must leave it working as it was. */
const earlier = await nn.loadModel(base);

describe('ONNX import of malformed or inconsistent files: INVALID_MODEL, nothing allocated, nothing changed', () => {
  const gemm = (fields: object) => onnx.NodeProto.encode({ opType: 'Gemm', input: ['X', 'W', 'B'], output: ['Y'], ...fields }).finish();
  const initializer = (name: string, change: (t: import('onnx-proto').onnx.ITensorProto) => void) =>
    edit(base, (g) => change(g.initializer.find((t) => t.name === name)!));
  const cases: [string, Uint8Array, RegExp][] = [
    ['160 KB of 0xff', new Uint8Array(160_000).fill(0xff), /varint longer than 64 bits/],
    ['a varint whose 10th byte is above 1', new Uint8Array([...Array(9).fill(0xff), 0x02]), /varint longer than 64 bits/],
    ['a varint of 11 bytes', new Uint8Array([...Array(10).fill(0x80), 0x00]), /varint longer than 64 bits/],
    ['a length past the end', new Uint8Array([0x3a, 0x05, 1, 2]), /model.graph: truncated/],
    ['a length of 2⁴⁰', concat(key(7, 2), varint(2n ** 40n)), /model.graph: truncated/],
    ['field number 0', concat(key(0, 2), [0]), /invalid field number 0/],
    ['a group (wire type 3)', concat(key(7, 3), key(7, 4)), /wire type 3 is not supported/],
    ['a graph given twice', concat(base, base), /model.graph appears more than once/],
    ['no graph', new Uint8Array(), /no graph/],
    [
      'an op_type encoded as a varint',
      withNodes(base, concat(gemm({ opType: '' }), key(4, 0), [5])),
      /node\[0\]\.op_type has wire type 0, expected 2/,
    ],
    ['an input name encoded as a varint', withNodes(base, concat(gemm({ input: [] }), key(1, 0), [1])), /node\[0\]\.input has wire type 0/],
    [
      'a float attribute cut short at the end of the file',
      withNodes(base, concat(gemm({}), lengthDelimited(5, concat(lengthDelimited(1, 'alpha'), key(2, 5), [0, 0])))),
      /attribute\[0\]\.f: truncated/,
    ],
    [
      'alpha given as an INT',
      withNodes(base, gemm({ attribute: [{ name: 'alpha', type: onnx.AttributeProto.AttributeType.INT, i: 2 }] })),
      /Gemm node #0: attribute alpha must be a FLOAT/,
    ],
    [
      'an attribute given twice',
      withNodes(
        base,
        gemm({
          attribute: [
            { name: 'beta', f: 1 },
            { name: 'beta', f: 2 },
          ],
        }),
      ),
      /attribute beta appears more than once/,
    ],
    ['a node without op_type', withNodes(base, gemm({ opType: '' })), /node\[0\] has no op_type/],
    ['dims [-2, -3]', initializer('W', (t) => (t.dims = [-2, -3])), /initializer W has dimension -2/],
    [
      'dims [0, 2³³] and no data',
      initializer('W', (t) => ((t.dims = [0, 2 ** 33]), (t.rawData = new Uint8Array()))),
      /weight W has dims \[0, 8589934592\]/,
    ],
    ['dims of 2⁹⁹ elements', initializer('W', (t) => (t.dims = [2 ** 33, 2 ** 33, 2 ** 33])), /initializer W has dims .*too many elements/],
    [
      '5 bytes of raw_data for one float',
      initializer('B', (t) => ((t.dims = [1]), (t.rawData = new Uint8Array(5)))),
      /B has 5 bytes of raw_data .*\(1 floats\)/,
    ],
    [
      '5 float_data values for dims [3, 2]',
      initializer('W', (t) => ((t.rawData = null), (t.floatData = [1, 2, 3, 4, 5]))),
      /W has 20 bytes of float_data for dims \[3, 2\]/,
    ],
    ['both raw_data and float_data', initializer('B', (t) => (t.floatData = [1, 2])), /initializer B has both raw_data and float_data/],
    ['a DOUBLE initializer', initializer('W', (t) => (t.dataType = onnx.TensorProto.DataType.DOUBLE)), /initializer W has data type 11/],
    [
      'an initializer in an external file',
      initializer('W', (t) => (t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL)),
      /W keeps its data in an external file/,
    ],
    ['a duplicate initializer name', edit(base, (g) => g.initializer.push(g.initializer[1]!)), /initializer B appears more than once/],
    [
      'an initializer as the graph input',
      edit(base, (g) => g.initializer.push({ ...g.initializer[1]!, name: 'X' })),
      /the graph has 0 inputs that are not initializers/,
    ],
    [
      'a node whose output is the graph input',
      edit(base, (g) => (g.node[1]!.output = ['X'])),
      /Relu node relu1: output X is already defined/,
    ],
    ['a node whose output is an initializer', edit(base, (g) => (g.node[0]!.output = ['W'])), /output W is already defined/],
    [
      'an input that is neither the chain nor an initializer',
      edit(base, (g) => g.node[0]!.input.splice(2, 1, 'nowhere')),
      /Gemm node gemm0: input nowhere is neither X nor an initializer/,
    ],
    ['a node off the chain', edit(base, (g) => (g.node[1]!.input = ['X'])), /Relu node relu1 does not continue the chain from h0/],
    ['a Gemm with 4 inputs', edit(base, (g) => g.node[0]!.input.push('W')), /Gemm node gemm0 has 4 inputs/],
    [
      'an Add without its bias',
      edit(
        model(
          [
            { op: 'MatMul', inputs: ['W'] },
            { op: 'Add', inputs: ['B'] },
          ],
          weights,
        ),
        (g) => (g.node[1]!.input[1] = ''),
      ),
      /Add node add1: its bias is missing/,
    ],
    ['a graph input without a name', edit(base, (g) => (g.input[0]!.name = '')), /model.graph.input\[0\] has no name/],
    ['a 3-D kernel', initializer('W', (t) => (t.dims = [3, 2, 1])), /weight W has dims \[3, 2, 1\]/],
    ['a bias of dims [2, 1]', initializer('B', (t) => (t.dims = [2, 1])), /Gemm node gemm0: bias B has dims \[2, 1\] for 2 units/],
    [
      "a layer whose inputs are not the previous layer's units",
      model(
        [
          { op: 'Gemm', inputs: ['W0'] },
          { op: 'Gemm', inputs: ['W1'] },
        ],
        { W0: [[3, 2], randomArray(6, 1)], W1: [[3, 4], randomArray(12, 2)] },
      ),
      /Gemm node gemm1 takes 3 features, but the previous layer has 2 units/,
    ],
    [
      'a LeakyRelu slope of NaN',
      model(
        [
          { op: 'Gemm', inputs: ['W'] },
          { op: 'LeakyRelu', inputs: [], attributes: { alpha: NaN } },
        ],
        weights,
      ),
      /LeakyRelu node leakyrelu1: negativeSlope must be a number, got NaN/,
    ],
    [
      'a Gelu approximation that ONNX does not define',
      model(
        [
          { op: 'Gemm', inputs: ['W'] },
          { op: 'Gelu', inputs: [], attributes: { approximate: 'erf' } },
        ],
        weights,
      ),
      /Gelu node gelu1: approximate must be 'none' or 'tanh', got 'erf'/,
    ],
    [
      'an Add before any Gemm',
      model(
        [
          { op: 'Add', inputs: ['B'] },
          { op: 'Gemm', inputs: ['W'] },
        ],
        weights,
      ),
      /Add node add0 does not follow a Gemm or MatMul/,
    ],
    [
      'a graph output in the middle of the chain',
      edit(base, (g) => (g.output[0]!.name = 'h0')),
      /the graph's outputs \[h0\] are not the end of the chain, Y/,
    ],
    ['two graph outputs', edit(base, (g) => g.output.push({ ...g.output[0]!, name: 'h0' })), /the graph's outputs \[Y, h0\]/],
    [
      'an unsupported op',
      model(
        [
          { op: 'Gemm', inputs: ['W'] },
          { op: 'Conv', inputs: [] },
        ],
        weights,
      ),
      /ONNX op Conv is not supported/,
    ],
    ...batchNormCases(),
    [
      'a Reshape to [N, 2, -1]',
      model(
        [
          { op: 'Reshape', inputs: ['S'] },
          { op: 'Gemm', inputs: ['W'] },
        ],
        { ...weights, S: [[3], BigInt64Array.of(0n, 2n, -1n)] },
      ),
      /Reshape node reshape0: shape S is \[0, 2, -1\], not \[N, -1\]/,
    ],
    [
      'a Reshape to [1, -1]',
      model(
        [
          { op: 'Reshape', inputs: ['S'] },
          { op: 'Gemm', inputs: ['W'] },
        ],
        { ...weights, S: [[2], BigInt64Array.of(1n, -1n)] },
      ),
      /shape S is \[1, -1\], not \[N, -1\]/,
    ],
    [
      'a Reshape with allowzero',
      model(
        [
          { op: 'Reshape', inputs: ['S'], attributes: { allowzero: 1 } },
          { op: 'Gemm', inputs: ['W'] },
        ],
        { ...weights, S: [[2], BigInt64Array.of(0n, -1n)] },
      ),
      /shape S is \[0, -1\], not \[N, -1\]/,
    ],
    [
      'a Reshape whose shape is FLOAT',
      model(
        [
          { op: 'Reshape', inputs: ['S'] },
          { op: 'Gemm', inputs: ['W'] },
        ],
        { ...weights, S: [[2], Float32Array.of(0, -1)] },
      ),
      /shape S is \[not INT64\]/,
    ],
    [
      'an INT64 weight',
      model([{ op: 'Gemm', inputs: ['W'] }], { W: [[3, 2], BigInt64Array.of(1n, 2n, 3n, 4n, 5n, 6n)] }),
      /Gemm node gemm0: its weight W is an INT64 tensor, not FLOAT/,
    ],
    [
      'a Flatten over axis 2',
      model(
        [
          { op: 'Flatten', inputs: [], attributes: { axis: 2 } },
          { op: 'Gemm', inputs: ['W'] },
        ],
        weights,
      ),
      /Flatten node flatten0 with axis 2/,
    ],
    [
      'a Div by zero',
      model(
        [
          { op: 'Gemm', inputs: ['W'] },
          { op: 'Relu', inputs: [] },
          { op: 'Div', inputs: ['Z'] },
        ],
        { ...weights, Z: [[2], Float32Array.of(1, 0)] },
      ),
      /Div node div2 divides by zero/,
    ],
    [
      'a Mul by a constant of the wrong shape',
      model(
        [
          { op: 'Gemm', inputs: ['W'] },
          { op: 'Mul', inputs: ['C'] },
        ],
        { ...weights, C: [[3], Float32Array.of(1, 2, 3)] },
      ),
      /Mul node mul1: constant C has dims \[3\] for 2 units/,
    ],
    [
      'a Clip whose minimum is NaN',
      model(
        [
          { op: 'Gemm', inputs: ['W'] },
          { op: 'Clip', inputs: ['L'] },
        ],
        { ...weights, L: [[], Float32Array.of(NaN)] },
      ),
      /Clip node clip1: minVal must be a number, got NaN/,
    ],
    [
      'a Clip bound of two values',
      model(
        [
          { op: 'Gemm', inputs: ['W'] },
          { op: 'Clip', inputs: ['L'] },
        ],
        { ...weights, L: [[2], Float32Array.of(0, 1)] },
      ),
      /Clip node clip1: min L has dims \[2\]; a bound is one value/,
    ],
  ];

  /** BatchNormalization after the 2-unit Gemm, with one of its parameters or attributes made hostile. */
  function batchNormCases(): [string, Uint8Array, RegExp][] {
    const good = { s: Float32Array.of(1, 2), b: Float32Array.of(0, 1), m: Float32Array.of(0.5, -0.5), v: Float32Array.of(1, 2) };
    const bnModel = (change: Partial<Record<keyof typeof good, [number[], Float32Array]>>, attributes: Record<string, number> = {}) =>
      model(
        [
          { op: 'Gemm', inputs: ['W'] },
          { op: 'BatchNormalization', inputs: ['s', 'b', 'm', 'v'], attributes },
        ],
        {
          ...weights,
          ...Object.fromEntries(Object.entries(good).map(([k, v]) => [k, [[2], v]])),
          ...change,
        },
      );
    return [
      [
        'a BatchNormalization with a negative variance',
        bnModel({ v: [[2], Float32Array.of(1, -2)] }),
        /BatchNormalization node batchnormalization1: variance\[1\] is -2/,
      ],
      ['a BatchNormalization with a NaN epsilon', bnModel({}, { epsilon: NaN }), /batchnormalization1: epsilon must be a finite number/],
      [
        'a BatchNormalization with a mean of 3 values',
        bnModel({ m: [[3], Float32Array.of(1, 2, 3)] }),
        /mean m has dims \[3\], expected \[2\]/,
      ],
      ['a BatchNormalization with an infinite scale', bnModel({ s: [[2], Float32Array.of(1, Infinity)] }), /gamma\[1\] is Infinity/],
      ['a BatchNormalization in training mode', bnModel({}, { training_mode: 1 }), /in training mode/],
      [
        'a BatchNormalization with zero variance and epsilon',
        bnModel({ v: [[2], Float32Array.of(0, 1)] }, { epsilon: 0 }),
        /variance\[0\] is 0/,
      ],
    ];
  }
  it.each(cases)('%s', (_, bytes, message) => expectRejected(nn, earlier, bytes, message));
});
