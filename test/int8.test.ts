// Int8 dense layers (docs/int8.md): the exact integer result every build must store, the accuracy
// bound against float32, every activation through the f32 epilogue, edge rows, and hostile options.
import { describe, expect, it } from 'vitest';
import { ACTIVATION_NAMES, type DenseLayer, SimdnetError } from '../ts/index.js';
import { ROWWISE_NAMES } from '../ts/activations.js';
import { expectSameBits, instances, randomArray } from './helpers.js';

const f = Math.fround;
const LEVELS = 127;
/** 1.5·2²³: adding it rounds to an integer, ties to even, as the kernel does. */
const ROUNDER = 12582912;
const roundEven = (v: number) => f(f(v) + ROUNDER) - ROUNDER;

/** A row's quantization as the kernel computes it, in float32 steps: step, zero point and codes. */
function quantizeRow(row: Float32Array): { step: number; zero: number; codes: number[] } {
  const finite = row.every(Number.isFinite);
  const [lo, hi] = [Math.min(0, ...row), Math.max(0, ...row)];
  let step = finite ? f(f(hi / LEVELS) - f(lo / LEVELS)) : NaN;
  const inverse = f(1 / step);
  if (finite && !Number.isFinite(inverse)) step = 0;
  if (!(step > 0)) return { step, zero: 0, codes: Array.from(row, () => 0) };
  const zero = roundEven(f(-lo * inverse));
  return { step, zero, codes: Array.from(row, (v) => Math.max(0, Math.min(LEVELS, zero + roundEven(f(v * inverse))))) };
}

/** The int8 layer's linear output, bit for bit: integer dot products, then (Σ − zero·Σcodes)·(step·scale) + bias in float32. */
function exactInt8(x: Float32Array, batch: number, layer: DenseLayer): Float32Array {
  const { codes, scales, bias } = layer.getQuantizedWeights();
  const [inputs, units] = [layer.inputDim, layer.units];
  const y = new Float32Array(batch * units);
  for (let r = 0; r < batch; r++) {
    const q = quantizeRow(x.subarray(r * inputs, (r + 1) * inputs));
    for (let o = 0; o < units; o++) {
      let dot = 0;
      for (let k = 0; k < inputs; k++) dot += (q.codes[k]! - q.zero) * codes[k * units + o]!;
      y[r * units + o] = f(f(f(dot) * f(q.step * scales[o]!)) + bias[o]!);
    }
  }
  return y;
}

/**
 * The documented bound on |y_int8 − y_f32| per output: with the row's step s_x and the unit's scale s_w,
 * s_w/2·Σ|x_k| + s_x/2·Σ|w_k| + K·s_x·s_w/4, plus float32 rounding of the sums (2⁻²⁰ of Σ|x_k·w_k| + |b|).
 */
function expectWithinBound(x: Float32Array, batch: number, kernel: Float32Array, bias: Float32Array, layer: DenseLayer, y: Float32Array) {
  const [inputs, units] = [layer.inputDim, layer.units];
  const { scales } = layer.getQuantizedWeights();
  for (let r = 0; r < batch; r++) {
    const row = x.subarray(r * inputs, (r + 1) * inputs);
    const step = Math.max(0, ...row) / LEVELS - Math.min(0, ...row) / LEVELS;
    for (let o = 0; o < units; o++) {
      let [exact, sumX, sumW, magnitude] = [bias[o]!, 0, 0, Math.abs(bias[o]!)];
      for (let k = 0; k < inputs; k++) {
        const w = kernel[k * units + o]!;
        exact += row[k]! * w;
        [sumX, sumW, magnitude] = [sumX + Math.abs(row[k]!), sumW + Math.abs(w), magnitude + Math.abs(row[k]! * w)];
      }
      const s = scales[o]!;
      const bound = (s / 2) * sumX + (step / 2) * sumW + (inputs * step * s) / 4 + 2 ** -20 * magnitude;
      expect(Math.abs(y[r * units + o]! - exact), `row ${r}, unit ${o}`).toBeLessThanOrEqual(bound);
    }
  }
}

