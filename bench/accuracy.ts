/**
 * `npm run accuracy`: the error of each approximated activation against the double-precision reference,
 * over every float32 in the function's interesting range, on every build this engine runs. Prints the
 * worst error in ulps with the input where it occurs. Minutes long: outside the unit tests on purpose.
 */
import { type ActivationName, VARIANTS, init, supports } from '../ts/index.js';
import * as ref from '../ts/reference.js';

/** Beyond these bounds the functions are saturated (the unit tests check the saturation values). */
const SWEEPS: { name: ActivationName; limit: number }[] = [
  { name: 'sigmoid', limit: 20 },
  { name: 'tanh', limit: 10 },
];

const CHUNK = 1 << 20;

function bitsOf(x: number): number {
  return new Uint32Array(Float32Array.of(x).buffer)[0]!;
}

/** Position on the float32 number line (±0 at 0), for ulp distances. */
const ordinal = (bits: number) => (bits & 0x80000000 ? -(bits & 0x7fffffff) : bits);

async function sweep(variant: (typeof VARIANTS)[number], name: ActivationName, limit: number) {
  const nn = await init({ variant });
  const f = ref.scalarActivation(name);
  const t = nn.tensor(new Float32Array(CHUNK), [CHUNK]);
  const input = new Float32Array(CHUNK);
  const inputBits = new Uint32Array(input.buffer);
  const expected = new Float32Array(CHUNK);
  const expectedBits = new Uint32Array(expected.buffer);
  let worst = { ulp: 0, x: 0, got: 0, want: 0 };
  let count = 0;
  const top = bitsOf(limit);
  for (const sign of [0, 0x80000000]) {
    for (let start = 0; start <= top; start += CHUNK) {
      const n = Math.min(CHUNK, top - start + 1);
      for (let i = 0; i < n; i++) inputBits[i] = (sign | (start + i)) >>> 0;
      for (let i = 0; i < n; i++) expected[i] = f(input[i]!);
      const data = t.data;
      data.set(input.subarray(0, n));
      nn.activate(name, t, { inPlace: true });
      const gotBits = new Uint32Array(data.buffer, data.byteOffset, n);
      for (let i = 0; i < n; i++) {
        const ulp = Math.abs(ordinal(gotBits[i]!) - ordinal(expectedBits[i]!));
        if (ulp > worst.ulp) worst = { ulp, x: input[i]!, got: data[i]!, want: expected[i]! };
      }
      count += n;
    }
  }
  t.dispose();
  return { count, ...worst };
}

const variants = VARIANTS.filter(supports);
console.log(`accuracy sweep over every float32 in the range; builds: ${variants.join(', ')}\n`);
console.log('| function | range | build | inputs | max error | at x | got | exact (rounded) |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const { name, limit } of SWEEPS) {
  for (const variant of variants) {
    const r = await sweep(variant, name, limit);
    console.log(`| ${name} | [-${limit}, ${limit}] | ${variant} | ${r.count.toLocaleString('en-US')} | ${r.ulp} ulp | ${r.x} | ${r.got} | ${r.want} |`);
  }
}
