/**
 * Reading files and URLs for model loading: bounded (never more than the caller declares, regular
 * files only), with failures as IO_ERROR naming the file; weight files confined to the model's folder.
 */
import { SimdnetError, fail } from '../errors.js';
import { type Quantization, checkQuantization } from '../int8.js';

const NODE_FS = 'node:fs/promises';
export const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** Node's fs, imported through a specifier bundlers leave alone: browser bundles must not try to resolve it. */
async function nodeFs(): Promise<typeof import('node:fs/promises')> {
  return (await import(/* webpackIgnore: true */ /* @vite-ignore */ NODE_FS)) as typeof import('node:fs/promises');
}

export interface ReadOptions {
  /** What the file is, for messages ('model file', 'weights file'); default 'file'. */
  what?: string;
  /** The most bytes the file may hold: a longer one is refused (INVALID_MODEL) before more than that is read. */
  limit?: number;
}

/** A file URL's path as its user wrote it, or any other URL as a whole: what messages name. */
function nameOf(url: URL): string {
  if (url.protocol !== 'file:') return url.href;
  try {
    return decodeURIComponent(url.pathname);
  } catch {
    return url.pathname; // a URL given as such may hold a malformed escape
  }
}

/** The bytes at a URL: read from disk for `file:` under Node, fetched otherwise; at most `limit` of them. */
export async function readBytes(url: URL, { what = 'file', limit = Infinity }: ReadOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
  if (url.protocol === 'file:' && isNode) return readFileBounded(url, nameOf(url), what, limit);
  return fetchBounded(url, what, limit);
}

const tooLong = (name: string, what: string, limit: number): never =>
  fail('INVALID_MODEL', `${what} ${name} holds more than the ${limit} bytes the model declares for it`);

/**
 * A regular file's bytes, by open + fstat + a read of the size it had then: never more than `limit`,
 * and nothing from a device, FIFO or directory (opened non-blocking, so that a FIFO without a writer
 * does not hang the open).
 */
