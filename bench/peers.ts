/**
 * The peers simdnet is measured against, each doing the same work end to end (Float32Array in →
 * Float32Array out, one thread): TensorFlow.js' wasm backend (XNNPACK), ONNX Runtime Web (wasm) and
 * ONNX Runtime Node (native). Each is optional: a peer whose package is not installed is skipped.
 * ONNX models are built in-process with onnx-proto.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ActivationName } from '../ts/index.js';

/** A dense layer as every peer receives it: kernel [inputs × outputs] row-major. */
export interface PeerLayer {
  inputs: number;
  outputs: number;
  activation: ActivationName;
  kernel: Float32Array;
  bias: Float32Array;
}

/** Runs a stack of dense layers on `batch` rows; resolves to the outputs. */
export type PeerModel = (x: Float32Array, batch: number) => Promise<Float32Array> | Float32Array;

export interface Peer {
  name: string;
  /** A stack of dense layers. */
  build(layers: PeerLayer[]): Promise<PeerModel>;
  /** One activation over `[rows × cols]` (softmax along cols), or null where the peer has no such op. */
  activation(name: ActivationName, cols: number): Promise<PeerModel | null>;
}

const require = createRequire(import.meta.url);

export async function optional<T>(specifier: string): Promise<T | null> {
  try {
    return (await import(specifier)) as T;
  } catch {
    return null;
  }
}

export type Tf = typeof import('@tensorflow/tfjs-core');

async function tfjsWasm(): Promise<Peer | null> {
  const tf = await optional<Tf>('@tensorflow/tfjs-core');
  const backend = await optional<typeof import('@tensorflow/tfjs-backend-wasm')>('@tensorflow/tfjs-backend-wasm');
  if (!tf || !backend) return null;
  backend.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'))}/`);
  backend.setThreadsCount(1);
  await tf.setBackend('wasm');
  await tf.ready();
  return {
    name: 'tfjs-backend-wasm 4.22',
    async build(layers) {
      const weights = layers.map((l) => ({
        kernel: tf.tensor2d(l.kernel, [l.inputs, l.outputs]),
        bias: tf.tensor1d(l.bias),
        activation: l.activation,
      }));
      return (x, batch) => {
        const out = tf.tidy(() => {
          let h = tf.tensor2d(x, [batch, layers[0]!.inputs]);
          for (const w of weights) {
            const fusable = w.activation === 'relu' || w.activation === 'sigmoid' || w.activation === 'linear';
            h = tf.fused.matMul({
              a: h,
              b: w.kernel,
              bias: w.bias,
              activation: fusable ? (w.activation as 'relu' | 'sigmoid' | 'linear') : 'linear',
            }) as typeof h;
            if (!fusable) h = (w.activation === 'tanh' ? tf.tanh(h) : w.activation === 'softmax' ? tf.softmax(h) : h) as typeof h;
          }
          return h;
        });
        const data = out.dataSync() as Float32Array;
        out.dispose();
        return data;
      };
    },
    async activation(name, cols) {
      const op = { relu: tf.relu, sigmoid: tf.sigmoid, tanh: tf.tanh, softmax: tf.softmax }[name as string];
      if (!op) return null;
      return (x, rows) => {
        const out = tf.tidy(() => op(tf.tensor2d(x, [rows, cols])));
        const data = out.dataSync() as Float32Array;
        out.dispose();
        return data;
      };
    },
  };
}

type OnnxProto = typeof import('onnx-proto');

const ONNX_OPS: Partial<Record<ActivationName, string>> = {
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  softmax: 'Softmax',
  linear: 'Identity',
};

function onnxOp(name: ActivationName): string {
  const op = ONNX_OPS[name];
  if (!op) throw new Error(`no ONNX op for ${name}`);
  return op;
}

