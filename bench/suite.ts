/**
 * The benchmark suite behind `simdnet bench`: each workload runs on the plain-TS reference, on every
 * simdnet build this engine runs and on every installed peer (bench/peers.ts), in one tinybench run
 * per workload, and reports medians, spread, throughput, the speed-up over the reference and each
 * implementation's largest deviation from the reference. Timings are figures to read, never assertions.
 */
import { type ActivationName, KERAS_MLP, type Simdnet, VARIANTS, init, supports } from '../ts/index.js';
import { ROWWISE_NAMES, resolveSpec } from '../ts/activations.js';
import { seededRandom, uniform } from '../ts/random.js';
import * as ref from '../ts/reference.js';
import { ORT_WEB, type Peer, type PeerLayer, type PeerModel, type Tf, loadPeers, optional } from './peers.js';

type Unit = 'GFLOP/s' | 'Gelem/s' | 'samples/s';

interface Impl {
  name: string;
  /** Prepares the implementation (weights in place) and returns the function to time, or null
   * where it cannot run the workload (a peer without the op). */
  setup: () => Promise<PeerModel | null>;
}

interface Workload {
  name: string;
  unit: Unit;
  /** Flops, elements or samples per call. */
  work: number;
  input: Float32Array;
  batch: number;
  expected: () => Float32Array;
  impls: Impl[];
  /** Slow workloads (the reference at 1024³) run fewer iterations. */
  iterations?: number;
  /**
   * Calls per sample of the reference and simdnet, for calls of a few µs or less: tinybench times
   * each sample with two performance.now() calls and a closure call, ~0.1 µs that would otherwise
   * count as the call's. The peers take one call per sample (tfjs-backend-wasm aborts, out of
   * memory, when called a thousand times per sample); their calls take µs, where 0.1 µs is noise.
   */
  repeat?: number;
}

export interface Row {
  workload: string;
  impl: string;
  medianUs: number;
  /** Median absolute deviation of the per-call time, in µs. */
  madUs: number;
  samples: number;
  throughput: number;
  unit: Unit;
  /** Reference median / this median. */
  speedup: number;
  /** max |y − reference| / max(1, max |reference|). */
  deviation: number;
}

export interface BenchOptions {
  /** Milliseconds per task (default 1000). */
  time?: number;
  /** Only workloads whose name contains this. */
  filter?: string;
  /** Leave the peers out even when installed. */
  noPeers?: boolean;
  /** Above 1: each SIMD build also runs with this many threads (`init({ threads })`), as its own rows. */
  threads?: number;
  /** Called after each task has run. */
  onProgress?: (done: number, total: number, label: string) => void;
  /** @internal The child process that runs onnxruntime-web alone on this many threads (and no reference task). */
  ortWebThreads?: number;
}

const data = (n: number, seed: number, limit = 1) => uniform(n, limit, seededRandom(seed));

function layersOf(shapes: [number, number, ActivationName][], seed: number): PeerLayer[] {
  return shapes.map(([inputs, outputs, activation], i) => ({
    inputs,
    outputs,
    activation,
    kernel: data(inputs * outputs, seed + 2 * i, Math.sqrt(6 / (inputs + outputs))),
    bias: data(outputs, seed + 2 * i + 1, 0.1),
  }));
}

const refLayers = (layers: PeerLayer[]) =>
  layers.map((l) => ({ inputDim: l.inputs, units: l.outputs, activation: l.activation, kernel: l.kernel, bias: l.bias }));

/** Int8 rows (docs/int8.md): simdnet's layers built with `quantize: 'int8'`, timed with the quantization of
 * their inputs, and the ONNX Runtime peers running ONNX Runtime's dynamic quantization of the same int8
 * weights (`Peer.buildInt8`); their deviation is int8's from the float64 reference. */
const int8Rows = { quantize: 'int8' as const, label: ' int8' };

