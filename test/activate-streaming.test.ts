/**
 * Float32Arrays streamed through the scratch block by block (ts/activate.ts), and `out`: the same bits
 * as the whole array in wasm memory at every size around the block, in place, into views of wasm
 * memory; hostile options rejected with nothing changed; exp's short and careful paths giving the
 * same bits.
 */
import { describe, expect, it } from 'vitest';
import { STREAM_BLOCK } from '../ts/activate.js';
import { ROWWISE_NAMES } from '../ts/activations.js';
import { type ActivationName, type ActivationOptions, type ErrorCode, type Tensor, init } from '../ts/index.js';
import * as ref from '../ts/reference.js';
import { CASES, expectActivation } from './activation-cases.js';
import { expectSameBits, instances, randomArray, rejectsCleanly } from './helpers.js';

const B = STREAM_BLOCK;

interface Streamed {
  label: string;
  name: ActivationName;
  options?: ActivationOptions;
  /** Row length (elementwise: none) and the row counts to try. */
  cols?: number;
  sizes: number[];
}

const ELEMENTWISE_SIZES = [1, 7, B - 1, B, B + 1, 3 * B + 5];
/** Rows of 1000 (4 to a block), of 6 (682 to a block) and of B + 2 (longer than a block: one at a time). */
const ROW_SHAPES: [number, number[]][] = [
  [1000, [1, 4, 5, 13]],
  [6, [681, 682, 683, 3 * 682 + 5]],
  [B + 2, [1, 3]],
];

const STREAMED: Streamed[] = [
  ...CASES.map((c) => ({ label: c.label, name: c.name, options: c.options, sizes: ELEMENTWISE_SIZES })),
  // Every row-wise function but prelu, whose slopes the prelu cases below give.
  ...ROWWISE_NAMES.filter((n) => n !== 'prelu').flatMap((name) =>
    ROW_SHAPES.map(([cols, sizes]) => ({ label: `${name} rows of ${cols}`, name, cols, sizes })),
  ),
  ...ROW_SHAPES.map(([cols, sizes]) => ({
    label: `prelu rows of ${cols}`,
    name: 'prelu' as const,
    cols,
    sizes,
    options: { slope: randomArray(cols, 3) },
  })),
];

