#!/usr/bin/env node
// What an activation over a Float32Array of 1 M floats pays besides its kernel, measured without any
// kernel: copying 4,096-float blocks into wasm memory and back out (the `out` path), into a fresh
// array instead (the path that returns a new array), and allocating a fresh 4 MB array at all. Best
// of 7 batches of 200.   node scripts/copy-costs.mjs
const n = 1 << 20;
const block = 4096;
const src = new Float32Array(n).fill(1.5);
const out = new Float32Array(n);
const memory = new Float32Array(new WebAssembly.Memory({ initial: 80 }).buffer);

/** Best time of one call in µs. */
function time(call) {
  let best = Infinity;
  for (let round = 0; round < 7; round++) {
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) call();
    best = Math.min(best, (performance.now() - t0) / 200);
  }
  return (best * 1000).toFixed(0);
}

/** The stream's copies, from `src` through wasm memory into `target`. */
function stream(target) {
  for (let at = 0; at < n; at += block) {
    memory.set(src.subarray(at, at + block), 0);
    target.set(memory.subarray(0, block), at);
  }
  return target;
}

console.log(`copies in and out by ${block}-float blocks, into out: ${time(() => stream(out))} µs`);
console.log(`the same into a new array: ${time(() => stream(new Float32Array(n)))} µs`);
console.log(`a new 1 M-float array, written once: ${time(() => new Float32Array(n).set(src))} µs`);