/** An ONNX graph, opset 13: Gemm + activation per layer, or (no layers) one activation of `cols` wide rows. */
function onnxModel(proto: OnnxProto['onnx'], layers: PeerLayer[], activationOnly?: { name: ActivationName; cols: number }): Uint8Array {
  const { TensorProto } = proto;
  const nodes: object[] = [];
  const initializers: object[] = [];
  let input = 'X';
  layers.forEach((l, i) => {
    const gemm = `gemm${i}`;
    initializers.push(
      {
        name: `W${i}`,
        dims: [l.inputs, l.outputs],
        dataType: TensorProto.DataType.FLOAT,
        rawData: new Uint8Array(l.kernel.slice().buffer),
      },
      { name: `B${i}`, dims: [l.outputs], dataType: TensorProto.DataType.FLOAT, rawData: new Uint8Array(l.bias.slice().buffer) },
    );
    nodes.push({ opType: 'Gemm', input: [input, `W${i}`, `B${i}`], output: [gemm], name: gemm });
    nodes.push({ opType: onnxOp(l.activation), input: [gemm], output: [`h${i}`], name: `act${i}` });
    input = `h${i}`;
  });
  if (activationOnly) {
    nodes.push({ opType: onnxOp(activationOnly.name), input: ['X'], output: ['Y'], name: 'act' });
    input = 'Y';
  }
  const [inputs, outputs] = activationOnly ? [activationOnly.cols, activationOnly.cols] : [layers[0]!.inputs, layers.at(-1)!.outputs];
  const tensorType = (dim: number) => ({
    tensorType: { elemType: TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: dim }] } },
  });
  const model = proto.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'simdnet-bench',
    graph: {
      name: 'mlp',
      node: nodes,
      initializer: initializers,
      input: [{ name: 'X', type: tensorType(inputs) }],
      output: [{ name: input, type: tensorType(outputs) }],
    },
  });
  return proto.ModelProto.encode(model).finish();
}

type Ort = typeof import('onnxruntime-node');

async function onnxPeer(
  name: string,
  ort: Ort | null,
  proto: OnnxProto | null,
  executionProvider: string,
  threads = 1,
): Promise<Peer | null> {
  if (!ort || !proto) return null;
  const session = async (model: Uint8Array, width: number): Promise<PeerModel> => {
    const s = await ort.InferenceSession.create(model, {
      executionProviders: [executionProvider],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    const outputName = s.outputNames[0]!;
    return async (x, batch) => {
      const result = await s.run({ X: new ort.Tensor('float32', x, [batch, width]) });
      return result[outputName]!.data as Float32Array;
    };
  };
  return {
    name,
    build: (layers) => session(onnxModel(proto.onnx, layers), layers[0]!.inputs),
    activation: async (op, cols) => (ONNX_OPS[op] ? session(onnxModel(proto.onnx, [], { name: op, cols }), cols) : null),
  };
}

/**
 * Every peer whose packages are installed, set up for one thread; with `threads` above 1, also
 * onnxruntime-node on that many (its intra-op pool; onnxruntime-web's thread count is global to the
 * process and fixed at its first session, so its threaded rows would need a process of their own).
 */
export async function loadPeers(threads = 1): Promise<Peer[]> {
  // onnx-proto is CommonJS: under ESM its exports arrive as the default export.
  const proto = (await optional<{ default: OnnxProto }>('onnx-proto'))?.default ?? null;
  const ortWeb = await optional<Ort>('onnxruntime-web');
  if (ortWeb) {
    ortWeb.env.wasm.numThreads = 1;
    ortWeb.env.wasm.wasmPaths = `${join(dirname(require.resolve('onnxruntime-web')), '/')}`;
  }
  const ortNode = await optional<Ort>('onnxruntime-node');
  const peers = await Promise.all([
    tfjsWasm(),
    onnxPeer('onnxruntime-web 1.30 (wasm)', ortWeb, proto, 'wasm'),
    onnxPeer('onnxruntime-node 1.30 (native)', ortNode, proto, 'cpu'),
    threads > 1 ? onnxPeer(`onnxruntime-node 1.30 (native) ×${threads}`, ortNode, proto, 'cpu', threads) : null,
  ]);
  return peers.filter((p): p is Peer => p !== null);
}
