import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { init } from '../ts/index.js';
import { randomArray } from './helpers.js';

const require = createRequire(import.meta.url);
const { onnx } = require('onnx-proto') as typeof import('onnx-proto');
const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
const nn = await init();

interface NodeSpec { op: string; inputs: string[]; attributes?: Record<string, number | string> }

/** An ONNX model built with onnx-proto: initializers as raw_data, or float_data when `floatData`. */
function model(nodes: NodeSpec[], initializers: Record<string, [number[], Float32Array]>, opset = 13, floatData = false): Uint8Array {
  const { TensorProto, AttributeProto } = onnx;
  let previous = 'X';
  const graphNodes = nodes.map((n, i) => {
    const output = i === nodes.length - 1 ? 'Y' : `h${i}`;
    const node = {
      opType: n.op, name: `${n.op.toLowerCase()}${i}`, input: [previous, ...n.inputs], output: [output],
      attribute: Object.entries(n.attributes ?? {}).map(([name, v]) => (typeof v === 'string'
        ? { name, type: AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) }
        : Number.isInteger(v) && name.startsWith('trans') ? { name, type: AttributeProto.AttributeType.INT, i: v } : { name, type: AttributeProto.AttributeType.FLOAT, f: v })),
    };
    previous = output;
    return node;
  });
  const initializer = Object.entries(initializers).map(([name, [dims, data]]) => ({
    name, dims, dataType: TensorProto.DataType.FLOAT,
    ...(floatData ? { floatData: Array.from(data) } : { rawData: new Uint8Array(data.slice().buffer) }),
  }));
  const valueInfo = (name: string) => ({ name, type: { tensorType: { elemType: TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'n' }] } } } });
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 8, opsetImport: [{ domain: '', version: opset }],
    graph: { name: 'mlp', node: graphNodes, initializer, input: [valueInfo('X')], output: [valueInfo('Y')] },
  })).finish();
}

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
    const bytes = model([
      { op: 'Gemm', inputs: ['W0', 'B0'], attributes: { transB: 1 } }, { op: 'Relu', inputs: [] },
      { op: 'Gemm', inputs: ['W1', 'B1'], attributes: { alpha: 0.5, beta: 2 } }, { op: 'LeakyRelu', inputs: [], attributes: { alpha: 0.1 } },
      { op: 'Gemm', inputs: ['W2', 'B2'] }, { op: 'Softmax', inputs: [] },
    ], { W0: [[6, 5], w(30, 1)], B0: [[6], w(6, 2)], W1: [[6, 7], w(42, 3)], B1: [[7], w(7, 4)], W2: [[7, 3], w(21, 5)], B2: [[3], w(3, 6)] });
    const m = await expectSameAsOnnxRuntime(bytes, 5);
    expect(m.layers.map((l) => [l.inputDim, l.units, l.activation.name])).toEqual([[5, 6, 'relu'], [6, 7, 'leaky_relu'], [7, 3, 'softmax']]);
  });

  it('MatMul + Add and MatMul alone, float_data initializers, Sigmoid, Tanh, HardSigmoid, Elu, Gelu', async () => {
    const bytes = model([
      { op: 'MatMul', inputs: ['W0'] }, { op: 'Add', inputs: ['B0'] }, { op: 'Sigmoid', inputs: [] },
      { op: 'MatMul', inputs: ['W1'] }, { op: 'Tanh', inputs: [] },
      { op: 'Gemm', inputs: ['W2', 'B2'] }, { op: 'HardSigmoid', inputs: [], attributes: { alpha: 0.3, beta: 0.4 } },
      { op: 'Gemm', inputs: ['W3', 'B3'] }, { op: 'Elu', inputs: [], attributes: { alpha: 0.7 } },
      { op: 'Gemm', inputs: ['W4', 'B4'] }, { op: 'Gelu', inputs: [] },
    ], {
      W0: [[4, 8], w(32, 7)], B0: [[8], w(8, 8)], W1: [[8, 6], w(48, 9)], W2: [[6, 5], w(30, 10)], B2: [[5], w(5, 11)],
      W3: [[5, 5], w(25, 12)], B3: [[5], w(5, 13)], W4: [[5, 2], w(10, 14)], B4: [[2], w(2, 15)],
    }, 20, true);
    await expectSameAsOnnxRuntime(bytes, 4);
  });

  it('PRelu (a slope per feature, or one for all), Selu, HardSwish, Softplus, Mish, Identity and Flatten', async () => {
    const bytes = model([
      { op: 'Flatten', inputs: [] },
      { op: 'Gemm', inputs: ['W0', 'B0'], attributes: { transB: 1 } }, { op: 'PRelu', inputs: ['S0'] },
      { op: 'MatMul', inputs: ['W1'] }, { op: 'PRelu', inputs: ['S1'] }, { op: 'Identity', inputs: [] },
      { op: 'Gemm', inputs: ['W2', 'B2'] }, { op: 'Selu', inputs: [] },
      { op: 'Gemm', inputs: ['W3', 'B3'] }, { op: 'HardSwish', inputs: [] },
      { op: 'Gemm', inputs: ['W4', 'B4'] }, { op: 'Softplus', inputs: [] },
      { op: 'Gemm', inputs: ['W5', 'B5'] }, { op: 'Mish', inputs: [] },
    ], {
      W0: [[9, 4], w(36, 21)], B0: [[9], w(9, 22)], S0: [[9], randomArray(9, 23, 1)], W1: [[9, 5], w(45, 24)], S1: [[1], Float32Array.of(0.25)],
      W2: [[5, 6], w(30, 25)], B2: [[6], w(6, 26)], W3: [[6, 7], w(42, 27)], B3: [[7], w(7, 28)], W4: [[7, 4], w(28, 29)], B4: [[4], w(4, 30)],
      W5: [[4, 3], w(12, 31)], B5: [[3], w(3, 32)],
    }, 20);
    const m = await expectSameAsOnnxRuntime(bytes, 4);
    expect(m.layers.map((l) => l.activation.name)).toEqual(['prelu', 'prelu', 'selu', 'hard_silu', 'softplus', 'mish']);
    // The slopes are part of the model: saved and loaded back exactly.
    const copy = await nn.loadModel(m.save());
    const x = randomArray(3 * 4, 5, 2);
    expect(copy.predict(x)).toEqual(m.predict(x));
    const wrong = model([{ op: 'Gemm', inputs: ['W', 'B'] }, { op: 'PRelu', inputs: ['S'] }], { W: [[3, 4], w(12, 1)], B: [[4], w(4, 2)], S: [[3], w(3, 3)] });
    await expect(nn.loadModel(wrong)).rejects.toMatchObject({ code: 'SHAPE_MISMATCH', message: expect.stringMatching(/PRelu node prelu1/) });
  });

  it('loads from a .onnx path', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const path = join(mkdtempSync(join(tmpdir(), 'simdnet-onnx-')), 'mlp.onnx');
    writeFileSync(path, model([{ op: 'Gemm', inputs: ['W', 'B'] }, { op: 'Sigmoid', inputs: [] }], { W: [[3, 2], w(6, 1)], B: [[2], w(2, 2)] }));
    const m = await nn.loadModel(path);
    expect([m.inputDim, m.outputDim]).toEqual([3, 2]);
  });

  it('names what it does not support', async () => {
    const conv = model([{ op: 'Gemm', inputs: ['W', 'B'] }, { op: 'Conv', inputs: [] }], { W: [[3, 2], w(6, 1)], B: [[2], w(2, 2)] });
    await expect(nn.loadModel(conv)).rejects.toThrow(/Conv/);
    const twice = model([{ op: 'Gemm', inputs: ['W', 'B'] }, { op: 'Relu', inputs: [] }, { op: 'Relu', inputs: [] }], { W: [[3, 2], w(6, 1)], B: [[2], w(2, 2)] });
    await expect(nn.loadModel(twice)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(nn.loadModel(new Uint8Array([0x3a, 0x05, 1, 2]))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
