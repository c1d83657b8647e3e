import { it } from 'vitest';
import { KERAS_MLP, init } from '../ts/index.js';
import { randomArray } from './helpers.js';

function time(f: () => void, reps: number): number {
  f();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    f();
    ts.push(performance.now() - t);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)]!;
}

it('speed', async () => {
  for (const variant of ['relaxed'] as const) {
    const nn = await init({ variant });
    for (const [b, k, o, reps] of [
      [1024, 64, 128, 50],
      [1024, 128, 64, 50],
      [1024, 1024, 1024, 5],
      [256, 512, 512, 15],
      [1, 1024, 1024, 50],
    ] as const) {
      const kernel = randomArray(k * o, 1, 0.1);
      const x = nn.tensor(randomArray(b * k, 2, 1), [b, k]);
      const out = nn.tensor(new Float32Array(b * o), [b, o]);
      const f = nn.dense({ inputDim: k, units: o, kernel });
      const q = nn.dense({ inputDim: k, units: o, kernel, quantize: 'int8' });
      const tf = time(() => f.apply(x, { into: out }), reps);
      const tq = time(() => q.apply(x, { into: out }), reps);
      const gop = (t: number) => ((2 * b * k * o) / t / 1e6).toFixed(1);
      console.log(
        `${variant} ${b}x${k}x${o}: f32 ${tf.toFixed(3)} ms ${gop(tf)} GOP/s, int8 ${tq.toFixed(3)} ms ${gop(tq)} GOP/s, x${(tf / tq).toFixed(2)}`,
      );
    }
    for (const batch of [1024, 1]) {
      const m = nn.sequential(KERAS_MLP);
      const q = m.quantize('int8');
      const x = randomArray(batch * 64, 3, 1);
      const out = new Float32Array(batch);
      const reps = batch === 1 ? 2000 : 50;
      const tf = time(() => m.predict(x, batch, { out }), reps);
      const tq = time(() => q.predict(x, batch, { out }), reps);
      console.log(
        `${variant} keras batch ${batch}: f32 ${(tf * 1000).toFixed(1)} us, int8 ${(tq * 1000).toFixed(1)} us, x${(tf / tq).toFixed(2)}`,
      );
    }
  }
});
