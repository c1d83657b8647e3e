/**
 * The benchmark suite behind `simdnet bench`: each workload runs on the plain-TS reference and on every
 * simdnet build this engine runs, in one tinybench run, and reports medians, spread and the speed-up
 * over the reference. Timings are figures to read, never assertions.
 */
import { type ActivationName, KERAS_MLP, type Simdnet, VARIANTS, init, supports } from '../ts/index.js';
import { seededRandom, uniform } from '../ts/random.js';
import * as ref from '../ts/reference.js';

type Unit = 'GFLOP/s' | 'Gelem/s' | 'samples/s';

interface Impl {
  name: string;
  fn: () => void;
}

interface Workload {
  name: string;
  unit: Unit;
  /** Flops, elements or samples per call, in the workload's unit (before the G). */
  work: number;
  impls: Impl[];
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
}

export interface BenchOptions {
  /** Milliseconds per task (default 1000). */
  time?: number;
  /** Only workloads whose name contains this. */
  filter?: string;
  /** Called after each task has run. */
  onProgress?: (done: number, total: number, label: string) => void;
}

const data = (n: number, seed: number, limit = 1) => uniform(n, limit, seededRandom(seed));

function denseWorkload(builds: [string, Simdnet][], batch: number, inputs: number, outputs: number): Workload {
  const kernel = data(inputs * outputs, 1, Math.sqrt(6 / (inputs + outputs)));
  const bias = data(outputs, 2, 0.1);
  const x = data(batch * inputs, 3);
  const spec = { inputDim: inputs, units: outputs, activation: 'relu' as const, kernel, bias };
  return {
    name: `dense ${batch}×${inputs}×${outputs} relu`,
    unit: 'GFLOP/s',
    work: 2 * batch * inputs * outputs,
    impls: [
      { name: 'reference (TS)', fn: () => ref.dense(spec, x, batch) },
      ...builds.flatMap(([label, nn]) => {
        const layer = nn.dense(spec);
        const t = nn.tensor(x, [batch, inputs]);
        return [
          { name: `simdnet ${label}`, fn: () => layer.apply(x, batch) },
          { name: `simdnet ${label} (in wasm memory)`, fn: () => layer.apply(t).dispose() },
        ];
      }),
    ],
  };
}

function modelWorkload(builds: [string, Simdnet][], batch: number): Workload {
  const x = data(batch * 64, 4);
  const models = builds.map(([label, nn]) => [label, nn.sequential(KERAS_MLP)] as const);
  const weights = models[0]![1].getWeights();
  const layers = models[0]![1].layers.map((l, i) => ({
    inputDim: l.inputDim, units: l.units, activation: l.activation.name, kernel: weights[2 * i]!, bias: weights[2 * i + 1]!,
  }));
  return {
    name: `Keras MLP 64→128→64→1, batch ${batch}`,
    unit: 'samples/s',
    work: batch,
    impls: [
      { name: 'reference (TS)', fn: () => ref.predict(layers, x, batch) },
      ...models.map(([label, model]) => ({ name: `simdnet ${label}`, fn: () => model.predict(x, batch) })),
    ],
  };
}

function activationWorkload(builds: [string, Simdnet][], name: ActivationName, rows: number, cols: number): Workload {
  const x = data(rows * cols, 5, 8);
  const axisSize = cols;
  return {
    name: name === 'softmax' ? `softmax ${rows}×${cols}` : `${name} ${(rows * cols).toLocaleString('en-US')}`,
    unit: 'Gelem/s',
    work: rows * cols,
    impls: [
      { name: 'reference (TS)', fn: () => ref.activate(name, x, { axisSize }) },
      ...builds.flatMap(([label, nn]) => {
        const t = nn.tensor(x, [rows, cols]);
        return [
          { name: `simdnet ${label}`, fn: () => nn.activate(name, x, { axisSize }) },
          { name: `simdnet ${label} (in wasm memory)`, fn: () => nn.activate(name, t, { inPlace: true }) },
        ];
      }),
    ],
  };
}

/** The builds this engine runs, each in its own instance. */
async function builds(): Promise<[string, Simdnet][]> {
  const runnable = VARIANTS.filter(supports);
  return Promise.all(runnable.map(async (v) => [v, await init({ variant: v })] as [string, Simdnet]));
}

export function workloads(nns: [string, Simdnet][]): Workload[] {
  const elementwise: ActivationName[] = ['relu', 'sigmoid', 'tanh'];
  return [
    denseWorkload(nns, 256, 512, 512),
    modelWorkload(nns, 1),
    modelWorkload(nns, 1024),
    ...elementwise.map((name) => activationWorkload(nns, name, 1024, 1024)),
    activationWorkload(nns, 'softmax', 1024, 1000),
  ];
}

async function loadTinybench(): Promise<typeof import('tinybench')> {
  try {
    return await import('tinybench');
  } catch {
    throw new Error('simdnet bench needs tinybench: npm install --save-dev tinybench');
  }
}

export async function runBench(options: BenchOptions = {}): Promise<{ rows: Row[]; variants: string[] }> {
  const { Bench } = await loadTinybench();
  const nns = await builds();
  const selected = workloads(nns).filter((w) => !options.filter || w.name.includes(options.filter));
  const total = selected.reduce((n, w) => n + w.impls.length, 0);
  const rows: Row[] = [];
  let done = 0;
  for (const workload of selected) {
    const bench = new Bench({ time: options.time ?? 1000, warmupTime: 100, iterations: 5, throws: true });
    for (const impl of workload.impls) bench.add(impl.name, impl.fn);
    bench.addEventListener('cycle', (event) => options.onProgress?.(++done, total, `${workload.name} · ${event.task?.name}`));
    await bench.run();
    const medians = bench.tasks.map((t) => (t.result.state === 'completed' ? t.result.latency.p50 : NaN));
    for (const task of bench.tasks) {
      const r = task.result;
      if (r.state !== 'completed') throw new Error(`${workload.name} · ${task.name}: ${r.state}`);
      const seconds = r.latency.p50 / 1000;
      const scale = workload.unit === 'samples/s' ? 1 : 1e9;
      rows.push({
        workload: workload.name,
        impl: task.name,
        medianUs: r.latency.p50 * 1000,
        madUs: r.latency.mad * 1000,
        samples: r.latency.samplesCount,
        throughput: workload.work / seconds / scale,
        unit: workload.unit,
        speedup: medians[0]! / r.latency.p50,
      });
    }
  }
  return { rows, variants: nns.map(([v]) => v) };
}

const fmt = (n: number, digits = 3) => (n >= 100 ? n.toFixed(0) : n.toPrecision(digits));

/** The rows as a Markdown table (what the README shows). */
export function formatTable(rows: Row[]): string {
  const header = ['workload', 'implementation', 'median µs/call', '± MAD µs', 'throughput', 'vs reference'];
  const lines = rows.map((r) => [
    r.workload,
    r.impl,
    fmt(r.medianUs),
    fmt(r.madUs, 2),
    r.unit === 'samples/s' ? `${(r.throughput / 1e6).toPrecision(3)} M samples/s` : `${fmt(r.throughput)} ${r.unit}`,
    r.impl.startsWith('reference') ? '1×' : `${fmt(r.speedup)}×`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [row(header), row(widths.map((w) => '-'.repeat(w))), ...lines.map(row)].join('\n');
}
