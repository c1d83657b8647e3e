// Copies the built wasm variants next to the compiled loader (dist/ts/wasm/), where it looks for them.
import { cpSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
cpSync(join(root, 'ts', 'wasm'), join(root, 'dist', 'ts', 'wasm'), { recursive: true, filter: (src) => !src.endsWith('.stamp') });
