/**
 * The peers simdnet is measured against, each doing the same work end to end (Float32Array in →
 * Float32Array out, one thread): TensorFlow.js' wasm backend (XNNPACK), ONNX Runtime Web (wasm) and
 * ONNX Runtime Node (native). Each is optional: a peer whose package is not installed is skipped.
 * ONNX models are built in-process with onnx-proto (bench/onnx-models.ts).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ActivationName } from '../ts/index.js';
import { quantizeWeights } from '../ts/int8.js';
import { type PeerLayer, hasOnnxOp, onnxModel, quantizedOnnxModel } from './onnx-models.js';

export type { PeerLayer };

/** Runs a stack of dense layers on `batch` rows; resolves to the outputs. */
export type PeerModel = (x: Float32Array, batch: number) => Promise<Float32Array> | Float32Array;

export interface Peer {
  name: string;
  /** A stack of dense layers. */
  build(layers: PeerLayer[]): Promise<PeerModel>;
  /**
   * The stack with int8 weights, each kernel quantized as simdnet quantizes it (symmetric, one scale per
   * output), its inputs quantized by the peer at each call; null where the peer has no int8 path.
   */
  buildInt8(layers: PeerLayer[]): Promise<PeerModel | null>;
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
    buildInt8: async () => null,
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
    buildInt8: (layers) =>
      session(
        quantizedOnnxModel(
          proto.onnx,
          layers.map(({ kernel, ...l }) => ({ ...l, ...quantizeWeights(kernel, l.inputs, l.outputs, false) })),
        ),
        layers[0]!.inputs,
      ),
    activation: async (op, cols) => (hasOnnxOp(op) ? session(onnxModel(proto.onnx, [], { name: op, cols }), cols) : null),
  };
}

export const ORT_WEB = 'onnxruntime-web 1.30 (wasm)';

/**
 * Every peer whose packages are installed, set up for one thread; with `threads` above 1, also
 * onnxruntime-node on that many (its intra-op pool). onnxruntime-web's thread count is global to a
 * process and fixed at its first session: its threaded rows come from a process of their own, which
 * loads it alone with `ortWebThreads` (runBench).
 */
export async function loadPeers(threads = 1, ortWebThreads?: number): Promise<Peer[]> {
  // onnx-proto is CommonJS: under ESM its exports arrive as the default export.
  const proto = (await optional<{ default: OnnxProto }>('onnx-proto'))?.default ?? null;
  const ortWeb = await optional<Ort>('onnxruntime-web');
  if (ortWeb) {
    ortWeb.env.wasm.numThreads = ortWebThreads ?? 1;
    ortWeb.env.wasm.wasmPaths = `${join(dirname(require.resolve('onnxruntime-web')), '/')}`;
  }
  if (ortWebThreads !== undefined) {
    const peer = await onnxPeer(`${ORT_WEB} ×${ortWebThreads}`, ortWeb, proto, 'wasm', ortWebThreads);
    return peer ? [peer] : [];
  }
  const ortNode = await optional<Ort>('onnxruntime-node');
  const peers = await Promise.all([
    tfjsWasm(),
    onnxPeer(ORT_WEB, ortWeb, proto, 'wasm'),
    onnxPeer('onnxruntime-node 1.30 (native)', ortNode, proto, 'cpu'),
    threads > 1 ? onnxPeer(`onnxruntime-node 1.30 (native) ×${threads}`, ortNode, proto, 'cpu', threads) : null,
  ]);
  return peers.filter((p): p is Peer => p !== null);
}
