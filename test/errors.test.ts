import { describe, expect, it } from 'vitest';
import { type ErrorCode, SimdnetError, init } from '../ts/index.js';

const nn = await init();
const rejects = (code: ErrorCode, fn: () => unknown) => {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(SimdnetError);
  expect((error as SimdnetError).code).toBe(code);
  expect((error as SimdnetError).message).toContain(code);
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
      expect(m.predict(t)).toHaveLength(2);
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
    rejects('SHAPE_MISMATCH', () => nn.sequential([{ inputDim: 3, units: 2 }, { inputDim: 4, units: 1 }]));
    rejects('SHAPE_MISMATCH', () => nn.activate('softmax', new Float32Array(10), { axisSize: 3 }));
    const t = nn.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    rejects('SHAPE_MISMATCH', () => nn.activate('relu', t, { into: nn.zeros([5]) }));
    rejects('SHAPE_MISMATCH', () => layer.apply(t, { into: nn.zeros([2, 3]) }));
  });

  it('a rejected setWeights leaves every layer as it was', () => {
    const model = nn.sequential([{ inputDim: 3, units: 2 }, { units: 1 }]);
    const before = model.getWeights();
    rejects('SHAPE_MISMATCH', () => model.setWeights([new Float32Array(6).fill(9), new Float32Array(2).fill(9), new Float32Array(3), new Float32Array(1)]));
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
