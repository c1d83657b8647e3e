/**
 * ONNX import: a small reader of the protobuf wire format (the few messages an MLP needs), and the
 * conversion of a chain of Gemm / MatMul+Add layers and activations into dense layer specs. Our own
 * reader rather than a protobuf dependency: the package keeps zero runtime dependencies, which edge
 * runtimes weigh, and an MLP graph needs five message types.
 */
import type { ActivationSpec } from './activations.js';
import { fail } from './errors.js';
import type { LayerSpec } from './sequential.js';

type Fields = Map<number, (number | bigint | Uint8Array)[]>;

/** Decodes one message into field number → values (varints as numbers, fixed32 as raw 4 bytes). */
function fields(bytes: Uint8Array): Fields {
  const out: Fields = new Map();
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (at >= bytes.length) fail('INVALID_ARGUMENT', 'truncated ONNX protobuf');
      const b = bytes[at++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
    }
  };
  while (at < bytes.length) {
    const key = Number(varint());
    const [field, wire] = [key >>> 3, key & 7];
    let value: number | bigint | Uint8Array;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const length = Number(varint());
      if (at + length > bytes.length) fail('INVALID_ARGUMENT', 'truncated ONNX protobuf');
      value = bytes.subarray(at, at + length);
      at += length;
    } else if (wire === 5) {
      value = bytes.subarray(at, at + 4);
      at += 4;
    } else if (wire === 1) {
      value = bytes.subarray(at, at + 8);
      at += 8;
    } else fail('INVALID_ARGUMENT', `unsupported protobuf wire type ${wire}`);
    const list = out.get(field) ?? [];
    list.push(value);
    out.set(field, list);
  }
  return out;
}

const text = (v: unknown) => new TextDecoder().decode(v as Uint8Array);
const messages = (f: Fields, n: number) => (f.get(n) ?? []).map((v) => fields(v as Uint8Array));
const f32le = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);

/** int64 values of a repeated field, packed (one length-delimited run) or not (varints). */
function ints(f: Fields, n: number): number[] {
  return (f.get(n) ?? []).flatMap((v) => (typeof v === 'bigint' ? [Number(BigInt.asIntN(64, v))] : unpackVarints(v as Uint8Array)));
}

function unpackVarints(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let result = 0n;
  let shift = 0n;
  for (const b of bytes) {
    result |= BigInt(b & 0x7f) << shift;
    shift += 7n;
    if (b < 0x80) {
      out.push(Number(BigInt.asIntN(64, result)));
      result = 0n;
      shift = 0n;
    }
  }
  return out;
}

/** Little-endian float32s from byte runs (raw_data, or float_data packed or not), unaligned. */
function floats(chunks: Uint8Array[]): Float32Array {
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  const view = new DataView(bytes.buffer);
  return Float32Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(4 * i, true));
}

interface Tensor {
  dims: number[];
  data: Float32Array;
}

/** A TensorProto's float32 values: raw_data (little-endian, not necessarily aligned) or float_data. */
function tensor(f: Fields): [string, Tensor] {
  const name = text(f.get(8)?.[0] ?? new Uint8Array());
  const dims = ints(f, 1);
  const type = Number(f.get(2)?.[0] ?? 1);
  if (type !== 1) fail('INVALID_ARGUMENT', `initializer ${name} has data type ${type}; only FLOAT (1) is supported`);
  const count = dims.reduce((a, b) => a * b, 1);
  const raw = f.get(9) as Uint8Array[] | undefined;
  const data = floats(raw ?? ((f.get(4) ?? []) as Uint8Array[]));
  if (data.length !== count) fail('SHAPE_MISMATCH', `initializer ${name} has ${data.length} values for dims [${dims.join(', ')}]`);
  return [name, { dims, data }];
}

interface Node {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, Fields>;
}

function attrFloat(node: Node, name: string, fallback: number): number {
  const a = node.attributes.get(name);
  const v = a?.get(2)?.[0];
  return v instanceof Uint8Array ? f32le(v) : fallback;
}

function attrInt(node: Node, name: string, fallback: number): number {
  const v = node.attributes.get(name)?.get(3)?.[0];
  return typeof v === 'bigint' ? Number(BigInt.asIntN(64, v)) : fallback;
}

function attrString(node: Node, name: string, fallback: string): string {
  const v = node.attributes.get(name)?.get(4)?.[0];
  return v instanceof Uint8Array ? text(v) : fallback;
}

/** The activation an ONNX node computes, with ONNX's defaults. */
function activationOf(node: Node): ActivationSpec {
  switch (node.op) {
    case 'Relu': return 'relu';
    case 'Sigmoid': return 'sigmoid';
    case 'Tanh': return 'tanh';
    case 'Softmax': {
      const axis = attrInt(node, 'axis', -1);
      if (axis !== -1 && axis !== 1) fail('INVALID_ARGUMENT', `Softmax node ${node.name} over axis ${axis}: only the last axis of [batch, features] is supported`);
      return 'softmax';
    }
    case 'LeakyRelu': return { name: 'leaky_relu', negativeSlope: attrFloat(node, 'alpha', 0.01) };
    case 'Elu': return { name: 'elu', alpha: attrFloat(node, 'alpha', 1) };
    case 'Selu': {
      const [alpha, gamma] = [attrFloat(node, 'alpha', 1.67326319217681884765625), attrFloat(node, 'gamma', 1.05070102214813232421875)];
      if (Math.fround(alpha) !== Math.fround(1.6732632423543772) || Math.fround(gamma) !== Math.fround(1.0507009873554805)) {
        fail('INVALID_ARGUMENT', `Selu node ${node.name} with alpha ${alpha}, gamma ${gamma}: only the standard constants are supported`);
      }
      return 'selu';
    }
    case 'Gelu': return { name: 'gelu', approximate: attrString(node, 'approximate', 'none') === 'tanh' };
    case 'HardSigmoid': return { name: 'hard_sigmoid', alpha: attrFloat(node, 'alpha', 0.2), beta: attrFloat(node, 'beta', 0.5) };
    case 'HardSwish': return { name: 'hard_silu', alpha: 1 / 6, beta: 0.5 };
    case 'Softplus': return 'softplus';
    case 'Mish': return 'mish';
    default: fail('INVALID_ARGUMENT', `ONNX op ${node.op} (node ${node.name || node.outputs[0]}) is not supported`);
  }
}

