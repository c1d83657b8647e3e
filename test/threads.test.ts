// The worker pool (ts/threads/, crate/src/pool.rs): results equal one thread's bit for bit, whatever
// the thread count and tile shapes; growth, dead workers and the process lifecycle.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { CHROMIUM, launchChromium } from './browser.js';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type ActivationSpec, KERAS_MLP, type LayerSpec, type Simdnet, SimdnetError, init } from '../ts/index.js';
import { SPLIT_BLOCK } from '../ts/activate.js';
import { instantiateThreaded, loadModule, sharedMemory } from '../ts/loader.js';
import { seededRandom, uniform } from '../ts/random.js';
import { expectSameBits, rejectsCleanly } from './helpers.js';

const variant = 'simd';
const single = await init({ variant });
const pools = new Map<number, Simdnet>();
for (const threads of [2, 3, 4]) pools.set(threads, await init({ variant, threads }));
afterAll(() => pools.forEach((nn) => nn.dispose()));

const random = (n: number, seed: number) => uniform(n, 1, seededRandom(seed));

/** Runs `body` on one thread and on each pool: the pool must have split every call, with the same bits. */
function expectSameOnEveryPool(body: (nn: Simdnet) => Float32Array): void {
  const expected = body(single);
  for (const [threads, nn] of pools) {
    expect(nn.threads).toBe(threads);
    const calls = nn.threadedCalls;
    expectSameBits(body(nn), expected);
    expect(nn.threadedCalls, `${threads} threads`).toBeGreaterThan(calls);
  }
}

