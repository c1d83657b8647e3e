import type { KernelExports } from './abi.js';
import { fail } from './errors.js';

/** The builds shipped in the package, fastest first. */
export type Variant = 'relaxed' | 'simd' | 'scalar';
export const VARIANTS: readonly Variant[] = ['relaxed', 'simd', 'scalar'];

export interface InitOptions {
  /** A compiled module (edge runtimes that forbid compiling bytes pass the imported `.wasm` here). */
  module?: WebAssembly.Module;
  /** The `.wasm` bytes. */
  bytes?: BufferSource;
  /** Where to fetch the `.wasm` from (a `file:` URL or path is read from disk under Node). */
  url?: string | URL;
  /** Which bundled build to load when none of the above is given; default: the fastest this engine validates. */
  variant?: Variant;
}

// Tiny modules, each running the instruction that its build needs: a v128 op for the SIMD builds;
// for the scalar build, `memory.copy` (bulk memory, which every engine since 2020 has, SIMD or not).
const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00];
const v128Zero = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
function probe(operands: number, opcode: number[]): Uint8Array<ArrayBuffer> {
  const body = [0x00, ...Array.from({ length: operands }, () => v128Zero).flat(), ...opcode, 0x0b];
  return new Uint8Array([...header, 0x0a, body.length + 2, 0x01, body.length, ...body]);
}
const bulkMemoryProbe = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
  0x03, 0x02, 0x01, 0x00, // one function
  0x05, 0x03, 0x01, 0x00, 0x00, // one memory, 0 pages
  0x0a, 0x0e, 0x01, 0x0c, 0x00, 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x0a, 0x00, 0x00, 0x0b, // memory.copy(0, 0, 0)
]);
const PROBES: Record<Variant, Uint8Array<ArrayBuffer>> = {
  relaxed: probe(3, [0xfd, 0x85, 0x02]), // f32x4.relaxed_madd
  simd: probe(2, [0xfd, 0xe4, 0x01]), // f32x4.add
  scalar: bulkMemoryProbe,
};

/** Whether this engine can run the given build. */
export function supports(variant: Variant): boolean {
  return WebAssembly.validate(PROBES[variant]);
}

/** The fastest build this engine runs. */
export function bestVariant(): Variant {
  const variant = VARIANTS.find(supports);
  if (!variant) fail('UNSUPPORTED_RUNTIME', 'this WebAssembly engine lacks bulk memory operations, which every build needs');
  return variant;
}

export function bundledUrl(variant: Variant): URL {
  return new URL(`./wasm/simdnet-${variant}.wasm`, import.meta.url);
}

const NODE_FS = 'node:fs/promises';
const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

async function readUrl(url: URL): Promise<WebAssembly.Module> {
  if (url.protocol === 'file:' && isNode) return WebAssembly.compile(await readBytes(url));
  const response = fetch(url);
  if (typeof WebAssembly.compileStreaming === 'function') {
    try {
      return await WebAssembly.compileStreaming(response);
    } catch {
      // Served without `application/wasm`: fall back to compiling the bytes.
    }
  }
  const res = await response;
  if (!res.ok) fail('INVALID_ARGUMENT', `fetching ${url.href} failed: HTTP ${res.status}`);
  return WebAssembly.compile(await res.arrayBuffer());
}

/** The bytes at a URL: read from disk for `file:` under Node, fetched otherwise. */
export async function readBytes(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  if (url.protocol === 'file:' && isNode) {
    // A specifier bundlers leave alone: browser bundles must not try to resolve Node's fs.
    const { readFile } = (await import(/* webpackIgnore: true */ /* @vite-ignore */ NODE_FS)) as typeof import('node:fs/promises');
    return new Uint8Array(await readFile(url));
  }
  const res = await fetch(url);
  if (!res.ok) fail('INVALID_ARGUMENT', `fetching ${url.href} failed: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** A URL from a URL, an absolute URL string, or a path (relative to the working directory under Node). */
export function toUrl(url: string | URL): URL {
  if (url instanceof URL) return url;
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return new URL(url);
  if (isNode) return new URL(`file://${url.startsWith('/') ? '' : `${process.cwd()}/`}${url}`);
  return new URL(url, globalThis.location?.href);
}

export async function loadModule(options: InitOptions): Promise<WebAssembly.Module> {
  if (options.module) return options.module;
  if (options.bytes) return WebAssembly.compile(options.bytes);
  if (options.url) return readUrl(toUrl(options.url));
  const variant = options.variant ?? bestVariant();
  if (!VARIANTS.includes(variant)) fail('INVALID_ARGUMENT', `unknown variant ${JSON.stringify(variant)}; builds: ${VARIANTS.join(', ')}`);
  if (!supports(variant)) fail('UNSUPPORTED_RUNTIME', `this engine cannot run the '${variant}' build`);
  return readUrl(bundledUrl(variant));
}

export async function instantiate(module: WebAssembly.Module): Promise<KernelExports> {
  const instance = await WebAssembly.instantiate(module, {});
  return instance.exports as unknown as KernelExports;
}
