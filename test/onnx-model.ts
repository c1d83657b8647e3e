/** ONNX models for tests: valid ones built with onnx-proto, and the wire-format pieces of malformed ones. */
import { createRequire } from 'node:module';
import { expect } from 'vitest';
import { type Simdnet, SimdnetError } from '../ts/index.js';

const require = createRequire(import.meta.url);
export const { onnx } = require('onnx-proto') as typeof import('onnx-proto');

export interface NodeSpec {
  op: string;
  inputs: string[];
  attributes?: Record<string, number | string>;
}

/** The attributes written as INT (the others that are numbers are FLOAT). */
const INT_ATTRIBUTES = ['transA', 'transB', 'axis', 'training_mode', 'allowzero'];

/**
 * An ONNX model built with onnx-proto: initializers as raw_data, or float_data when `floatData`
 * (INT64 ones, for a Reshape's shape, always as raw_data).
 */
export function model(
  nodes: NodeSpec[],
  initializers: Record<string, [number[], Float32Array | BigInt64Array]>,
  opset = 13,
  floatData = false,
): Uint8Array {
  const { TensorProto, AttributeProto } = onnx;
  let previous = 'X';
  const graphNodes = nodes.map((n, i) => {
    const output = i === nodes.length - 1 ? 'Y' : `h${i}`;
    const node = {
      opType: n.op,
      name: `${n.op.toLowerCase()}${i}`,
      input: [previous, ...n.inputs],
      output: [output],
      attribute: Object.entries(n.attributes ?? {}).map(([name, v]) =>
        typeof v === 'string'
          ? { name, type: AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) }
          : INT_ATTRIBUTES.includes(name)
            ? { name, type: AttributeProto.AttributeType.INT, i: v }
            : { name, type: AttributeProto.AttributeType.FLOAT, f: v },
      ),
    };
    previous = output;
    return node;
  });
  const initializer = Object.entries(initializers).map(([name, [dims, data]]) =>
    data instanceof BigInt64Array
      ? { name, dims, dataType: TensorProto.DataType.INT64, rawData: new Uint8Array(data.slice().buffer) }
      : {
          name,
          dims,
          dataType: TensorProto.DataType.FLOAT,
          ...(floatData ? { floatData: Array.from(data) } : { rawData: new Uint8Array(data.slice().buffer) }),
        },
  );
  const valueInfo = (name: string) => ({
    name,
    type: { tensorType: { elemType: TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'n' }] } } },
  });
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: opset }],
      graph: { name: 'mlp', node: graphNodes, initializer, input: [valueInfo('X')], output: [valueInfo('Y')] },
    }),
  ).finish();
}

/** onnx-proto's decoded messages: the decoder fills every repeated field, which its types say may be null. */
type ListKeys<T> = { [K in keyof T]-?: NonNullable<T[K]> extends unknown[] ? K : never }[keyof T];
type Decoded<T> = Omit<T, ListKeys<T>> & {
  [K in ListKeys<T>]-?: NonNullable<T[K]> extends (infer E)[] ? (E extends object ? Decoded<E> : E)[] : never;
};
export type Graph = Decoded<import('onnx-proto').onnx.IGraphProto>;

/** `bytes` with its graph decoded, changed by `change`, and encoded again. */
export function edit(bytes: Uint8Array, change: (graph: Graph) => void): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  change(m.graph as Graph);
  return onnx.ModelProto.encode(m).finish();
}

/** Protobuf wire format, for the bytes onnx-proto will not write. */
export function varint(value: number | bigint): number[] {
  let rest = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    out.push(rest ? low | 0x80 : low);
  } while (rest);
  return out;
}

export const concat = (...parts: (Uint8Array | number[])[]) => Uint8Array.from(parts.flatMap((p) => Array.from(p)));
export const key = (field: number, wire: number) => varint(field * 8 + wire);
export const lengthDelimited = (field: number, payload: Uint8Array | number[] | string) => {
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  return concat(key(field, 2), varint(bytes.length), bytes);
};

/** `bytes` with its graph's nodes replaced by `nodes` (each NodeProto's raw bytes). */
export function withNodes(bytes: Uint8Array, ...nodes: Uint8Array[]): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  const graph = onnx.GraphProto.encode({ ...m.graph!, node: [] }).finish();
  m.graph = null;
  return concat(onnx.ModelProto.encode(m).finish(), lengthDelimited(7, concat(graph, ...nodes.map((n) => lengthDelimited(1, n)))));
}

/**
 * Expects loading `bytes` to fail with a SimdnetError of `code` (and a message matching `message`),
 * leaving the memory in use and the predictions of the `earlier` model as they were.
 */
export async function expectRejected(
  nn: Simdnet,
  earlier: { predict(x: Float32Array): Float32Array; inputDim: number },
  bytes: Uint8Array,
  message: RegExp,
  code = 'INVALID_MODEL',
): Promise<void> {
  const x = Float32Array.from({ length: 2 * earlier.inputDim }, (_, i) => i / 3 - 1);
  const predictions = earlier.predict(x);
  const allocated = nn.allocatedBytes;
  const error = await nn.loadModel(bytes).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SimdnetError);
  expect(error).toMatchObject({ code, message: expect.stringMatching(message) });
  expect(nn.allocatedBytes).toBe(allocated);
  expect(earlier.predict(x)).toEqual(predictions);
}
