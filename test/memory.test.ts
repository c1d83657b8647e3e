import { describe, expect, it } from 'vitest';
import { Context } from '../ts/context.js';
import { fail } from '../ts/errors.js';
import { type DenseLayer, Sequential, Simdnet, Tensor, init } from '../ts/index.js';
import { instantiate, loadModule } from '../ts/loader.js';
import { Heap, MAX_PAGES } from '../ts/memory.js';
import { randomArray, rejectsCleanly } from './helpers.js';

const PAGE = 65536;

describe('Heap', () => {
  const fresh = (pages = 1) => new Heap(new WebAssembly.Memory({ initial: pages }), 1024);

  it('returns 16-byte-aligned, non-overlapping blocks and reuses freed ones', () => {
    const heap = fresh();
    const a = heap.alloc(1);
    const b = heap.alloc(17);
    const c = heap.alloc(100);
    for (const p of [a, b, c]) expect(p % 16).toBe(0);
    expect(b).toBeGreaterThanOrEqual(a + 16);
    expect(c).toBeGreaterThanOrEqual(b + 32);
    heap.release(b);
    expect(heap.alloc(32)).toBe(b);
  });

  it('coalesces neighbours so a freed run serves a larger request', () => {
    const heap = fresh();
    const blocks = [heap.alloc(64), heap.alloc(64), heap.alloc(64)];
    const guard = heap.alloc(16);
    for (const p of [blocks[1]!, blocks[0]!, blocks[2]!]) heap.release(p);
    expect(heap.alloc(192)).toBe(blocks[0]);
    void guard;
  });

  it('grows the memory on demand, extending the free tail', () => {
    const heap = fresh();
    const before = heap.byteLength;
    const p = heap.alloc(3 * PAGE);
    expect(heap.byteLength).toBeGreaterThan(before);
    expect(p + 3 * PAGE).toBeLessThanOrEqual(heap.byteLength);
    expect(heap.byteLength - before).toBeLessThanOrEqual(3 * PAGE);
  });

  it('rejects a request past 4 GiB with OUT_OF_MEMORY before touching memory', () => {
    const heap = fresh();
    const p = heap.alloc(64);
    heap.write(p, [1, 2, 3]);
    const length = heap.byteLength;
    expect(() => heap.alloc(MAX_PAGES * PAGE)).toThrow(expect.objectContaining({ code: 'OUT_OF_MEMORY' }));
    expect(heap.byteLength).toBe(length);
    expect(Array.from(heap.read(p, 3))).toEqual([1, 2, 3]);
  });

  it('reports an engine that refuses to grow as OUT_OF_MEMORY', () => {
    const heap = new Heap(new WebAssembly.Memory({ initial: 1, maximum: 2 }), 1024);
    expect(() => heap.alloc(4 * PAGE)).toThrow(expect.objectContaining({ code: 'OUT_OF_MEMORY' }));
    expect(heap.alloc(PAGE)).toBeGreaterThan(0);
  });

  it('rejects releasing an address that is not live', () => {
    const heap = fresh();
    const p = heap.alloc(16);
    heap.release(p);
    expect(() => heap.release(p)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('memory growth with live objects', () => {
  it('keeps tensor, layer and model values and refreshes every view', async () => {
    const nn = await init();
    const x = randomArray(64, 1);
    const t = nn.tensor(x, [4, 16]);
    const layer = nn.dense({ inputDim: 16, units: 8, activation: 'tanh', seed: 3 });
    const model = nn.sequential([
      { inputDim: 16, units: 32, activation: 'relu' },
      { units: 2, activation: 'softmax' },
    ]);
    const before = { layer: layer.apply(t).toArray(), model: model.predict(x), weights: model.getWeights() };
    const staleView = t.data;
    const length = nn.memory.buffer.byteLength;
    const big = nn.tensor(new Float32Array(8 * PAGE), [8 * PAGE]); // 2 MiB: forces memory.grow
    expect(nn.memory.buffer.byteLength).toBeGreaterThan(length);
    expect(staleView.length).toBe(0); // what the engine does to old views; ours are re-made
    expect(t.data).toEqual(x);
    expect(layer.apply(t).toArray()).toEqual(before.layer);
    expect(layer.apply(x)).toEqual(before.layer);
    expect(model.predict(x)).toEqual(before.model);
    expect(model.getWeights()).toEqual(before.weights);
    big.data.fill(7);
    expect(big.data[8 * PAGE - 1]).toBe(7);
    expect(t.data).toEqual(x);
  });

  it('grows inside a call (large batch) without corrupting live tensors', async () => {
    const nn = await init();
    const t = nn.tensor([1, 2, 3], [3]);
    const model = nn.sequential([{ inputDim: 4, units: 300, activation: 'relu' }, { units: 3 }]);
    const x = randomArray(4 * 5000, 2);
    const y = model.predict(x);
    expect(y.length).toBe(15000);
    expect(y.subarray(0, 3)).toEqual(model.predict(x.subarray(0, 4)));
    expect(Array.from(t.data)).toEqual([1, 2, 3]);
  });
});

/** Runs `fn`, which must throw a SimdnetError with `code`, and checks that it allocated nothing. */

describe('size computations that do not fit in wasm32', () => {
  it('the crate answers usize::MAX (-1 as a JS i32) instead of a wrapped size', async () => {
    const wasm = await instantiate(await loadModule({}));
    expect(wasm.simdnet_dense_packed_len(2 ** 29 - 1, 1)).toBe(-1);
    expect(wasm.simdnet_dense_packed_len(65535, 65536)).toBe(-1);
    expect(wasm.simdnet_dense_scratch_len(2 ** 20, 4096, 1, 0)).toBe(-1);
    expect(wasm.simdnet_dense_packed_len(3, 9)).toBe(2 * 4 * 8);
    expect(wasm.simdnet_dense_scratch_len(9, 3, 1, 0)).toBe(8 * 3);
  });

  it('a layer, tensor or batch too large is OUT_OF_MEMORY with nothing written or allocated', async () => {
    const nn = await init();
    const t = nn.tensor([1, 2, 3]);
    // Array-likes with a length and no storage: the checks must reject them before reading any value.
    rejectsCleanly(nn, 'OUT_OF_MEMORY', () => nn.dense({ inputDim: 2 ** 29 - 1, units: 1, kernel: { length: 2 ** 29 - 1 } }));
    rejectsCleanly(nn, 'OUT_OF_MEMORY', () => nn.dense({ inputDim: 65535, units: 65536 }));
    rejectsCleanly(nn, 'OUT_OF_MEMORY', () => nn.dense({ inputDim: 2 ** 31, units: 0 }));
    rejectsCleanly(nn, 'OUT_OF_MEMORY', () => nn.tensor({ length: 2 ** 30 }, [2 ** 30]));
    rejectsCleanly(nn, 'OUT_OF_MEMORY', () => nn.tensor({ length: 2 ** 60 }, [2 ** 30, 2 ** 30]));
    rejectsCleanly(nn, 'OUT_OF_MEMORY', () => nn.zeros([2 ** 30, 2 ** 30]));
    const wide = nn.dense({ inputDim: 1, units: 2 ** 20 });
    const batch = nn.tensor(new Float32Array(5000), [5000, 1]);
    rejectsCleanly(nn, 'OUT_OF_MEMORY', () => wide.apply(batch)); // 20 GiB of output
    rejectsCleanly(nn, 'OUT_OF_MEMORY', () => wide.apply(batch.toArray()));
    expect(Array.from(t.data)).toEqual([1, 2, 3]);
  });

  it('the heap refuses sizes that are not byte counts instead of rounding them to a small block', () => {
    const heap = new Heap(new WebAssembly.Memory({ initial: 1 }), 1024);
    for (const bytes of [-16, 1.5, NaN, 2 ** 53])
      expect(() => heap.alloc(bytes)).toThrow(expect.objectContaining({ name: 'SimdnetError' }));
    expect(() => heap.allocF32(2 ** 31)).toThrow(expect.objectContaining({ code: 'OUT_OF_MEMORY' }));
    expect(() => heap.allocF32(-1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

/** A heap that refuses to hold more than `cap` bytes, as an engine short of memory would. */
class CappedHeap extends Heap {
  cap = Infinity;
  override alloc(bytes: number): number {
    if (this.allocatedBytes + bytes > this.cap) fail('OUT_OF_MEMORY', `cap of ${this.cap} bytes reached`);
    return super.alloc(bytes);
  }
}

describe('all-or-nothing allocation', () => {
  async function capped(): Promise<[Simdnet, CappedHeap]> {
    const wasm = await instantiate(await loadModule({}));
    const heap = new CappedHeap(wasm.memory, wasm.__heap_base.value as number);
    return [new Simdnet(new Context(wasm, heap)), heap];
  }

  it('a call whose scratch does not fit releases the output it had allocated', async () => {
    const [nn, heap] = await capped();
    const layer = nn.dense({ inputDim: 1000, units: 1, activation: 'relu' });
    const x = nn.tensor(randomArray(16_000, 4), [16, 1000]);
    const model = nn.sequential([{ inputDim: 1000, units: 1 }]);
    const row = nn.tensor(randomArray(2000, 5), [1, 2000]);
    // Room for the 16-float outputs, not for the 16,000 floats of scratch.
    heap.cap = heap.allocatedBytes + 4096;
    rejectsCleanly(nn, 'OUT_OF_MEMORY', () => layer.apply(x));
    rejectsCleanly(nn, 'OUT_OF_MEMORY', () => layer.apply(x.toArray()));
    rejectsCleanly(nn, 'OUT_OF_MEMORY', () => model.predict(x));
    // Room for sparsemax's 2000-float output, not for its 2000 floats of scratch as well.
    heap.cap = heap.allocatedBytes + 12_000;
    rejectsCleanly(nn, 'OUT_OF_MEMORY', () => nn.activate('sparsemax', row));
    rejectsCleanly(nn, 'OUT_OF_MEMORY', () => nn.activateBackward('sparsemax', row, row));
    heap.cap = Infinity;
    expect(layer.apply(x).toArray()).toEqual(layer.apply(x.toArray()));
    expect(model.predict(x).size).toBe(16);
  });
});

describe('a model owns its layers', () => {
  it('refuses dispose() and replacement of a layer; predict keeps working; dispose frees all', async () => {
    const nn = await init();
    const before = nn.allocatedBytes;
    const model = nn.sequential([{ inputDim: 5, units: 7, activation: 'relu' }, { units: 3 }]);
    const x = randomArray(20, 6);
    const expected = model.predict(x);
    rejectsCleanly(nn, 'INVALID_ARGUMENT', () => model.layers[0]!.dispose());
    expect(model.layers[0]!.disposed).toBe(false);
    const other = nn.dense({ inputDim: 5, units: 700 });
    expect(Object.isFrozen(model.layers)).toBe(true);
    expect(() => {
      (model.layers as DenseLayer[])[0] = other;
    }).toThrow(TypeError);
    expect(model.predict(x)).toEqual(expected);
    other.dispose();
    const [kernel, bias] = model.layers[1]!.getWeights();
    model.layers[1]!.setWeights(
      kernel.map((v) => 2 * v),
      bias.map((v) => 2 * v),
    );
    expect(model.predict(x)).toEqual(expected.map((v) => 2 * v));
    const layers = [...model.layers];
    model.dispose();
    expect(layers.every((l) => l.disposed)).toBe(true);
    expect(nn.allocatedBytes).toBe(before);
  });
});

describe('into must not overlap an input the kernel still reads', () => {
  it('dense rejects into = its input; activate accepts it (every kernel allows exact aliasing)', async () => {
    const nn = await init();
    const layer = nn.dense({ inputDim: 33, units: 33, activation: 'tanh', seed: 1 });
    const values = randomArray(66, 7);
    const x = nn.tensor(values, [2, 33]);
    rejectsCleanly(nn, 'INVALID_ARGUMENT', () => layer.apply(x, { into: x }));
    expect(x.toArray()).toEqual(values);
    for (const name of ['relu', 'softmax', 'sparsemax', 'log_softmax'] as const) {
      const expected = nn.activate(name, values, { axisSize: 33 });
      const t = nn.tensor(values, [2, 33]);
      expect(nn.activate(name, t, { into: t })).toBe(t);
      expect(t.toArray()).toEqual(expected);
    }
  });
});

describe('views outside wasm memory, remembered between calls', () => {
  it('a view of wasm memory is copied as input and refused as out after arrays found outside', async () => {
    const nn = await init();
    const model = nn.sequential([{ inputDim: 16, units: 4, seed: 3 }]);
    const [x, out] = [randomArray(32, 9), new Float32Array(8)];
    const expected = model.predict(x, 2);
    expect(model.predict(x, 2, { out })).toEqual(expected);
    // The same values as a view of wasm memory, which the call's allocations may move.
    const t = nn.tensor(x);
    expect(model.predict(t.data, 2, { out })).toEqual(expected);
    const inside = nn.tensor(new Float32Array(8));
    rejectsCleanly(
      nn,
      'INVALID_ARGUMENT',
      () => model.predict(x, 2, { out: inside.data }),
      () => [out],
    );
    expect(model.predict(x, 2, { out })).toEqual(expected);
  });
});

describe('a view of wasm memory as input, with memory growth during the call', () => {
  /** A tensor as large as the whole memory, so that any allocation of its size must grow the memory. */
  function memorySized(nn: Simdnet, width: number): Tensor {
    const rows = Math.ceil(nn.memory.buffer.byteLength / 4 / width);
    return nn.tensor(randomArray(rows * width, 8), [rows, width]);
  }

  it('nn.tensor, apply, predict, activate and activateBackward copy such a view and leak nothing', async () => {
    const calls: [string, (nn: Simdnet, view: Float32Array) => ArrayLike<number> | Tensor][] = [
      ['tensor', (nn, v) => nn.tensor(v)],
      ['apply', (nn, v) => nn.dense({ inputDim: 16, units: 16, seed: 2 }).apply(v)],
      ['predict', (nn, v) => nn.sequential([{ inputDim: 16, units: 16 }]).predict(v)],
      // One row as long as the array: it runs alone, through a scratch block grown to its size.
      ['activate', (nn, v) => nn.activate('softmax', v, { axisSize: v.length })],
      ['activateBackward', (nn, v) => nn.activateBackward('softmax', v, v, { axisSize: v.length })],
      // A kernel [16 × rows], read back as it was given.
      ['dense kernel', (nn, v) => nn.dense({ inputDim: 16, units: v.length / 16, kernel: v }).getWeights()[0]],
    ];
    for (const [name, call] of calls) {
      const nn = await init();
      const t = memorySized(nn, 16);
      const copy = t.toArray();
      const length = nn.memory.buffer.byteLength;
      const result = call(nn, t.data);
      expect(nn.memory.buffer.byteLength, name).toBeGreaterThan(length);
      const values = result instanceof Tensor ? result.toArray() : result;
      expect(values, name).toEqual(name === 'tensor' || name === 'dense kernel' ? copy : call(nn, copy));
    }
  });

  it('setWeights of a layer and of a model copy such a view too', async () => {
    const units = 2 ** 14;
    for (const owner of ['layer', 'model'] as const) {
      const nn = await init();
      const target = owner === 'layer' ? nn.dense({ inputDim: 16, units }) : nn.sequential([{ inputDim: 16, units }]);
      const kernel = nn.tensor(randomArray(16 * units, 9), [16, units]); // 1 MiB: the copy needs as much again
      const expected = kernel.toArray();
      const length = nn.memory.buffer.byteLength;
      if (target instanceof Sequential) target.setWeights([kernel.data, new Float32Array(units)]);
      else target.setWeights(kernel.data);
      expect(nn.memory.buffer.byteLength, owner).toBeGreaterThan(length);
      expect(target.getWeights()[0], owner).toEqual(expected);
    }
  });

  it('model.setWeights and sequential() take kernels that are views, though the first layer grows the memory', async () => {
    const nn = await init();
    const units = 2 ** 13;
    const model = nn.sequential([{ inputDim: 16, units }, { units: 16 }]);
    // Both kernels are views of one tensor: growth during the first layer's update would empty the second.
    const kernels = nn.tensor(randomArray(2 * 16 * units, 10), [2, 16 * units]);
    const [k0, k1] = [kernels.data.subarray(0, 16 * units), kernels.data.subarray(16 * units)];
    const expected = [k0.slice(), k1.slice()];
    const length = nn.memory.buffer.byteLength;
    model.setWeights([k0, new Float32Array(units), k1, new Float32Array(16)]);
    expect(nn.memory.buffer.byteLength).toBeGreaterThan(length);
    const weights = model.getWeights();
    expect(weights[0]).toEqual(expected[0]);
    // The second kernel is stored [units × 16], as given.
    expect(weights[2]).toEqual(expected[1]);
    const [v0, v1] = [kernels.data.subarray(0, 16 * units), kernels.data.subarray(16 * units)];
    const before = nn.memory.buffer.byteLength;
    const built = nn.sequential([
      { inputDim: 16, units, kernel: v0 },
      { units: 16, kernel: v1 },
    ]);
    expect(nn.memory.buffer.byteLength).toBeGreaterThan(before);
    expect(built.getWeights()).toEqual(weights);
  });

  it('a view detached by an earlier growth is an empty array', async () => {
    const nn = await init();
    const detached = nn.zeros([4]).data;
    memorySized(nn, 16);
    expect(detached.length).toBe(0);
    expect(nn.tensor(detached).size).toBe(0);
    expect(nn.activate('relu', detached)).toEqual(new Float32Array(0));
  });
});
