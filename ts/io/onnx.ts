/**
 * ONNX import: a small reader of the protobuf wire format (the few messages an MLP needs), and the
 * conversion of a chain of Gemm / MatMul+Add layers, activations, normalizations and scalings into
 * dense layer specs. Our own
 * reader rather than a protobuf dependency: the package keeps zero runtime dependencies, which edge
 * runtimes weigh, and an MLP graph needs five message types.
 *
 * The bytes are untrusted: the whole file is read and checked before any layer is built, and
 * anything malformed, inconsistent or unsupported is an INVALID_MODEL error naming where it is.
 */
import type { ActivationSpec } from '../activations.js';
import { fail } from '../errors.js';
import { MAX_INT8_INPUTS } from '../int8.js';
import { elementCountOf } from '../memory.js';
import type { LayerSpec } from '../sequential.js';
import { type ImportedLayer, addActivation, addAffine, batchNormAffine } from './chain.js';

function invalid(message: string): never {
  return fail('INVALID_MODEL', message);
}

const [VARINT, FIXED64, LEN, FIXED32] = [0, 1, 2, 5];
const MAX_FIELD_NUMBER = 2n ** 29n - 1n;

/** The fields of a message we read, by number: a name for errors, the wire types allowed, and
 * whether it repeats (a singular field given twice is rejected rather than guessed at). */
type Schema = Readonly<Record<number, { name: string; wires: readonly number[]; repeated?: true }>>;

const one = (name: string, ...wires: number[]) => ({ name, wires });
const many = (name: string, ...wires: number[]) => ({ name, wires, repeated: true as const });

const MODEL: Schema = { 7: one('graph', LEN) };
const GRAPH: Schema = { 1: many('node', LEN), 5: many('initializer', LEN), 11: many('input', LEN), 12: many('output', LEN) };
const NODE: Schema = {
  1: many('input', LEN),
  2: many('output', LEN),
  3: one('name', LEN),
  4: one('op_type', LEN),
  5: many('attribute', LEN),
};
const ATTRIBUTE: Schema = { 1: one('name', LEN), 2: one('f', FIXED32), 3: one('i', VARINT), 4: one('s', LEN), 20: one('type', VARINT) };
const VALUE_INFO: Schema = { 1: one('name', LEN) };
// dims and float_data come packed (one length-delimited run) or one value per field.
const TENSOR: Schema = {
  1: many('dims', VARINT, LEN),
  2: one('data_type', VARINT),
  4: many('float_data', FIXED32, LEN),
  7: many('int64_data', VARINT, LEN),
  8: one('name', LEN),
  9: one('raw_data', LEN),
  14: one('data_location', VARINT),
};

/** A decoded message: varints as unsigned bigints, every other wire type as its bytes. */
interface Message {
  where: string;
  schema: Schema;
  values: Map<number, (bigint | Uint8Array)[]>;
}

/**
 * One varint at `at`. The caps: a varint holds 64 bits, so at most 10 bytes of which the 10th
 * carries bit 63 only; and (in `fieldsOf`) every length must fit in the bytes that remain. Reading
 * is then linear in the file's size and allocates nothing a size field claims: hostile bytes can
 * neither hang the reader nor make it allocate more than they are.
 */
function varint(bytes: Uint8Array, at: number, where: string): [value: bigint, next: number] {
  let value = 0n;
  for (let i = 0; ; i++) {
    if (at + i >= bytes.length) invalid(`${where}: truncated varint`);
    const byte = bytes[at + i]!;
    if (i === 9 && byte > 1) invalid(`${where}: varint longer than 64 bits`);
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if (byte < 0x80) return [value, at + i + 1];
  }
}

/** Decodes one message of `schema`, checking the wire type of each field it names and skipping the
 * others (as protobuf readers do), once they are known to be well-formed. */