function dense(
  builds: [string, Simdnet][],
  peers: Peer[],
  batch: number,
  inputs: number,
  outputs: number,
  iterations?: number,
  { quantize, label } = { quantize: undefined as 'int8' | undefined, label: '' },
): Workload {
  const layers = layersOf([[inputs, outputs, 'relu']], 1);
  const input = data(batch * inputs, 3);
  return {
    name: `dense ${batch}×${inputs}×${outputs} relu${label}`,
    unit: 'GFLOP/s',
    work: 2 * batch * inputs * outputs,
    input,
    batch,
    iterations,
    expected: () => ref.dense(refLayers(layers)[0]!, input, batch),
    impls: [
      ...builds.flatMap(([label, nn]) => {
        const spec = { ...refLayers(layers)[0]!, quantize };
        return [
          {
            name: `simdnet ${label}`,
            setup: async () => {
              const l = nn.dense(spec);
              return (x: Float32Array, b: number) => l.apply(x, b);
            },
          },
          {
            name: `simdnet ${label} (in wasm memory)`,
            setup: async () => {
              const l = nn.dense(spec);
              const t = nn.tensor(input, [batch, inputs]);
              const out = l.apply(t);
              // Times the layer on data already in wasm memory; the output tensor is reused.
              return () => l.apply(t, { into: out }).data;
            },
          },
        ];
      }),
      ...peers.map((p) => ({ name: p.name, setup: () => (quantize ? p.buildInt8(layers) : p.build(layers)) })),
    ],
  };
}

/** The Keras MLP's layers as [inputs, outputs, activation]. */
function kerasShapes(): [number, number, ActivationName][] {
  return KERAS_MLP.reduce<[number, number, ActivationName][]>((acc, l) => {
    acc.push([l.inputDim ?? acc.at(-1)![1], l.units, resolveSpec(l.activation).name]);
    return acc;
  }, []);
}

function model(
  builds: [string, Simdnet][],
  peers: Peer[],
  batch: number,
  { quantize, label } = { quantize: undefined as 'int8' | undefined, label: '' },
): Workload {
  const shapes = kerasShapes();
  const layers = layersOf(shapes, 10);
  const input = data(batch * shapes[0]![0], 4);
  return {
    name: `Keras MLP ${shapes.map((s) => s[0]).join('→')}→${shapes.at(-1)![1]}, batch ${batch}${label}`,
    unit: 'samples/s',
    work: batch,
    input,
    batch,
    expected: () => ref.predict(refLayers(layers), input, batch),
    impls: [
      ...builds.map(([label, nn]) => ({
        name: `simdnet ${label}`,
        setup: async () => {
          const m = nn.sequential(refLayers(layers).map((l) => ({ ...l, quantize })));
          return (x: Float32Array, b: number) => m.predict(x, b);
        },
      })),
      ...peers.map((p) => ({ name: p.name, setup: () => (quantize ? p.buildInt8(layers) : p.build(layers)) })),
    ],
  };
}

function activation(builds: [string, Simdnet][], peers: Peer[], name: ActivationName, rows: number, cols: number): Workload {
  const input = data(rows * cols, 5, 8);
  // Only the row-wise functions take an axis: a user calls relu with no option but `out`.
  const axis = (ROWWISE_NAMES as readonly string[]).includes(name) ? { axisSize: cols } : {};
  return {
    name: name === 'softmax' ? `softmax ${rows}×${cols}` : `${name} ${(rows * cols).toLocaleString('en-US')}`,
    unit: 'Gelem/s',
    work: rows * cols,
    input,
    batch: rows,
    expected: () => ref.activate(name, input, { axisSize: cols }),
    impls: [
      ...builds.flatMap(([label, nn]) => [
        { name: `simdnet ${label}`, setup: async () => (x: Float32Array) => nn.activate(name, x, axis) },
        {
          name: `simdnet ${label} (with out)`,
          setup: async () => {
            // The caller's array and options reused: nothing allocated (nor page-faulted) per call.
            const options = { ...axis, out: new Float32Array(rows * cols) };
            return (x: Float32Array) => nn.activate(name, x, options);
          },
        },
        {
          name: `simdnet ${label} (in wasm memory)`,
          setup: async () => {
            const t = nn.tensor(input, [rows, cols]);
            const out = nn.activate(name, t);
            // Re-running in place would feed each call the previous output; write into `out` instead.
            return () => nn.activate(name, t, { into: out }).data;
          },
        },
      ]),
      ...peers.map((p) => ({ name: p.name, setup: () => p.activation(name, cols) })),
    ],
  };
}

export function workloads(builds: [string, Simdnet][], peers: Peer[]): Workload[] {
  const elementwise: ActivationName[] = ['relu', 'sigmoid', 'tanh', 'gelu', 'silu'];
  return [
    dense(builds, peers, 256, 512, 512),
    dense(builds, peers, 1024, 1024, 1024, 2),
    dense(builds, peers, 37, 300, 200),
    dense(builds, peers, 1, 784, 256),
    { ...model(builds, peers, 1), repeat: 100 },
    model(builds, peers, 1024),
    ...elementwise.map((name) => activation(builds, peers, name, 1024, 1024)),
    // The per-call cost, where the JS around the kernel is most of the time.
    { ...activation(builds, peers, 'relu', 1, 16), repeat: 1000 },
    activation(builds, peers, 'softmax', 1024, 1000),
    ...training(builds, peers),
    dense(builds, peers, 256, 512, 512, undefined, int8Rows),
    dense(builds, peers, 1024, 1024, 1024, 2, int8Rows),
    dense(builds, peers, 1, 784, 256, undefined, int8Rows),
    { ...model(builds, peers, 1, int8Rows), repeat: 100 },
    model(builds, peers, 1024, int8Rows),
  ];
}

