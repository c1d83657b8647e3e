import type { DenseLayer } from '../dense.js';
import type { Trainer } from './trainer.js';

/** One layer's health over an epoch. */
export interface LayerDiagnostics {
  layer: number;
  activation: string;
  /** relu/relu6 layers: the fraction of units whose pre-activation was ≤ 0 for every sample of the epoch. */
  deadFraction?: number;
  /** sigmoid/tanh layers: the fraction of outputs with |f′(z)| < 1e-3. */
  saturatedFraction?: number;
  /** The L2 norm of the layer's weight gradient (kernel and bias), averaged over the epoch's batches. */
  gradientNorm: number;
}

/** Thresholds past which `fit` prints a warning (documented in docs/training.md). */
export const WARN_AT = { deadFraction: 0.5, saturatedFraction: 0.5, vanishingNorm: 1e-7, explodingNorm: 1e3 } as const;
const SATURATED_SLOPE = 1e-3;

const DEAD_CAPABLE = new Set(['relu', 'relu6']);
const SLOPES: Record<string, (z: number) => number> = {
  sigmoid: (z) => {
    const s = 1 / (1 + Math.exp(-z));
    return s * (1 - s);
  },
  tanh: (z) => 1 - Math.tanh(z) ** 2,
};

/** Collects the diagnostics of `fit(…, { diagnostics: true })` from each step's buffers. */
export class Diagnostics {
  readonly #layers: readonly DenseLayer[];
  readonly #trainer: Trainer;
  #alive: Uint8Array[] = [];
  #saturated: number[] = [];
  #outputs = 0;
  #norms: number[] = [];
  #batches = 0;

  constructor(trainer: Trainer) {
    [this.#layers, this.#trainer] = [trainer.layers, trainer];
    this.#reset();
  }

  #reset(): void {
    this.#alive = this.#layers.map((l) => new Uint8Array(l.units));
    this.#saturated = this.#layers.map(() => 0);
    this.#norms = this.#layers.map(() => 0);
    [this.#outputs, this.#batches] = [0, 0];
  }

  /** Reads the last step's pre-activations and gradients (`rows` samples). */
  observe(rows: number): void {
    this.#trainer.layerViews(rows).forEach(({ z: values, grad }, i) => {
      const layer = this.#layers[i]!;
      const slope = SLOPES[layer.activation.name];
      if (DEAD_CAPABLE.has(layer.activation.name)) {
        values.forEach((v, j) => {
          if (v > 0) this.#alive[i]![j % layer.units] = 1;
        });
      } else if (slope) {
        this.#saturated[i]! += values.reduce((n, v) => n + Number(Math.abs(slope(v)) < SATURATED_SLOPE), 0);
      }
      let squares = 0;
      for (const g of grad) squares += g * g;
      this.#norms[i]! += Math.sqrt(squares);
    });
    this.#outputs += rows;
    this.#batches++;
  }

  /** The epoch's diagnostics, and the warnings they raise; then starts over. */
  epoch(): { layers: LayerDiagnostics[]; warnings: string[] } {
    const warnings: string[] = [];
    const layers = this.#layers.map((l, i): LayerDiagnostics => {
      const d: LayerDiagnostics = { layer: i, activation: l.activation.name, gradientNorm: this.#norms[i]! / Math.max(this.#batches, 1) };
      if (DEAD_CAPABLE.has(l.activation.name)) d.deadFraction = 1 - this.#alive[i]!.reduce((a, b) => a + b, 0) / Math.max(l.units, 1);
      if (SLOPES[l.activation.name]) d.saturatedFraction = this.#saturated[i]! / Math.max(this.#outputs * l.units, 1);
      const name = `layer ${i} (${l.activation.name})`;
      if ((d.deadFraction ?? 0) > WARN_AT.deadFraction)
        warnings.push(`${name}: ${(100 * d.deadFraction!).toFixed(0)}% of its units are dead ReLUs`);
      if ((d.saturatedFraction ?? 0) > WARN_AT.saturatedFraction)
        warnings.push(`${name}: ${(100 * d.saturatedFraction!).toFixed(0)}% of its outputs are saturated`);
      if (d.gradientNorm < WARN_AT.vanishingNorm) warnings.push(`${name}: vanishing gradient (norm ${d.gradientNorm.toExponential(2)})`);
      if (d.gradientNorm > WARN_AT.explodingNorm) warnings.push(`${name}: exploding gradient (norm ${d.gradientNorm.toExponential(2)})`);
      return d;
    });
    this.#reset();
    return { layers, warnings };
  }
}