/** PRelu's slope initializer, broadcast over [batch, units]: one value, or one per unit. */
function preluOf(node: Node, slope: Float32Array, units: number): ActivationSpec {
  if (slope.length !== 1 && slope.length !== units) {
    fail('SHAPE_MISMATCH', `PRelu node ${node.name}: slope has ${slope.length} values for ${units} features (one, or one per feature, is supported)`);
  }
  return { name: 'prelu', slope };
}

const PASS_THROUGH = new Set(['Identity', 'Flatten', 'Dropout']);

/** The dense layers of an ONNX MLP: a chain from the graph input through Gemm or MatMul(+Add) nodes,
 * each optionally followed by one activation. Anything else is an error naming the node. */
export function parseOnnx(bytes: Uint8Array): LayerSpec[] {
  const model = fields(bytes);
  const graph = messages(model, 7)[0];
  if (!graph) fail('INVALID_ARGUMENT', 'not an ONNX model: no graph');
  const initializers = new Map(messages(graph, 5).map(tensor));
  const nodes: Node[] = messages(graph, 1).map((n) => ({
    op: text(n.get(4)?.[0]),
    name: text(n.get(3)?.[0] ?? new Uint8Array()),
    inputs: (n.get(1) ?? []).map(text),
    outputs: (n.get(2) ?? []).map(text),
    attributes: new Map(messages(n, 5).map((a) => [text(a.get(1)?.[0]), a])),
  }));
  const inputs = messages(graph, 11).map((v) => text(v.get(1)?.[0])).filter((name) => !initializers.has(name));
  if (inputs.length !== 1) fail('INVALID_ARGUMENT', `the graph has ${inputs.length} inputs; an MLP has one`);
  const weight = (name: string | undefined, node: Node) => {
    const t = name === undefined ? undefined : initializers.get(name);
    if (!t) fail('INVALID_ARGUMENT', `${node.op} node ${node.name}: input ${name} is not an initializer`);
    return t;
  };
  const layers: (LayerSpec & { inputDim: number })[] = [];
  let current = inputs[0]!;
  const consume = (i: number) => {
    const node = nodes[i]!;
    if (node.inputs[0] !== current) fail('INVALID_ARGUMENT', `node ${node.name || node.op} does not continue the chain from ${current}: only sequential MLPs are supported`);
    current = node.outputs[0]!;
    return node;
  };
  for (let i = 0; i < nodes.length; i++) {
    const node = consume(i);
    if (PASS_THROUGH.has(node.op)) continue;
    if (node.op === 'Gemm' || node.op === 'MatMul') {
      if (node.op === 'Gemm' && attrInt(node, 'transA', 0) !== 0) fail('INVALID_ARGUMENT', `Gemm node ${node.name} with transA=1 is not supported: it reads the input as [features, batch], and simdnet models take [batch, features]`);
      const w = weight(node.inputs[1], node);
      const transposed = node.op === 'Gemm' && attrInt(node, 'transB', 0) === 1;
      const [inputDim, units] = transposed ? [w.dims[1]!, w.dims[0]!] : [w.dims[0]!, w.dims[1]!];
      const alpha = node.op === 'Gemm' ? attrFloat(node, 'alpha', 1) : 1;
      let biasName = node.op === 'Gemm' ? node.inputs[2] : undefined;
      let beta = node.op === 'Gemm' ? attrFloat(node, 'beta', 1) : 1;
      if (node.op === 'MatMul' && nodes[i + 1]?.op === 'Add') {
        const add = consume(++i);
        biasName = add.inputs[1];
        beta = 1;
      }
      const bias = new Float32Array(units);
      if (biasName) {
        const b = weight(biasName, node).data;
        if (b.length !== units && b.length !== 1) fail('SHAPE_MISMATCH', `bias ${biasName} has ${b.length} values for ${units} outputs`);
        bias.forEach((_, o) => (bias[o] = beta * b[b.length === 1 ? 0 : o]!));
      }
      const kernel = alpha === 1 ? w.data : w.data.map((v) => alpha * v);
      layers.push({ inputDim, units, kernel, bias, kernelLayout: transposed ? 'oi' : 'io' });
      continue;
    }
    const layer = layers.at(-1);
    if (!layer || layer.activation !== undefined) fail('INVALID_ARGUMENT', `${node.op} node ${node.name} does not follow a Gemm or MatMul: only one activation per layer is supported`);
    layer.activation = node.op === 'PRelu' ? preluOf(node, weight(node.inputs[1], node).data, layer.units) : activationOf(node);
  }
  if (layers.length === 0) fail('INVALID_ARGUMENT', 'the graph has no Gemm or MatMul layer');
  return layers;
}
