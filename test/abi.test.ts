// The two statements of the module's interface, crate/src/abi.rs and ts/abi.ts, read side by side: each
// fails to compile when its own numbers are inconsistent, and this test fails when one side changes alone.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as abi from '../ts/abi.js';

const crateSrc = new URL('../crate/src/', import.meta.url);
const abiRs = readFileSync(new URL('abi.rs', crateSrc), 'utf8');

const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c, at: number) => (at > 0 ? '_' : '') + c.toLowerCase());
const exported = abi as unknown as Record<string, unknown>;

/** The `layout!(Name: size { field: offset, ... })` assertions of abi.rs. */
function crateLayouts(): Map<string, { bytes: number; offsets: Record<string, number> }> {
  const layouts = new Map<string, { bytes: number; offsets: Record<string, number> }>();
  for (const [, name, bytes, fields] of abiRs.matchAll(/^layout!\((\w+): (\d+) \{([^}]*)\}\);/gm)) {
    const offsets = Object.fromEntries([...fields!.matchAll(/(\w+): (\d+)/g)].map(([, field, offset]) => [field!, Number(offset)]));
    layouts.set(name!, { bytes: Number(bytes), offsets });
  }
  return layouts;
}

/** The constants of `pub mod name { ... }` in abi.rs, lower-cased. */
function crateCodes(mod: string): Record<string, number> {
  const body = abiRs.match(new RegExp(`^pub mod ${mod} \\{\\n([\\s\\S]*?)^\\}`, 'm'))?.[1] ?? '';
  return Object.fromEntries(
    [...body.matchAll(/pub const (\w+): u32 = (\d+);/g)].map(([, name, value]) => [name!.toLowerCase(), Number(value)]),
  );
}

describe('the ABI', () => {
  it('has every #[repr(C)] struct of the crate in abi.rs, each with a layout assertion', () => {
    const structs = [...abiRs.matchAll(/#\[repr\(C\)\]\npub struct (\w+)/g)].map(([, name]) => name);
    expect(structs.length).toBeGreaterThan(0);
    expect([...crateLayouts().keys()]).toEqual(structs);
  });

  it('gives each struct the same size and field offsets on both sides', () => {
    const layouts = crateLayouts();
    const tsStructs = Object.keys(exported)
      .filter((key) => key.endsWith('_BYTES'))
      .map((key) => key.slice(0, -'_BYTES'.length));
    expect(tsStructs.sort()).toEqual([...layouts.keys()].map((name) => snakeCase(name).toUpperCase()).sort());
    for (const [name, { bytes, offsets }] of layouts) {
      const prefix = snakeCase(name).toUpperCase();
      expect(exported[`${prefix}_BYTES`], name).toBe(bytes);
      const tsOffsets = exported[`${prefix}_OFFSETS`] as Record<string, number> | undefined;
      expect(Object.fromEntries(Object.entries(tsOffsets ?? {}).map(([field, at]) => [snakeCase(field), at])), name).toEqual(offsets);
    }
  });

  it('gives the codes the same numbers on both sides', () => {
    expect({ ...abi.ActivationCode, ...abi.RowwiseCode }).toEqual(crateCodes('code'));
    expect(abi.LossCode).toEqual(crateCodes('loss_code'));
    expect(abi.OptimizerKind).toEqual(crateCodes('optimizer_kind'));
    expect(abi.OptimizerFlag).toEqual(crateCodes('optimizer_flag'));
    // The crate names the modes it tests for; any other mode computes the gradients.
    expect(abi.StepMode).toMatchObject(crateCodes('step_mode'));
    expect(abi.WeightFormat).toEqual(crateCodes('weight_format'));
    expect(Object.fromEntries(Object.entries(abi.PoolJobKind).map(([k, v]) => [k.toLowerCase(), v]))).toEqual(crateCodes('job_kind'));
    expect(Number(abiRs.match(/^pub const AFFINE: u32 = (\d+);/m)?.[1])).toBe(abi.AFFINE_CODE);
  });

  it('lists the exported functions in abi.rs order, and no other crate file exports or lays out anything', () => {
    const exports = [...abiRs.matchAll(/#\[unsafe\(no_mangle\)\]\npub (?:unsafe )?extern "C" fn (\w+)/g)].map(([, name]) => name);
    expect([...abi.KERNEL_FUNCTIONS, ...abi.POOL_FUNCTIONS]).toEqual(exports);
    const threadedOnly = [...abiRs.matchAll(/#\[cfg\(simdnet_threads\)\]\n#\[unsafe\(no_mangle\)\]\npub (?:unsafe )?extern "C" fn (\w+)/g)];
    expect(threadedOnly.map(([, name]) => name)).toEqual(abi.POOL_FUNCTIONS);
    const others = readdirSync(crateSrc, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.rs') && file !== 'abi.rs');
    expect(others.length).toBeGreaterThan(0);
    expect(others.filter((file) => /no_mangle|repr\(C\)|extern "C" fn \w/.test(readFileSync(new URL(file, crateSrc), 'utf8')))).toEqual([]);
  });

  it("creates the threaded builds' shared memory at the initial size they are linked with", () => {
    const buildScript = readFileSync(new URL('../scripts/build-wasm.mjs', import.meta.url), 'utf8');
    expect(Number(buildScript.match(/'--initial-memory=(\d+)'/)?.[1])).toBe(abi.THREADED_INITIAL_PAGES * 65536);
  });
});
