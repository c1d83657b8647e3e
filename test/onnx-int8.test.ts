// ONNX Runtime's dynamic quantization (DynamicQuantizeLinear → MatMulInteger → Cast → Mul, + Add)
// imported as int8 layers: the int8 weights kept as they are, checked against onnxruntime-node.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { type ActivationName, SimdnetError, init } from '../ts/index.js';
import { type Int8PeerLayer, quantizedOnnxModel } from '../bench/onnx-models.js';
import { expectSameBits, randomArray } from './helpers.js';
import { onnx } from './onnx-model.js';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
const nn = await init();
const { TensorProto } = onnx;

/** A layer of int8 weights [inputs × units] (codes in −127..127), per-unit scales and a bias. */
function int8Layer(inputs: number, units: number, seed: number, activation: ActivationName = 'linear'): Int8PeerLayer {
  const codes = Int8Array.from(randomArray(inputs * units, seed, 127), Math.round);
  return {
    inputs,
    outputs: units,
    activation,
    codes,
    scales: Float32Array.from(randomArray(units, seed + 1, 0.01), (s) => Math.abs(s) + 0.001),
    bias: randomArray(units, seed + 2),
  };
}

/** X → [dynamically quantized MatMul + Add, then the activation] per layer, as onnxruntime.quantization writes it. */
const quantizedModel = (layers: Int8PeerLayer[]) => quantizedOnnxModel(onnx, layers);

describe('ONNX dynamic quantization', () => {
  const shapes: [number, number][] = [
    [37, 19],
    [19, 5],
  ];
  const layers = shapes.map(([k, n], i) => int8Layer(k, n, 10 * i + 1, i === 0 ? 'relu' : 'linear'));
  const bytes = quantizedModel(layers);

  it('imports int8 layers with their weights as they are, and runs as nn.dense does', async () => {
    const m = await nn.loadModel(bytes);
    expect(m.layers.map((l) => l.quantization)).toEqual(['int8', 'int8']);
    const { codes, scales, bias } = m.layers[0]!.getQuantizedWeights();
    expect([codes, scales, bias]).toEqual([layers[0]!.codes, layers[0]!.scales, layers[0]!.bias]);
    const x = randomArray(9 * 37, 3, 2);
    const dense = shapes.map(([k, n], i) =>
      nn.dense({
        inputDim: k,
        units: n,
        kernel: layers[i]!,
        bias: layers[i]!.bias,
        activation: i === 0 ? 'relu' : 'linear',
        quantize: 'int8',
      }),
    );
    expectSameBits(m.predict(x), dense[1]!.apply(dense[0]!.apply(x, 9), 9));
    m.dispose();
    for (const d of dense) d.dispose();
  });

  it('agrees with onnxruntime-node within both quantizations of the inputs (7 bits here, 8 there)', async () => {
    const m = await nn.loadModel(bytes);
    const single = quantizedModel([{ ...layers[0]!, activation: 'linear' }]);
    const one = await nn.loadModel(single);
    const x = randomArray(16 * 37, 4, 3);
    const session = await ort.InferenceSession.create(single);
    const expected = (await session.run({ X: new ort.Tensor('float32', x, [16, 37]) }))[session.outputNames[0]!]!.data as Float32Array;
    const y = one.predict(x);
    const [k, n] = shapes[0]!;
    for (let r = 0; r < 16; r++) {
      const row = x.subarray(r * k, (r + 1) * k);
      const range = Math.max(0, ...row) - Math.min(0, ...row);
      for (let o = 0; o < n; o++) {
        let sumW = 0;
        for (let i = 0; i < k; i++) sumW += Math.abs(layers[0]!.codes[i * n + o]! * layers[0]!.scales[o]!);
        // Each side's input step times Σ|w| over two, plus float32 rounding.
        const bound = (range / 127 / 2 + range / 255 / 2) * sumW + 1e-5 * (1 + Math.abs(expected[r * n + o]!));
        expect(Math.abs(y[r * n + o]! - expected[r * n + o]!)).toBeLessThanOrEqual(bound);
      }
    }
    m.dispose();
    one.dispose();
  });

  it('refuses weights with a zero point, and an incomplete pattern, changing nothing', async () => {
    const model = onnx.ModelProto.decode(bytes);
    const withZero = onnx.ModelProto.decode(bytes);
    withZero.graph!.initializer!.find((t) => t.name === 'l0_Wz')!.rawData = Uint8Array.of(3);
    const withoutCast = onnx.ModelProto.decode(bytes);
    withoutCast.graph!.node = withoutCast.graph!.node!.filter((n) => n.opType !== 'Cast');
    for (const broken of [withZero, withoutCast]) {
      const before = nn.allocatedBytes;
      const error = await nn.loadModel(onnx.ModelProto.encode(broken).finish()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SimdnetError);
      expect((error as SimdnetError).code).toBe('INVALID_MODEL');
      expect(nn.allocatedBytes).toBe(before);
    }
    expect(model.graph!.node!.length).toBeGreaterThan(0);
  });
});