/**
 * Training workloads. Each call continues training from where the previous one left off; the first
 * call, from the initial weights, is the one compared with the reference (double-precision
 * backpropagation and Keras' Adam, ts/reference-training.ts). TF.js Layers trains on its wasm
 * backend (when the peers are loaded) and its cpu backend, switching backends per call.
 */
function training(builds: [string, Simdnet][], peers: Peer[]): Workload[] {
  const keras = kerasShapes();
  // The size of scikit-learn's digits, as the Keras example: 1,797 samples, deterministic labels.
  const samples = 1797;
  const x = data(samples * keras[0]![0], 6);
  const y = Float32Array.from({ length: samples }, (_, i) => Number(x[64 * i]! + x[64 * i + 1]! * x[64 * i + 2]! > 0));
  const fit: Workload = {
    name: `fit one epoch: Keras MLP ${keras.map((s) => s[0]).join('→')}→1, ${samples} samples, batch 32, adam`,
    unit: 'samples/s',
    work: samples,
    input: x,
    batch: samples,
    iterations: 2,
    expected: () => referenceEpoch(layersOf(keras, 10), x, y, samples, 32, { name: 'binary_crossentropy' }),
    impls: trainers(builds, peers, layersOf(keras, 10), y, 'binary_crossentropy', 32),
  };
  const [b, i, o] = [256, 512, 512];
  const [input, target] = [data(b * i, 7), data(b * o, 8)];
  const step: Workload = {
    // The layer is the model's first: the step computes no input gradient, so 4·B·I·O flops (forward, dW), not 6.
    name: `train step dense ${b}×${i}×${o} relu (forward + dW + adam; 4·B·I·O flops)`,
    unit: 'GFLOP/s',
    work: 4 * b * i * o,
    input,
    batch: b,
    iterations: 2,
    expected: () => referenceEpoch(layersOf([[i, o, 'relu']], 11), input, target, b, b, { name: 'mean_squared_error' }),
    impls: trainers(builds, peers, layersOf([[i, o, 'relu']], 11), target, 'mean_squared_error', b),
  };
  return [fit, step];
}

/** The weights after one epoch in order (no shuffling) of Adam in double, flattened as `getWeights` lists them. */
function referenceEpoch(layers: PeerLayer[], x: Float32Array, y: Float32Array, n: number, batchSize: number, loss: ref.ReferenceLoss) {
  const [inputs, outputs] = [layers[0]!.inputs, layers.at(-1)!.outputs];
  const variables = layers.flatMap((l) => [Float64Array.from(l.kernel), Float64Array.from(l.bias)]);
  const opt = ref.referenceOptimizer('adam', variables);
  for (let start = 0; start < n; start += batchSize) {
    const rows = Math.min(batchSize, n - start);
    const current = refLayers(layers).map((l, j) => ({ ...l, kernel: variables[2 * j]!, bias: variables[2 * j + 1]! }));
    const xb = x.subarray(start * inputs, (start + rows) * inputs);
    const { gradients } = ref.gradients(current, xb, y.subarray(start * outputs, (start + rows) * outputs), rows, loss);
    ref.optimizerStep(opt, variables, gradients);
  }
  return Float32Array.from(variables.flatMap((v) => Array.from(v)));
}

