/**
 * Training by definition, in double precision and plain TypeScript, independent of the kernels:
 * the oracle of the training tests. Forward pass, Keras 3's losses and their gradients (by the
 * chain rule through every activation, never the fused shortcut the kernel takes), backpropagation,
 * and Keras 3's optimizer rules.
 */
import { type ActivationOptions, preluSlopes, resolveSpec } from './activations.js';
import { type DenseWeights, activateBackward, derivative, preActivation, rowwise, scalarActivation } from './reference.js';
import { type ResolvedOptimizer, resolveOptimizer } from './train/optimizers.js';

/** Keras' clipping of probabilities for the cross-entropies. */
const EPSILON = 1e-7;

/** A loss as the reference takes it (names as `compile()`; sparse labels given one-hot). */
export interface ReferenceLoss {
  name: 'mean_squared_error' | 'mean_absolute_error' | 'huber' | 'binary_crossentropy' | 'categorical_crossentropy';
  fromLogits?: boolean;
  delta?: number;
}

function optionsOf(layer: DenseWeights): ActivationOptions & { axisSize: number } {
  return { ...(layer.alpha === undefined ? {} : { alpha: layer.alpha }), ...layer.activationOptions, axisSize: layer.units };
}

/** `act(z)` in double: elementwise by its formula, row-wise (softmax, prelu, ...) per row. */
function activation(layer: DenseWeights, z: Float64Array): Float64Array {
  const name = layer.activation ?? 'linear';
  const options = optionsOf(layer);
  const act = resolveSpec(name, options, ['axisSize']);
  if (act.rowwise) return rowwise(act.name, z, layer.units, act.name === 'prelu' ? preluSlopes(options.slope, layer.units) : undefined);
  return z.map(scalarActivation(name, options));
}

/** Each layer's input, pre-activation and activation for `batch` rows. */
export function forwardTrain(layers: readonly DenseWeights[], x: ArrayLike<number>, batch: number) {
  const inputs: Float64Array[] = [];
  const z: Float64Array[] = [];
  const a: Float64Array[] = [];
  let input: Float64Array = Float64Array.from(x);
  for (const layer of layers) {
    const pre = preActivation(layer, input, batch);
    inputs.push(input);
    z.push(pre);
    input = activation(layer, pre);
    a.push(input);
  }
  return { inputs, z, a };
}

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/**
 * The batch's mean loss (probabilities clipped to [1e-7, 1 − 1e-7], as Keras reports it) and its
 * gradient with respect to the outputs `a` (`rows × cols`, targets `y` dense or one-hot).
 */
export function lossAndGradient(loss: ReferenceLoss, a: ArrayLike<number>, y: ArrayLike<number>, rows: number, cols: number) {
  const n = rows * cols;
  const grad = new Float64Array(n);
  let total = 0;
  const clip = (p: number) => Math.min(Math.max(p, EPSILON), 1 - EPSILON);
  if (loss.name === 'categorical_crossentropy') {
    for (let r = 0; r < rows; r++) {
      const row = Array.from({ length: cols }, (_, j) => a[r * cols + j]!);
      if (loss.fromLogits) {
        const logP = rowwise('log_softmax', row, cols);
        row.forEach((_, j) => {
          total -= y[r * cols + j]! * logP[j]!;
          grad[r * cols + j] = (Math.exp(logP[j]!) - y[r * cols + j]!) / rows;
        });
      } else {
        // Keras normalizes each row by its sum (a softmax's is 1), then clips: g = dL/dp, then the
        // chain rule through p = a/Σa.
        const sum = row.reduce((s, v) => s + v, 0);
        const p = row.map((v) => v / sum);
        const g = p.map((pj, j) => (pj > EPSILON && pj < 1 - EPSILON ? -y[r * cols + j]! / pj : 0));
        const dot = g.reduce((s, gj, j) => s + gj * p[j]!, 0);
        p.forEach((pj, j) => {
          total -= y[r * cols + j]! * Math.log(clip(pj));
          grad[r * cols + j] = (g[j]! - dot) / sum / rows;
        });
      }
    }
    return { loss: total / rows, grad };
  }
  const delta = loss.delta ?? 1;
  for (let i = 0; i < n; i++) {
    const [p, t] = [a[i]!, y[i]!];
    const d = p - t;
    let [value, slope] = [0, 0];
    switch (loss.name) {
      case 'mean_squared_error':
        [value, slope] = [d * d, 2 * d];
        break;
      case 'mean_absolute_error':
        [value, slope] = [Math.abs(d), Math.sign(d)];
        break;
      case 'huber':
        [value, slope] = Math.abs(d) <= delta ? [(d * d) / 2, d] : [delta * (Math.abs(d) - delta / 2), delta * Math.sign(d)];
        break;
      case 'binary_crossentropy':
        if (loss.fromLogits) [value, slope] = [Math.max(p, 0) - p * t + Math.log1p(Math.exp(-Math.abs(p))), sigmoid(p) - t];
        else {
          const c = clip(p);
          const inside = p > EPSILON && p < 1 - EPSILON;
          [value, slope] = [-(t * Math.log(c) + (1 - t) * Math.log(1 - c)), inside ? (c - t) / (c * (1 - c)) : 0];
        }
    }
    total += value;
    grad[i] = slope / n;
  }
  return { loss: total / n, grad };
}

