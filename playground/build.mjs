#!/usr/bin/env node
/**
 * Builds the playground into playground/build/: type-checks the page, bundles it with rolldown (the
 * library from dist/, which `npm run build` makes), and copies the page and the library's .wasm builds
 * beside the bundle (the library fetches them from ./wasm/ next to the script that loads it).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const out = here('./build/');
const wasm = here('../dist/ts/wasm/');
if (!existsSync(wasm)) {
  console.error('dist/ts/wasm/ is missing: run `npm run build` first (`npm run playground` does)');
  process.exit(1);
}
try {
  execFileSync(process.execPath, [here('../node_modules/typescript/bin/tsc'), '-p', here('./tsconfig.json')], { stdio: 'inherit' });
} catch {
  console.error('[playground] the page does not type-check (errors above)');
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });
await build({
  input: here('./src/main.ts'),
  platform: 'browser',
  output: { file: `${out}playground.js`, format: 'esm', sourcemap: true },
});
copyFileSync(here('./index.html'), `${out}index.html`);
mkdirSync(`${out}wasm`);
for (const file of readdirSync(wasm).filter((f) => f.endsWith('.wasm'))) copyFileSync(`${wasm}${file}`, `${out}wasm/${file}`);
console.log(`[playground] built ${out}`);
