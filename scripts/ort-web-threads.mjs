#!/usr/bin/env node
// onnxruntime-web on N threads over dense 1024³ + relu, the peer row `simdnet bench` cannot take:
// onnxruntime-web's thread count is global to a process and fixed at its first session. Median of
// 8 s of runs, Float32Array in through an ort.Tensor made once.
//   npm run build && node scripts/ort-web-threads.mjs 2
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
const require = createRequire(import.meta.url);
const ort = require('onnxruntime-web');
const proto = require('onnx-proto');
const { onnxModel } = await import('../dist/bench/onnx-models.js');
const threads = +(process.argv[2] ?? 2);
ort.env.wasm.numThreads = threads;
ort.env.wasm.wasmPaths = `${join(dirname(require.resolve('onnxruntime-web')), '/')}`;
const n = 1024;
const rand = (k) => Float32Array.from({ length: k }, () => Math.random() - 0.5);
const layers = [{ inputs: n, outputs: n, activation: 'relu', kernel: rand(n * n), bias: rand(n) }];
const session = await ort.InferenceSession.create(onnxModel(proto.onnx, layers), {
  executionProviders: ['wasm'],
  intraOpNumThreads: threads,
});
const x = new ort.Tensor('float32', rand(n * n), [n, n]);
const name = session.inputNames[0];
for (let i = 0; i < 3; i++) await session.run({ [name]: x });
const times = [];
const end = performance.now() + 8000;
while (performance.now() < end) {
  const t = performance.now();
  const r = await session.run({ [name]: x });
  r[session.outputNames[0]].data;
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
const median = times[times.length >> 1];
console.log(
  `onnxruntime-web numThreads ${threads}: dense 1024³ relu median ${median.toFixed(1)} ms over ${times.length} runs = ${((2 * n ** 3) / median / 1e6).toFixed(1)} GFLOP/s`,
);
process.exit(0);
