import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VARIANTS, bestVariant, init, supports } from '../ts/index.js';
import { bundledUrl } from '../ts/loader.js';

describe('init', () => {
  it('picks the fastest build the engine validates (relaxed here: the suite enables it)', async () => {
    expect(VARIANTS.every(supports)).toBe(true);
    expect(bestVariant()).toBe('relaxed');
    expect((await init()).variant).toBe('relaxed');
    expect((await init({ variant: 'simd' })).variant).toBe('simd');
  });

  it.each(VARIANTS)('loads the %s build from bytes, a compiled module, a file URL and a path', async (variant) => {
    const url = bundledUrl(variant);
    const bytes = new Uint8Array(await readFile(url));
    const module = await WebAssembly.compile(bytes);
    for (const options of [{ bytes }, { module }, { url }, { url: url.href }, { url: fileURLToPath(url) }]) {
      const nn = await init(options);
      expect(nn.variant).toBe(variant);
      expect(Array.from(nn.activate('relu', Float32Array.from([-1, 2])))).toEqual([0, 2]);
    }
  });

  it('each instance has its own memory', async () => {
    const [a, b] = [await init(), await init()];
    expect(a.memory).not.toBe(b.memory);
  });
});
