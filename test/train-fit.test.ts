import { describe, expect, it, vi } from 'vitest';
import type { Simdnet } from '../ts/index.js';
import { seededRandom } from '../ts/random.js';
import { Progress } from '../ts/train/progress.js';
import { expectSameBits, instances, randomArray } from './helpers.js';

const builds = await instances();

/** XOR of Gaussians: centres (±1, ±1), σ = 0.5, label 1 where the signs differ. The Bayes classifier
 * reads each sign: right on one axis with p = Φ(2) = 0.97725, so its accuracy is p² + (1 − p)² = 0.9555. */
function xorOfGaussians(n: number, seed: number): { x: Float32Array; y: Float32Array } {
  const random = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const x = new Float32Array(2 * n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const [sx, sy] = [random() < 0.5 ? -1 : 1, random() < 0.5 ? -1 : 1];
    x[2 * i] = sx + 0.5 * gaussian();
    x[2 * i + 1] = sy + 0.5 * gaussian();
    y[i] = sx !== sy ? 1 : 0;
  }
  return { x, y };
}

const BAYES_ACCURACY = 0.9555;

function classifier(nn: Simdnet) {
  const model = nn.sequential([
    { inputDim: 2, units: 16, activation: 'relu' },
    { units: 8, activation: 'tanh' },
    { units: 1, activation: 'sigmoid' },
  ]);
  model.compile({ optimizer: { name: 'adam', learningRate: 0.01 }, loss: 'binary_crossentropy', metrics: ['accuracy', 'auc'] });
  return model;
}

describe.each(builds)('fit, %s build', (_, nn) => {
  it('learns XOR of Gaussians to within 0.03 of the Bayes accuracy on held-out data', async () => {
    const train = xorOfGaussians(2000, 1);
    const test = xorOfGaussians(2000, 2);
    const model = classifier(nn);
    const history = await model.fit(train.x, train.y, { epochs: 30, batchSize: 32, seed: 3, verbose: 0 });
    expect(history.history.loss!.at(-1)!).toBeLessThan(history.history.loss![0]!);
    const { accuracy, auc } = model.evaluate(test.x, test.y, { batchSize: 256 });
    // 2000 test samples: one standard deviation of the measured accuracy is 0.005.
    expect(accuracy).toBeGreaterThan(BAYES_ACCURACY - 0.03);
    expect(auc).toBeGreaterThan(0.95);
    model.dispose();
  });

  it('is deterministic: same seed, same bits; another seed, other weights', async () => {
    const { x, y } = xorOfGaussians(200, 4);
    const run = async (seed: number) => {
      const model = classifier(nn);
      const history = await model.fit(x, y, { epochs: 3, batchSize: 16, seed, verbose: 0 });
      const weights = model.getWeights();
      model.dispose();
      return { weights, loss: Float32Array.from(history.history.loss!) };
    };
    const [a, b, c] = [await run(7), await run(7), await run(8)];
    a.weights.forEach((w, i) => expectSameBits(b.weights[i]!, w));
    expectSameBits(b.loss, a.loss);
    expect(c.weights[0]).not.toEqual(a.weights[0]);
  });

  it('without shuffling and with one batch per epoch, fit is trainOnBatch once per epoch', async () => {
    const { x, y } = xorOfGaussians(50, 5);
    const [fitted, stepped] = [classifier(nn), classifier(nn)];
    const history = await fitted.fit(x, y, { epochs: 3, batchSize: 50, shuffle: false, verbose: 0 });
    const losses = [0, 1, 2].map(() => stepped.trainOnBatch(x, y).loss);
    expectSameBits(Float32Array.from(history.history.loss!), Float32Array.from(losses));
    stepped.getWeights().forEach((w, i) => expectSameBits(fitted.getWeights()[i]!, w));
    fitted.dispose();
    stepped.dispose();
  });

  it('validationSplit holds out the last samples before shuffling; validationData is evaluated as given', async () => {
    const { x, y } = xorOfGaussians(100, 6);
    const model = classifier(nn);
    const split = await model.fit(x, y, { epochs: 2, batchSize: 10, validationSplit: 0.25, seed: 1, verbose: 0 });
    const held = model.evaluate(x.subarray(75 * 2), y.subarray(75), { batchSize: 10 });
    expect(split.history.val_loss!.at(-1)).toBe(held.loss);
    expect(split.history.val_accuracy!.at(-1)).toBe(held.accuracy);
    expect(Object.keys(split.history)).toEqual(['loss', 'accuracy', 'auc', 'val_loss', 'val_accuracy', 'val_auc']);
    const given = await model.fit(x.subarray(0, 120), y.subarray(0, 60), {
      batchSize: 10,
      validationData: [x.subarray(120), y.subarray(60)],
      verbose: 0,
    });
    expect(given.history.val_loss![0]).toBe(model.evaluate(x.subarray(120), y.subarray(60), { batchSize: 10 }).loss);
    model.dispose();
  });

  it('calls back per batch and per epoch, awaiting each, and allocates nothing after the first epoch', async () => {
    const { x, y } = xorOfGaussians(45, 7);
    const model = classifier(nn);
    const events: string[] = [];
    let bytesAfterFirstEpoch = 0;
    await model.fit(x, y, {
      epochs: 2,
      batchSize: 20,
      verbose: 0,
      callbacks: {
        onBatchEnd: async (batch, logs) => {
          await new Promise((r) => setTimeout(r, 1));
          events.push(`b${batch}:${logs.size}`);
        },
        onEpochEnd: (epoch, logs) => {
          events.push(`e${epoch}:${typeof logs.accuracy}`);
          if (epoch === 0) bytesAfterFirstEpoch = nn.allocatedBytes;
        },
      },
    });
    expect(events).toEqual(['b0:20', 'b1:20', 'b2:5', 'e0:number', 'b0:20', 'b1:20', 'b2:5', 'e1:number']);
    expect(nn.allocatedBytes).toBe(bytesAfterFirstEpoch);
    model.dispose();
  });

  it('evaluate does not depend on its batch size beyond float rounding', () => {
    const { x, y } = xorOfGaussians(37, 8);
    const model = classifier(nn);
    const [whole, batched] = [model.evaluate(x, y, { batchSize: 37 }), model.evaluate(x, y, { batchSize: 5 })];
    expect(Math.abs(whole.loss! - batched.loss!)).toBeLessThan(1e-6);
    expect(batched.accuracy).toBe(whole.accuracy);
    model.dispose();
  });
});