/** simdnet's builds and TF.js Layers fitting one epoch of `y` (Adam, Keras' defaults) from the same weights; each returns the weights. */
function trainers(
  builds: [string, Simdnet][],
  peers: Peer[],
  layers: PeerLayer[],
  y: Float32Array,
  loss: string,
  batchSize: number,
): Impl[] {
  // Each call reads the weights back (the first call's are compared with the reference): one copy.
  const flat = (weights: ArrayLike<number>[]) => {
    const out = new Float32Array(weights.reduce((n, w) => n + w.length, 0));
    weights.reduce((at, w) => (out.set(w, at), at + w.length), 0);
    return out;
  };
  const simdnet = builds.map(([label, nn]) => ({
    name: `simdnet ${label}`,
    setup: async () => {
      const m = nn.sequential(refLayers(layers));
      m.compile({ optimizer: 'adam', loss });
      return async (x: Float32Array) => {
        await m.fit(x, y, { epochs: 1, batchSize, shuffle: false, verbose: 0 });
        return flat(m.getWeights());
      };
    },
  }));
  // TF.js' wasm backend is registered and set up (one thread) by the peers; its cpu backend is imported here.
  const tfjs =
    peers.length === 0
      ? []
      : ['wasm', 'cpu'].map((backend) => ({
          name: `tfjs-layers 4.22 fit (tfjs-backend-${backend})`,
          setup: async () => {
            const tf = await optional<Tf>('@tensorflow/tfjs-core');
            const tfl = await optional<typeof import('@tensorflow/tfjs-layers')>('@tensorflow/tfjs-layers');
            if (!tf || !tfl || !(await optional('@tensorflow/tfjs-backend-cpu')) || !tf.findBackendFactory(backend)) return null;
            await tf.setBackend(backend);
            const model = tfl.sequential({
              layers: layers.map((l, j) => {
                const activation = l.activation as 'relu' | 'sigmoid';
                return tfl.layers.dense({ units: l.outputs, activation, ...(j === 0 ? { inputShape: [l.inputs] } : {}) });
              }),
            });
            model.setWeights(layers.flatMap((l) => [tf.tensor2d(l.kernel, [l.inputs, l.outputs]), tf.tensor1d(l.bias)]));
            model.compile({
              optimizer: tf.train.adam(0.001),
              loss: loss === 'binary_crossentropy' ? 'binaryCrossentropy' : 'meanSquaredError',
            });
            const [inputs, outputs] = [layers[0]!.inputs, layers.at(-1)!.outputs];
            return async (x: Float32Array, n: number) => {
              await tf.setBackend(backend);
              const [xt, yt] = [tf.tensor2d(x, [n, inputs]), tf.tensor2d(y, [n, outputs])];
              await model.fit(xt, yt, { epochs: 1, batchSize, shuffle: false, verbose: 0 });
              tf.dispose([xt, yt]);
              return flat(model.getWeights().map((w) => w.dataSync()));
            };
          },
        }));
  return [...simdnet, ...tfjs];
}

async function loadTinybench(): Promise<typeof import('tinybench')> {
  try {
    return await import('tinybench');
  } catch {
    throw new Error('simdnet bench needs tinybench: npm install --save-dev tinybench');
  }
}

function deviation(actual: Float32Array, expected: Float32Array): number {
  if (actual.length !== expected.length) return Infinity;
  let scale = 1;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  return worst / scale;
}

