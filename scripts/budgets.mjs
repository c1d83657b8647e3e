#!/usr/bin/env node
// `npm run budgets`: what a user downloads and waits for, against the budgets of budgets.json (each
// .wasm's size, init() in Node). init() is timed in fresh processes (median of 7), so that it
// includes compiling the module, as a server's first request would.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wasmDir = join(root, 'dist', 'ts', 'wasm');
const budgets = JSON.parse(readFileSync(join(root, 'scripts', 'budgets.json'), 'utf8'));
const RUNS = 7;

const probe = `
const t0 = performance.now();
const { init } = await import(${JSON.stringify(new URL('../dist/ts/index.js', import.meta.url).href)});
const t1 = performance.now();
// A threaded build ('relaxed-threads') is what init({ variant, threads: 2 }) loads: timed with its workers started.
const [variant, threaded] = process.argv[1].split('-');
const nn = await init(threaded ? { variant, threads: 2 } : { variant });
const t2 = performance.now();
console.log(JSON.stringify({ importMs: t1 - t0, initMs: t2 - t1 }));`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const verdict = (ok) => (ok ? 'within budget' : 'OVER BUDGET');

console.log(`| build | .wasm | gzip | size budget | init() median | import median | budget ${budgets.initMs} ms |`);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const file of readdirSync(wasmDir)
  .filter((f) => f.endsWith('.wasm'))
  .sort()) {
  const variant = file.replace(/^simdnet-|\.wasm$/g, '');
  const bytes = readFileSync(join(wasmDir, file));
  const runs = Array.from({ length: RUNS }, () =>
    JSON.parse(execFileSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', probe, variant], { encoding: 'utf8' })),
  );
  const initMs = median(runs.map((r) => r.initMs));
  const importMs = median(runs.map((r) => r.importMs));
  console.log(
    `| ${variant} | ${(bytes.length / 1024).toFixed(1)} KiB | ${(gzipSync(bytes).length / 1024).toFixed(1)} KiB | ${(budgets.wasmBytes[variant] / 1024).toFixed(0)} KiB: ${verdict(bytes.length <= budgets.wasmBytes[variant])} | ${initMs.toFixed(2)} ms | ${importMs.toFixed(2)} ms | ${variant.endsWith('-threads') ? 'not budgeted (starts a worker)' : verdict(initMs <= budgets.initMs)} |`,
  );
}
