#!/usr/bin/env node
/**
 * simdnet's command line: `simdnet bench` runs the benchmark suite on the built-in default model and
 * kernels; `info`, `predict`, `train` and `plot` are the everyday tools. Node only.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { KERAS_MLP, VARIANTS, type Variant, init, supports } from '../index.js';
import { bundledUrl } from '../loader.js';
import { parseRows } from './rows.js';
import { TRAIN_OPTIONS, TRAIN_SUMMARY, TRAIN_USAGE, train } from './train.js';

// Node 20 validates relaxed-SIMD modules only behind this V8 flag, and NODE_OPTIONS rejects it, so
// `npx simdnet` could never reach the relaxed build: the CLI sets it before any module is compiled.
if (!supports('relaxed')) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

interface Command {
  usage: string;
  summary: string;
  options: NonNullable<Parameters<typeof parseArgs>[0]>['options'];
  positionals?: boolean;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<void>;
}

const VARIANT_OPTION = { variant: { type: 'string' } } as const;

/** The build `--variant` names (checked), or the fastest this engine runs. */
function variantOf(value: unknown): Variant | undefined {
  if (value === undefined) return undefined;
  if (!VARIANTS.includes(value as Variant)) throw new Error(`--variant must be one of ${VARIANTS.join(', ')}, got ${String(value)}`);
  return value as Variant;
}

async function readInput(path: string): Promise<string> {
  if (path !== '-') return readFile(path, 'utf8');
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

/** A model path that exists (one clear line otherwise, instead of the loader's longer IO error). */
async function modelPath(path: string | undefined, command: string): Promise<string> {
  if (path === undefined) throw new Error(`${command}: missing the model file argument (simdnet ${command} --help)`);
  if (!(await stat(path).catch(() => null))) throw new Error(`model file not found: ${path}`);
  return path;
}

const COMMANDS: Record<string, Command> = {
  bench: {
    usage: 'bench [--time ms] [--filter text] [--threads n] [--json] [--no-peers]',
    summary: `benchmark simdnet's builds against the plain-TS reference and the installed peers
(@tensorflow/tfjs-backend-wasm, onnxruntime-web, onnxruntime-node with onnx-proto): dense 256×512×512,
1024³, 37×300×200, 1×784×256 (+relu), the Keras MLP 64→128→64→1 at batch 1 and 1024,
relu/sigmoid/tanh/gelu/silu over 1M floats, softmax 1024×1000, relu over 16 floats (the per-call cost),
training (fit, a train step), and int8 layers and models.
  --time ms      measuring time per row (default: the suite's)
  --filter text  only the rows whose label contains text
  --threads n    also run each SIMD build on n threads (rows labelled ×n), and the ONNX Runtime
                 peers (onnxruntime-web in a process of its own: its thread count is per process)
  --json         the rows as JSON
  --no-peers     simdnet and the reference only`,
    options: {
      time: { type: 'string' },
      filter: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'boolean' },
      'no-peers': { type: 'boolean' },
    },
    async run(values) {
      const time = values.time === undefined ? undefined : Number(values.time);
      if (time !== undefined && !(time > 0))
        throw new Error(`--time must be a positive number of milliseconds, got ${String(values.time)}`);
      const threads = values.threads === undefined ? 1 : Number(values.threads);
      if (!Number.isSafeInteger(threads) || threads < 1)
        throw new Error(`--threads must be a positive integer, got ${String(values.threads)}`);
      const { runBench, formatTable } = await import('../../bench/suite.js');
      const tty = process.stderr.isTTY;
      const progress = (done: number, total: number, label: string) =>
        process.stderr.write(tty ? `\r\x1b[K[${done}/${total}] ${label}` : `[${done}/${total}] ${label}\n`);
      const filter = values.filter as string | undefined;
      const { rows, variants, peers } = await runBench({
        time,
        filter,
        noPeers: values['no-peers'] === true,
        threads,
        onProgress: progress,
      });
      if (tty) process.stderr.write('\r\x1b[K');
      if (values.json) {
        console.log(JSON.stringify({ variants, peers, threads, runtime: `Node ${process.versions.node}`, rows }, null, 2));
        return;
      }
      const runtime = `Node ${process.versions.node} (V8 ${process.versions.v8})`;
      const threadsNote = threads > 1 ? `one thread, and ${threads} (the rows marked ×${threads})` : 'one thread';
      console.log(
        `simdnet bench: builds ${variants.join(', ')}; peers ${peers.join(', ') || 'none installed'}; ${runtime}; ${threadsNote}\n`,
      );
      console.log(formatTable(rows));
    },
  },
  info: {
    usage: 'info [model] [--variant relaxed|simd|scalar] [--threads n|auto]',
    summary: `the build that runs here, its size, the runtime and its wasm features, the threads it would run
(--threads: as init({ threads }) would, default 'auto'); with a model (simdnet, TF.js model.json or .onnx), its summary.`,
    options: { ...VARIANT_OPTION, threads: { type: 'string' } },
    positionals: true,
    async run(values, [path]) {
      const threads = values.threads === undefined || values.threads === 'auto' ? 'auto' : Number(values.threads);
      const nn = await init({ variant: variantOf(values.variant), threads });
      if (path !== undefined) {
        console.log((await nn.loadModel(await modelPath(path, 'info'))).summary());
        return;
      }
      const sizes = await Promise.all(VARIANTS.map(async (v) => [v, (await readFile(bundledUrl(v))).byteLength] as const));
      console.log(
        [
          `simdnet      ${await version()}, running the '${nn.variant}' build`,
          `runtime      Node ${process.versions.node}, V8 ${process.versions.v8}, ${process.arch}`,
          `features     ${VARIANTS.map((v) => `${v}: ${supports(v) ? 'yes' : 'no'}`).join(', ')}`,
          `threads      ${nn.threads}${nn.threadsReason === undefined ? '' : ` (${nn.threadsReason})`}`,
          ...sizes.map(([v, size]) => `wasm ${v.padEnd(8)}${(size / 1024).toFixed(1)} KiB (${size} bytes)`),
          '',
          'default model (Keras MLP):',
          nn.sequential(KERAS_MLP).summary(),
        ].join('\n'),
      );
    },
  },
  predict: {
    usage: 'predict <model> --input <file|-> [--output csv|json] [--header] [--variant relaxed|simd|scalar]',
    summary: `predictions for the rows of a CSV file (finite decimal numbers, comma-separated, one row per
line; a first line of names is a header and skipped) or a JSON array of rows; - reads standard input.
Writes one row of outputs per input row.
  --header   the first line is a header even if its cells look like numbers`,
    options: { input: { type: 'string' }, output: { type: 'string', default: 'csv' }, header: { type: 'boolean' }, ...VARIANT_OPTION },
    positionals: true,
    async run(values, [path]) {
      const file = await modelPath(path, 'predict');
      if (values.input === undefined) throw new Error('predict: missing --input <file|-> (simdnet predict --help)');
      if (values.output !== 'csv' && values.output !== 'json')
        throw new Error(`--output must be csv or json, got ${String(values.output)}`);
      const nn = await init({ variant: variantOf(values.variant) });
      const model = await nn.loadModel(file);
      const { rows } = parseRows(await readInput(values.input as string), values.header === true ? true : undefined);
      rows.forEach((r, i) => {
        if (r.length !== model.inputDim) throw new Error(`row ${i + 1} has ${r.length} values; the model takes ${model.inputDim}`);
      });
      const y = model.predict(Float32Array.from(rows.flat()), rows.length);
      const out = rows.map((_, i) => Array.from(y.subarray(i * model.outputDim, (i + 1) * model.outputDim)));
      process.stdout.write(values.output === 'json' ? `${JSON.stringify(out)}\n` : out.map((r) => `${r.join(',')}\n`).join(''));
    },
  },
  train: {
    usage: TRAIN_USAGE,
    summary: TRAIN_SUMMARY,
    options: { ...TRAIN_OPTIONS, ...VARIANT_OPTION },
    positionals: true,
    async run(values, positionals) {
      await train(await init({ variant: variantOf(values.variant) }), values, positionals);
    },
  },
  plot: {
    usage: 'plot [--out file.svg] [--variant relaxed|simd|scalar]',
    summary: `one SVG with every elementwise activation and its derivative over [-5, 5], computed by the
wasm kernels (default file: activations.svg).`,
    options: { out: { type: 'string', default: 'activations.svg' }, ...VARIANT_OPTION },
    async run(values) {
      const { plotActivations } = await import('./plot.js');
      await writeFile(values.out as string, plotActivations(await init({ variant: variantOf(values.variant) })));
      console.log(`wrote ${String(values.out)}`);
    },
  },
};