describe.each(await instances())('streamed activations on the %s build', (_variant, nn) => {
  describe.each(STREAMED)('$label', ({ name, options, cols, sizes }) => {
    /** x as rows × cols (elementwise: one row of n), its result through a tensor in one kernel call, and dy. */
    const setup = (n: number) => {
      const shape = cols === undefined ? [n] : [n, cols];
      const x = randomArray(
        shape.reduce((a, b) => a * b),
        n + 11,
        9,
      );
      const axis = { ...options, axisSize: cols };
      const tensor = nn.tensor(x, shape);
      const whole = nn.activate(name, tensor, options);
      const expected = whole.toArray();
      const dy = randomArray(expected.length, n + 12, 2);
      const dyTensor = nn.tensor(dy, whole.shape);
      const dx = nn.activateBackward(name, tensor, dyTensor, options);
      const expectedDx = dx.toArray();
      for (const t of [tensor, whole, dyTensor, dx]) t.dispose();
      return { x, axis, expected, dy, expectedDx };
    };

    it.each(sizes)('%i rows: a new array, out, out = x, and inPlace give the bits of one kernel call', (n) => {
      const { x, axis, expected } = setup(n);
      expectSameBits(nn.activate(name, x, axis), expected, x);
      const out = new Float32Array(expected.length);
      expect(nn.activate(name, x, { ...axis, out })).toBe(out);
      expectSameBits(out, expected, x);
      if (name === 'glu') return;
      const copy = x.slice();
      expect(nn.activate(name, copy, { ...axis, out: copy })).toBe(copy);
      expectSameBits(copy, expected, x);
      const again = x.slice();
      expect(nn.activate(name, again, { ...axis, inPlace: true })).toBe(again);
      expectSameBits(again, expected, x);
    });

    it.each(sizes)('%i rows backward: a new array, out, out = x and out = dy give the bits of one kernel call', (n) => {
      const { x, axis, dy, expectedDx } = setup(n);
      expectSameBits(nn.activateBackward(name, x, dy, axis), expectedDx, x);
      const out = new Float32Array(x.length);
      expect(nn.activateBackward(name, x, dy, { ...axis, out })).toBe(out);
      expectSameBits(out, expectedDx, x);
      const overX = x.slice();
      expect(nn.activateBackward(name, overX, dy, { ...axis, out: overX })).toBe(overX);
      expectSameBits(overX, expectedDx, x);
      if (name === 'glu') return;
      const overDy = dy.slice();
      expect(nn.activateBackward(name, x, overDy, { ...axis, out: overDy })).toBe(overDy);
      expectSameBits(overDy, expectedDx, x);
    });
  });

  it('out is written without allocating after the first call, and without growing the memory', () => {
    const x = randomArray(3 * B + 5, 1, 4);
    const out = new Float32Array(x.length);
    nn.activate('tanh', x, { out });
    const [bytes, memory] = [nn.allocatedBytes, nn.memory.buffer];
    for (const name of ['relu', 'sigmoid', 'tanh', 'gelu'] as const) {
      expect(nn.activate(name, x, { out })).toBe(out);
      expectSameBits(out, nn.activate(name, x), x);
    }
    expect(nn.allocatedBytes).toBe(bytes);
    expect(nn.memory.buffer).toBe(memory);
  });

  it("out may be a view of wasm memory: a tensor's data, also over its own input", () => {
    const x = randomArray(2 * B + 3, 2, 5);
    const target = nn.zeros([x.length]);
    const view = target.data;
    expect(nn.activate('silu', x, { out: view })).toBe(view);
    expectSameBits(target.toArray(), nn.activate('silu', x), x);
    const source = nn.tensor(x);
    const own = source.data;
    expect(nn.activate('softmax', own, { axisSize: 5, out: own })).toBe(own);
    expectSameBits(source.toArray(), nn.activate('softmax', x, { axisSize: 5 }));
    target.dispose();
    source.dispose();
  });

  it('rejects an out that overlaps x or dy without being it, and other bad options, changing nothing', () => {
    const buffer = randomArray(2 * B, 3, 2);
    const x = buffer.subarray(0, B);
    const t = nn.tensor(x);
    const kept = () => [buffer, t.toArray()];
    const any = (o: unknown) => o as never;
    const cases: [ErrorCode, () => unknown][] = [
      ['INVALID_ARGUMENT', () => nn.activate('relu', x, { out: buffer.subarray(4, B + 4) })],
      ['INVALID_ARGUMENT', () => nn.activate('softmax', x, { axisSize: 16, out: buffer.subarray(B - 4, 2 * B - 4) })],
      ['INVALID_ARGUMENT', () => nn.activateBackward('relu', x, buffer.subarray(B), { out: buffer.subarray(B - 1, 2 * B - 1) })],
      ['INVALID_ARGUMENT', () => nn.activateBackward('relu', buffer.subarray(B), x, { out: buffer.subarray(1, B + 1) })],
      // Views of wasm memory: t's floats, and as many one float further on.
      ['INVALID_ARGUMENT', () => nn.activate('relu', t.data, { out: new Float32Array(nn.memory.buffer, t.data.byteOffset + 4, B) })],
      ['INVALID_ARGUMENT', () => nn.activate('relu', x, any({ outt: new Float32Array(B) }))],
      ['INVALID_ARGUMENT', () => nn.activate('relu', x, any({ alhpa: 1 }))],
      ['INVALID_ARGUMENT', () => nn.activate('relu', x, any({ ['__proto__']: 1 }))],
      ['INVALID_ARGUMENT', () => nn.activate('relu', x, any({ into: t }))],
      ['INVALID_ARGUMENT', () => nn.activateBackward('relu', x, x, any({ into: t }))],
      ['INVALID_ARGUMENT', () => nn.activate('relu', t, any({ out: new Float32Array(B) }))],
      ['INVALID_ARGUMENT', () => nn.activateBackward('relu', t, t, any({ out: new Float32Array(B) }))],
      ['INVALID_ARGUMENT', () => nn.activate('relu', x, any({ out: new Float64Array(B) }))],
      ['INVALID_ARGUMENT', () => nn.activate('relu', x, any({ out: Array.from(x) }))],
      ['INVALID_ARGUMENT', () => nn.activate('relu', x, { inPlace: true, out: new Float32Array(B) })],
      ['INVALID_ARGUMENT', () => nn.activate('glu', x, { inPlace: true })],
      ['INVALID_ARGUMENT', () => nn.activate('relu', x, any({ inPlace: 1 }))],
      ['SHAPE_MISMATCH', () => nn.activate('relu', x, { out: new Float32Array(B - 1) })],
      ['SHAPE_MISMATCH', () => nn.activate('glu', x, { out: new Float32Array(B) })],
      ['SHAPE_MISMATCH', () => nn.activateBackward('glu', x, x.subarray(0, B / 2), { out: new Float32Array(B / 2) })],
    ];
    for (const [code, fn] of cases) rejectsCleanly(nn, code, fn, kept);
    t.dispose();
  });

  it('checks overlap anew when the arrays change', () => {
    // A disjoint pair first, which the check remembers; then a shifted view of the same memory.
    const buffer = randomArray(64, 5, 2);
    const [x, out] = [buffer.subarray(0, 16), buffer.subarray(32, 48)];
    expectSameBits(nn.activate('relu', x, { out }), ref.activate('relu', x));
    rejectsCleanly(
      nn,
      'INVALID_ARGUMENT',
      () => nn.activate('relu', x, { out: buffer.subarray(8, 24) }),
      () => [buffer],
    );
    rejectsCleanly(
      nn,
      'INVALID_ARGUMENT',
      () => nn.activate('relu', buffer.subarray(40, 56), { out }),
      () => [buffer],
    );
    expectSameBits(nn.activate('relu', x, { out }), ref.activate('relu', x));
  });

  it('options are read once each, and a cached resolution never skips validating a new value', () => {
    const x = Float32Array.from([-2, -1, 0, 1]);
    const out = new Float32Array(4);
    expectSameBits(nn.activate('elu', x, { alpha: 0.5 }), ref.activate('elu', x, { alpha: 0.5 }));
    let reads = 0;
    const shifty = {
      get alpha() {
        return ++reads === 1 ? 0.5 : Number.NaN;
      },
      out,
    };
    expect(nn.activate('elu', x, shifty as ActivationOptions)).toBe(out);
    expect(reads).toBe(1);
    expectSameBits(out, ref.activate('elu', x, { alpha: 0.5 }));
    const kept = () => [x, out];
    rejectsCleanly(nn, 'INVALID_ARGUMENT', () => nn.activate('elu', x, { alpha: Number.NaN, out }), kept);
    rejectsCleanly(nn, 'INVALID_ARGUMENT', () => nn.activate('elu', x, { alpha: '0.5' as never, out }), kept);
    rejectsCleanly(nn, 'INVALID_ARGUMENT', () => nn.activate('elu', x, { alpha: 0.5, preset: 'jax' as never, out }), kept);
    rejectsCleanly(nn, 'INVALID_ARGUMENT', () => nn.activate('celu', x, { alpha: 0, out }), kept);
    // Alternating values resolve anew each time.
    for (const alpha of [0.1, 0.5, 0.1, 2]) {
      expectSameBits(nn.activate('leaky_relu', x, { alpha }), ref.activate('leaky_relu', x, { alpha }));
    }
    for (const approximate of [true, false, true]) {
      const c = { label: `gelu (approximate ${approximate})`, name: 'gelu' as const, options: { approximate }, ulp: 9 };
      expectActivation(c, nn.activate('gelu', x, { approximate }), x);
    }
    expect(nn.activate('gelu', x, { approximate: true })[0]).not.toBe(nn.activate('gelu', x, { approximate: false })[0]);
    // prelu's slope array is read afresh on every call, even when it is the same array.
    const slope = Float32Array.of(0.5);
    expectSameBits(nn.activate('prelu', x, { slope }), Float32Array.of(-1, -0.5, 0, 1));
    slope[0] = 2;
    expectSameBits(nn.activate('prelu', x, { slope }), Float32Array.of(-4, -2, 0, 1));
  });

  it("exp's short and careful paths give the same bits: lanes beside a value beyond ±87 as alone", () => {
    // Arguments near the short path's edge and ordinary ones; each vector of `mixed` has one lane
    // that sends the whole vector down the careful path.
    const values = Float32Array.from([...randomArray(255, 7, 90), 86.99, -86.99, 87, -87, 43.4, -43.4, 43.6, -43.6, 0.625, -0.625]);
    const mixed = new Float32Array((values.length * 4) / 3 + 4);
    const lanes: number[] = [];
    values.forEach((v, i) => {
      const at = Math.floor(i / 3) * 4 + (i % 3);
      mixed[at] = v;
      lanes.push(at);
    });
    for (let i = 3; i < mixed.length; i += 4) mixed[i] = i % 8 === 3 ? 100 : -200;
    const names: [ActivationName, ActivationOptions?][] = [
      ['exponential'],
      ['sigmoid'],
      ['tanh'],
      ['silu'],
      ['softplus'],
      ['log_sigmoid'],
      ['mish'],
      ['elu'],
      ['gelu', { approximate: true }],
    ];
    for (const [name, options] of names) {
      const alone = nn.activate(name, values, options);
      const beside = nn.activate(name, mixed, options);
      expectSameBits(
        Float32Array.from(lanes, (at) => beside[at]!),
        alone,
        values,
      );
      const dy = values.map(() => 1);
      const gradient = nn.activateBackward(
        name,
        mixed,
        mixed.map(() => 1),
        options,
      );
      expectSameBits(
        Float32Array.from(lanes, (at) => gradient[at]!),
        nn.activateBackward(name, values, dy, options),
        values,
      );
    }
  });
});

describe('out as a view of wasm memory when the call grows the memory', () => {
  it('the result lands in the same floats and comes back as a fresh view of them', async () => {
    const nn = await init();
    const cols = nn.memory.buffer.byteLength / 4;
    const x = randomArray(cols, 4, 3);
    const target: Tensor = nn.zeros([cols]);
    const view = target.data;
    const length = nn.memory.buffer.byteLength;
    // One row as long as the memory was: its block must grow the scratch, and so the memory.
    const result = nn.activate('softmax', x, { axisSize: cols, out: view });
    expect(nn.memory.buffer.byteLength).toBeGreaterThan(length);
    expect(view.length).toBe(0);
    const expected = nn.activate('softmax', x, { axisSize: cols });
    expectSameBits(result, expected);
    expectSameBits(target.toArray(), expected);
    target.dispose();
  });
});
