// Regressions for the findings of an adversarial review: each input below once got past a check
// (read unbounded, allocated far more than the file held, threw a TypeError or leaked memory).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ErrorCode, SimdnetError, init } from '../ts/index.js';
import { randomArray } from './helpers.js';
import { tinyTfjs } from './model-files.js';
import { model as onnxModel } from './onnx-model.js';

const nn = await init();
const witness = nn.sequential([{ inputDim: 3, units: 2, seed: 3 }]);
const probe = randomArray(6, 1, 1);
const expected = witness.predict(probe, 2);

async function refuses(code: ErrorCode, call: () => unknown, message?: RegExp): Promise<void> {
  const before = nn.allocatedBytes;
  let error: unknown;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(SimdnetError);
  expect((error as SimdnetError).code).toBe(code);
  if (message) expect((error as SimdnetError).message).toMatch(message);
  expect(nn.allocatedBytes).toBe(before);
  expect(witness.predict(probe, 2)).toEqual(expected);
}

describe('model files may not make simdnet read or allocate more than they hold', () => {
  it('a TF.js shape whose element count overflows to NaN is refused before the shard is read', async () => {
    const { doc } = tinyTfjs();
    doc.weightsManifest[0]!.weights = [{ name: 'w', shape: [...Array(20).fill(2 ** 53 - 1), 0, 2 ** 53 - 1], dtype: 'float32' }];
    const dir = mkdtempSync(join(tmpdir(), 'simdnet-review-'));
    writeFileSync(join(dir, 'model.json'), JSON.stringify(doc));
    writeFileSync(join(dir, 'group1-shard1of1.bin'), new Uint8Array(1 << 20));
    await refuses('INVALID_MODEL', () => nn.loadModel(join(dir, 'model.json')), /weights file group1-shard1of1.bin|4 GiB/);
  });

  it('TF.js layers of one name (which would share one set of weights) are refused', async () => {
    const { doc, shard } = tinyTfjs();
    const dense = doc.modelTopology.config.layers[0]!;
    doc.modelTopology.config.layers.push({ class_name: 'Dense', config: { ...dense.config, units: 4, batch_input_shape: undefined } });
    await refuses(
      'INVALID_MODEL',
      () => nn.loadModel({ modelTopology: doc.modelTopology, weightSpecs: doc.weightsManifest[0]!.weights as never, weightData: shard }),
      /used by an earlier layer/,
    );
  });

  it('an ONNX file whose nodes share one weight many times is refused, not packed many times', async () => {
    const w = randomArray(64 * 64, 2, 1);
    const bytes = onnxModel(
      Array.from({ length: 40 }, () => ({ op: 'MatMul', inputs: ['W'] })),
      { W: [[64, 64], w] },
    );
    await refuses('INVALID_MODEL', () => nn.loadModel(bytes), /can justify/);
    // A few shared uses stay within the bound (tied weights exist in real models).
    const shared = await nn.loadModel(
      onnxModel(
        [
          { op: 'MatMul', inputs: ['W'] },
          { op: 'MatMul', inputs: ['W'] },
        ],
        { W: [[64, 64], w] },
      ),
    );
    expect(shared.layers).toHaveLength(2);
    shared.dispose();
  });

  it('a malformed URL or path is INVALID_ARGUMENT, not a TypeError', async () => {
    await refuses('INVALID_ARGUMENT', () => nn.loadModel('http://[x'), /not a valid URL/);
    await refuses('INVALID_ARGUMENT', () => nn.loadModel('file://host:99999/x'), /not a valid URL/);
  });
});

describe('values that are not numbers, and options the cache must not wave through', () => {
  it('nn.tensor, dense and setWeights refuse BigInts and throwing values, leaking nothing', async () => {
    await refuses('INVALID_ARGUMENT', () => nn.tensor([1n] as never));
    await refuses('INVALID_ARGUMENT', () => nn.tensor(new BigInt64Array(4) as never));
    await refuses('INVALID_ARGUMENT', () =>
      nn.tensor([
        {
          valueOf() {
            throw new Error('no');
          },
        },
      ] as never),
    );
    await refuses('INVALID_ARGUMENT', () => nn.dense({ inputDim: 1, units: 1, kernel: [1n] as never }));
    const layer = nn.dense({ inputDim: 1, units: 1, seed: 1 });
    const weights = layer.getWeights();
    await refuses('INVALID_ARGUMENT', () => layer.setWeights([1n] as never));
    expect(layer.getWeights()).toEqual(weights);
    layer.dispose();
  });

  it('a cached resolution does not accept a key it was not resolved with', async () => {
    const x = new Float32Array([-1, 1]);
    nn.activate('elu', x, { alpha: undefined });
    await refuses('INVALID_ARGUMENT', () => nn.activate('elu', x, { alpah: undefined } as never), /alpah/);
    await refuses('INVALID_ARGUMENT', () => nn.activate('elu', x, { beta: undefined }), /beta/);
  });

  it('axisSize is checked on elementwise functions too; inPlace with into is refused', async () => {
    const x = new Float32Array([-1, 1, 2, 3]);
    expect(nn.activate('relu', x, { axisSize: 2 })).toEqual(new Float32Array([0, 1, 2, 3]));
    await refuses('INVALID_ARGUMENT', () => nn.activate('relu', x, { axisSize: -5 }));
    await refuses('INVALID_ARGUMENT', () => nn.activate('relu', x, { axisSize: 'x' } as never));
    const [a, b] = [nn.tensor(x), nn.tensor(x)];
    await refuses('INVALID_ARGUMENT', () => nn.activate('relu', a, { inPlace: true, into: b }), /inPlace and into/);
    a.dispose();
    b.dispose();
  });

  it('a shape with holes is refused; a zero dimension makes an empty tensor whatever the others', async () => {
    // eslint-disable-next-line no-sparse-arrays
    await refuses('INVALID_ARGUMENT', () => nn.tensor(new Float32Array(5), [, 5] as never));
    const empty = nn.zeros([2 ** 40, 2 ** 40, 0]);
    expect(empty.size).toBe(0);
    empty.dispose();
  });
});

