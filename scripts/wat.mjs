// Prints a .wasm as text (wabt), to inspect what LLVM emitted: node scripts/wat.mjs file.wasm
import wabt from 'wabt';
import { readFileSync } from 'node:fs';
const w = await wabt();
const m = w.readWasm(readFileSync(process.argv[2]), { readDebugNames: true, relaxed_simd: true });
m.applyNames?.();
console.log(m.toText({ foldExprs: false, inlineExport: true }));
