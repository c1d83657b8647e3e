import { describe, expect, it } from 'vitest';
import { init } from '../ts/index.js';
import { Heap, MAX_PAGES } from '../ts/memory.js';
import { randomArray } from './helpers.js';

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
    const model = nn.sequential([{ inputDim: 16, units: 32, activation: 'relu' }, { units: 2, activation: 'softmax' }]);
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
