import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The README's examples are the files in examples/, run here as a user would: against the built package,
// resolved by name from a project's node_modules.
const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const project = mkdtempSync(join(tmpdir(), 'simdnet-examples-'));
mkdirSync(join(project, 'node_modules'));
symlinkSync(root, join(project, 'node_modules', 'simdnet'), 'dir');
const examples = readdirSync(join(root, 'examples'));
for (const name of examples) writeFileSync(join(project, name), readFileSync(join(root, 'examples', name)));
const node = (file: string) => execFileSync(process.execPath, [join(project, file)], { encoding: 'utf8', cwd: project });

describe('README examples', () => {
  it.each(examples)('README.md shows %s as it is', (name) => {
    expect(readme).toContain(readFileSync(join(root, 'examples', name), 'utf8').trim());
  });

  it('quickstart.mjs runs and prints what its comments say', () => {
    const out = node('quickstart.mjs');
    expect(out).toMatch(/Float32Array\(4\) \[ 0, 5\.9\d*, 0, 11\.8999\d* \]/);
    expect(out).toContain('Total params: 67');
  });

  it('quickstart.cjs runs from CommonJS', () => {
    expect(node('quickstart.cjs')).toMatch(/^(relaxed|simd|scalar) Float32Array\(3\) \[ 0, 0\.5, 2 \]/);
  });

  it('typescript.mts type-checks under strict settings and runs', () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          lib: ['ES2022', 'esnext.disposable', 'DOM'],
          outDir: 'out',
          skipLibCheck: false,
          types: [],
        },
        files: ['typescript.mts'],
      }),
    );
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', project], { encoding: 'utf8' });
    const out = node('out/typescript.mjs').trim().split('\n');
    expect(Number(out[0])).toBeGreaterThan(0);
    expect(out[1]).toBe('INVALID_ARGUMENT');
  });

  it('the published declarations hold no @internal member (tsconfig.build.json strips them)', () => {
    const declarations = readdirSync(join(root, 'dist/ts')).filter((f) => f.endsWith('.d.ts'));
    expect(declarations).toContain('index.d.ts');
    for (const file of declarations) {
      const text = readFileSync(join(root, 'dist/ts', file), 'utf8');
      expect(text, file).not.toMatch(/@internal|\bget (ptr|heap|packedPtr|slopesPtr)\(\)|\brun\(x: number/);
    }
  });
});
