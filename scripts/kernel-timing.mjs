#!/usr/bin/env node
// Times the dense kernel through the raw wasm exports, without the TypeScript API: for A/B work on
// the micro-kernel (pass the .wasm files to compare). Best of 9 batches of calls, in GFLOP/s.
//   node --experimental-wasm-relaxed-simd scripts/kernel-timing.mjs [file.wasm | relaxed | simd | scalar]...
import { readFileSync } from 'node:fs';

const SHAPES = [[256, 512, 512], [1024, 1024, 1024], [37, 300, 200], [1, 784, 256]];
const sources = process.argv.slice(2);

for (const source of sources.length ? sources : ['relaxed', 'simd']) {
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
  const fill = (ptr, n) => new Float32Array(wasm.memory.buffer, ptr, n).forEach((_, i, a) => (a[i] = Math.random() - 0.5));
  const RELU = 1;
  for (const [batch, inputs, outputs] of SHAPES) {
    const kernel = alloc(inputs * outputs), packed = alloc(wasm.simdnet_dense_packed_len(inputs, outputs));
    const x = alloc(batch * inputs), y = alloc(batch * outputs), scratch = alloc(wasm.simdnet_dense_scratch_len(batch, inputs, outputs, RELU));
    fill(kernel, inputs * outputs);
    fill(x, batch * inputs);
    wasm.simdnet_dense_pack(kernel, 0, inputs, outputs, 0, packed);
    const flops = 2 * batch * inputs * outputs;
    const reps = Math.max(3, Math.round(2e8 / flops));
    let best = Infinity;
    for (let round = 0; round < 9; round++) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) wasm.simdnet_dense(x, batch, inputs, outputs, packed, RELU, 0, 0, 0, 0, y, scratch);
      best = Math.min(best, (performance.now() - t0) / reps);
    }
    console.log(`${String(source).padEnd(8)} dense ${batch}×${inputs}×${outputs} relu: ${(flops / best / 1e6).toFixed(1)} GFLOP/s`);
  }
}