/** dL/dz of a layer from dL/da: elementwise f′, or the row-wise Jacobian product. */
function activationBackward(layer: DenseWeights, z: Float64Array, da: Float64Array): Float64Array {
  const name = layer.activation ?? 'linear';
  const options = optionsOf(layer);
  if (resolveSpec(name, options, ['axisSize']).rowwise) return Float64Array.from(activateBackward(name, z, da, options));
  const f = derivative(name, options);
  return da.map((g, i) => g * f(z[i]!));
}

/** prelu's slopes, a trainable variable (Keras' PReLU alpha): d(slope·z)/d(slope) = min(z, 0), summed over the batch. */
function slopeGradient(z: Float64Array, da: Float64Array, units: number): Float64Array {
  const grad = new Float64Array(units);
  da.forEach((g, i) => (grad[i % units]! += g * Math.min(z[i]!, 0)));
  return grad;
}

/**
 * The loss and `[dKernel0, dBias0, ...]` of the batch's mean loss, by backpropagation in double; a
 * prelu layer's slopes (one per unit) after its bias.
 */
export function gradients(layers: readonly DenseWeights[], x: ArrayLike<number>, y: ArrayLike<number>, batch: number, loss: ReferenceLoss) {
  const { inputs, z, a } = forwardTrain(layers, x, batch);
  const last = layers.at(-1)!;
  const { loss: value, grad } = lossAndGradient(loss, a.at(-1)!, y, batch, last.units);
  const out: Float64Array[] = [];
  let da = grad;
  for (let l = layers.length - 1; l >= 0; l--) {
    const { inputDim, units, kernel } = layers[l]!;
    const slopes = layers[l]!.activation === 'prelu' ? [slopeGradient(z[l]!, da, units)] : [];
    const dz = activationBackward(layers[l]!, z[l]!, da);
    const dKernel = new Float64Array(inputDim * units);
    const dBias = new Float64Array(units);
    const dx = new Float64Array(batch * inputDim);
    for (let b = 0; b < batch; b++) {
      for (let o = 0; o < units; o++) {
        const g = dz[b * units + o]!;
        dBias[o]! += g;
        for (let k = 0; k < inputDim; k++) {
          dKernel[k * units + o]! += inputs[l]![b * inputDim + k]! * g;
          dx[b * inputDim + k]! += g * kernel[k * units + o]!;
        }
      }
    }
    out.unshift(dKernel, dBias, ...slopes);
    da = dx;
  }
  return { loss: value, gradients: out };
}

/** An optimizer's state over a list of variables: the step count and its slot arrays per variable. */
export interface ReferenceOptimizer {
  readonly options: ResolvedOptimizer;
  iterations: number;
  /** Per variable: m/velocity, momentum/v, mean gradient/v̂ (Keras' slot names by optimizer). */
  readonly slots: Float64Array[][];
}

export function referenceOptimizer(spec: unknown, variables: readonly ArrayLike<number>[]): ReferenceOptimizer {
  return { options: resolveOptimizer(spec), iterations: 0, slots: variables.map((v) => [0, 1, 2].map(() => new Float64Array(v.length))) };
}

const l2 = (g: ArrayLike<number>) => Math.sqrt(Array.from(g).reduce((s, v) => s + v * v, 0));