function fieldsOf(bytes: Uint8Array, schema: Schema, where: string): Message {
  const values = new Map<number, (bigint | Uint8Array)[]>();
  let at = 0;
  while (at < bytes.length) {
    const [key, next] = varint(bytes, at, where);
    at = next;
    const [fieldNumber, wire] = [key >> 3n, Number(key & 7n)];
    if (fieldNumber === 0n || fieldNumber > MAX_FIELD_NUMBER) invalid(`${where}: invalid field number ${fieldNumber}`);
    const field = schema[Number(fieldNumber)];
    const name = `${where}.${field?.name ?? `field ${fieldNumber}`}`;
    let value: bigint | Uint8Array;
    if (wire === VARINT) [value, at] = varint(bytes, at, name);
    else {
      let size: bigint;
      if (wire === LEN) [size, at] = varint(bytes, at, name);
      else if (wire === FIXED64 || wire === FIXED32) size = wire === FIXED64 ? 8n : 4n;
      else invalid(`${name}: wire type ${wire} is not supported (groups are deprecated)`);
      if (size > BigInt(bytes.length - at)) invalid(`${name}: truncated (${size} bytes, ${bytes.length - at} left)`);
      value = bytes.subarray(at, (at += Number(size)));
    }
    if (!field) continue;
    if (!field.wires.includes(wire)) invalid(`${name} has wire type ${wire}, expected ${field.wires.join(' or ')}`);
    const list = values.get(Number(fieldNumber)) ?? [];
    if (list.length > 0 && !field.repeated) invalid(`${name} appears more than once`);
    list.push(value);
    values.set(Number(fieldNumber), list);
  }
  return { where, schema, values };
}

const all = (m: Message, n: number) => m.values.get(n) ?? [];
const decoder = new TextDecoder();
const strings = (m: Message, n: number) => all(m, n).map((v) => decoder.decode(v as Uint8Array));
const string = (m: Message, n: number): string | undefined => strings(m, n)[0];
const int64 = (m: Message, n: number): bigint | undefined => {
  const v = all(m, n)[0] as bigint | undefined;
  return v === undefined ? undefined : BigInt.asIntN(64, v);
};
const messages = (m: Message, n: number, schema: Schema) => {
  const { name, repeated } = m.schema[n]!;
  return all(m, n).map((v, i) => fieldsOf(v as Uint8Array, schema, `${m.where}.${name}${repeated ? `[${i}]` : ''}`));
};

/** A repeated int64 field, packed or not. */
function int64s(m: Message, n: number): bigint[] {
  return all(m, n).flatMap((v) => {
    if (typeof v === 'bigint') return [BigInt.asIntN(64, v)];
    const out: bigint[] = [];
    for (let at = 0; at < v.length;) {
      const [value, next] = varint(v, at, `${m.where}.${m.schema[n]!.name}`);
      out.push(BigInt.asIntN(64, value));
      at = next;
    }
    return out;
  });
}

/** An initializer: float32 values, or (a Reshape's shape) int64 ones in `ints`, or (quantized weights and zero points) bytes. */
interface Tensor {
  dims: number[];
  data: Float32Array;
  ints?: bigint[];
  bytes?: Int8Array | Uint8Array;
}

const FLOAT = 1n;
const UINT8 = 2n;
const INT8 = 3n;
const INT64 = 7n;
const EXTERNAL = 1n;

/** An initializer's name, shape and float32 values, from raw_data (little-endian, not necessarily
 * aligned) or float_data, whose size must be exactly what the dims say; or its int64 values. */
