import { KERNEL_FUNCTIONS, type KernelExports, POOL_FUNCTIONS, type PoolExports, THREADED_INITIAL_PAGES } from './abi.js';
import { fail } from './errors.js';
import { isNode, readBytes, toUrl } from './io/read.js';

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
  /**
   * Threads that split large dense layers and models (default 1); 'auto': one per core. Where the
   * engine cannot run them (no Worker or SharedArrayBuffer, a page that is not cross-origin isolated,
   * the scalar build, a module given by `module`, `bytes` or `url`), one thread runs and
   * `nn.threadsReason` says why.
   */
  threads?: number | 'auto';
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
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00, // magic, version
  0x01,
  0x04,
  0x01,
  0x60,
  0x00,
  0x00, // type: () -> ()
  0x03,
  0x02,
  0x01,
  0x00, // one function
  0x05,
  0x03,
  0x01,
  0x00,
  0x00, // one memory, 0 pages
  0x0a,
  0x0e,
  0x01,
  0x0c,
  0x00,
  0x41,
  0x00,
  0x41,
  0x00,
  0x41,
  0x00,
  0xfc,
  0x0a,
  0x00,
  0x00,
  0x0b, // memory.copy(0, 0, 0)
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

/** Compiles `bytes` from `source`; bytes that are not a WebAssembly module are an INVALID_ARGUMENT error. */
async function compile(bytes: BufferSource, source: string): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(bytes);
  } catch (e) {
    fail('INVALID_ARGUMENT', `not a WebAssembly module: ${source} (${(e as Error).message})`);
  }
}

async function readUrl(url: URL): Promise<WebAssembly.Module> {
  if (url.protocol === 'file:' && isNode) return compile(await readBytes(url, { what: 'wasm module' }), url.href);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    fail('IO_ERROR', `fetching ${url.href} failed: ${String((e as Error).cause ?? (e as Error).message)}`);
  }
  if (!response.ok) fail('IO_ERROR', `fetching ${url.href} failed: HTTP ${response.status}`);
  if (typeof WebAssembly.compileStreaming === 'function') {
    try {
      return await WebAssembly.compileStreaming(response.clone());
    } catch {
      // Served without `application/wasm`: fall back to compiling the bytes.
    }
  }
  return compile(await response.arrayBuffer(), url.href);
}

const INIT_KEYS: readonly string[] = ['module', 'bytes', 'url', 'variant', 'threads'];

/** The most threads `init()` starts: beyond, the shared memory's bandwidth is the limit anyway. */
export const MAX_THREADS = 64;

/** `init()`'s `threads` option as a count (1 when absent), or an INVALID_ARGUMENT error. */
export function requestedThreads(threads: InitOptions['threads']): number {
  if (threads === undefined) return 1;
  if (threads === 'auto') {
    const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
    const cores = isNode ? (process as unknown as { availableParallelism?: () => number }).availableParallelism?.() : undefined;
    return Math.min(MAX_THREADS, Math.max(1, cores ?? nav?.hardwareConcurrency ?? 1));
  }
  if (!Number.isSafeInteger(threads) || (threads as number) < 1 || (threads as number) > MAX_THREADS) {
    fail('INVALID_ARGUMENT', `init({ threads }) must be 'auto' or an integer from 1 to ${MAX_THREADS}, got ${String(threads)}`);
  }
  return threads as number;
}

/** Why `options` cannot load a threaded build (the engine's own limits aside), or undefined. */
export function threadedBuildUnavailable(options: InitOptions): string | undefined {
  if (options.module !== undefined || options.bytes !== undefined || options.url !== undefined) {
    return 'threads need a bundled build (init without module, bytes or url)';
  }
  if ((options.variant ?? bestVariant()) === 'scalar') return 'the scalar build has no threaded variant (it is for engines without SIMD)';
  return undefined;
}

/** A shared memory for a threaded build, or why the engine refused one. */
export function sharedMemory(): WebAssembly.Memory | string {
  try {
    return new WebAssembly.Memory({ initial: THREADED_INITIAL_PAGES, maximum: 65536, shared: true });
  } catch (e) {
    return `this engine cannot create a shared WebAssembly.Memory (${(e as Error).message})`;
  }
}

