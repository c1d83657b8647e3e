#!/usr/bin/env node
/**
 * simdnet's command line: `simdnet bench` runs the benchmark suite on the built-in default model and
 * kernels; `simdnet info` tells which build runs here and what the engine supports.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { KERAS_MLP, VARIANTS, init, supports } from './index.js';
import { bundledUrl } from './loader.js';

const USAGE = `usage: simdnet <command> [options]

commands:
  bench [--time ms] [--filter text] [--json] [--no-peers]
        benchmark simdnet's builds against the plain-TS reference and the installed peers
        (@tensorflow/tfjs-backend-wasm, onnxruntime-web, onnxruntime-node with onnx-proto):
        dense 256×512×512, 1024³, 37×300×200, 1×784×256 (+relu), the Keras MLP 64→128→64→1 at
        batch 1 and 1024, relu/sigmoid/tanh/gelu/silu over 1M floats, softmax 1024×1000
  info [model.json]
        the build that runs here, its size, the runtime and its wasm features; with a model
        saved by model.save(), its summary
  predict <model.json> --input <file|-> [--output csv|json]
        predictions for the rows of a CSV file (numbers, comma-separated, one row per line) or a
        JSON array of rows; - reads standard input. Writes one row of outputs per input row.
  plot [--out file.svg]
        one SVG with every elementwise activation and its derivative over [-5, 5], computed by
        the wasm kernels (default file: activations.svg)
  help  this text

Run node with --experimental-wasm-relaxed-simd on Node 20 to include the relaxed-SIMD build.`;

/** Rows of numbers from CSV text (one row per line) or a JSON array of rows. */
function parseRows(text: string): number[][] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    const rows: unknown = JSON.parse(trimmed);
    if (!Array.isArray(rows) || !rows.every((r) => Array.isArray(r) && r.every((v) => typeof v === 'number'))) {
      throw new Error('JSON input must be an array of rows of numbers');
    }
    return rows as number[][];
  }
  return trimmed.split(/\r?\n/).filter((line) => line.trim() !== '').map((line, i) =>
    line.split(',').map((cell) => {
      const v = Number(cell.trim());
      if (cell.trim() === '' || Number.isNaN(v) && cell.trim().toLowerCase() !== 'nan') throw new Error(`line ${i + 1}: "${cell.trim()}" is not a number`);
      return v;
    }));
}

async function readInput(path: string): Promise<string> {
  if (path !== '-') return readFile(path, 'utf8');
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

async function predict(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { input: { type: 'string' }, output: { type: 'string', default: 'csv' } } });
  const [modelPath] = positionals;
  if (!modelPath || values.input === undefined) throw new Error('usage: simdnet predict <model.json> --input <file|-> [--output csv|json]');
  if (values.output !== 'csv' && values.output !== 'json') throw new Error(`--output must be csv or json, got ${values.output}`);
  const nn = await init();
  const model = await nn.loadModel(modelPath);
  const rows = parseRows(await readInput(values.input));
  rows.forEach((r, i) => {
    if (r.length !== model.inputDim) throw new Error(`row ${i + 1} has ${r.length} values; the model takes ${model.inputDim}`);
  });
  const y = model.predict(Float32Array.from(rows.flat()), rows.length);
  const out = rows.map((_, i) => Array.from(y.subarray(i * model.outputDim, (i + 1) * model.outputDim)));
  process.stdout.write(values.output === 'json' ? `${JSON.stringify(out)}\n` : out.map((r) => r.join(',')).join('\n') + (out.length ? '\n' : ''));
}

async function info(args: string[]): Promise<void> {
  const nn = await init();
  if (args[0] !== undefined) {
    console.log((await nn.loadModel(args[0])).summary());
    return;
  }
  const sizes = await Promise.all(VARIANTS.map(async (v) => [v, (await readFile(bundledUrl(v))).byteLength] as const));
  const lines = [
    `simdnet      running the '${nn.variant}' build`,
    `runtime      Node ${process.versions.node}, V8 ${process.versions.v8}, ${process.arch}`,
    `features     ${VARIANTS.map((v) => `${v}: ${supports(v) ? 'yes' : 'no'}`).join(', ')}`,
    ...sizes.map(([v, size]) => `wasm ${v.padEnd(8)}${(size / 1024).toFixed(1)} KiB (${size} bytes)`),
    '',
    'default model (Keras MLP):',
    nn.sequential(KERAS_MLP).summary(),
  ];
  console.log(lines.join('\n'));
}

async function plot(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { out: { type: 'string', default: 'activations.svg' } } });
  const { plotActivations } = await import('./plot.js');
  await writeFile(values.out, plotActivations(await init()));
  console.log(`wrote ${values.out}`);
}

async function bench(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { time: { type: 'string' }, filter: { type: 'string' }, json: { type: 'boolean' }, 'no-peers': { type: 'boolean' } } });
  const time = values.time === undefined ? undefined : Number(values.time);
  if (time !== undefined && !(time > 0)) throw new Error(`--time must be a positive number of milliseconds, got ${values.time}`);
  const { runBench, formatTable } = await import('../bench/suite.js');
  const progress = process.stderr.isTTY
    ? (done: number, total: number, label: string) => process.stderr.write(`\r\x1b[K[${done}/${total}] ${label}`)
    : (done: number, total: number, label: string) => process.stderr.write(`[${done}/${total}] ${label}\n`);
  const { rows, variants, peers } = await runBench({ time, filter: values.filter, noPeers: values['no-peers'], onProgress: progress });
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  if (values.json) {
    console.log(JSON.stringify({ variants, peers, runtime: `Node ${process.versions.node}`, rows }, null, 2));
    return;
  }
  console.log(`simdnet bench: builds ${variants.join(', ')}; peers ${peers.join(', ') || 'none installed'}; Node ${process.versions.node} (V8 ${process.versions.v8}); one thread\n`);
  console.log(formatTable(rows));
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'bench': return bench(rest);
    case 'info': return info(rest);
    case 'predict': return predict(rest);
    case 'plot': return plot(rest);
    case undefined: case 'help': case '--help': case '-h':
      console.log(USAGE);
      return;
    default:
      throw new Error(`unknown command '${command}'\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`simdnet: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