function tensorOf(t: Message): [string, Tensor] {
  const name = string(t, 8);
  if (!name) invalid(`${t.where} has no name`);
  const what = `initializer ${name}`;
  const type = int64(t, 2);
  if (type !== FLOAT && type !== INT64 && type !== INT8 && type !== UINT8) {
    invalid(
      `${what} has data type ${type ?? 'UNDEFINED'}; only FLOAT (1), INT64 (7) for shapes, INT8 (3) and UINT8 (2) for quantized weights are supported`,
    );
  }
  if (int64(t, 14) === EXTERNAL) invalid(`${what} keeps its data in an external file, which is not supported`);
  const dims = int64s(t, 1).map((d) => {
    if (d < 0n || d > BigInt(Number.MAX_SAFE_INTEGER)) invalid(`${what} has dimension ${d}`);
    return Number(d);
  });
  const count = elementCountOf(dims);
  if (!Number.isSafeInteger(count)) invalid(`${what} has dims [${dims.join(', ')}]: too many elements`);
  if (type === INT64) return [name, { dims, data: new Float32Array(0), ints: int64Values(t, count, what) }];
  if (type === INT8 || type === UINT8) {
    const raw = all(t, 9)[0] as Uint8Array | undefined;
    if (raw?.length !== count)
      invalid(`${what} has ${raw?.length ?? 'no'} bytes of raw_data for ${count} 8-bit values (only raw_data is read)`);
    // A copy with a buffer of its own (a Node Buffer's slice() would share its pool).
    const copy = new Uint8Array(raw);
    return [name, { dims, data: new Float32Array(0), bytes: type === INT8 ? new Int8Array(copy.buffer) : copy }];
  }
  const [raw, floatData] = [all(t, 9) as Uint8Array[], all(t, 4) as Uint8Array[]];
  if (raw.length > 0 && floatData.length > 0) invalid(`${what} has both raw_data and float_data`);
  const chunks = raw.length > 0 ? raw : floatData;
  const size = chunks.reduce((n, c) => n + c.length, 0);
  if (chunks.some((c) => c.length % 4 !== 0) || size !== 4 * count) {
    invalid(`${what} has ${size} bytes of ${raw.length > 0 ? 'raw_data' : 'float_data'} for dims [${dims.join(', ')}] (${count} floats)`);
  }
  const data = new Float32Array(count);
  let i = 0;
  for (const c of chunks) {
    const view = new DataView(c.buffer, c.byteOffset, c.length);
    for (let at = 0; at < c.length; at += 4) data[i++] = view.getFloat32(at, true);
  }
  return [name, { dims, data }];
}

