import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ErrorCode, Tensor, init } from '../ts/index.js';
import { errorOf } from './helpers.js';

const nn = await init();
const rejects = (code: ErrorCode, fn: () => unknown) => {
  const error = errorOf(fn);
  expect(error.code).toBe(code);
  expect(error.message).toContain(code);
};

describe('typed errors, raised before memory is touched', () => {
  it('DISPOSED: use after dispose and double dispose', () => {
    const t = nn.tensor([1, 2], [2]);
    t.dispose();
    rejects('DISPOSED', () => t.data);
    rejects('DISPOSED', () => t.dispose());
    rejects('DISPOSED', () => nn.activate('relu', t));
    const layer = nn.dense({ inputDim: 2, units: 1 });
    layer.dispose();
    rejects('DISPOSED', () => layer.apply(new Float32Array(2)));
    rejects('DISPOSED', () => layer.getWeights());
    rejects('DISPOSED', () => layer.dispose());
    const model = nn.sequential([{ inputDim: 2, units: 1 }]);
    model.dispose();
    rejects('DISPOSED', () => model.predict(new Float32Array(2)));
    rejects('DISPOSED', () => model.dispose());
    const live = nn.dense({ inputDim: 2, units: 1 });
    const disposedInput = nn.tensor([1, 2], [1, 2]);
    disposedInput.dispose();
    rejects('DISPOSED', () => live.apply(disposedInput));
  });

  it('`using` disposes once, also after an explicit dispose', () => {
    const before = nn.allocatedBytes;
    {
      using t = nn.tensor([1, 2, 3]);
      using m = nn.sequential([{ inputDim: 3, units: 2 }]);
      using y = m.predict(t);
      expect(y.size).toBe(2);
      t.dispose();
    }
    expect(nn.allocatedBytes).toBe(before);
  });

  it('SHAPE_MISMATCH: wrong lengths and shapes', () => {
    rejects('SHAPE_MISMATCH', () => nn.tensor([1, 2, 3], [2, 2]));
    rejects('SHAPE_MISMATCH', () => nn.dense({ inputDim: 3, units: 2, kernel: new Float32Array(5) }));
    rejects('SHAPE_MISMATCH', () => nn.dense({ inputDim: 3, units: 2, bias: [1] }));
    const layer = nn.dense({ inputDim: 3, units: 2 });
    rejects('SHAPE_MISMATCH', () => layer.apply(new Float32Array(7)));
    rejects('SHAPE_MISMATCH', () => layer.apply(new Float32Array(6), 3));
    rejects('SHAPE_MISMATCH', () => layer.apply(nn.tensor([1, 2, 3, 4], [2, 2])));
    rejects('SHAPE_MISMATCH', () => layer.setWeights(new Float32Array(6), new Float32Array(3)));
    const model = nn.sequential([{ inputDim: 3, units: 2 }, { units: 1 }]);
    rejects('SHAPE_MISMATCH', () => model.predict(new Float32Array(4)));
    rejects('SHAPE_MISMATCH', () => model.setWeights([new Float32Array(6), new Float32Array(2)]));
    rejects('SHAPE_MISMATCH', () =>
      nn.sequential([
        { inputDim: 3, units: 2 },
        { inputDim: 4, units: 1 },
      ]),
    );
    rejects('SHAPE_MISMATCH', () => nn.activate('softmax', new Float32Array(10), { axisSize: 3 }));
    const t = nn.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    rejects('SHAPE_MISMATCH', () => nn.activate('relu', t, { into: nn.zeros([5]) }));
    rejects('SHAPE_MISMATCH', () => layer.apply(t, { into: nn.zeros([2, 3]) }));
  });

  it('a rejected setWeights leaves every layer as it was', () => {
    const model = nn.sequential([{ inputDim: 3, units: 2 }, { units: 1 }]);
    const before = model.getWeights();
    rejects('SHAPE_MISMATCH', () =>
      model.setWeights([new Float32Array(6).fill(9), new Float32Array(2).fill(9), new Float32Array(3), new Float32Array(1)]),
    );
    expect(model.getWeights()).toEqual(before);
  });

  it('UNKNOWN_ACTIVATION names the bad value', () => {
    rejects('UNKNOWN_ACTIVATION', () => nn.activate('swishy' as never, new Float32Array(2)));
    rejects('UNKNOWN_ACTIVATION', () => nn.dense({ inputDim: 1, units: 1, activation: 'ReLU' as never }));
    rejects('UNKNOWN_ACTIVATION', () => nn.sequential([{ inputDim: 1, units: 1, activation: 'gelu?' as never }]));
    expect(() => nn.activate('toString' as never, new Float32Array(1))).toThrow(/toString/);
  });

  it('INVALID_ARGUMENT: bad activation parameters, presets and glu misuse', () => {
    const x = new Float32Array(4);
    rejects('INVALID_ARGUMENT', () => nn.activate('relu', x, { preset: 'caffe' as never }));
    rejects('INVALID_ARGUMENT', () => nn.activate('elu', x, { alpha: NaN }));
    rejects('INVALID_ARGUMENT', () => nn.activate('celu', x, { alpha: 0 }));
    rejects('INVALID_ARGUMENT', () => nn.activate('hard_tanh', x, { minVal: 1, maxVal: -1 }));
    rejects('INVALID_ARGUMENT', () => nn.activate('hard_shrink', x, { threshold: -1 }));
    rejects('INVALID_ARGUMENT', () => nn.activate('softplus', x, { beta: 0 }));
    rejects('INVALID_ARGUMENT', () => nn.activate('relu', x, { maxValue: -1 }));
    rejects('INVALID_ARGUMENT', () => nn.activate('glu', nn.tensor(x, [2, 2]), { inPlace: true }));
    rejects('SHAPE_MISMATCH', () => nn.activate('glu', x, { axisSize: 1 }));
    rejects('INVALID_ARGUMENT', () => nn.dense({ inputDim: 2, units: 2, activation: 'glu' }));
    rejects('UNKNOWN_ACTIVATION', () => nn.dense({ inputDim: 2, units: 2, activation: { name: 'gelu2' as never } }));
  });

  it('INVALID_ARGUMENT: bad sizes, configs, inputs, variants', async () => {
    rejects('INVALID_ARGUMENT', () => nn.dense({ inputDim: -1, units: 2 }));
    rejects('INVALID_ARGUMENT', () => nn.dense({ inputDim: 2.5, units: 2 }));
    rejects('INVALID_ARGUMENT', () => nn.dense({ inputDim: 2, units: 2, kernelLayout: 'xy' as never }));
    rejects('INVALID_ARGUMENT', () => nn.dense({ inputDim: 2, units: 2, activation: 'leaky_relu', alpha: NaN }));
    rejects('INVALID_ARGUMENT', () => nn.sequential([]));
    rejects('INVALID_ARGUMENT', () => nn.sequential([{ units: 2 }]));
    rejects('INVALID_ARGUMENT', () => nn.tensor([1], [-1]));
    rejects('INVALID_ARGUMENT', () => nn.activate('relu', [1, 2] as never));
    const layer = nn.dense({ inputDim: 2, units: 1 });
    rejects('INVALID_ARGUMENT', () => layer.apply([1, 2] as never));
    rejects('INVALID_ARGUMENT', () => nn.activate('relu', nn.tensor([1]), { into: new Float32Array(1) as never }));
    const other = await init();
    rejects('INVALID_ARGUMENT', () => layer.apply(other.tensor([1, 2], [1, 2])));
    await expect(init({ variant: 'avx' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('OUT_OF_MEMORY past 4 GiB, with existing tensors intact', () => {
    const t = nn.tensor([1, 2, 3]);
    rejects('OUT_OF_MEMORY', () => nn.dense({ inputDim: 40000, units: 40000 }));
    const wide = nn.sequential([{ inputDim: 1, units: 300_000 }, { units: 1 }]);
    rejects('OUT_OF_MEMORY', () => wide.predict(new Float32Array(4000))); // 4000 × 300,000 floats of scratch
    expect(wide.predict(new Float32Array(2))).toHaveLength(2);
    expect(Array.from(t.data)).toEqual([1, 2, 3]);
  });
});

describe('every public method with hostile arguments', async () => {
  const other = await init();
  const model = nn.sequential([
    { inputDim: 3, units: 4, activation: 'relu' },
    { units: 2, activation: 'softmax' },
  ]);
  const input = new Float32Array([0.5, -1, 2, 1, 0, -0.25]);
  const expected = model.predict(input);
  const t = nn.tensor(input, [2, 3]);
  const layer = nn.dense({ inputDim: 3, units: 2, seed: 4 });
  const weights = layer.getWeights();
  const foreign = other.tensor(input, [2, 3]);
  const disposed = nn.tensor(input, [2, 3]);
  disposed.dispose();
  const kernel = new Float32Array(6);
  const any = (v: unknown) => v as never;
  const table: [string, ErrorCode, () => unknown][] = [
    ['tensor(null)', 'INVALID_ARGUMENT', () => nn.tensor(any(null))],
    ['tensor("abc")', 'INVALID_ARGUMENT', () => nn.tensor(any('abc'))],
    ['tensor(x, "abc")', 'INVALID_ARGUMENT', () => nn.tensor(input, any('abc'))],
    ['tensor(x, [NaN])', 'INVALID_ARGUMENT', () => nn.tensor(input, [NaN])],
    ['tensor(x, [2.5, 2])', 'INVALID_ARGUMENT', () => nn.tensor(input, [2.5, 2])],
    ['tensor(x, [null])', 'INVALID_ARGUMENT', () => nn.tensor(input, any([null]))],
    ['zeros([-1])', 'INVALID_ARGUMENT', () => nn.zeros([-1])],
    ['zeros("abc")', 'INVALID_ARGUMENT', () => nn.zeros(any('abc'))],
    ['zeros(null)', 'INVALID_ARGUMENT', () => nn.zeros(any(null))],
    ['zeros([Infinity])', 'INVALID_ARGUMENT', () => nn.zeros([Infinity])],
    ['zeros([2**40])', 'OUT_OF_MEMORY', () => nn.zeros([2 ** 40])],
    ['dense(null)', 'INVALID_ARGUMENT', () => nn.dense(any(null))],
    ['dense("abc")', 'INVALID_ARGUMENT', () => nn.dense(any('abc'))],
    ['dense inputDim "3"', 'INVALID_ARGUMENT', () => nn.dense(any({ inputDim: '3', units: 2 }))],
    ['dense units NaN', 'INVALID_ARGUMENT', () => nn.dense({ inputDim: 3, units: NaN })],
    ['dense kernel "abc"', 'INVALID_ARGUMENT', () => nn.dense(any({ inputDim: 3, units: 2, kernel: 'abcdef' }))],
    ['dense bias null', 'INVALID_ARGUMENT', () => nn.dense(any({ inputDim: 3, units: 2, bias: null }))],
    ['dense seed "x"', 'INVALID_ARGUMENT', () => nn.dense(any({ inputDim: 3, units: 2, seed: 'x' }))],
    ['dense alpha "x"', 'INVALID_ARGUMENT', () => nn.dense(any({ inputDim: 3, units: 2, activation: 'elu', alpha: 'x' }))],
    ['dense activation 42', 'UNKNOWN_ACTIVATION', () => nn.dense(any({ inputDim: 3, units: 2, activation: 42 }))],
    ['dense kernelLayout', 'INVALID_ARGUMENT', () => nn.dense(any({ inputDim: 3, units: 2, kernel, kernelLayout: 'OI' }))],
    ['sequential(null)', 'INVALID_ARGUMENT', () => nn.sequential(any(null))],
    ['sequential("ab")', 'INVALID_ARGUMENT', () => nn.sequential(any('ab'))],
    ['sequential([null])', 'INVALID_ARGUMENT', () => nn.sequential(any([null]))],
    ['sequential([ok, 5])', 'INVALID_ARGUMENT', () => nn.sequential(any([{ inputDim: 3, units: 2 }, 5]))],
    ['sequential units -1', 'INVALID_ARGUMENT', () => nn.sequential([{ inputDim: 3, units: 2 }, { units: -1 }])],
    ['activate(x, null)', 'INVALID_ARGUMENT', () => nn.activate('relu', input, any(null))],
    ['activate(x, "opts")', 'INVALID_ARGUMENT', () => nn.activate('relu', input, any('opts'))],
    ['activate(null)', 'INVALID_ARGUMENT', () => nn.activate('relu', any(null))],
    ['activate name null-ish object', 'UNKNOWN_ACTIVATION', () => nn.activate(any({}), input)],
    ['activate inPlace "yes"', 'INVALID_ARGUMENT', () => nn.activate('relu', t, any({ inPlace: 'yes' }))],
    ['activate axisSize NaN', 'INVALID_ARGUMENT', () => nn.activate('softmax', input, { axisSize: NaN })],
    ['activate axisSize -3', 'INVALID_ARGUMENT', () => nn.activate('softmax', input, { axisSize: -3 })],
    ['activate into 5', 'INVALID_ARGUMENT', () => nn.activate('relu', t, any({ into: 5 }))],
    ['activate foreign', 'INVALID_ARGUMENT', () => nn.activate('relu', foreign)],
    ['activate into foreign', 'INVALID_ARGUMENT', () => nn.activate('relu', t, { into: foreign })],
    ['activate disposed', 'DISPOSED', () => nn.activate('relu', disposed)],
    ['activate prelu slope "x"', 'INVALID_ARGUMENT', () => nn.activate('prelu', input, any({ slope: 'x' }))],
    ['activateBackward(x, null)', 'INVALID_ARGUMENT', () => nn.activateBackward('relu', input, any(null))],
    ['activateBackward mixed', 'INVALID_ARGUMENT', () => nn.activateBackward('relu', t, any(input))],
    ['activateBackward options null', 'INVALID_ARGUMENT', () => nn.activateBackward('relu', input, input, any(null))],
    ['activateBackward foreign dy', 'INVALID_ARGUMENT', () => nn.activateBackward('relu', t, foreign)],
    ['activateBackward disposed', 'DISPOSED', () => nn.activateBackward('relu', t, disposed)],
    ['apply(null)', 'INVALID_ARGUMENT', () => layer.apply(any(null))],
    ['apply("abc")', 'INVALID_ARGUMENT', () => layer.apply(any('abc'))],
    ['apply(x, NaN)', 'INVALID_ARGUMENT', () => layer.apply(input, NaN)],
    ['apply(x, -2)', 'INVALID_ARGUMENT', () => layer.apply(input, -2)],
    ['apply(x, 0.5)', 'INVALID_ARGUMENT', () => layer.apply(input, 0.5)],
    ['apply(x, "2")', 'INVALID_ARGUMENT', () => layer.apply(input, any('2'))],
    ['apply(t, null)', 'INVALID_ARGUMENT', () => layer.apply(t, any(null))],
    ['apply(t, 7)', 'INVALID_ARGUMENT', () => layer.apply(t, any(7))],
    ['apply(t, { into: [] })', 'INVALID_ARGUMENT', () => layer.apply(t, any({ into: [] }))],
    ['apply(foreign)', 'INVALID_ARGUMENT', () => layer.apply(foreign)],
    ['apply(disposed)', 'DISPOSED', () => layer.apply(disposed)],
    ['layer.setWeights(null)', 'INVALID_ARGUMENT', () => layer.setWeights(any(null))],
    ['layer.setWeights("abcdef")', 'INVALID_ARGUMENT', () => layer.setWeights(any('abcdef'))],
    ['layer.setWeights(k, "ab")', 'INVALID_ARGUMENT', () => layer.setWeights(kernel, any('ab'))],
    ['layer.setWeights(k, b, "bogus")', 'INVALID_ARGUMENT', () => layer.setWeights(kernel, undefined, any('bogus'))],
    ['model layer dispose', 'INVALID_ARGUMENT', () => model.layers[0]!.dispose()],
    ['predict(null)', 'INVALID_ARGUMENT', () => model.predict(any(null))],
    ['predict("abc")', 'INVALID_ARGUMENT', () => model.predict(any('abc'))],
    ['predict([1,2,3])', 'INVALID_ARGUMENT', () => model.predict(any([1, 2, 3]))],
    ['predict(x, NaN)', 'INVALID_ARGUMENT', () => model.predict(input, NaN)],
    ['predict(x, -2)', 'INVALID_ARGUMENT', () => model.predict(input, -2)],
    ['predict(x, 1e300)', 'INVALID_ARGUMENT', () => model.predict(input, 1e300)],
    ['predict(foreign)', 'INVALID_ARGUMENT', () => model.predict(foreign)],
    ['predict(disposed)', 'DISPOSED', () => model.predict(disposed)],
    ['model.setWeights(null)', 'INVALID_ARGUMENT', () => model.setWeights(any(null))],
    ['model.setWeights([null, ...])', 'INVALID_ARGUMENT', () => model.setWeights(any([null, 1, 2, 3]))],
    ['model.save(42)', 'INVALID_ARGUMENT', () => model.save(any(42))],
  ];
  it.each(table)('%s → %s, nothing changed', (_, code, fn) => {
    const bytes = nn.allocatedBytes;
    rejects(code, fn);
    expect(nn.allocatedBytes).toBe(bytes);
    expect(model.predict(input)).toEqual(expected);
    expect(t.toArray()).toEqual(input);
    expect(layer.getWeights()).toEqual(weights);
  });

  it.each([
    ['options null', null],
    ['options "x"', 'x'],
    ['unknown key', { bogusKey: 1 }],
    ['module not a Module', { module: {} }],
    ['bytes not wasm', { bytes: new Uint8Array([1, 2, 3, 4]) }],
    ['bytes a string', { bytes: 'wasm' }],
    ['url a number', { url: 42 }],
    ['a module without the exports', { bytes: new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]) }],
  ])('init(%s) → INVALID_ARGUMENT', async (_, options) => {
    await expect(init(options as never)).rejects.toMatchObject({ name: 'SimdnetError', code: 'INVALID_ARGUMENT' });
  });

  it('init({ url }) that cannot be read or fetched → IO_ERROR naming it', async () => {
    const missing = join(tmpdir(), 'simdnet-no-such-dir', 'simdnet.wasm');
    await expect(init({ url: missing })).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining(missing) });
    const server = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await expect(init({ url: `${base}/simdnet.wasm` })).rejects.toMatchObject({
        code: 'IO_ERROR',
        message: expect.stringMatching(/HTTP 404/),
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    // Nothing listens there any more: a network failure, not a TypeError.
    await expect(init({ url: `${base}/simdnet.wasm` })).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining(base) });
  });
});

describe('options that would otherwise be silently ignored', () => {
  const x = new Float32Array([-1, 0.5, 2]);
  it.each([
    ['a misspelt option', () => nn.activate('leaky_relu', x, { alpah: 3 } as never), /leaky_relu takes no option 'alpah'/],
    ['an option the function does not read', () => nn.activate('sigmoid', x, { alpha: 3 }), /sigmoid takes no option 'alpha'/],
    [
      'approximate that is not a boolean',
      () => nn.activate('gelu', x, { approximate: 'yes' } as never),
      /approximate must be true or false/,
    ],
    ['a row-wise function with an element-wise option', () => nn.activate('softmax', x, { beta: 2 }), /softmax takes no option 'beta'/],
    [
      'a dense layer with an unknown key',
      () => nn.dense({ inputDim: 2, units: 1, activaton: 'relu' } as never),
      /dense layer takes no option 'activaton'/,
    ],
    [
      'a dense layer whose alpha its activation does not read',
      () => nn.dense({ inputDim: 2, units: 1, activation: 'sigmoid', alpha: 0.1 }),
      /sigmoid takes no option 'alpha'/,
    ],
    ['units: 0', () => nn.dense({ inputDim: 2, units: 0 }), /units must be a positive integer/],
    [
      'a model layer with an unknown key',
      () => nn.sequential([{ inputDim: 2, units: 1, unit: 3 } as never]),
      /layer 0 takes no option 'unit'/,
    ],
    [
      'apply(tensor) with an unknown key',
      () => nn.dense({ inputDim: 3, units: 1 }).apply(nn.tensor(x, [1, 3]), { inot: 1 } as never),
      /takes no option 'inot'/,
    ],
    [
      'predict(array) with out of the wrong size',
      () => nn.sequential([{ inputDim: 3, units: 2 }]).predict(x, 1, { out: new Float32Array(3) }),
      /out has 3 values/,
    ],
  ])('%s → INVALID_ARGUMENT naming it', (_, call, message) => {
    const before = nn.allocatedBytes;
    const error = errorOf(call);
    expect(error.code).toMatch(/INVALID_ARGUMENT|SHAPE_MISMATCH/);
    expect(error.message).toMatch(message);
    // The objects built for the call above hold memory; what matters is that the failing call itself added nothing.
    expect(nn.allocatedBytes).toBeGreaterThanOrEqual(before);
  });

  it('preset is accepted everywhere (it only chooses defaults)', () => {
    expect(nn.activate('sigmoid', x, { preset: 'torch' })).toEqual(nn.activate('sigmoid', x));
  });
});

describe('Keras round trips and union arguments', () => {
  it('layer.setWeights(layer.getWeights()) and setWeights([kernel]) work; the two-argument form stays', () => {
    const layer = nn.dense({ inputDim: 3, units: 2, seed: 4 });
    const other = nn.dense({ inputDim: 3, units: 2, seed: 5 });
    other.setWeights(layer.getWeights());
    expect(other.getWeights()).toEqual(layer.getWeights());
    other.setWeights([new Float32Array(6).fill(1)]);
    expect(other.getWeights()[0]).toEqual(new Float32Array(6).fill(1));
    other.setWeights(new Float32Array(6).fill(2), new Float32Array([1, 2]));
    expect(other.getWeights()).toEqual([new Float32Array(6).fill(2), new Float32Array([1, 2])]);
    rejects('INVALID_ARGUMENT', () => other.setWeights([new Float32Array(6), new Float32Array(2), new Float32Array(2)] as never));
    layer.dispose();
    other.dispose();
  });

  it('a Float32Array | Tensor argument type-checks and returns the matching kind', () => {
    const layer = nn.dense({ inputDim: 2, units: 2, seed: 1 });
    const model = nn.sequential([{ inputDim: 2, units: 2 }]);
    for (const input of [new Float32Array([1, 2]), nn.tensor([1, 2], [1, 2])] as (Float32Array | Tensor)[]) {
      const results = [nn.activate('relu', input), layer.apply(input), model.predict(input)];
      for (const result of results) expect(result instanceof Tensor).toBe(input instanceof Tensor);
    }
  });
});