/** The module `options` name; of a bundled build, its threaded variant when `threaded` (see `threadedBuildUnavailable`). */
export async function loadModule(options: InitOptions, threaded = false): Promise<WebAssembly.Module> {
  if (options === null || typeof options !== 'object') fail('INVALID_ARGUMENT', `init() options must be an object, got ${String(options)}`);
  const unknown = Object.keys(options).filter((key) => !INIT_KEYS.includes(key));
  if (unknown.length > 0) fail('INVALID_ARGUMENT', `unknown init() option ${unknown.join(', ')}; options: ${INIT_KEYS.join(', ')}`);
  const { module, bytes, url } = options;
  if (module !== undefined) {
    if (!(module instanceof WebAssembly.Module)) fail('INVALID_ARGUMENT', 'init({ module }) needs a WebAssembly.Module');
    return module;
  }
  if (bytes !== undefined) {
    if (!(bytes instanceof ArrayBuffer || ArrayBuffer.isView(bytes))) {
      fail('INVALID_ARGUMENT', 'init({ bytes }) needs an ArrayBuffer or a typed array');
    }
    return compile(bytes, 'init({ bytes })');
  }
  if (url !== undefined) {
    if (typeof url !== 'string' && !(url instanceof URL)) fail('INVALID_ARGUMENT', 'init({ url }) needs a string or a URL');
    return readUrl(toUrl(url));
  }
  const variant = options.variant ?? bestVariant();
  if (!VARIANTS.includes(variant)) fail('INVALID_ARGUMENT', `unknown variant ${JSON.stringify(variant)}; builds: ${VARIANTS.join(', ')}`);
  if (!supports(variant)) {
    const hint =
      variant === 'relaxed' && isNode
        ? ' (Node 20 needs node --experimental-wasm-relaxed-simd, which NODE_OPTIONS refuses; Node 22+ has it by default)'
        : '';
    fail('UNSUPPORTED_RUNTIME', `this engine cannot run the '${variant}' build${hint}`);
  }
  return readUrl(threaded ? new URL(`./wasm/simdnet-${variant}-threads.wasm`, import.meta.url) : bundledUrl(variant));
}

/** Instantiates a simdnet module; any other module (imports, missing exports) is an INVALID_ARGUMENT error. */
export async function instantiate(module: WebAssembly.Module): Promise<KernelExports> {
  const exports = await instantiateWith(module, {}, 'it cannot be instantiated without imports', true);
  return exports as unknown as KernelExports;
}

/** Instantiates a threaded build over the shared `memory`. */
export async function instantiateThreaded(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<KernelExports & PoolExports> {
  const exports = await instantiateWith(module, { env: { memory } }, 'it is not a threaded build', false);
  const missing: string[] = POOL_FUNCTIONS.filter((name) => typeof exports[name] !== 'function');
  if (!(exports.__stack_pointer instanceof WebAssembly.Global)) missing.push('__stack_pointer');
  if (missing.length > 0) fail('INVALID_ARGUMENT', `not a threaded simdnet build: it lacks the exports ${missing.join(', ')}`);
  return { ...exports, memory } as unknown as KernelExports & PoolExports;
}

/** The exports of `module` instantiated with `imports`, which must include the kernels (and `memory` if `exportsMemory`). */
async function instantiateWith(
  module: WebAssembly.Module,
  imports: WebAssembly.Imports,
  why: string,
  exportsMemory: boolean,
): Promise<Record<string, unknown>> {
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, imports);
  } catch (e) {
    fail('INVALID_ARGUMENT', `not a simdnet module: ${why} (${(e as Error).message})`);
  }
  const exports = instance.exports as Record<string, unknown>;
  const missing: string[] = KERNEL_FUNCTIONS.filter((name) => typeof exports[name] !== 'function');
  if (exportsMemory && !(exports.memory instanceof WebAssembly.Memory)) missing.push('memory');
  if (!(exports.__heap_base instanceof WebAssembly.Global)) missing.push('__heap_base');
  if (missing.length > 0) fail('INVALID_ARGUMENT', `not a simdnet module: it lacks the exports ${missing.join(', ')}`);
  return exports;
}
