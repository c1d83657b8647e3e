import { describe, expect, it } from 'vitest';
import { KERAS_MLP } from '../ts/index.js';
import * as ref from '../ts/reference.js';
import { instances, randomArray } from './helpers.js';

describe.each(await instances())('Sequential on the %s build', (_variant, nn) => {
  const model = nn.sequential(KERAS_MLP);
  const weights = model.getWeights();
  const refLayers = model.layers.map((l, i) => ({
    inputDim: l.inputDim,
    units: l.units,
    activation: l.activation.name,
    kernel: weights[2 * i]!,
    bias: weights[2 * i + 1]!,
  }));

  it('predicts exactly what its layers compute one by one', () => {
    for (const batch of [1, 3, 4, 5, 17, 1024]) {
      const x = randomArray(batch * 64, batch, 1);
      const chained = model.layers.reduce((h, layer) => layer.apply(h, batch), x);
      expect(model.predict(x, batch)).toEqual(chained);
    }
  });

  it('matches the reference model (each layer within the dense bound; end to end within 1e-5)', () => {
    for (const batch of [1, 7, 1024]) {
      const x = randomArray(batch * 64, batch + 11, 1);
      const y = model.predict(x);
      const expected = ref.predict(refLayers, x, batch);
      expect(y).toHaveLength(batch);
      for (let i = 0; i < batch; i++) expect(Math.abs(y[i]! - expected[i]!)).toBeLessThanOrEqual(1e-5);
    }
  });

  it('allocates nothing in wasm after warm-up, and reuses the workspace for smaller batches', () => {
    const x = randomArray(256 * 64, 5, 1);
    model.predict(x, 256);
    const [bytes, memory] = [nn.allocatedBytes, nn.memory.buffer.byteLength];
    for (const batch of [256, 1, 100, 256]) model.predict(x.subarray(0, batch * 64), batch);
    expect([nn.allocatedBytes, nn.memory.buffer.byteLength]).toEqual([bytes, memory]);
  });

  it('round-trips its weights and takes new ones', () => {
    const other = nn.sequential(KERAS_MLP.map((l, i) => ({ ...l, seed: 100 + i })));
    const x = randomArray(3 * 64, 8, 1);
    expect(other.predict(x)).not.toEqual(model.predict(x));
    other.setWeights(weights);
    expect(other.predict(x)).toEqual(model.predict(x));
    expect(other.getWeights()).toEqual(weights);
    other.dispose();
  });

  it('summarizes like Keras', () => {
    const summary = model.summary();
    expect(summary).toContain('dense (Dense, relu)');
    expect(summary).toMatch(/dense_2 \(Dense, sigmoid\)\s+\(None, 1\)\s+65/);
    expect(summary).toContain('Total params: 16,641');
    expect(model.paramCount).toBe(64 * 128 + 128 + 128 * 64 + 64 + 64 + 1);
  });

  it('predicts from a tensor without copying it in, into a new tensor or into `into`', () => {
    const x = randomArray(2 * 64, 9, 1);
    const t = nn.tensor(x, [2, 64]);
    const y = model.predict(t);
    expect(y.shape).toEqual([2, 1]);
    expect(y.toArray()).toEqual(model.predict(x));
    const into = nn.zeros([2, 1]);
    expect(model.predict(t, { into })).toBe(into);
    expect(into.toArray()).toEqual(y.toArray());
    for (const tensor of [t, y, into]) tensor.dispose();
  });

  it('writes into `out` for a Float32Array input, allocating nothing', () => {
    const x = randomArray(3 * 64, 10, 1);
    const out = new Float32Array(3);
    const before = nn.allocatedBytes;
    expect(model.predict(x, 3, { out })).toBe(out);
    expect(out).toEqual(model.predict(x, 3));
    expect(nn.allocatedBytes).toBe(before);
  });

  it('frees everything on dispose', () => {
    const before = nn.allocatedBytes;
    const m = nn.sequential(KERAS_MLP);
    m.predict(randomArray(64 * 10, 1));
    m.dispose();
    expect(nn.allocatedBytes).toBe(before);
  });
});
