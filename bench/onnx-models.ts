/**
 * The ONNX graphs the ONNX Runtime peers run, built in process with onnx-proto (passed in: it is an
 * optional dependency of the bench): float32 Gemm stacks, and ONNX Runtime's dynamic quantization of the
 * same stacks, which test/onnx-int8.test.ts also imports into simdnet.
 */
import type { ActivationName } from '../ts/index.js';

type Proto = (typeof import('onnx-proto'))['onnx'];

/** A dense layer as every peer receives it: kernel [inputs × outputs] row-major. */
export interface PeerLayer {
  inputs: number;
  outputs: number;
  activation: ActivationName;
  kernel: Float32Array;
  bias: Float32Array;
}

/** A dense layer with int8 weights: `codes` [inputs × outputs] row-major, zero point 0, one scale per output (w = code·scale). */
export interface Int8PeerLayer extends Omit<PeerLayer, 'kernel'> {
  codes: Int8Array;
  scales: Float32Array;
}

const ONNX_OPS: Partial<Record<ActivationName, string>> = {
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  softmax: 'Softmax',
  linear: 'Identity',
};

/** Whether ONNX has an operator for the activation. */
export const hasOnnxOp = (name: ActivationName) => ONNX_OPS[name] !== undefined;

function onnxOp(name: ActivationName): string {
  const op = ONNX_OPS[name];
  if (!op) throw new Error(`no ONNX op for ${name}`);
  return op;
}

type Node = { opType: string; name: string; input: string[]; output: string[]; attribute?: object[] };
const node = (opType: string, input: string[], output: string[], attribute: object[] = []): Node => ({
  opType,
  name: output[0]!,
  input,
  output,
  attribute,
});

/** A float32 initializer. */
const floats = (proto: Proto, name: string, dims: number[], values: Float32Array) => ({
  name,
  dims,
  dataType: proto.TensorProto.DataType.FLOAT,
  rawData: new Uint8Array(values.slice().buffer),
});

/** A model of one graph, opset 13: X [batch × inputs] through `nodes` to `output` [batch × outputs]. */
function onnxBytes(proto: Proto, nodes: Node[], initializer: object[], output: string, inputs: number, outputs: number): Uint8Array {
  const tensorType = (dim: number) => ({
    tensorType: { elemType: proto.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: dim }] } },
  });
  const model = proto.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'simdnet-bench',
    graph: {
      name: 'mlp',
      node: nodes,
      initializer,
      input: [{ name: 'X', type: tensorType(inputs) }],
      output: [{ name: output, type: tensorType(outputs) }],
    },
  });
  return proto.ModelProto.encode(model).finish();
}

/** Gemm + activation per layer, or (no layers) one activation of `cols` wide rows. */
export function onnxModel(proto: Proto, layers: PeerLayer[], activationOnly?: { name: ActivationName; cols: number }): Uint8Array {
  const nodes: Node[] = [];
  const initializers: object[] = [];
  let input = 'X';
  layers.forEach((l, i) => {
    initializers.push(floats(proto, `W${i}`, [l.inputs, l.outputs], l.kernel), floats(proto, `B${i}`, [l.outputs], l.bias));
    nodes.push(node('Gemm', [input, `W${i}`, `B${i}`], [`gemm${i}`]), node(onnxOp(l.activation), [`gemm${i}`], [`h${i}`]));
    input = `h${i}`;
  });
  if (activationOnly) {
    nodes.push(node(onnxOp(activationOnly.name), ['X'], ['Y']));
    input = 'Y';
  }
  const [inputs, outputs] = activationOnly ? [activationOnly.cols, activationOnly.cols] : [layers[0]!.inputs, layers.at(-1)!.outputs];
  return onnxBytes(proto, nodes, initializers, input, inputs, outputs);
}

/**
 * Each layer as `onnxruntime.quantization.quantize_dynamic` writes a MatMul + Add: DynamicQuantizeLinear(x)
 * → MatMulInteger(q, W, z, 0) → Cast to float → Mul by (x's scale · W's scales) → Add the bias, then the
 * activation. The inputs are quantized to uint8 per tensor by ONNX Runtime at each call.
 */
export function quantizedOnnxModel(proto: Proto, layers: Int8PeerLayer[]): Uint8Array {
  const { TensorProto, AttributeProto } = proto;
  const nodes: Node[] = [];
  const initializers: object[] = [];
  const toFloat = { name: 'to', type: AttributeProto.AttributeType.INT, i: TensorProto.DataType.FLOAT };
  let x = 'X';
  layers.forEach((l, i) => {
    const p = `l${i}_`;
    initializers.push(
      { name: `${p}W`, dims: [l.inputs, l.outputs], dataType: TensorProto.DataType.INT8, rawData: new Uint8Array(l.codes.slice().buffer) },
      { name: `${p}Wz`, dims: [], dataType: TensorProto.DataType.INT8, rawData: new Uint8Array(1) },
      floats(proto, `${p}Ws`, [l.outputs], l.scales),
      floats(proto, `${p}B`, [l.outputs], l.bias),
    );
    nodes.push(
      node('DynamicQuantizeLinear', [x], [`${p}q`, `${p}s`, `${p}z`]),
      node('MatMulInteger', [`${p}q`, `${p}W`, `${p}z`, `${p}Wz`], [`${p}int`]),
      node('Mul', [`${p}s`, `${p}Ws`], [`${p}scale`]),
      node('Cast', [`${p}int`], [`${p}float`], [toFloat]),
      node('Mul', [`${p}float`, `${p}scale`], [`${p}mm`]),
      node('Add', [`${p}mm`, `${p}B`], [`${p}biased`]),
      node(onnxOp(l.activation), [`${p}biased`], [`${p}out`]),
    );
    x = `${p}out`;
  });
  return onnxBytes(proto, nodes, initializers, x, layers[0]!.inputs, layers.at(-1)!.outputs);
}
