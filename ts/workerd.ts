/**
 * The entry point for Cloudflare Workers (the `workerd` export condition). Workers forbid compiling
 * wasm from bytes at run time ("Wasm code generation disallowed by embedder"): the builds are
 * imported as modules instead, which the platform compiles at upload.
 */
import relaxed from './wasm/simdnet-relaxed.wasm';
import scalar from './wasm/simdnet-scalar.wasm';
import simd from './wasm/simdnet-simd.wasm';
import { type InitOptions, bestVariant } from './loader.js';
import { type Simdnet, init as initWith } from './simdnet.js';

export * from './index.js';

const MODULES = { relaxed, simd, scalar };

/** Like the default `init`, with the imported build for `options.variant` (default: the fastest) as the source. */
export function init(options: InitOptions = {}): Promise<Simdnet> {
  if (options.module || options.bytes || options.url) return initWith(options);
  return initWith({ ...options, module: MODULES[options.variant ?? bestVariant()] });
}