async function readFileBounded(file: URL | string, name: string, what: string, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const fs = await nodeFs();
  const { O_RDONLY, O_NONBLOCK = 0 } = fs.constants;
  let handle: import('node:fs/promises').FileHandle;
  try {
    handle = await fs.open(file, O_RDONLY | O_NONBLOCK);
  } catch (e) {
    ioFail(e, name, what);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) fail('IO_ERROR', `${what} ${name} is not a regular file`);
    if (stat.size > limit) tooLong(name, what, limit);
    const bytes = new Uint8Array(stat.size);
    let at = 0;
    while (at < bytes.length) {
      const { bytesRead } = await handle.read(bytes, at, bytes.length - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return at === bytes.length ? bytes : bytes.slice(0, at);
  } catch (e) {
    if (e instanceof SimdnetError) throw e;
    ioFail(e, name, what);
  } finally {
    await handle.close();
  }
}

function ioFail(error: unknown, name: string, what: string): never {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') fail('IO_ERROR', `${what} not found: ${name}`);
  fail('IO_ERROR', `reading ${what} ${name} failed: ${(error as Error).message}`);
}

/** A fetched body, refused (and the transfer cancelled) once it is known to exceed `limit`. */
async function fetchBounded(url: URL, what: string, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    fail('IO_ERROR', `fetching ${what} ${url.href} failed: ${cause ?? (e as Error).message}`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    fail('IO_ERROR', `fetching ${what} ${url.href} failed: HTTP ${res.status}`);
  }
  if (!res.body) return new Uint8Array(0);
  if (Number(res.headers.get('content-length')) > limit) {
    await res.body.cancel();
    tooLong(url.href, what, limit);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      total += chunk.value.length;
      if (total > limit) {
        await reader.cancel();
        tooLong(url.href, what, limit);
      }
      chunks.push(chunk.value);
    }
  } catch (e) {
    if (e instanceof SimdnetError) throw e;
    fail('IO_ERROR', `fetching ${what} ${url.href} failed: ${(e as Error).message}`);
  }
  return concat(chunks, total);
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** A URL from a URL, an absolute URL string, or a path (relative to the working directory under Node). */
export function toUrl(url: string | URL): URL {
  if (url instanceof URL) return url;
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return parseUrl(url);
  if (!isNode) return parseUrl(url, globalThis.location?.href);
  // Set as a path, so that '#', '?' and '%' in file names stay part of the path.
  const file = new URL('file:///');
  file.pathname = `${url.startsWith('/') ? '' : `${process.cwd()}/`}${url}`.replaceAll('%', '%25');
  return file;
}

/** `new URL`, whose TypeError on a malformed URL (or a relative path where there is no base) becomes INVALID_ARGUMENT. */
function parseUrl(url: string, base?: string): URL {
  try {
    return new URL(url, base);
  } catch {
    fail(
      'INVALID_ARGUMENT',
      `not a valid URL${base === undefined && !/^[a-z][a-z0-9+.-]*:/i.test(url) ? ' (a relative path needs a page to resolve it against)' : ''}: ${url}`,
    );
  }
}

export interface LoadModelOptions {
  /**
   * Let weight files named in the model lie outside its folder: other directories, absolute paths,
   * other hosts (for shards hosted elsewhere). Off by default; the size bounds hold either way.
   */
  allowExternalWeights?: boolean;
  /** 'int8': quantize every float32 layer's weights as the model is built (int8 layers stay as they are); see docs/int8.md. */
  quantize?: Quantization;
}

/** `loadModel`'s options, all checked; whether weight files may lie outside the model's folder. */
export function allowsExternalWeights(options: unknown): boolean {
  if (options === undefined) return false;
  if (options === null || typeof options !== 'object') fail('INVALID_ARGUMENT', 'loadModel() options must be an object');
  for (const key of Object.keys(options)) {
    if (key !== 'allowExternalWeights' && key !== 'quantize') {
      fail('INVALID_ARGUMENT', `unknown loadModel() option ${JSON.stringify(key)}; options: allowExternalWeights, quantize`);
    }
  }
  const { quantize } = options as LoadModelOptions;
  if (quantize !== undefined) checkQuantization(quantize);
  const allow = (options as LoadModelOptions).allowExternalWeights ?? false;
  if (typeof allow !== 'boolean') fail('INVALID_ARGUMENT', `allowExternalWeights must be a boolean, got ${String(allow)}`);
  return allow;
}

/** Weight files read one after another into one buffer: their bytes must add up to `byteLength` exactly. */
export interface WeightFiles {
  /** The files' names, relative to the model file (as TF.js' manifest and simdnet's `weightsPath` give them). */
  paths: readonly string[];
  byteLength: number;
}

// A name's parts may not be empty, '.' or '..'; no scheme, no leading '/', no '\' (a separator on
// Windows), no '%' (an escape may hide a '..' or a '/'), no '?' or '#', no control characters.
const UNSAFE_NAME = /^[a-z][a-z0-9+.-]*:|^\/|[\\%?#\u0000-\u001f\u007f]|(^|\/)\.{0,2}(\/|$)/i;

/**
 * Where a weight file named in a model file is: relative to the model file, and inside its folder
 * (same origin and path prefix; on disk, also after following symlinks) unless external weights are
 * allowed. On disk, the path to read (symlinks resolved, so that what was checked is what is read).
 */
async function locateWeights(name: string, modelUrl: URL, allowExternal: boolean): Promise<URL | string> {
  const fault: (why: string) => never = (why) => fail('INVALID_MODEL', `weights path ${JSON.stringify(name)} ${why}`);
  if (name === '') fault('is empty');
  if (!allowExternal && UNSAFE_NAME.test(name)) fault("is not a plain relative path inside the model's folder");
  let url: URL;
  try {
    url = new URL(name, modelUrl);
  } catch {
    fault('is not a valid URL or path');
  }
  // Even when allowed elsewhere, a model from the network does not get to read this machine's files.
  if (url.protocol === 'file:' && modelUrl.protocol !== 'file:') fault('names a local file, from a model that is not one');
  if (allowExternal) return url;
  const folder = new URL('.', modelUrl);
  const inside =
    url.protocol === folder.protocol &&
    url.host === folder.host &&
    url.pathname.startsWith(folder.pathname) &&
    url.search === '' &&
    url.hash === '';
  if (!inside) fault("leaves the model's folder");
  if (url.protocol !== 'file:' || !isNode) return url;
  const fs = await nodeFs();
  const realPath = (u: URL) => fs.realpath(u).catch((e: unknown) => ioFail(e, nameOf(u), 'weights file'));
  const [realFolder, realFile] = await Promise.all([realPath(folder), realPath(url)]);
  if (!isInside(realFile, realFolder)) fault("leads out of the model's folder through a symlink");
  return realFile;
}

/** Whether the real path `file` lies in the real folder `folder` (either separator, for Windows). */
function isInside(file: string, folder: string): boolean {
  const prefix = /[/\\]$/.test(folder) ? folder : `${folder}/`;
  return file.startsWith(prefix) || file.startsWith(prefix.replace(/\/$/, '\\'));
}

/**
 * The weight files of a model file at `modelUrl`, group after group, concatenated. Every name is
 * checked before any file is read, and no more than a group's `byteLength` is ever read for it.
 */
export async function readWeightFiles(
  groups: readonly WeightFiles[],
  modelUrl: URL,
  allowExternal: boolean,
): Promise<Uint8Array<ArrayBuffer>> {
  const located = [];
  for (const group of groups) {
    const files = [];
    for (const path of group.paths) files.push(await locateWeights(path, modelUrl, allowExternal));
    located.push(files);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (const [g, { paths, byteLength }] of groups.entries()) {
    let read = 0;
    for (const [i, file] of located[g]!.entries()) {
      const limit = byteLength - read;
      const bytes =
        typeof file === 'string'
          ? await readFileBounded(file, paths[i]!, 'weights file', limit)
          : await readBytes(file, { what: 'weights file', limit });
      chunks.push(bytes);
      read += bytes.length;
    }
    if (read !== byteLength) fail('INVALID_MODEL', `weight files ${paths.join(', ')} hold ${read} bytes; their weights need ${byteLength}`);
    total += read;
  }
  return concat(chunks, total);
}