describe('ONNX static quantization (QuantizeLinear → QLinearMatMul → DequantizeLinear)', () => {
  const [k, n] = [23, 11];
  const { codes, scales } = int8Layer(k, n, 40);
  const wScale = scales[0]!;
  const sumW = Math.max(
    ...Array.from({ length: n }, (_, o) =>
      Array.from({ length: k }, (_, i) => Math.abs(codes[i * n + o]! * wScale)).reduce((a, b) => a + b),
    ),
  );
  const [xScale, yScale] = [2 / 255, (2 * sumW) / 255];
  const scalar = (name: string, value: number) => ({
    name,
    dims: [],
    dataType: TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(Float32Array.of(value).buffer),
  });
  const zero = (name: string, type: number, value: number) => ({ name, dims: [], dataType: type, rawData: Uint8Array.of(value) });
  const node = (opType: string, input: string[], output: string) => ({ opType, name: output, input, output: [output] });
  const valueInfo = (name: string) => ({
    name,
    type: { tensorType: { elemType: TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'n' }] } } },
  });
  const bytes = onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'qlinear',
        node: [
          node('QuantizeLinear', ['X', 'xs', 'xz'], 'q'),
          node('QLinearMatMul', ['q', 'xs', 'xz', 'W', 'ws', 'wz', 'ys', 'yz'], 'yq'),
          node('DequantizeLinear', ['yq', 'ys', 'yz'], 'Y'),
        ],
        initializer: [
          scalar('xs', xScale),
          zero('xz', TensorProto.DataType.UINT8, 128),
          { name: 'W', dims: [k, n], dataType: TensorProto.DataType.INT8, rawData: new Uint8Array(codes.buffer) },
          scalar('ws', wScale),
          zero('wz', TensorProto.DataType.INT8, 0),
          scalar('ys', yScale),
          zero('yz', TensorProto.DataType.UINT8, 128),
        ],
        input: [valueInfo('X')],
        output: [valueInfo('Y')],
      },
    }),
  ).finish();

  it('imports an int8 layer with the weights as they are, within both quantizations of onnxruntime-node', async () => {
    const m = await nn.loadModel(bytes);
    expect(m.layers[0]!.getQuantizedWeights().codes).toEqual(codes);
    const x = randomArray(12 * k, 41, 1);
    const session = await ort.InferenceSession.create(bytes);
    const expected = (await session.run({ X: new ort.Tensor('float32', x, [12, k]) })).Y!.data as Float32Array;
    const y = m.predict(x);
    for (let r = 0; r < 12; r++) {
      const row = x.subarray(r * k, (r + 1) * k);
      const step = (Math.max(0, ...row) - Math.min(0, ...row)) / 127;
      // simdnet's input step, ONNX Runtime's input step (times Σ|w| over two each), and its output rounding.
      const bound = ((step + xScale) / 2) * sumW + yScale / 2 + 1e-5;
      for (let o = 0; o < n; o++) expect(Math.abs(y[r * n + o]! - expected[r * n + o]!)).toBeLessThanOrEqual(bound);
    }
    m.dispose();
  });
});