describe('fit output and diagnostics', () => {
  const nn = builds[0]![1];

  it('verbose 2 prints one line per epoch; verbose 0 nothing', async () => {
    const { x, y } = xorOfGaussians(40, 9);
    const model = classifier(nn);
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    await model.fit(x, y, { epochs: 2, verbose: 2 });
    const lines = write.mock.calls.map((c) => String(c[0]));
    write.mockClear();
    await model.fit(x, y, { epochs: 1, verbose: 0 });
    expect(write).not.toHaveBeenCalled();
    write.mockRestore();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^Epoch 1\/2 - 2\/2 - .* - loss: \d\.\d{4} - accuracy: \d\.\d{4} - auc: \d\.\d{4}\n$/);
    model.dispose();
  });

  it('verbose 1 on a terminal redraws a Keras-style bar after every batch', () => {
    const written: string[] = [];
    const progress = new Progress(0, 3, 4, 1, { isTTY: true, write: (s) => void written.push(s) });
    progress.batch(1, { loss: 0.5 });
    progress.end({ loss: 0.25, accuracy: 1 });
    expect(written[0]).toBe('Epoch 1/3\n');
    expect(written[1]).toMatch(/^\r1\/4 ━{5} {15} \d+s \d+ms\/step - loss: 0\.5000\x1b\[K$/);
    expect(written[2]).toMatch(/^\r4\/4 ━{20} \d+s \d+ms\/step - loss: 0\.2500 - accuracy: 1\.0000\x1b\[K$/);
    expect(written[3]).toBe('\n');
  });

  it('reports dead ReLUs, saturated sigmoids and gradient norms per layer, with warnings past the thresholds', async () => {
    const model = nn.sequential([
      { inputDim: 3, units: 4, activation: 'relu', bias: [-100, -100, 0, 0] },
      { units: 2, activation: 'sigmoid', kernel: new Float32Array(8).fill(50) },
      { units: 1 },
    ]);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const x = randomArray(30, 1);
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const history = await model.fit(x, new Float32Array(10), { epochs: 1, verbose: 2, diagnostics: true });
    const printed = write.mock.calls.map((c) => String(c[0])).join('');
    write.mockRestore();
    const [relu, sigmoid, linear] = history.diagnostics![0]!;
    expect(relu!.deadFraction).toBe(0.5);
    expect(sigmoid!.saturatedFraction).toBeGreaterThan(0.5);
    expect(linear!.gradientNorm).toBeGreaterThan(0);
    expect(history.history.layer0_dead_fraction).toEqual([0.5]);
    expect(printed).toMatch(/WARNING: layer 1 \(sigmoid\): \d+% of its outputs are saturated/);
    expect(printed).not.toMatch(/layer 0 \(relu\): \d+% of its units are dead/);
    model.dispose();
  });
});
