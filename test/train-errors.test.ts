import { describe, expect, it } from 'vitest';
import { type Sequential, type Simdnet, SimdnetError, init } from '../ts/index.js';
import { instances, randomArray } from './helpers.js';

const [[, nn]] = (await instances()) as [[string, Simdnet]];

/** A compiled model that has trained one step, so that its batch buffers exist. */
function trained(): { model: Sequential; x: Float32Array; y: Int32Array } {
  const model = nn.sequential([
    { inputDim: 4, units: 5, activation: 'relu' },
    { units: 3, activation: 'softmax' },
  ]);
  model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const [x, y] = [randomArray(6 * 4, 1), new Int32Array([0, 1, 2, 2, 1, 0])];
  model.trainOnBatch(x, y);
  return { model, x, y };
}

/** Runs `call`, expects a SimdnetError of `code`, and that memory, weights and the optimizer's step count are as before. */
async function expectRejected(model: Sequential, code: string, call: () => unknown) {
  const [bytes, weights, iterations] = [nn.allocatedBytes, model.getWeights(), model.trainer.iterations];
  let error: unknown = null;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  expect(error, 'the call must throw').toBeInstanceOf(SimdnetError);
  expect((error as SimdnetError).code).toBe(code);
  expect(nn.allocatedBytes).toBe(bytes);
  expect(model.getWeights()).toEqual(weights);
  expect(model.trainer.iterations).toBe(iterations);
}