const USAGE = [
  'usage: simdnet <command> [options]      (simdnet <command> --help for its options)',
  '',
  'commands:',
  ...Object.values(COMMANDS).map((c) => `  ${c.usage}`),
  '  help | --help | --version',
].join('\n');

async function version(): Promise<string> {
  // dist/ts/cli/main.js and ts/cli/main.ts both sit below the package root.
  for (const up of ['../../../package.json', '../../package.json']) {
    const manifest = await readFile(new URL(up, import.meta.url), 'utf8').then(
      (t) => JSON.parse(t) as { name?: string; version?: string },
      () => null,
    );
    if (manifest?.name === 'simdnet') return `simdnet ${manifest.version}`;
  }
  return 'simdnet (version unknown)';
}

async function main([name, ...args]: string[]): Promise<void> {
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') return void console.log(USAGE);
  if (name === '--version' || name === '-v') return void console.log(await version());
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name]! : undefined;
  if (!command) throw new Error(`unknown command '${name}' (simdnet --help lists them)`);
  if (args.includes('--help') || args.includes('-h')) return void console.log(`usage: simdnet ${command.usage}\n\n${command.summary}`);
  let parsed;
  try {
    parsed = parseArgs({ args, options: command.options, allowPositionals: command.positionals === true, strict: true });
  } catch (e) {
    throw new Error(`${name}: ${(e as Error).message.split('\n')[0]} (simdnet ${name} --help)`);
  }
  await command.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`simdnet: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