/** An INT64 initializer's `count` values, from raw_data (8 bytes each, little-endian) or int64_data. */
function int64Values(t: Message, count: number, what: string): bigint[] {
  const raw = all(t, 9)[0] as Uint8Array | undefined;
  const values = raw ? [] : int64s(t, 7);
  if (raw) {
    if (raw.length !== 8 * count) invalid(`${what} has ${raw.length} bytes of raw_data for ${count} int64 values`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
    for (let at = 0; at < raw.length; at += 8) values.push(view.getBigInt64(at, true));
  }
  if (values.length !== count) invalid(`${what} has ${values.length} int64 values for ${count} elements`);
  return values;
}

interface Node {
  op: string;
  /** "<op> node <name>" (or its index when unnamed), for errors. */
  label: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, Message>;
}

function nodeOf(n: Message, index: number): Node {
  const op = string(n, 4);
  if (!op) invalid(`${n.where} has no op_type`);
  const label = `${op} node ${string(n, 3) || `#${index}`}`;
  const attributes = new Map<string, Message>();
  for (const a of messages(n, 5, ATTRIBUTE)) {
    const name = string(a, 1);
    if (!name) invalid(`${label}: ${a.where} has no name`);
    if (attributes.has(name)) invalid(`${label}: attribute ${name} appears more than once`);
    attributes.set(name, a);
  }
  return { op, label, inputs: strings(n, 1), outputs: strings(n, 2), attributes };
}

/** AttributeProto's type codes and the field holding each type's value. */
const ATTRIBUTE_TYPES = { FLOAT: [1n, 2], INT: [2n, 3], STRING: [3n, 4] } as const;

/** An attribute's value, which must be of `type` (both the declared type and the field present). */
function attribute(node: Node, name: string, type: keyof typeof ATTRIBUTE_TYPES): bigint | Uint8Array | undefined {
  const a = node.attributes.get(name);
  if (!a) return undefined;
  const [code, field] = ATTRIBUTE_TYPES[type];
  const declared = int64(a, 20);
  const value = all(a, field)[0];
  if (value === undefined || (declared !== undefined && declared !== code)) invalid(`${node.label}: attribute ${name} must be a ${type}`);
  return value;
}

function attrFloat(node: Node, name: string, fallback: number): number {
  const v = attribute(node, name, 'FLOAT') as Uint8Array | undefined;
  return v ? new DataView(v.buffer, v.byteOffset, 4).getFloat32(0, true) : fallback;
}

/** An INT attribute; the values we compare it to are small, so the rounding of huge ones is harmless. */
function attrInt(node: Node, name: string, fallback: number): number {
  const v = attribute(node, name, 'INT') as bigint | undefined;
  return v === undefined ? fallback : Number(BigInt.asIntN(64, v));
}

function attrString(node: Node, name: string, fallback: string): string {
  const v = attribute(node, name, 'STRING') as Uint8Array | undefined;
  return v ? decoder.decode(v) : fallback;
}

/** The activation an ONNX node computes, with ONNX's defaults. */
function activationOf(node: Node): ActivationSpec {
  switch (node.op) {
    case 'Relu':
      return 'relu';
    case 'Sigmoid':
      return 'sigmoid';
    case 'Tanh':
      return 'tanh';
    case 'Softmax': {
      const axis = attrInt(node, 'axis', -1);
      if (axis !== -1 && axis !== 1) invalid(`${node.label} over axis ${axis}: only the last axis of [batch, features] is supported`);
      return 'softmax';
    }
    case 'LeakyRelu':
      return { name: 'leaky_relu', negativeSlope: attrFloat(node, 'alpha', 0.01) };
    case 'Elu':
      return { name: 'elu', alpha: attrFloat(node, 'alpha', 1) };
    case 'Selu': {
      const [alpha, gamma] = [attrFloat(node, 'alpha', 1.67326319217681884765625), attrFloat(node, 'gamma', 1.05070102214813232421875)];
      if (Math.fround(alpha) !== Math.fround(1.6732632423543772) || Math.fround(gamma) !== Math.fround(1.0507009873554805)) {
        invalid(`${node.label} with alpha ${alpha}, gamma ${gamma}: only the standard constants are supported`);
      }
      return 'selu';
    }
    case 'Gelu': {
      const approximate = attrString(node, 'approximate', 'none');
      if (approximate !== 'none' && approximate !== 'tanh') {
        invalid(`${node.label}: approximate must be 'none' or 'tanh', got '${approximate}'`);
      }
      return { name: 'gelu', approximate: approximate === 'tanh' };
    }
    case 'HardSigmoid':
      return { name: 'hard_sigmoid', alpha: attrFloat(node, 'alpha', 0.2), beta: attrFloat(node, 'beta', 0.5) };
    case 'HardSwish':
      return { name: 'hard_silu', alpha: 1 / 6, beta: 0.5 };
    case 'Softplus':
      return 'softplus';
    case 'Mish':
      return 'mish';
    default:
      return invalid(`${node.label} is not supported here`);
  }
}

/** The ops we read, with how many inputs each takes: the chain value first, then initializers. */
const INPUT_COUNTS: Record<string, [min: number, max: number]> = {
  Gemm: [2, 3],
  MatMul: [2, 2],
  PRelu: [2, 2],
  Dropout: [1, 3],
  Identity: [1, 1],
  Flatten: [1, 1],
  Reshape: [2, 2],
  BatchNormalization: [5, 5],
  Clip: [1, 3],
  Add: [2, 2],
  Sub: [2, 2],
  Mul: [2, 2],
  Div: [2, 2],
  ...Object.fromEntries(
    ['Relu', 'Sigmoid', 'Tanh', 'Softmax', 'LeakyRelu', 'Elu', 'Selu', 'Gelu', 'HardSigmoid', 'HardSwish', 'Softplus', 'Mish'].map((op) => [
      op,
      [1, 1],
    ]),
  ),
};

const PASS_THROUGH = new Set(['Identity', 'Dropout']);

/** Whether a bias, slope or constant of `dims` is one value per unit, or one for all, of [batch, units]
 * (a scalar, a vector, or a row [1, n] that broadcasts the same way). */
function perUnit(dims: number[], units: number): boolean {
  const vector = dims.length === 2 && dims[0] === 1 ? dims.slice(1) : dims;
  return vector.length === 0 || (vector.length === 1 && (vector[0] === units || vector[0] === 1));
}

/** The elementwise map `x op c` of Add, Sub, Mul, Div by constants `c`, as per-unit scales and shifts. */
const AFFINE_OPS: Record<string, (c: number) => [scale: number, shift: number]> = {
  Add: (c) => [1, c],
  Sub: (c) => [1, -c],
  Mul: (c) => [c, 0],
  Div: (c) => [1 / c, 0],
};

/** Clip's bounds as the activation that computes them: relu6, relu (with maxValue), or hard_tanh. */
function clipActivation(min: number, max: number): ActivationSpec {
  if (min !== 0) return { name: 'hard_tanh', minVal: min, maxVal: max };
  if (max === 6) return 'relu6';
  return max === Infinity ? 'relu' : { name: 'relu', maxValue: max };
}

/**
 * The dense layers of an ONNX MLP: a chain from the graph input through Gemm or MatMul(+Add) nodes,
 * each followed by any activations, BatchNormalizations and scalings by constants (folded into the
 * layer while it is linear, else steps after it); Flatten and Reshape to [N, -1]. Anything else is
 * an error naming the node.
 */
export function parseOnnx(bytes: Uint8Array): LayerSpec[] {
  const graph = messages(fieldsOf(bytes, MODEL, 'model'), 7, GRAPH)[0];
  if (!graph) invalid('not an ONNX model: no graph');
  const initializers = new Map<string, Tensor>();
  for (const [name, tensor] of messages(graph, 5, TENSOR).map(tensorOf)) {
    if (initializers.has(name)) invalid(`initializer ${name} appears more than once`);
    initializers.set(name, tensor);
  }
  const nodes = messages(graph, 1, NODE).map(nodeOf);
  // Before IR version 4 initializers were listed among the inputs too; the one left is the model's input.
  const inputs = messages(graph, 11, VALUE_INFO)
    .map((v) => string(v, 1) || invalid(`${v.where} has no name`))
    .filter((name) => !initializers.has(name));
  if (inputs.length !== 1) invalid(`the graph has ${inputs.length} inputs that are not initializers; an MLP has one`);
  const initializer = (node: Node, name: string | undefined, what: string) => {
    const t = initializers.get(name ?? '');
    if (!t) invalid(`${node.label}: its ${what} ${name ? `${name} is not an initializer` : 'is missing'}`);
    return t;
  };
  const weight = (node: Node, name: string | undefined, what: string) => {
    const t = initializer(node, name, what);
    if (t.ints || t.bytes) invalid(`${node.label}: its ${what} ${name} is ${t.ints ? 'an INT64' : 'an 8-bit'} tensor, not FLOAT`);
    return t;
  };
  /** A per-unit constant (one value, or one per unit) expanded to `units` values, each finite. */
  const perUnitValues = (node: Node, name: string | undefined, what: string, units: number) => {
    const t = weight(node, name, what);
    if (!perUnit(t.dims, units)) invalid(`${node.label}: ${what} ${name} has dims [${t.dims.join(', ')}] for ${units} units`);
    const bad = t.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) invalid(`${node.label}: ${what} ${name} holds ${t.data[bad]}`);
    return Float32Array.from({ length: units }, (_, o) => t.data[t.data.length === 1 ? 0 : o]!);
  };
  /** A BatchNormalization parameter: exactly one value per unit. */
  const channelValues = (node: Node, name: string | undefined, what: string, units: number) => {
    const t = weight(node, name, what);
    if (t.dims.length !== 1 || t.dims[0] !== units)
      invalid(`${node.label}: ${what} ${name} has dims [${t.dims.join(', ')}], expected [${units}]`);
    return t.data;
  };
  /** Clip's bound: its input (a one-value initializer) from opset 11, its attribute before. */
  const clipBound = (node: Node, index: number, attr: string, fallback: number) => {
    const name = node.inputs[index];
    if (!name) return attrFloat(node, attr, fallback);
    const t = weight(node, name, attr);
    if (t.data.length !== 1) invalid(`${node.label}: ${attr} ${name} has dims [${t.dims.join(', ')}]; a bound is one value`);
    return t.data[0]!;
  };
  const layers: ImportedLayer[] = [];
  let current = inputs[0]!;
  const defined = new Set([current, ...initializers.keys()]);
  /** Node `i`, checked to take the chain value and initializers, and to define new names only. */
  const consume = (i: number) => {
    const node = nodes[i]!;
    if (!Object.hasOwn(INPUT_COUNTS, node.op)) invalid(`${node.label}: ONNX op ${node.op} is not supported`);
    const counts = INPUT_COUNTS[node.op]!;
    const [first, ...rest] = node.inputs;
    if (node.inputs.length < counts[0] || node.inputs.length > counts[1]) invalid(`${node.label} has ${node.inputs.length} inputs`);
    if (first !== current) invalid(`${node.label} does not continue the chain from ${current}: only sequential MLPs are supported`);
    // An empty name is an optional input left out.
    for (const name of rest) {
      if (name && !initializers.has(name)) invalid(`${node.label}: input ${name} is neither ${current} nor an initializer`);
    }
    if (!node.outputs[0]) invalid(`${node.label} has no output`);
    for (const name of node.outputs.filter(Boolean)) {
      if (defined.has(name)) invalid(`${node.label}: output ${name} is already defined`);
      defined.add(name);
    }
    current = node.outputs[0];
    return node;
  };
  /**
   * ONNX Runtime's dynamic quantization of a MatMul, from node `start` on: DynamicQuantizeLinear(x) →
   * (q, s, z); MatMulInteger(q, W, z[, W_zero]) → Cast(to FLOAT) → Mul(·, s·W_scale), with s·W_scale
   * from Mul(s, W_scale), the four in any order. W (int8, zero point 0) is kept as it is with its
   * scale (one, or one per unit); simdnet quantizes x itself (docs/int8.md). Returns the last node's index.
   */
  const dynamicallyQuantized = (start: number, previous: ImportedLayer | undefined): number => {
    const quantize = nodes[start]!;
    const [q, s, z] = quantize.outputs;
    if (quantize.inputs.length !== 1 || quantize.inputs[0] !== current || !q || !s || !z) {
      invalid(`${quantize.label} must take ${current} and give its three outputs`);
    }
    const group = nodes.slice(start + 1, start + 5);
    const find = (op: string, what: string, test: (n: Node) => boolean) =>
      group.find((n) => n.op === op && test(n)) ?? invalid(`${quantize.label} is not followed by the ${op} ${what}`);
    const product = find('MatMulInteger', `of ${q} and int8 weights`, (n) => n.inputs[0] === q && n.inputs[2] === z);
    const cast = find('Cast', `of ${product.outputs[0]} to FLOAT`, (n) => n.inputs[0] === product.outputs[0] && attrInt(n, 'to', 0) === 1);
    const scales = find('Mul', `of ${s} and the weights' scale`, (n) => n.inputs.length === 2 && n.inputs.includes(s));
    const result = find('Mul', `of ${cast.outputs[0]} and ${scales.outputs[0]}`, (n) => {
      const [a, b] = n.inputs;
      return (a === cast.outputs[0] && b === scales.outputs[0]) || (b === cast.outputs[0] && a === scales.outputs[0]);
    });
    if (group.length !== 4 || new Set([product, cast, scales, result]).size !== 4) {
      invalid(`${quantize.label} must be followed by exactly MatMulInteger, Cast, and the two Muls of the scales`);
    }
    for (const name of [quantize, product, cast, scales, result].flatMap((n) => n.outputs).filter(Boolean)) {
      if (defined.has(name)) invalid(`${quantize.label}: output ${name} is already defined`);
      defined.add(name);
    }
    const w = initializer(product, product.inputs[1], 'weight');
    const wZero = product.inputs[3] ? initializer(product, product.inputs[3], 'weight zero point') : undefined;
    layers.push(
      quantizedLayer(
        product,
        w,
        wZero,
        scales,
        scales.inputs.find((n) => n !== s),
        previous,
      ),
    );
    current = result.outputs[0]!;
    return start + group.length;
  };
  /** The int8 layer of `product`'s weight `w` ([inputs × units], INT8) with zero point `zero` (0, or left out) and `scale` (of `owner`). */
  const quantizedLayer = (
    product: Node,
    w: Tensor,
    zero: Tensor | undefined,
    owner: Node,
    scale: string | undefined,
    previous: ImportedLayer | undefined,
  ): ImportedLayer => {
    if (!(w.bytes instanceof Int8Array) || w.dims.length !== 2 || w.dims.includes(0)) {
      invalid(`${product.label}: its weight must be a 2-D INT8 initializer of non-zero sizes`);
    }
    if (zero && (!zero.bytes || zero.bytes.some((v) => v !== 0)))
      invalid(`${product.label}: only a zero weight zero point (symmetric int8 weights) is supported`);
    const [inputDim, units] = w.dims as [number, number];
    if (inputDim > MAX_INT8_INPUTS) invalid(`${product.label} has ${inputDim} inputs; int8 layers take at most ${MAX_INT8_INPUTS}`);
    if (previous && inputDim !== previous.units)
      invalid(`${product.label} takes ${inputDim} features, but the previous layer has ${previous.units} units`);
    const scales = perUnitValues(owner, scale, 'weight scale', units);
    return { inputDim, units, kernel: { codes: w.bytes, scales }, quantize: 'int8', then: [], folded: [] };
  };
  /**
   * A statically quantized MatMul, from node `start` on: QuantizeLinear(x, s, z) → QLinearMatMul(q, s,
   * z, W, W_scale, W_zero, y_scale, y_zero) → DequantizeLinear(·, y_scale, y_zero), every scale and
   * zero point a constant. W (int8, zero point 0) is kept as it is with its scale; simdnet quantizes x
   * itself and keeps the float32 product, where ONNX Runtime rounds it to y_scale's grid (and
   * saturates). Returns the last node's index.
   */
  const staticallyQuantized = (start: number, previous: ImportedLayer | undefined): number => {
    const [quantize, product, dequantize] = nodes.slice(start, start + 3) as [Node, Node?, Node?];
    const q = quantize.outputs[0];
    if (quantize.inputs[0] !== current || !q) invalid(`${quantize.label} must take ${current}`);
    if (product?.op !== 'QLinearMatMul' || product.inputs[0] !== q || product.inputs.length !== 8) {
      invalid(`${quantize.label} is not followed by a QLinearMatMul of ${q} (8 inputs)`);
    }
    if (dequantize?.op !== 'DequantizeLinear' || dequantize.inputs[0] !== product.outputs[0] || !dequantize.outputs[0]) {
      invalid(`${product.label} is not followed by a DequantizeLinear of ${product.outputs[0]}`);
    }
    for (const node of [quantize, product, dequantize]) {
      for (const name of node.inputs.slice(1)) initializer(node, name, 'scale or zero point');
      for (const name of node.outputs.filter(Boolean)) {
        if (defined.has(name)) invalid(`${node.label}: output ${name} is already defined`);
        defined.add(name);
      }
    }
    const [w, wZero] = [initializer(product, product.inputs[3], 'weight'), initializer(product, product.inputs[5], 'weight zero point')];
    layers.push(quantizedLayer(product, w, wZero, product, product.inputs[4], previous));
    current = dequantize.outputs[0]!;
    return start + 2;
  };
  for (let i = 0; i < nodes.length; i++) {
    if (nodes[i]!.op === 'DynamicQuantizeLinear') {
      i = dynamicallyQuantized(i, layers.at(-1));
      continue;
    }
    if (nodes[i]!.op === 'QuantizeLinear') {
      i = staticallyQuantized(i, layers.at(-1));
      continue;
    }
    const node = consume(i);
    if (PASS_THROUGH.has(node.op)) continue;
    const previous = layers.at(-1);
    if (node.op === 'Flatten') {
      // [N, d1, d2, ...] → [N, d1·d2·...]: the rows as they lie in memory (other axes would regroup them).
      if (attrInt(node, 'axis', 1) !== 1)
        invalid(`${node.label} with axis ${attrInt(node, 'axis', 1)}: only axis 1 ([N, -1]) is supported`);
      continue;
    }
    if (node.op === 'Reshape') {
      const shape = initializer(node, node.inputs[1], 'shape');
      const [batch, features] = shape.ints ?? [];
      // N is 0 (copied from the input, unless allowzero) or -1 (inferred, when the features are given).
      const keepsRows = (batch === 0n && attrInt(node, 'allowzero', 0) === 0) || batch === -1n;
      // [0, -1] flattens; [N, units] after a layer leaves its output as it is.
      const flat = features === -1n ? batch === 0n : previous !== undefined && features === BigInt(previous.units);
      if (shape.ints?.length !== 2 || !keepsRows || !flat) {
        invalid(
          `${node.label}: shape ${node.inputs[1]} is [${shape.ints?.join(', ') ?? 'not INT64'}], not [N, -1]: only a flattening reshape is supported`,
        );
      }
      continue;
    }
    if (node.op === 'Gemm' || node.op === 'MatMul') {
      const gemm = node.op === 'Gemm';
      if (gemm && attrInt(node, 'transA', 0) !== 0) {
        invalid(
          `${node.label} with transA=1 is not supported: it reads the input as [features, batch], ` +
            'and simdnet models take [batch, features]',
        );
      }
      const w = weight(node, node.inputs[1], 'weight');
      // Non-zero sizes also bound the layer (its bias included) by the bytes of its kernel in the file.
      if (w.dims.length !== 2 || w.dims.includes(0)) {
        invalid(`${node.label}: weight ${node.inputs[1]} has dims [${w.dims.join(', ')}]; a layer needs a 2-D weight of non-zero sizes`);
      }
      const transposed = gemm && attrInt(node, 'transB', 0) !== 0;
      const [inputDim, units] = transposed ? [w.dims[1]!, w.dims[0]!] : [w.dims[0]!, w.dims[1]!];
      if (previous && inputDim !== previous.units) {
        invalid(`${node.label} takes ${inputDim} features, but the previous layer has ${previous.units} units`);
      }
      const alpha = gemm ? attrFloat(node, 'alpha', 1) : 1;
      const beta = gemm ? attrFloat(node, 'beta', 1) : 1;
      const add = !gemm && nodes[i + 1]?.op === 'Add' ? consume(++i) : undefined;
      const [owner, biasName] = add ? [add, add.inputs[1]] : [node, gemm ? node.inputs[2] : undefined];
      const bias = new Float32Array(units);
      // Gemm's C is optional (left out, or an empty name); Add needs its bias.
      if (biasName || add) {
        const b = weight(owner, biasName, 'bias');
        if (!perUnit(b.dims, units)) invalid(`${owner.label}: bias ${biasName} has dims [${b.dims.join(', ')}] for ${units} units`);
        bias.forEach((_, o) => (bias[o] = beta * b.data[b.data.length === 1 ? 0 : o]!));
      }
      const kernel = alpha === 1 ? w.data : w.data.map((v) => alpha * v);
      layers.push({ inputDim, units, kernel, bias, kernelLayout: transposed ? 'oi' : 'io', then: [], folded: [] });
      continue;
    }
    if (!previous) invalid(`${node.label} does not follow a Gemm or MatMul`);
    const { units } = previous;
    if (Object.hasOwn(AFFINE_OPS, node.op)) {
      const constant = perUnitValues(node, node.inputs[1], 'constant', units);
      if (node.op === 'Div' && constant.includes(0)) invalid(`${node.label} divides by zero`);
      const [scale, shift] = [new Float32Array(units), new Float32Array(units)];
      constant.forEach((c, o) => ([scale[o], shift[o]] = AFFINE_OPS[node.op]!(c)));
      addAffine(previous, scale, shift, node.op);
    } else if (node.op === 'BatchNormalization') {
      if (attrInt(node, 'training_mode', 0) !== 0) invalid(`${node.label} in training mode: only inference is supported`);
      const [gamma, beta, mean, variance] = ['scale', 'B', 'mean', 'var'].map((what, k) =>
        channelValues(node, node.inputs[k + 1], what, units),
      );
      const [scale, shift] = batchNormAffine(
        { gamma, beta, mean: mean!, variance: variance!, epsilon: attrFloat(node, 'epsilon', 1e-5) },
        node.label,
      );
      addAffine(previous, scale, shift, 'BatchNormalization');
    } else if (node.op === 'Clip') {
      addActivation(previous, clipActivation(clipBound(node, 1, 'min', -Infinity), clipBound(node, 2, 'max', Infinity)), node.label);
    } else if (node.op === 'PRelu') {
      const slope = weight(node, node.inputs[1], 'slope');
      if (!perUnit(slope.dims, units)) invalid(`${node.label}: slope has dims [${slope.dims.join(', ')}] for ${units} features`);
      addActivation(previous, { name: 'prelu', slope: slope.data }, node.label);
    } else addActivation(previous, activationOf(node), node.label);
  }
  if (layers.length === 0) invalid('the graph has no Gemm or MatMul layer');
  // Nodes may share an initializer, and a scalar constant spreads over a layer's units: without a
  // bound a small file could make the model allocate gigabytes. An honest file holds 4 bytes per
  // float it declares; one float per byte leaves room for sharing and broadcasting.
  const floats = layers.reduce(
    (n, l) => n + ('codes' in l.kernel ? l.kernel.codes : l.kernel).length + 3 * l.units * (1 + l.then.length),
    0,
  );
  if (floats > bytes.length) invalid(`the layers would hold about ${floats} floats, more than a file of ${bytes.length} bytes can justify`);
  const outputs = messages(graph, 12, VALUE_INFO).map((v) => string(v, 1));
  if (outputs.length !== 1 || outputs[0] !== current) {
    invalid(`the graph's outputs [${outputs.join(', ')}] are not the end of the chain, ${current}`);
  }
  return layers;
}