/** One step of Keras 3's `apply`: clip the gradients, decay the weights, then each variable's update rule. */
export function optimizerStep(opt: ReferenceOptimizer, variables: Float64Array[], grads: readonly ArrayLike<number>[]): void {
  const o = opt.options;
  const t = ++opt.iterations;
  const globalNorm = Math.sqrt(grads.reduce((s, g) => s + l2(g) ** 2, 0));
  variables.forEach((w, vi) => {
    const norm = l2(grads[vi]!);
    const [s0, s1, s2] = opt.slots[vi]! as [Float64Array, Float64Array, Float64Array];
    for (let i = 0; i < w.length; i++) {
      let g = grads[vi]![i]!;
      if (o.clipnorm > 0) g = (g * o.clipnorm) / Math.max(norm, o.clipnorm);
      if (o.globalClipnorm > 0) g = (g * o.globalClipnorm) / Math.max(globalNorm, o.globalClipnorm);
      if (o.clipvalue > 0) g = Math.min(Math.max(g, -o.clipvalue), o.clipvalue);
      if (o.weightDecay > 0) w[i]! -= w[i]! * o.weightDecay * o.learningRate;
      const lr = o.learningRate;
      switch (o.name) {
        case 'sgd':
          if (o.momentum === 0) w[i]! -= lr * g;
          else {
            s0[i] = o.momentum * s0[i]! - lr * g;
            w[i]! += o.nesterov ? o.momentum * s0[i]! - lr * g : s0[i]!;
          }
          break;
        case 'adam':
        case 'adamw': {
          const alpha = (lr * Math.sqrt(1 - o.beta2 ** t)) / (1 - o.beta1 ** t);
          s0[i]! += (g - s0[i]!) * (1 - o.beta1);
          s1[i]! += (g * g - s1[i]!) * (1 - o.beta2);
          if (o.amsgrad) s2[i] = Math.max(s2[i]!, s1[i]!);
          w[i]! -= (s0[i]! * alpha) / (Math.sqrt(o.amsgrad ? s2[i]! : s1[i]!) + o.epsilon);
          break;
        }
        case 'rmsprop': {
          s0[i] = o.rho * s0[i]! + (1 - o.rho) * g * g;
          if (o.centered) s2[i] = o.rho * s2[i]! + (1 - o.rho) * g;
          const increment = (lr * g) / Math.sqrt(s0[i]! - (o.centered ? s2[i]! ** 2 : 0) + o.epsilon);
          if (o.momentum > 0) {
            s1[i] = o.momentum * s1[i]! + increment;
            w[i]! -= s1[i]!;
          } else w[i]! -= increment;
        }
      }
    }
  });
}

/** Each row's class: argmax (first of equals), or for one column whether it exceeds 0.5. */
function referenceClasses(values: ArrayLike<number>, classes: number): number[] {
  const rows = values.length / classes;
  return Array.from({ length: rows }, (_, r) => {
    const row = Array.from({ length: classes }, (_, c) => values[r * classes + c]!);
    return classes === 1 ? Number(row[0]! > 0.5) : row.indexOf(Math.max(...row));
  });
}

/** Precision, recall and f1 by counting, macro-averaged over the classes (one class for one column). */
export function classificationScores(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, classes: number) {
  const [t, p] = [referenceClasses(yTrue, classes), referenceClasses(yPred, classes)];
  const scores = (classes === 1 ? [1] : [...Array(classes).keys()]).map((c) => {
    const tp = t.filter((v, i) => v === c && p[i] === c).length;
    const predicted = p.filter((v) => v === c).length;
    const actual = t.filter((v) => v === c).length;
    const [precision, recall] = [predicted ? tp / predicted : 0, actual ? tp / actual : 0];
    return { precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0 };
  });
  const mean = (k: 'precision' | 'recall' | 'f1') => scores.reduce((s, v) => s + v[k], 0) / scores.length;
  return {
    precision: mean('precision'),
    recall: mean('recall'),
    f1: mean('f1'),
    accuracy: t.filter((v, i) => v === p[i]).length / t.length,
  };
}

/** ROC AUC by its definition: the probability that a positive outscores a negative (ties count half). */
export function rocAuc(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  let [wins, pairs] = [0, 0];
  for (let i = 0; i < yPred.length; i++) {
    if (!(yTrue[i]! > 0.5)) continue;
    for (let j = 0; j < yPred.length; j++) {
      if (yTrue[j]! > 0.5) continue;
      pairs++;
      wins += yPred[i]! > yPred[j]! ? 1 : yPred[i] === yPred[j] ? 0.5 : 0;
    }
  }
  return pairs ? wins / pairs : 0;
}