describe('exporting what cannot be exported', () => {
  it('toTfjs refuses a model with steps after an activation instead of dropping them', async () => {
    const stepped = nn.sequential([{ inputDim: 3, units: 2, activation: 'tanh', then: [{ name: 'leaky_relu', negativeSlope: 0.1 }] }]);
    await refuses('INVALID_ARGUMENT', () => stepped.toTfjs(), /steps after its activation/);
    stepped.dispose();
  });
});

describe('training on views of wasm memory', () => {
  it("trainOnBatch, evaluate and fit take a tensor's .data though the step grows the memory", async () => {
    const model = nn.sequential([
      { inputDim: 4, units: 3, activation: 'relu', seed: 1 },
      { units: 1, activation: 'sigmoid' },
    ]);
    model.compile({ optimizer: 'sgd', loss: 'binary_crossentropy' });
    const [x, y] = [nn.tensor(randomArray(20_000 * 4, 5, 1)), nn.tensor(randomArray(20_000, 6, 0.5).map((v) => (v > 0 ? 1 : 0)))];
    const copy = [x.toArray(), y.toArray()] as const;
    expect(Number.isFinite(model.trainOnBatch(x.data, y.data).loss)).toBe(true);
    expect(Number.isFinite(model.evaluate(x.data, y.data).loss)).toBe(true);
    const history = await model.fit(x.data, y.data, { epochs: 1, batchSize: 5000, verbose: 0 });
    expect(history.history.loss).toHaveLength(1);
    expect([x.toArray(), y.toArray()]).toEqual(copy);
    for (const o of [x, y, model]) o.dispose();
  });
});

describe('a diverged model reports NaN, not a finite loss', () => {
  it('binary and categorical cross-entropy of NaN predictions are NaN', () => {
    for (const [activation, loss, units] of [
      ['sigmoid', 'binary_crossentropy', 1],
      ['softmax', 'categorical_crossentropy', 2],
    ] as const) {
      const model = nn.sequential([{ inputDim: 2, units, activation, kernel: new Float32Array(2 * units).fill(NaN) }]);
      model.compile({ optimizer: 'sgd', loss });
      const y = new Float32Array(2 * units).fill(0).map((_, i) => (i % units === 0 ? 1 : 0));
      expect(model.evaluate(new Float32Array([1, 2, 3, 4]), y).loss).toBeNaN();
      model.dispose();
    }
  });
});

describe('the second review (threads, exp short path per block, the call-path caches)', () => {
  it('swish with a beta so small that 87/|beta| overflows keeps ±Inf inputs off the short path', async () => {
    const scalar = await init({ variant: 'scalar' });
    for (const beta of [1e-38, -1e-38, 1e-45]) {
      const x = new Float32Array(256).fill(1);
      x.set([Infinity, -Infinity, 3e38, -3e38], 0);
      const got = nn.activate('swish', x, { beta });
      expect(Array.from(got.subarray(0, 4)), `beta ${beta}`).toEqual(Array.from(scalar.activate('swish', x, { beta }).subarray(0, 4)));
      expect(got[beta > 0 ? 0 : 1], `beta ${beta}`).toBe(beta > 0 ? Infinity : -Infinity);
    }
  });

  it('a pair of views found disjoint while empty is checked again once a resize makes them overlap', async () => {
    const Resizable = ArrayBuffer as unknown as new (
      bytes: number,
      options: { maxByteLength: number },
    ) => ArrayBuffer & {
      resize(bytes: number): void;
    };
    const bytes = 1 << 12;
    const buffer = new Resizable(2 * bytes, { maxByteLength: 4 * bytes });
    // Length-tracking views: x from 0, out from the middle; glu's output is half of x.
    const [x, out] = [new Float32Array(buffer), new Float32Array(buffer, bytes)];
    await refuses('INVALID_ARGUMENT', () => nn.activate('glu', x, { axisSize: 2, out }));
    buffer.resize(0);
    nn.activate('glu', x, { axisSize: 2, out });
    buffer.resize(2 * bytes);
    await refuses('INVALID_ARGUMENT', () => nn.activate('glu', x, { axisSize: 2, out }));
  });

  it('a threaded instance refuses as out a view of its memory taken before the memory grew', async () => {
    const pooled = await init({ variant: 'simd', threads: 2 });
    const model = pooled.sequential([{ inputDim: 16, units: 4, seed: 3 }]);
    const inside = pooled.tensor(new Float32Array(8));
    const view = inside.data;
    // A shared memory's growth gives it a new SharedArrayBuffer; the old one's views stay live.
    const big = pooled.tensor(new Float32Array(1 << 22));
    expect(pooled.memory.buffer).not.toBe(view.buffer);
    expect(() => model.predict(new Float32Array(32), 2, { out: view })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(Array.from(inside.toArray())).toEqual(new Array(8).fill(0));
    big.dispose();
    pooled.dispose();
  });
});