describe('int8 dense layers', async () => {
  const builds = await instances();

  it.each(builds)('%s: stores the exact int8 result and stays within the bound, on odd shapes', (_variant, nn) => {
    for (const [batch, inputs, units, seed] of [
      [1, 1, 1, 1],
      [1, 37, 45, 2],
      [2, 9, 33, 3],
      [3, 64, 8, 4],
      [5, 13, 7, 5],
      [9, 33, 17, 6],
      [64, 100, 40, 7],
    ] as const) {
      const kernel = randomArray(inputs * units, seed, 0.5);
      const bias = randomArray(units, seed + 100, 1);
      const x = randomArray(batch * inputs, seed + 200, 3);
      const layer = nn.dense({ inputDim: inputs, units, kernel, bias, quantize: 'int8' });
      const y = layer.apply(x, batch);
      expectSameBits(y, exactInt8(x, batch, layer));
      expectWithinBound(x, batch, kernel, bias, layer, y);
      layer.dispose();
    }
  });

  it('gives the same bits in every build', () => {
    const config = { inputDim: 77, units: 29, kernel: randomArray(77 * 29, 8, 2), bias: randomArray(29, 9), quantize: 'int8' as const };
    const x = randomArray(11 * 77, 10, 5);
    const [first, ...others] = builds.map(([, nn]) => nn.dense({ ...config, activation: 'relu' }).apply(x, 11));
    for (const y of others) expectSameBits(y!, first!);
  });

  const [, nn] = builds[0]!;
  const fused = ACTIVATION_NAMES.filter((name) => name !== 'glu');
  it.each(fused)('applies %s in the f32 epilogue, as nn.activate does on the linear output', (name) => {
    const [inputs, units, batch] = [21, name === 'prelu' ? 12 : 19, 6];
    const kernel = randomArray(inputs * units, 11, 1);
    const activation = name === 'prelu' ? { name, slope: Array.from(randomArray(units, 12, 0.5)) } : name;
    const layer = nn.dense({ inputDim: inputs, units, kernel, activation, quantize: 'int8' });
    const linear = nn.dense({ inputDim: inputs, units, kernel, quantize: 'int8' });
    const x = randomArray(batch * inputs, 13, 4);
    const rowwise = (ROWWISE_NAMES as string[]).includes(name);
    const options =
      name === 'prelu' ? { slope: (activation as { slope: number[] }).slope, axisSize: units } : rowwise ? { axisSize: units } : {};
    expectSameBits(layer.apply(x, batch), nn.activate(name, linear.apply(x, batch), options as never));
    layer.dispose();
    linear.dispose();
  });

  it('handles edge rows: zeros, constants, huge ranges, NaN and ±Inf', () => {
    const [inputs, units] = [6, 5];
    const kernel = randomArray(inputs * units, 14, 1);
    const bias = randomArray(units, 15, 1);
    const rows = [
      [0, 0, 0, 0, 0, 0],
      [2.5, 2.5, 2.5, 2.5, 2.5, 2.5],
      [-3, -3, -3, -3, -3, -3],
      [3e37, -3e37, 1, -1, 0, 2e37],
      [1e-40, -1e-40, 0, 1e-41, 0, 0],
      [1, NaN, 2, 3, 4, 5],
      [1, 2, Infinity, 3, 4, 5],
      [-Infinity, 2, 1, 3, 4, 5],
      [0.1, -0.2, 0.3, -0.4, 0.5, -0.6],
      [3.4e38, -3.4e38, 1, -1, 0, 2e38],
    ];
    const x = Float32Array.from(rows.flat());
    const batch = rows.length;
    const layer = nn.dense({ inputDim: inputs, units, kernel, bias, quantize: 'int8' });
    const y = layer.apply(x, batch);
    const row = (r: number) => Array.from(y.subarray(r * units, (r + 1) * units));
    expect(row(0)).toEqual(Array.from(bias));
    expect(row(4)).toEqual(Array.from(bias));
    for (const r of [5, 6, 7]) expect(row(r).every(Number.isNaN), `row ${r}`).toBe(true);
    for (const r of [0, 1, 2, 3, 8]) expect(row(r).every(Number.isFinite), `row ${r}`).toBe(true);
    // A range as wide as float32's: the step does not overflow, though the outputs may (to ±Inf, never NaN).
    expect(row(9).some(Number.isNaN)).toBe(false);
    expectSameBits(y, exactInt8(x, batch, layer));
    const finite = [0, 1, 2, 3, 8];
    const pick = (a: Float32Array, width: number) =>
      Float32Array.from(finite.flatMap((r) => Array.from(a.subarray(r * width, (r + 1) * width))));
    expectWithinBound(pick(x, inputs), finite.length, kernel, bias, layer, pick(y, units));
    layer.dispose();
  });

  it('returns the dequantized weights, and quantizes again on setWeights', () => {
    const [inputs, units] = [10, 6];
    const kernel = randomArray(inputs * units, 16, 2);
    const layer = nn.dense({ inputDim: inputs, units, kernel, quantize: 'int8' });
    const { codes, scales } = layer.getQuantizedWeights();
    const [weights] = layer.getWeights();
    weights.forEach((w, i) => {
      expect(w).toBe(f(codes[i]! * scales[i % units]!));
      expect(Math.abs(w - kernel[i]!)).toBeLessThanOrEqual(scales[i % units]! / 2);
    });
    expect(Math.max(...codes.map(Math.abs))).toBe(LEVELS);
    const doubled = kernel.map((w) => 2 * w);
    layer.setWeights(doubled);
    expect(Array.from(layer.getQuantizedWeights().scales)).toEqual(Array.from(scales, (s) => f(2 * s)));
    layer.dispose();
  });

  it('refuses an unknown quantization, and an int8 layer too wide for int32 sums, before touching memory', () => {
    const layer = nn.dense({ inputDim: 4, units: 3, quantize: 'int8' });
    const before = [nn.allocatedBytes, Array.from(layer.getWeights()[0])];
    for (const [quantize, inputDim] of [
      ['int4', 4],
      ['INT8', 4],
      [8, 4],
      [null, 4],
      ['int8', 132105],
    ] as const) {
      let error: unknown;
      try {
        nn.dense({ inputDim, units: 3, quantize: quantize as never });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SimdnetError);
      expect((error as SimdnetError).code).toBe('INVALID_ARGUMENT');
    }
    expect([nn.allocatedBytes, Array.from(layer.getWeights()[0])]).toEqual(before);
    const float = nn.dense({ inputDim: 4, units: 3 });
    expect(() => float.getQuantizedWeights()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    float.dispose();
    layer.dispose();
  });
});
