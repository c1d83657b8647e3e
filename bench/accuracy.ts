/**
 * `npm run accuracy`: the error of each elementwise activation against the double-precision
 * reference, over every float32 in the function's interesting range (beyond it the functions are
 * linear, constant or saturated, which the unit tests check), on every build this engine runs.
 * Prints the worst error in ulps where the exact result is a normal float32, with the input where it
 * occurs, and the worst absolute error where it is subnormal. Minutes per function: outside the
 * unit tests on purpose. `--stride N` samples every Nth float32 instead, `--only a,b` / `--skip a,b` pick
 * functions by label, `--build simd` one build (two processes use both cores).
 */
import { parseArgs } from 'node:util';
import { type ActivationName, type ActivationOptions, VARIANTS, init, supports } from '../ts/index.js';
import * as ref from '../ts/reference.js';

interface Sweep {
  label: string;
  name: ActivationName;
  options?: ActivationOptions;
  limit: number;
  /** The sweep covers [-negativeLimit, limit] (default negativeLimit = limit). */
  negativeLimit?: number;
}

export const SWEEPS: Sweep[] = [
  { label: 'sigmoid', name: 'sigmoid', limit: 104 },
  { label: 'tanh', name: 'tanh', limit: 10 },
  { label: 'exponential', name: 'exponential', limit: 104 },
  { label: 'elu', name: 'elu', limit: 20 },
  { label: 'selu', name: 'selu', limit: 20 },
  { label: 'celu (alpha 2)', name: 'celu', options: { alpha: 2 }, limit: 40 },
  { label: 'gelu', name: 'gelu', limit: 14 },
  { label: 'gelu (tanh)', name: 'gelu', options: { approximate: true }, limit: 14 },
  { label: 'gelu (tanh)', name: 'gelu', options: { approximate: true }, limit: 14, negativeLimit: 5 },
  { label: 'silu', name: 'silu', limit: 104 },
  { label: 'silu', name: 'silu', limit: 104, negativeLimit: 87 },
  { label: 'mish', name: 'mish', limit: 104 },
  { label: 'mish', name: 'mish', limit: 104, negativeLimit: 87 },
  { label: 'softplus', name: 'softplus', limit: 104 },
  { label: 'log_sigmoid', name: 'log_sigmoid', limit: 104 },
  { label: 'softsign', name: 'softsign', limit: 1e4 },
  { label: 'squareplus', name: 'squareplus', limit: 1e4 },
  { label: 'tanh_shrink', name: 'tanh_shrink', limit: 10 },
  { label: 'hard_sigmoid', name: 'hard_sigmoid', limit: 4 },
  { label: 'hard_silu', name: 'hard_silu', limit: 4 },
  { label: 'sparse_plus', name: 'sparse_plus', limit: 2 },
  { label: 'sparse_sigmoid', name: 'sparse_sigmoid', limit: 2 },
];

const CHUNK = 1 << 20;
const MIN_NORMAL = 2 ** -126;

function bitsOf(x: number): number {
  return new Uint32Array(Float32Array.of(x).buffer)[0]!;
}

/** Position on the float32 number line (±0 at 0), for ulp distances. */
const ordinal = (bits: number) => (bits & 0x80000000 ? -(bits & 0x7fffffff) : bits);

async function sweep(variant: (typeof VARIANTS)[number], s: Sweep, stride: number) {
  const nn = await init({ variant });
  const f = ref.scalarActivation(s.name, s.options);
  const t = nn.tensor(new Float32Array(CHUNK), [CHUNK]);
  const input = new Float32Array(CHUNK);
  const inputBits = new Uint32Array(input.buffer);
  const expected = new Float32Array(CHUNK);
  const expectedBits = new Uint32Array(expected.buffer);
  let worst = { ulp: 0, x: 0, got: 0, want: 0 };
  let subnormalError = 0;
  let count = 0;
  for (const [sign, top] of [
    [0, bitsOf(s.limit)],
    [0x80000000, bitsOf(s.negativeLimit ?? s.limit)],
  ] as const) {
    for (let start = 0; start <= top; start += CHUNK * stride) {
      let n = 0;
      for (let b = start; n < CHUNK && b <= top && b < start + CHUNK * stride; b += stride) inputBits[n++] = (sign | b) >>> 0;
      for (let i = 0; i < n; i++) expected[i] = f(input[i]!);
      const data = t.data;
      data.set(input.subarray(0, n));
      nn.activate(s.name, t, { ...s.options, inPlace: true });
      const gotBits = new Uint32Array(data.buffer, data.byteOffset, n);
      for (let i = 0; i < n; i++) {
        // ulps where the exact result is a normal float32; below, the absolute error.
        if (Math.abs(expected[i]!) < MIN_NORMAL) {
          subnormalError = Math.max(subnormalError, Math.abs(data[i]! - expected[i]!) || 0);
          continue;
        }
        const ulp = Math.abs(ordinal(gotBits[i]!) - ordinal(expectedBits[i]!));
        if (ulp > worst.ulp) worst = { ulp, x: input[i]!, got: data[i]!, want: expected[i]! };
      }
      count += n;
    }
  }
  t.dispose();
  return { count, subnormalError, ...worst };
}

const { values } = parseArgs({
  options: { stride: { type: 'string', default: '1' }, only: { type: 'string' }, build: { type: 'string' }, skip: { type: 'string' } },
});
const stride = Number(values.stride);
const only = values.only?.split(',');
const skip = values.skip?.split(',') ?? [];
const variants = VARIANTS.filter((v) => supports(v) && (!values.build || v === values.build));
console.log(
  `accuracy over ${stride === 1 ? 'every float32' : `every ${stride}th float32`} in each range; builds: ${variants.join(', ')}\n`,
);
console.log(
  '| function | range | build | inputs | max error (normal results) | at x | got | exact (rounded) | max abs error (subnormal results) |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const s of SWEEPS.filter((w) => (!only || only.includes(w.label)) && !skip.includes(w.label))) {
  for (const variant of variants) {
    const r = await sweep(variant, s, stride);
    console.log(
      `| ${s.label} | [${-(s.negativeLimit ?? s.limit)}, ${s.limit}] | ${variant} | ${r.count.toLocaleString('en-US')} | ${r.ulp} ulp | ${r.x} | ${r.got} | ${r.want} | ${r.subnormalError === 0 ? '0' : r.subnormalError.toExponential(1)} |`,
    );
  }
}
