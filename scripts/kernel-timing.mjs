#!/usr/bin/env node
// Times kernels through the raw wasm exports, without the TypeScript API: for A/B work on the
// kernels (pass .wasm files to compare). Best of 9 batches of calls. Rows: dense layers (GFLOP/s),
// the Keras MLP's forward pass at batch 1 (µs), relu over random-sign arrays (Gelem/s).
//   node --experimental-wasm-relaxed-simd scripts/kernel-timing.mjs [file.wasm | relaxed | simd | scalar]...
import { readFileSync } from 'node:fs';
// The ABI's one TypeScript statement (activation codes, the layer table): run `npm run build` first.
import { ActivationCode, MODEL_LAYER_BYTES, writeModelLayer } from '../dist/ts/abi.js';

const DENSE = [
  [256, 512, 512],
  [1024, 1024, 1024],
  [37, 300, 200],
  [1, 784, 256],
];
const KERAS_MLP = [
  [64, 128, ActivationCode.relu],
  [128, 64, ActivationCode.relu],
  [64, 1, ActivationCode.sigmoid],
]; // inputs, outputs, activation
const RELU_SIZES = [1024, 65536, 1 << 20];
const RELU = ActivationCode.relu;

/** Best time of one call in ms, over 9 batches of `reps` calls. */
function best(reps, call) {
  let min = Infinity;
  for (let round = 0; round < 9; round++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) call();
    min = Math.min(min, (performance.now() - t0) / reps);
  }
  return min;
}

async function load(source) {
  const file = source.endsWith('.wasm') ? source : new URL(`../ts/wasm/simdnet-${source}.wasm`, import.meta.url);
  const { instance } = await WebAssembly.instantiate(readFileSync(file), {});
  const wasm = instance.exports;
  let top = (wasm.__heap_base.value + 63) & ~63;
  const alloc = (floats) => {
    const ptr = top;
    top += (floats * 4 + 63) & ~63;
    const missing = top - wasm.memory.buffer.byteLength;
    if (missing > 0) wasm.memory.grow(Math.ceil(missing / 65536));
    return ptr;
  };
  const random = (n, offset = -0.5) => {
    const ptr = alloc(n);
    new Float32Array(wasm.memory.buffer, ptr, n).forEach((_, i, a) => (a[i] = Math.random() + offset));
    return ptr;
  };
  /** Packed weights of a random `inputs × outputs` layer. */
  const layer = (inputs, outputs) => {
    const packed = alloc(wasm.simdnet_dense_packed_len(inputs, outputs));
    wasm.simdnet_dense_pack(random(inputs * outputs), 0, inputs, outputs, 0, packed);
    return packed;
  };
  return { wasm, alloc, random, layer };
}

for (const source of process.argv.length > 2 ? process.argv.slice(2) : ['relaxed', 'simd']) {
  const { wasm, alloc, random, layer } = await load(source);
  const label = String(source).padEnd(8);
  for (const [batch, inputs, outputs] of DENSE) {
    const packed = layer(inputs, outputs);
    const x = random(batch * inputs),
      y = alloc(batch * outputs),
      scratch = alloc(wasm.simdnet_dense_scratch_len(batch, inputs, outputs, RELU));
    const flops = 2 * batch * inputs * outputs;
    const ms = best(Math.max(3, Math.round(2e8 / flops)), () =>
      wasm.simdnet_dense(x, batch, inputs, outputs, packed, RELU, 0, 0, 0, 0, y, scratch),
    );
    console.log(`${label} dense ${batch}×${inputs}×${outputs} relu: ${(flops / ms / 1e6).toFixed(1)} GFLOP/s`);
  }
  const table = alloc((KERAS_MLP.length * MODEL_LAYER_BYTES) / 4);
  KERAS_MLP.forEach(([inputs, outputs, activation], i) => {
    const packed = layer(inputs, outputs);
    writeModelLayer(
      wasm.memory,
      table + i * MODEL_LAYER_BYTES,
      { packed, inputs, outputs, activation, params: [0, 0, 0], slopes: 0 },
      0,
      0,
    );
  });
  const [x, a, b, y, scratch] = [random(64), alloc(128), alloc(128), alloc(1), alloc(1024)];
  const forward = best(200_000, () => wasm.simdnet_model_forward(table, KERAS_MLP.length, x, 1, a, b, y, scratch));
  console.log(`${label} Keras MLP forward, batch 1: ${(forward * 1000).toFixed(2)} µs`);
  for (const n of RELU_SIZES) {
    const [src, dst] = [random(n), alloc(n)];
    const ms = best(Math.max(10, (1 << 24) / n), () => wasm.simdnet_activate(RELU, 0, 0, 0, src, n, dst));
    console.log(`${label} relu over ${n} random-sign floats: ${(n / ms / 1e6).toFixed(2)} Gelem/s`);
  }
}
