/** mulberry32: a small seeded generator, so that default weights and benchmark data are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` floats uniform in [-limit, limit). */
export function uniform(count: number, limit: number, random: () => number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (random() * 2 - 1) * limit;
  return out;
}

/** Keras' default kernel initializer for a dense layer: U(±√(6 / (fan_in + fan_out))). */
export function glorotUniform(inputs: number, outputs: number, random: () => number): Float32Array {
  return uniform(inputs * outputs, Math.sqrt(6 / Math.max(1, inputs + outputs)), random);
}
