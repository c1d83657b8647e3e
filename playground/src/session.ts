/**
 * One training run of the training panel: the model, its optimizer, one `fit` epoch at a time with
 * diagnostics, and what the panel draws from it (the decision boundary, the state of each hidden unit).
 */
import type { ActivationName, LayerDiagnostics, LayerSpec, Logs, Sequential, Simdnet } from '../../dist/ts/index.js';
import type { Split } from './datasets.js';

export interface HiddenLayer {
  units: number;
  activation: ActivationName;
}

export interface NetworkSpec {
  hidden: HiddenLayer[];
  /** 'sigmoid': one unit, binary cross-entropy (two classes only); 'softmax': a unit per class, sparse categorical cross-entropy. */
  output: 'sigmoid' | 'softmax';
}

export interface TrainingSpec {
  optimizer: 'sgd' | 'adam' | 'rmsprop' | 'adamw';
  learningRate: number;
  batchSize: number;
}

/** An epoch's logs, as `fit` reports them with the test set as validation data. */
export interface EpochReport {
  epoch: number;
  logs: Logs;
  layers: LayerDiagnostics[];
}

/** Where a hidden unit stands now, over the training set. */
export interface UnitState {
  /** relu, relu6: its pre-activation is ≤ 0 on every training point, so it passes no gradient. */
  dead: boolean;
  /** sigmoid, tanh: the fraction of training points where |f′(z)| < SATURATED_SLOPE (0 for the others). */
  saturated: number;
}

/** docs/training.md's threshold for a saturated output, which fit's diagnostics use too. */
export const SATURATED_SLOPE = 1e-3;
/** The activations fit's diagnostics watch for dead units, and for saturated ones. */
const CAN_DIE: readonly string[] = ['relu', 'relu6'];
const CAN_SATURATE: readonly string[] = ['sigmoid', 'tanh'];

/** A 32-bit seed for stream `stream` of run `seed` (weights per layer, the shuffle per epoch). */
const derive = (seed: number, stream: number) => (Math.imul(seed + 1, 0x9e3779b1) + stream) >>> 0;

export class TrainingSession {
  readonly model: Sequential;
  readonly split: Split;
  readonly network: NetworkSpec;
  readonly reports: EpochReport[] = [];
  readonly #nn: Simdnet;
  readonly #seed: number;
  /** Per hidden layer: the layers up to it, that one linear, whose output is the hidden layer's pre-activation. */
  readonly #probes: Sequential[];
  readonly #targets: Float32Array | Int32Array;
  readonly #testTargets: Float32Array | Int32Array;
  #batchSize = 32;

  constructor(nn: Simdnet, split: Split, network: NetworkSpec, training: TrainingSpec, seed: number) {
    const output = network.output === 'sigmoid' && split.classes === 2 ? 'sigmoid' : 'softmax';
    this.network = { hidden: network.hidden, output };
    const specs: LayerSpec[] = [
      ...network.hidden.map(({ units, activation }, i) => ({ units, activation, seed: derive(seed, i) })),
      { units: output === 'sigmoid' ? 1 : split.classes, activation: output, seed: derive(seed, network.hidden.length) },
    ];
    specs[0]!.inputDim = 2;
    this.model = nn.sequential(specs);
    this.#probes = [];
    try {
      for (let i = 0; i < network.hidden.length; i++) {
        this.#probes.push(nn.sequential(specs.slice(0, i + 1).map((s, j) => (j === i ? { ...s, activation: 'linear' } : s))));
      }
      this.#compile(training);
    } catch (e) {
      this.dispose();
      throw e;
    }
    // Binary cross-entropy takes a 0/1 target per point; the sparse loss takes the class ids themselves.
    const targets = (labels: Int32Array) => (output === 'sigmoid' ? Float32Array.from(labels) : labels);
    [this.#targets, this.#testTargets] = [targets(split.train.labels), targets(split.test.labels)];
    [this.#nn, this.split, this.#seed] = [nn, split, seed];
  }

  #compile({ optimizer, learningRate, batchSize }: TrainingSpec): void {
    const loss = this.network.output === 'sigmoid' ? 'binary_crossentropy' : 'sparse_categorical_crossentropy';
    this.model.compile({ optimizer: { name: optimizer, learningRate }, loss, metrics: ['accuracy', 'f1'] });
    this.#batchSize = batchSize;
  }

  /** New optimizer settings; the optimizer starts over (fresh moments), the weights stay. */
  recompile(training: TrainingSpec): void {
    this.#compile(training);
  }

  get epoch(): number {
    return this.reports.length;
  }

  /** One epoch of `fit` (its shuffle seeded by the run's seed and the epoch): loss, metrics, val_*, diagnostics. */
  async trainEpoch(): Promise<EpochReport> {
    const { train, test } = this.split;
    const history = await this.model.fit(train.x, this.#targets, {
      epochs: 1,
      batchSize: this.#batchSize,
      seed: derive(this.#seed, 1000 + this.epoch),
      validationData: [test.x, this.#testTargets],
      verbose: 0,
      diagnostics: true,
    });
    const logs = Object.fromEntries(Object.entries(history.history).map(([key, values]) => [key, values[0]!])) as Logs;
    const report = { epoch: this.epoch + 1, logs, layers: history.diagnostics![0]! };
    this.reports.push(report);
    return report;
  }

  /** Class probabilities (`classes` per point) at `points` (n × 2), written into `out`. */
  probabilities(points: Float32Array, out: Float32Array): Float32Array {
    const n = points.length / 2;
    if (this.network.output === 'softmax') return this.model.predict(points, n, { out });
    const p = this.model.predict(points, n);
    p.forEach((v, i) => {
      out[2 * i] = 1 - v;
      out[2 * i + 1] = v;
    });
    return out;
  }

  /** Each hidden unit's state over the training set, from its pre-activations (the probes) and f′ (simdnet's backward kernel). */
  unitStates(): UnitState[][] {
    const weights = this.model.getWeights();
    const { x, n } = this.split.train;
    return this.#probes.map((probe, i) => {
      const { units, activation } = this.network.hidden[i]!;
      probe.setWeights(weights.slice(0, 2 * i + 2));
      const z = probe.predict(x, n);
      const states = Array.from({ length: units }, () => ({ dead: CAN_DIE.includes(activation), saturated: 0 }));
      for (let k = 0; k < z.length; k++) if (z[k]! > 0) states[k % units]!.dead = false;
      if (CAN_SATURATE.includes(activation)) {
        const slopes = this.#nn.activateBackward(activation, z, new Float32Array(z.length).fill(1));
        for (let k = 0; k < z.length; k++) if (Math.abs(slopes[k]!) < SATURATED_SLOPE) states[k % units]!.saturated += 1 / n;
      }
      return states;
    });
  }

  dispose(): void {
    for (const model of [this.model, ...this.#probes]) model.dispose();
  }
}
