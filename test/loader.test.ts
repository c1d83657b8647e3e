import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';
import { describe, expect, it } from 'vitest';
import wabt from 'wabt';
import { VARIANTS, type Variant, bestVariant, init, supports } from '../ts/index.js';
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

  it('the scalar build has no SIMD instruction (engines without SIMD accept it); the others need SIMD', async () => {
    const w = await wabt();
    // wabt with SIMD switched off: reading or validating rejects any v128 type or instruction.
    const validWithoutSimd = async (variant: Variant) => {
      const bytes = await readFile(bundledUrl(variant));
      try {
        const module = w.readWasm(bytes, { simd: false, relaxed_simd: false });
        module.validate();
        module.destroy();
        return true;
      } catch {
        return false;
      }
    };
    expect(await Promise.all(VARIANTS.map(validWithoutSimd))).toEqual(VARIANTS.map((v) => v === 'scalar'));
  });

  it.each(VARIANTS)('the %s build stays within its size budget (scripts/budgets.json)', async (variant) => {
    const { wasmBytes } = JSON.parse(await readFile(new URL('../scripts/budgets.json', import.meta.url), 'utf8')) as {
      wasmBytes: Record<string, number>;
    };
    expect((await readFile(bundledUrl(variant))).length).toBeLessThanOrEqual(wasmBytes[variant]!);
  });

  it("bundles for browsers through the package's `browser` condition, with nothing left to resolve", async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.exports['.'].browser).toBe('./dist/ts/index.js');
    const logs: string[] = [];
    const entry = fileURLToPath(new URL(`..${pkg.exports['.'].browser.slice(1)}`, import.meta.url));
    const out = await build({ input: entry, platform: 'browser', write: false, onLog: (_level, log) => void logs.push(log.message) });
    expect(logs).toEqual([]);
    const code = out.output.map((o) => (o.type === 'chunk' ? o.code : '')).join('\n');
    expect(code).not.toMatch(/from ['"]node:/);
  });
});