describe('threads', () => {
  /** Every test of a dense layer runs on both kernels, each case preceded by its weights' format. */
  type Format = 'float32' | 'int8';
  const withFormats = <T extends unknown[]>(cases: T[]) =>
    (['float32', 'int8'] as const).flatMap((format) => cases.map((c): [Format, ...T] => [format, ...c]));
  /** The layer options of `format`. */
  const weights = (format: Format) => (format === 'int8' ? { quantize: format } : {});

  // Batches with every remainder of the 4-row block (float32 tails of 1, 2, 3 rows: 1×24, 2×16, 3×8
  // tiles; int8 partial blocks of 1 row and of 2-3 run as full ones), widths with partial panels, and
  // sizes above the wake threshold (2^20 multiply-adds). Row 0 is zeros (an int8 step of 0) and the
  // last row holds a NaN (step NaN), both quantized by thread 0 before the tiles.
  it.each(
    withFormats<[number, number, number]>([
      [1, 1024, 1030],
      [2, 700, 777],
      [3, 520, 700],
      [4, 512, 520],
      [7, 300, 517],
      [64, 128, 129],
      [257, 64, 70],
      [1023, 129, 9],
      [4096, 256, 1],
    ]),
  )('splits a dense layer of %s weights, batch %i, %i → %i, into the same bits as one thread', (format, batch, inputs, units) => {
    const kernel = random(inputs * units, batch);
    const bias = random(units, batch + 1);
    const x = random(batch * inputs, batch + 2);
    x.fill(0, 0, inputs);
    if (batch > 1) x[batch * inputs - 2] = NaN;
    expectSameOnEveryPool((nn) => {
      const layer = nn.dense({ inputDim: inputs, units, activation: 'tanh', kernel, bias, ...weights(format) });
      const y = layer.apply(x, batch);
      layer.dispose();
      return y;
    });
  });

  it.each(withFormats<[ActivationSpec]>([['softmax'], [{ name: 'prelu', slope: 0.25 }], ['gelu'], ['linear']]))(
    'applies to a split %s layer the activation %j as one thread does',
    (format, activation) => {
      const [batch, inputs, units] = [300, 130, 67];
      const x = random(batch * inputs, 7);
      expectSameOnEveryPool((nn) => {
        const layer = nn.dense({ inputDim: inputs, units, activation, seed: 3, ...weights(format) });
        const y = layer.apply(x, batch);
        layer.dispose();
        return y;
      });
    },
  );

  it.each(['relu', 'sigmoid', 'gelu', 'softplus'] as const)('splits %s over large tensors (in place too) into the same bits', (name) => {
    for (const n of [(1 << 18) + 3, 1_000_003]) {
      const x = random(n, n).map((v) => v * 10);
      expectSameOnEveryPool((nn) => {
        const input = nn.tensor(x);
        const [y, inPlace] = [nn.activate(name, input), nn.activate(name, input, { inPlace: true })];
        const results = [y.toArray(), inPlace.toArray()];
        expectSameBits(results[1]!, results[0]!);
        y.dispose();
        input.dispose();
        return results[0]!;
      });
    }
  });

  it.each([
    ['softmax', 1000],
    ['log_softmax', 333],
    ['softmin', 70_000],
    ['glu', 4096],
  ] as const)('splits %s over large tensors by rows (axis %i) into the same bits', (name, axisSize) => {
    const x = random(300 * 1000, axisSize).map((v) => v * 20);
    expectSameOnEveryPool((nn) => {
      const input = nn.tensor(x.subarray(0, Math.floor(x.length / axisSize) * axisSize));
      const y = nn.activate(name, input, { axisSize });
      const result = y.toArray();
      y.dispose();
      input.dispose();
      return result;
    });
  });

  // Float32Arrays stream through wasm memory; from the wake threshold on, in blocks of whole rows (elementwise: of
  // whole claims of the pool, the last one shorter) of at least SPLIT_BLOCK floats, each of them split.
  const S = SPLIT_BLOCK;
  it.each([
    ['sigmoid', (1 << 18) + 3, 1, 1],
    ['gelu', 2 * S + S / 2 + 3, 1, 2],
    ['relu', 3 * S, 1, 3],
    ['softmax', 2 * Math.ceil(S / 1000) + 1, 1000, 2],
    ['log_softmax', 1001, 333, 1],
    ['glu', 100, 4096, 1],
    ['softmin', 3, S + 6, 3],
  ] as const)('splits %s over a Float32Array of %i rows of %i into the same bits: new, out and out = x', (name, rows, axisSize, blocks) => {
    const x = random(rows * axisSize, rows).map((v) => v * 10);
    expectSameOnEveryPool((nn) => {
      const calls = nn.threadedCalls;
      const result = nn.activate(name, x, { axisSize });
      expect(nn.threadedCalls - calls, 'split calls').toBe(nn.threads > 1 ? blocks : 0);
      const out = new Float32Array(result.length);
      expect(nn.activate(name, x, { axisSize, out })).toBe(out);
      expectSameBits(out, result);
      if (name !== 'glu') {
        const own = x.slice();
        expect(nn.activate(name, own, { axisSize, out: own })).toBe(own);
        expectSameBits(own, result);
      }
      return result;
    });
  });

  it('splits glu over a Float32Array without a thread overwriting input rows another has yet to read', () => {
    // In place, a claim's half-length output rows land on input rows of an earlier claim, which another thread
    // may still be reading: 1–6 of 200 such calls differed (rows of 2 to 64), and this test failed on both runs.
    const x = random(1 << 20, 37).map((v) => v * 5);
    for (const axisSize of [2, 64]) {
      const expected = single.activate('glu', x, { axisSize });
      for (const nn of pools.values()) {
        const calls = nn.threadedCalls;
        for (let call = 0; call < 10; call++) expectSameBits(nn.activate('glu', x, { axisSize }), expected);
        expect(nn.threadedCalls).toBe(calls + 10);
      }
    }
  });

  it('leaves Float32Arrays below the threshold, sparsemax and prelu on the calling thread, with the same bits', () => {
    const nn = pools.get(2)!;
    const calls = nn.threadedCalls;
    const [small, large] = [random((1 << 18) - 1, 31), random(1 << 19, 32)];
    expectSameBits(nn.activate('sigmoid', small), single.activate('sigmoid', small));
    expectSameBits(nn.activate('sparsemax', large, { axisSize: 512 }), single.activate('sparsemax', large, { axisSize: 512 }));
    const slope = random(512, 33);
    expectSameBits(nn.activate('prelu', large, { axisSize: 512, slope }), single.activate('prelu', large, { axisSize: 512, slope }));
    expect(nn.threadedCalls).toBe(calls);
  });

  it('splits Float32Array activations whose scratch grows the memory, and after another growth, with the same bits', async () => {
    const nn = await init({ variant, threads: 2 });
    const x = random(600_000, 34);
    const expected = single.activate('tanh', x);
    // The first large call grows the scratch, and so the memory, under a view of it given as out.
    const target = nn.zeros([x.length]);
    const before = nn.memory.buffer.byteLength;
    const calls = nn.threadedCalls;
    expect(nn.activate('tanh', x, { out: target.data })).toHaveLength(x.length);
    expect(nn.memory.buffer.byteLength).toBeGreaterThan(before);
    expectSameBits(target.toArray(), expected);
    const grown = nn.memory.buffer.byteLength;
    const big = nn.zeros([16 * 1024 * 1024]);
    expect(nn.memory.buffer.byteLength).toBeGreaterThan(grown);
    const out = new Float32Array(x.length);
    expectSameBits(nn.activate('tanh', x, { out }), expected);
    expectSameBits(nn.activate('softmax', x, { axisSize: 600 }), single.activate('softmax', x, { axisSize: 600 }));
    expect(nn.threadedCalls).toBeGreaterThan(calls + 2);
    expectSameBits(target.toArray(), expected);
    big.dispose();
    nn.dispose();
    // Stopped: the same bits through the cache-sized stream, on the calling thread.
    const stopped = nn.threadedCalls;
    expectSameBits(nn.activate('tanh', x), expected);
    expect(nn.threadedCalls).toBe(stopped);
  });

  const models: [string, LayerSpec[], number][] = [
    ['the Keras MLP', [...KERAS_MLP], 1024],
    [
      'a model with softmax, prelu and a narrow layer',
      [
        { inputDim: 96, units: 200, activation: { name: 'prelu', slope: 0.1 } },
        { units: 3, activation: 'relu' },
        { units: 150, activation: 'softmax' },
      ],
      2049,
    ],
    [
      'a model with steps after its layers',
      [
        { inputDim: 130, units: 301, activation: 'gelu', then: [{ scale: 1.5, shift: -0.25 }, 'softmax'] },
        { units: 67, activation: 'tanh', then: [{ name: 'prelu', slope: 0.2 }, 'log_softmax'] },
      ],
      513,
    ],
  ];
  it.each(withFormats(models))(
    'splits the %s form of %s (by rows, or layer by layer) into the same bits as one thread',
    (format, _name, specs, batch) => {
      const x = random(batch * (specs[0]!.inputDim ?? 0), 11);
      expectSameOnEveryPool((nn) => {
        const model = nn.sequential(specs.map((spec, i) => ({ ...spec, seed: i + 1, ...weights(format) })));
        const y = model.predict(x, batch);
        model.dispose();
        return y;
      });
    },
  );

  it('splits a model quantized by model.quantize, and one mixing float32 and int8 layers, into the same bits', () => {
    const x = random(64 * 512, 41);
    const specs: LayerSpec[] = [
      { inputDim: 512, units: 700, activation: 'relu', seed: 1 },
      { units: 600, activation: 'gelu', seed: 2, quantize: 'int8' },
      { units: 33, activation: 'softmax', seed: 3 },
    ];
    expectSameOnEveryPool((nn) => {
      const mixed = nn.sequential(specs);
      const quantized = mixed.quantize('int8');
      const y = Float32Array.from([...mixed.predict(x, 64), ...quantized.predict(x, 64)]);
      mixed.dispose();
      quantized.dispose();
      return y;
    });
  });

  it("gives the relaxed build's bits on its threaded variant", async () => {
    const [one, two] = [await init({ variant: 'relaxed' }), await init({ variant: 'relaxed', threads: 2 })];
    const [batch, inputs, units] = [333, 200, 301];
    const x = random(batch * inputs, 12);
    const run = (nn: Simdnet) => [
      nn.dense({ inputDim: inputs, units, activation: 'swish', seed: 2 }).apply(x, batch),
      nn.dense({ inputDim: inputs, units, activation: 'swish', seed: 2, quantize: 'int8' }).apply(x, batch),
      nn.sequential([...KERAS_MLP]).predict(random(64 * 1024, 13), 1024),
      nn
        .sequential([...KERAS_MLP])
        .quantize('int8')
        .predict(random(64 * 1024, 13), 1024),
    ];
    const expected = run(one);
    run(two).forEach((y, i) => expectSameBits(y, expected[i]!));
    expect(two.threadedCalls).toBe(4);
    two.dispose();
  });

  it('initialises the data segments once: a second instance over the memory leaves them as they are', async () => {
    const module = await loadModule({ variant }, true);
    const memory = sharedMemory() as WebAssembly.Memory;
    const first = await instantiateThreaded(module, memory);
    const [start, end] = [
      first.__stack_pointer.value as number,
      (first as unknown as { __data_end: WebAssembly.Global }).__data_end.value as number,
    ];
    expect(end).toBeGreaterThan(start);
    const data = new Uint8Array(memory.buffer, start, end - start);
    const marked = data.map((b) => b ^ 0xff);
    data.set(marked);
    await instantiateThreaded(module, memory);
    expect(new Uint8Array(memory.buffer, start, end - start)).toEqual(marked);
  });

  it('leaves batch-1 calls on the calling thread', () => {
    const nn = pools.get(2)!;
    const model = nn.sequential([...KERAS_MLP]);
    const calls = nn.threadedCalls;
    model.predict(random(64, 1), 1);
    expect(nn.threadedCalls).toBe(calls);
    model.dispose();
  });

  it('keeps working, and keeps every tensor, when the memory grows with workers alive', async () => {
    const nn = await init({ variant, threads: 2 });
    const data = random(1000, 5);
    const kept = nn.tensor(data);
    const before = nn.memory.buffer.byteLength;
    const big = nn.zeros([16 * 1024 * 1024]);
    expect(nn.memory.buffer.byteLength).toBeGreaterThan(before);
    expectSameBits(kept.toArray(), data);
    expect(big.toArray().length).toBe(16 * 1024 * 1024);
    const [batch, inputs, units] = [1000, 100, 300];
    const x = random(batch * inputs, 6);
    const run = (on: Simdnet) => on.dense({ inputDim: inputs, units, seed: 9 }).apply(x, batch);
    const calls = nn.threadedCalls;
    expectSameBits(run(nn), run(single));
    expect(nn.threadedCalls).toBe(calls + 1);
    nn.dispose();
  });

  it.each(['float32', 'int8'] as const)(
    'fails the next call of a %s layer with WORKER_FAILED when a worker died, changing nothing, then runs on one thread',
    async (format) => {
      const nn = await init({ variant, threads: 2 });
      const [batch, inputs, units] = [512, 64, 64];
      const layer = nn.dense({ inputDim: inputs, units, seed: 4, ...weights(format) });
      const x = random(batch * inputs, 8);
      const expected = layer.apply(x, batch);
      const input = nn.tensor(x, [batch, inputs]);
      const output = nn.zeros([batch, units]);
      const bytes = nn.allocatedBytes;
      nn.pool!.crashWorker(0);
      while (nn.pool!.failure === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
      let error: unknown;
      try {
        layer.apply(input, { into: output });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SimdnetError);
      expect((error as SimdnetError).code).toBe('WORKER_FAILED');
      expect(nn.allocatedBytes).toBe(bytes);
      expectSameBits(output.toArray(), new Float32Array(batch * units));
      expect(nn.threads).toBe(1);
      expect(nn.threadsReason).toMatch(/worker/);
      expectSameBits(layer.apply(x, batch), expected);
    },
  );

  it('fails a split Float32Array activation with WORKER_FAILED when a worker died, changing nothing, then runs on one thread', async () => {
    const nn = await init({ variant, threads: 2 });
    const x = random(1 << 19, 35);
    const out = random(x.length, 36);
    nn.activate('sigmoid', x, { out: new Float32Array(x.length) });
    nn.pool!.crashWorker(0);
    while (nn.pool!.failure === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
    rejectsCleanly(
      nn,
      'WORKER_FAILED',
      () => nn.activate('sigmoid', x, { out }),
      () => [x, out],
    );
    expect(nn.threads).toBe(1);
    expectSameBits(nn.activate('sigmoid', x, { out }), single.activate('sigmoid', x));
  });

  it('fails with WORKER_FAILED, not a hang, when a worker dies right before a call (before its death is reported)', async () => {
    const nn = await init({ variant, threads: 2 });
    const [batch, inputs, units] = [512, 64, 64];
    const model = nn.sequential([
      { inputDim: inputs, units, seed: 4 },
      { units, activation: 'relu', seed: 5 },
    ]);
    const x = random(batch * inputs, 9);
    const expected = model.predict(x, batch);
    nn.pool!.crashWorker(0);
    // No await: the worker's exit event cannot arrive before this call, which must give up waiting for it.
    let error: unknown;
    try {
      model.predict(x, batch);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SimdnetError);
    expect((error as SimdnetError).code).toBe('WORKER_FAILED');
    expect(nn.threads).toBe(1);
    expectSameBits(model.predict(x, batch), expected);
    nn.dispose();
  });

  it('falls back to one thread, saying why, where threads cannot run', async () => {
    const scalar = await init({ variant: 'scalar', threads: 2 });
    expect(scalar.threads).toBe(1);
    expect(scalar.threadsReason).toMatch(/scalar/);
    const one = await init({ variant, threads: 1 });
    expect([one.threads, one.threadsReason]).toEqual([1, undefined]);
    const auto = await init({ variant, threads: 'auto' });
    expect(auto.threads).toBeGreaterThanOrEqual(1);
    auto.dispose();
    expect(auto.threads).toBe(1);
  });

  it.each([0, -1, 1.5, 65, 'all', null])('refuses threads: %j with INVALID_ARGUMENT', async (threads) => {
    await expect(init({ variant, threads: threads as number })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  const dist = fileURLToPath(new URL('../dist/ts/index.js', import.meta.url));
  const runtime = (path: string) => fileURLToPath(new URL(`../target/runtimes/node_modules/.bin/${path}`, import.meta.url));
  const check = fileURLToPath(new URL('./fixtures/threads-check.mjs', import.meta.url));
  it.each([
    ['Deno', runtime('deno'), ['run', '--allow-read', check]],
    ['Bun', runtime('bun'), [check]],
    ['Node (installed)', runtime('node'), [check]],
  ])('splits the same bits under %s, whose process then exits by itself', (_name, bin, args) => {
    if (!existsSync(dist) || !existsSync(bin)) return void console.warn(`[threads] ${_name}: skipped, ${bin} or ${dist} missing`);
    const out = execFileSync(bin, args, { encoding: 'utf8', timeout: 30_000 });
    expect(JSON.parse(out)).toEqual({ threads: 2, reason: null, threadedCalls: 1, same: true });
  });

  it.skipIf(!existsSync(dist) || !existsSync(CHROMIUM)).each([
    ['splits the same bits in Chromium on a cross-origin isolated page', true, { threads: 2, reason: null, threadedCalls: 1 }],
    [
      'runs one thread in Chromium on a page that is not cross-origin isolated, saying why',
      false,
      {
        threads: 1,
        reason: expect.stringMatching(/cross-origin isolated/),
        threadedCalls: 0,
      },
    ],
  ])('%s', async (_name, isolated, expected) => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const server = createServer(async (req, res) => {
      const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
      const type = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' }[
        extname(path)
      ];
      const body = path.startsWith(root) ? await readFile(path).catch(() => undefined) : undefined;
      if (body === undefined) return void res.writeHead(404).end();
      const isolation = isolated ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
      res.writeHead(200, { 'content-type': type ?? 'application/octet-stream', ...isolation }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/test/fixtures/threads-check.html`);
      await page.waitForFunction(() => (globalThis as { threadsCheck?: unknown }).threadsCheck, null, { timeout: 30_000 });
      const seen = await page.evaluate(() => (globalThis as { threadsCheck?: unknown }).threadsCheck);
      expect(seen).toEqual({ ...expected, same: true });
    } finally {
      await browser.close();
      server.close();
    }
  });

  it.skipIf(!existsSync(dist))('lets a Node process with an idle pool exit by itself', () => {
    const script = `
      const { init } = await import(${JSON.stringify(dist)});
      const nn = await init({ variant: 'simd', threads: 3 });
      const layer = nn.dense({ inputDim: 256, units: 256, seed: 1 });
      const y = layer.apply(new Float32Array(256 * 64).fill(1), 64);
      console.log(nn.threads, nn.threadedCalls, y.length);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(out.trim()).toBe('3 1 16384');
  });
});