describe('hostile inputs to training', () => {
  const { model, x, y } = trained();

  it.each([
    ['unknown loss', { loss: 'hinge' }],
    ['fromLogits on mse', { loss: { name: 'mse', fromLogits: true } }],
    ['unknown loss option', { loss: { name: 'huber', delta: 1, reduction: 'sum' } }],
    ['negative huber delta', { loss: { name: 'huber', delta: -1 } }],
    ['unknown optimizer', { loss: 'mse', optimizer: 'adagrad' }],
    ['negative learning rate', { loss: 'mse', optimizer: { name: 'adam', learningRate: -1 } }],
    ['momentum 1', { loss: 'mse', optimizer: { name: 'sgd', momentum: 1 } }],
    ['two clippings', { loss: 'mse', optimizer: { name: 'sgd', clipnorm: 1, clipvalue: 1 } }],
    ['unknown optimizer option', { loss: 'mse', optimizer: { name: 'sgd', decay: 0.1 } }],
    ['a non-boolean flag', { loss: 'mse', optimizer: { name: 'sgd', nesterov: 'yes' } }],
    ['unknown metric', { loss: 'mse', metrics: ['bleu'] }],
    ['metrics not an array', { loss: 'mse', metrics: 'accuracy' }],
    ['no options', undefined],
  ])('compile: %s → INVALID_ARGUMENT, the previous compile kept', async (_, options) => {
    await expectRejected(model, 'INVALID_ARGUMENT', () => model.compile(options as never));
    expect(model.trainOnBatch(x, y).loss).toBeGreaterThan(0);
  });

  it.each([
    ['x as a plain array', 'INVALID_ARGUMENT', () => model.trainOnBatch([1, 2, 3, 4] as never, y)],
    ['x not a multiple of inputDim', 'SHAPE_MISMATCH', () => model.trainOnBatch(new Float32Array(5), y)],
    ['no samples', 'INVALID_ARGUMENT', () => model.trainOnBatch(new Float32Array(0), new Int32Array(0))],
    ['fewer labels than samples', 'SHAPE_MISMATCH', () => model.trainOnBatch(x, y.subarray(1))],
    ['a label past the classes', 'INVALID_ARGUMENT', () => model.trainOnBatch(x, new Int32Array([0, 1, 3, 0, 0, 0]))],
    ['a negative label', 'INVALID_ARGUMENT', () => model.trainOnBatch(x, new Int32Array([0, -1, 2, 0, 0, 0]))],
    ['a fractional label', 'INVALID_ARGUMENT', () => model.trainOnBatch(x, new Float32Array([0, 1.5, 2, 0, 0, 0]))],
    ['labels as Float64Array', 'INVALID_ARGUMENT', () => model.trainOnBatch(x, new Float64Array(6) as never)],
    ['evaluate with batchSize 0', 'INVALID_ARGUMENT', () => model.evaluate(x, y, { batchSize: 0 })],
    ['fit with batchSize 0', 'INVALID_ARGUMENT', () => model.fit(x, y, { batchSize: 0, verbose: 0 })],
    ['fit with negative epochs', 'INVALID_ARGUMENT', () => model.fit(x, y, { epochs: -1, verbose: 0 })],
    ['fit with validationSplit 1', 'INVALID_ARGUMENT', () => model.fit(x, y, { validationSplit: 1, verbose: 0 })],
    ['fit with a split that leaves no validation sample', 'INVALID_ARGUMENT', () => model.fit(x, y, { validationSplit: 0.01, verbose: 0 })],
    ['fit with verbose 3', 'INVALID_ARGUMENT', () => model.fit(x, y, { verbose: 3 as never })],
    ['fit with a string seed', 'INVALID_ARGUMENT', () => model.fit(x, y, { seed: 'a' as never, verbose: 0 })],
    ['fit with mismatched validationData', 'SHAPE_MISMATCH', () => model.fit(x, y, { validationData: [x, y.subarray(2)], verbose: 0 })],
    ['fit with validationData not a pair', 'INVALID_ARGUMENT', () => model.fit(x, y, { validationData: [x] as never, verbose: 0 })],
  ] as const)('%s → %s', async (_, code, call) => {
    await expectRejected(model, code, call);
  });

  it('dense targets of the wrong type or size', async () => {
    const regression = nn.sequential([{ inputDim: 2, units: 2 }]);
    regression.compile({ loss: 'mse' });
    const bytes = nn.allocatedBytes;
    for (const [code, targets] of [
      ['INVALID_ARGUMENT', new Int32Array(4)],
      ['SHAPE_MISMATCH', new Float32Array(3)],
    ] as const) {
      const error = (() => {
        try {
          regression.trainOnBatch(new Float32Array(4), targets);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(SimdnetError);
      expect((error as SimdnetError).code).toBe(code);
    }
    expect(nn.allocatedBytes).toBe(bytes);
    regression.dispose();
  });

  it('a disposed tensor → DISPOSED; a tensor of another instance → INVALID_ARGUMENT', async () => {
    const t = nn.tensor(x, [6, 4]);
    t.dispose();
    await expectRejected(model, 'DISPOSED', () => model.trainOnBatch(t, y));
    const other = await init({ variant: 'scalar' });
    await expectRejected(model, 'INVALID_ARGUMENT', () => model.evaluate(other.tensor(x, [6, 4]), y));
  });

  it('compile of a layer without inputs → INVALID_ARGUMENT', () => {
    const empty = nn.sequential([{ inputDim: 0, units: 3 }, { units: 2 }]);
    const bytes = nn.allocatedBytes;
    expect(() => empty.compile({ loss: 'mse' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(nn.allocatedBytes).toBe(bytes);
    empty.dispose();
  });

  it('training before compile → INVALID_ARGUMENT; after dispose → DISPOSED', async () => {
    const fresh = nn.sequential([{ inputDim: 4, units: 3 }]);
    const bytes = nn.allocatedBytes;
    expect(() => fresh.trainOnBatch(x, new Float32Array(18))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(nn.allocatedBytes).toBe(bytes);
    fresh.compile({ loss: 'mse' });
    fresh.dispose();
    expect(() => fresh.compile({ loss: 'mse' })).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
    expect(() => fresh.evaluate(x, new Float32Array(18))).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
  });

  it('a callback that disposes the model mid-fit stops it with DISPOSED', async () => {
    const { model: victim, x: vx, y: vy } = trained();
    const run = victim.fit(vx, vy, { batchSize: 2, verbose: 0, callbacks: { onBatchEnd: () => victim.dispose() } });
    await expect(run).rejects.toMatchObject({ code: 'DISPOSED' });
  });
});
