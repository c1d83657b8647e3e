/**
 * Feature standardization x' = (x − μ)/σ, and its folding into a model's first dense layer: the map
 * is affine, so x'·W + b = x·W' + b' with W'[k, o] = W[k, o]/σ[k] and b'[o] = b[o] − Σₖ μ[k]/σ[k]·W[k, o].
 * A folded model takes raw features, and its files need nothing beyond dense layers.
 */
import type { Sequential } from '../sequential.js';

export interface Standardization {
  readonly mean: Float64Array;
  /** The population standard deviation; 1 for a constant feature (which standardizes to 0 either way). */
  readonly std: Float64Array;
}

/**
 * Per-feature mean and standard deviation of the first `rows` samples of `x` (row-major, `dim`
 * features). A constant feature gets its value as the mean exactly and σ = 1: a mean computed by
 * a sum may be off by an ulp, and the rounding noise it leaves would become a σ near 0.
 */
export function standardization(x: Float32Array, rows: number, dim: number): Standardization {
  const [sum, min, max] = [new Float64Array(dim), new Float64Array(dim).fill(Infinity), new Float64Array(dim).fill(-Infinity)];
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < dim; k++) {
      const v = x[r * dim + k]!;
      [sum[k], min[k], max[k]] = [sum[k]! + v, Math.min(min[k]!, v), Math.max(max[k]!, v)];
    }
  }
  const mean = sum.map((s, k) => (min[k] === max[k] ? min[k]! : s / rows));
  const variance = new Float64Array(dim);
  for (let r = 0; r < rows; r++) for (let k = 0; k < dim; k++) variance[k]! += (x[r * dim + k]! - mean[k]!) ** 2 / rows;
  return { mean, std: variance.map((v, k) => (min[k] === max[k] ? 1 : Math.sqrt(v))) };
}

/** `x` standardized in place, every sample. */
export function standardize(x: Float32Array, { mean, std }: Standardization): Float32Array {
  const dim = mean.length;
  for (let i = 0; i < x.length; i++) x[i] = (x[i]! - mean[i % dim]!) / std[i % dim]!;
  return x;
}

/** Rewrites the first layer's weights so that the model applies `s` to its raw inputs itself. */
export function foldStandardization(model: Sequential, { mean, std }: Standardization): void {
  const first = model.layers[0]!;
  const [kernel, bias] = first.getWeights();
  const units = first.units;
  const folded = Float64Array.from(bias);
  for (let k = 0; k < first.inputDim; k++) {
    for (let o = 0; o < units; o++) {
      const w = kernel[k * units + o]! / std[k]!;
      kernel[k * units + o] = w;
      folded[o]! -= mean[k]! * w;
    }
  }
  first.setWeights(kernel, Float32Array.from(folded));
}
