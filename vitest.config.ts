import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Node 20 validates relaxed-SIMD modules only behind this flag (NODE_OPTIONS rejects it), and the
    // suite runs every kernel on both builds.
    execArgv: ['--experimental-wasm-relaxed-simd'],
    testTimeout: 60_000,
  },
});
