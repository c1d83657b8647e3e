/**
 * The benchmark suite behind `simdnet bench`: each workload runs on the plain-TS reference, on every
 * simdnet build this engine runs and on every installed peer (bench/peers.ts), in one tinybench run
 * per workload, and reports medians, spread, throughput, the speed-up over the reference and each
 * implementation's largest deviation from the reference. Timings are figures to read, never assertions.
 */
import { type ActivationName, KERAS_MLP, type Simdnet, VARIANTS, init, supports } from '../ts/index.js';
import { resolveSpec } from '../ts/activations.js';
import { seededRandom, uniform } from '../ts/random.js';
import * as ref from '../ts/reference.js';
import { type Peer, type PeerLayer, type PeerModel, loadPeers } from './peers.js';

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
  /** Called after each task has run. */
  onProgress?: (done: number, total: number, label: string) => void;
}

const data = (n: number, seed: number, limit = 1) => uniform(n, limit, seededRandom(seed));

function layersOf(shapes: [number, number, ActivationName][], seed: number): PeerLayer[] {
  return shapes.map(([inputs, outputs, activation], i) => ({
    inputs, outputs, activation,
    kernel: data(inputs * outputs, seed + 2 * i, Math.sqrt(6 / (inputs + outputs))),
    bias: data(outputs, seed + 2 * i + 1, 0.1),
  }));
}

const refLayers = (layers: PeerLayer[]) => layers.map((l) => ({ inputDim: l.inputs, units: l.outputs, activation: l.activation, kernel: l.kernel, bias: l.bias }));

function dense(builds: [string, Simdnet][], peers: Peer[], batch: number, inputs: number, outputs: number, iterations?: number): Workload {
  const layers = layersOf([[inputs, outputs, 'relu']], 1);
  const input = data(batch * inputs, 3);
  return {
    name: `dense ${batch}×${inputs}×${outputs} relu`,
    unit: 'GFLOP/s',
    work: 2 * batch * inputs * outputs,
    input,
    batch,
    iterations,
    expected: () => ref.dense(refLayers(layers)[0]!, input, batch),
    impls: [
      ...builds.flatMap(([label, nn]) => {
        const spec = refLayers(layers)[0]!;
        return [
          { name: `simdnet ${label}`, setup: async () => { const l = nn.dense(spec); return (x: Float32Array, b: number) => l.apply(x, b); } },
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
      ...peers.map((p) => ({ name: p.name, setup: () => p.build(layers) })),
    ],
  };
}

function model(builds: [string, Simdnet][], peers: Peer[], batch: number): Workload {
  const shapes = KERAS_MLP.reduce<[number, number, ActivationName][]>((acc, l) => {
    acc.push([l.inputDim ?? acc.at(-1)![1], l.units, resolveSpec(l.activation).name]);
    return acc;
  }, []);
  const layers = layersOf(shapes, 10);
  const input = data(batch * shapes[0]![0], 4);
  return {
    name: `Keras MLP ${shapes.map((s) => s[0]).join('→')}→${shapes.at(-1)![1]}, batch ${batch}`,
    unit: 'samples/s',
    work: batch,
    input,
    batch,
    expected: () => ref.predict(refLayers(layers), input, batch),
    impls: [
      ...builds.map(([label, nn]) => ({
        name: `simdnet ${label}`,
        setup: async () => {
          const m = nn.sequential(refLayers(layers));
          return (x: Float32Array, b: number) => m.predict(x, b);
        },
      })),
      ...peers.map((p) => ({ name: p.name, setup: () => p.build(layers) })),
    ],
  };
}

function activation(builds: [string, Simdnet][], peers: Peer[], name: ActivationName, rows: number, cols: number): Workload {
  const input = data(rows * cols, 5, 8);
  return {
    name: name === 'softmax' ? `softmax ${rows}×${cols}` : `${name} ${(rows * cols).toLocaleString('en-US')}`,
    unit: 'Gelem/s',
    work: rows * cols,
    input,
    batch: rows,
    expected: () => ref.activate(name, input, { axisSize: cols }),
    impls: [
      ...builds.flatMap(([label, nn]) => [
        { name: `simdnet ${label}`, setup: async () => (x: Float32Array) => nn.activate(name, x, { axisSize: cols }) },
        {
          name: `simdnet ${label} (with out)`,
          setup: async () => {
            // The caller's array reused: no result allocated (nor page-faulted) per call.
            const out = new Float32Array(rows * cols);
            return (x: Float32Array) => nn.activate(name, x, { axisSize: cols, out });
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
    model(builds, peers, 1),
    model(builds, peers, 1024),
    ...elementwise.map((name) => activation(builds, peers, name, 1024, 1024)),
    activation(builds, peers, 'softmax', 1024, 1000),
  ];
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
  const builds = await Promise.all(VARIANTS.filter(supports).map(async (v) => [v, await init({ variant: v })] as [string, Simdnet]));
  const peers = options.noPeers ? [] : await loadPeers();
  const selected = workloads(builds, peers).filter((w) => !options.filter || w.name.includes(options.filter));
  let total = selected.reduce((n, w) => n + w.impls.length + 1, 0);
  const rows: Row[] = [];
  let done = 0;
  for (const workload of selected) {
    const expected = workload.expected();
    const bench = new Bench({ time: options.time ?? 1000, warmupTime: 100, iterations: workload.iterations ?? 5, throws: true });
    const deviations = new Map<string, number>();
    bench.add('reference (TS)', () => workload.expected());
    deviations.set('reference (TS)', 0);
    for (const impl of workload.impls) {
      const fn = await impl.setup();
      if (!fn) {
        total--;
        continue;
      }
      deviations.set(impl.name, deviation(await fn(workload.input, workload.batch), expected));
      bench.add(impl.name, () => fn(workload.input, workload.batch));
    }
    bench.addEventListener('cycle', (event) => options.onProgress?.(++done, total, `${workload.name} · ${event.task?.name}`));
    await bench.run();
    const referenceMedian = bench.tasks[0]!.result.state === 'completed' ? bench.tasks[0]!.result.latency.p50 : NaN;
    for (const task of bench.tasks) {
      const r = task.result;
      if (r.state !== 'completed') throw new Error(`${workload.name} · ${task.name}: ${r.state}`);
      const scale = workload.unit === 'samples/s' ? 1 : 1e9;
      rows.push({
        workload: workload.name,
        impl: task.name,
        medianUs: r.latency.p50 * 1000,
        madUs: r.latency.mad * 1000,
        samples: r.latency.samplesCount,
        throughput: workload.work / (r.latency.p50 / 1000) / scale,
        unit: workload.unit,
        speedup: referenceMedian / r.latency.p50,
        deviation: deviations.get(task.name)!,
      });
    }
  }
  return { rows, variants: builds.map(([v]) => v), peers: peers.map((p) => p.name) };
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