export async function runBench(options: BenchOptions = {}): Promise<{ rows: Row[]; variants: string[]; peers: string[] }> {
  const { Bench } = await loadTinybench();
  const threads = options.threads ?? 1;
  const variants = options.ortWebThreads === undefined ? VARIANTS.filter(supports) : [];
  const single = variants.map(async (v) => [v, await init({ variant: v })] as [string, Simdnet]);
  const pooled =
    threads > 1 ? variants.filter((v) => v !== 'scalar').map(async (v) => [`${v} ×${threads}`, await init({ variant: v, threads })]) : [];
  const builds = await Promise.all([...single, ...pooled] as Promise<[string, Simdnet]>[]);
  const fallback = builds.find(([, nn]) => nn.threadsReason !== undefined);
  if (fallback) throw new Error(`${fallback[0]}: ${fallback[1].threadsReason}`);
  const peers = options.noPeers ? [] : await loadPeers(threads, options.ortWebThreads);
  const selected = workloads(builds, peers).filter((w) => !options.filter || w.name.includes(options.filter));
  let total = selected.reduce((n, w) => n + w.impls.length + 1, 0);
  const rows: Row[] = [];
  let done = 0;
  for (const workload of selected) {
    const expected = workload.expected();
    const bench = new Bench({ time: options.time ?? 1000, warmupTime: 100, iterations: workload.iterations ?? 5, throws: true });
    const deviations = new Map<string, number>();
    const repeats = new Map<string, number>();
    /** `call` as a task of `repeat` calls per sample. */
    const add = (name: string, call: () => unknown, repeat: number, async = false) => {
      repeats.set(name, repeat);
      const sample =
        repeat === 1
          ? call
          : () => {
              for (let i = 1; i < repeat; i++) call();
              return call();
            };
      bench.add(name, sample, { async });
    };
    if (options.ortWebThreads === undefined) add('reference (TS)', () => workload.expected(), workload.repeat ?? 1);
    deviations.set('reference (TS)', 0);
    for (const impl of workload.impls) {
      const fn = await impl.setup();
      if (!fn) {
        total--;
        continue;
      }
      const first = fn(workload.input, workload.batch);
      deviations.set(impl.name, deviation(await first, expected));
      // Told whether it is async, tinybench does not call the function once, unawaited, to find out
      // (a second fit() during the first one fails in TF.js Layers).
      // One call per sample for a call that returns a promise: the loop would await only its last.
      const repeat = impl.name.startsWith('simdnet') && !(first instanceof Promise) ? (workload.repeat ?? 1) : 1;
      add(impl.name, () => fn(workload.input, workload.batch), repeat, first instanceof Promise);
    }
    bench.addEventListener('cycle', (event) => options.onProgress?.(++done, total, `${workload.name} · ${event.task?.name}`));
    await bench.run();
    const reference = bench.tasks.find((task) => task.name === 'reference (TS)')?.result;
    const referenceMedian = reference?.state === 'completed' ? reference.latency.p50 / (workload.repeat ?? 1) : NaN;
    for (const task of bench.tasks) {
      const r = task.result;
      if (r.state !== 'completed') throw new Error(`${workload.name} · ${task.name}: ${r.state}`);
      const scale = workload.unit === 'samples/s' ? 1 : 1e9;
      // Milliseconds per call.
      const repeat = repeats.get(task.name)!;
      const [median, mad] = [r.latency.p50 / repeat, r.latency.mad / repeat];
      rows.push({
        workload: workload.name,
        impl: task.name,
        medianUs: median * 1000,
        madUs: mad * 1000,
        samples: r.latency.samplesCount,
        throughput: workload.work / (median / 1000) / scale,
        unit: workload.unit,
        speedup: referenceMedian / median,
        deviation: deviations.get(task.name)!,
      });
    }
  }
  const ortWebRows = threads > 1 && peers.some((p) => p.name === ORT_WEB) ? await ortWebThreaded(options, threads) : [];
  for (const row of ortWebRows) {
    // After the workload's one-thread onnxruntime-web row, against this run's reference.
    const at = rows.findIndex((r) => r.workload === row.workload && r.impl === ORT_WEB);
    const reference = rows.find((r) => r.workload === row.workload && r.impl === 'reference (TS)')!;
    rows.splice(at + 1, 0, { ...row, speedup: reference.medianUs / row.medianUs });
  }
  const peerNames = [...peers.map((p) => p.name), ...(ortWebRows.length ? [`${ORT_WEB} ×${threads}`] : [])];
  return { rows, variants: builds.map(([v]) => v), peers: peerNames };
}

/**
 * onnxruntime-web's rows on `threads` threads, from a process of its own (its thread count is global
 * to a process and fixed at its first session), run after this one's so that the two never overlap.
 */
async function ortWebThreaded(options: BenchOptions, threads: number): Promise<Row[]> {
  const [{ execFile }, { fileURLToPath }] = await Promise.all([import('node:child_process'), import('node:url')]);
  const { time, filter } = options;
  options.onProgress?.(0, 0, `${ORT_WEB} ×${threads}: in a process of its own`);
  const child = fileURLToPath(new URL('./ort-web-threads.js', import.meta.url));
  const args = [child, JSON.stringify({ time, filter, threads, ortWebThreads: threads })];
  const stdout = await new Promise<string>((resolve) =>
    execFile(process.execPath, args, { maxBuffer: 1 << 26 }, (error, out) => {
      // Without those rows the table still stands: say why they are missing, and go on.
      if (error) process.stderr.write(`\n${ORT_WEB} ×${threads} left out: ${error.message.split('\n')[0]}\n`);
      resolve(error ? '[]' : out);
    }),
  );
  return JSON.parse(stdout) as Row[];
}

const fmt = (n: number, digits = 3) => (n >= 100 ? n.toFixed(0) : n.toPrecision(digits));

/** The rows as a Markdown table (what the README shows). */
export function formatTable(rows: Row[]): string {
  const header = ['workload', 'implementation', 'median µs/call', '± MAD µs', 'throughput', 'vs reference', 'max dev.'];
  const lines = rows.map((r) => [
    r.workload,
    r.impl,
    fmt(r.medianUs),
    fmt(r.madUs, 2),
    r.unit === 'samples/s' ? `${(r.throughput / 1e6).toPrecision(3)} M samples/s` : `${fmt(r.throughput)} ${r.unit}`,
    r.impl.startsWith('reference') ? '1×' : `${fmt(r.speedup)}×`,
    r.deviation === 0 ? '0' : r.deviation.toExponential(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [row(header), row(widths.map((w) => '-'.repeat(w))), ...lines.map(row)].join('\n');
}
