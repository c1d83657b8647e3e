#!/usr/bin/env node
// Builds crate/ into the wasm variants under ts/wasm/ (copied to dist/ by the package build).
//
// Toolchain resolution, first that works:
//   1. a Rust toolchain whose sysroot already has wasm32-unknown-unknown (rustup's, after `rustup target add`)
//   2. the Debian rustc-web sysroot this script prepared earlier under target/wasm-sysroot
//   3. `rustup target add wasm32-unknown-unknown`
//   4. on Debian/Ubuntu as root: apt-get install rustc-web & co., then build `core` for wasm32 into target/wasm-sysroot
//   5. otherwise: fail, saying what to install
// Rebuilds only when crate/ or the toolchain changed (a stamp file records both).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const crateDir = join(root, 'crate');
const outDir = join(root, 'ts', 'wasm');
const targetDir = join(root, 'target');
const sysroot = join(targetDir, 'wasm-sysroot');
// wasm-ld links shared memory only if every object, `core` included, was compiled with atomics.
const atomicsSysroot = join(targetDir, 'wasm-sysroot-atomics');
const ATOMICS = '+atomics,+bulk-memory,+mutable-globals';
const TARGET = 'wasm32-unknown-unknown';
const DEBIAN_RUST_SRC = '/usr/src/rustc-1.96.0/library/core/src/lib.rs';
const DEBIAN_PACKAGES = ['rustc-web', 'cargo-web', 'rust-web-src', 'rust-web-llvm', 'lld-22'];

/** The builds shipped in the package: name → extra target features. */
export const VARIANTS = {
  relaxed: '+simd128,+relaxed-simd',
  simd: '+simd128',
  scalar: '-simd128',
  // Shared memory for the worker pool (ts/threads/): a separate file, so that one thread costs nothing.
  'relaxed-threads': `+simd128,+relaxed-simd,${ATOMICS}`,
  'simd-threads': `+simd128,${ATOMICS}`,
};

/**
 * The threaded builds import their (shared) memory: 16 pages to start with (THREADED_INITIAL_PAGES in
 * ts/abi.ts, which creates it), wasm32's whole 4 GiB at most.
 */
const THREADED_LINK_ARGS = [
  '--shared-memory',
  '--import-memory',
  '--initial-memory=1048576',
  '--max-memory=4294967296',
  '--export=__stack_pointer',
];

const log = (msg) => process.stderr.write(`[build-wasm] ${msg}\n`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });
  return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function which(cmd) {
  const r = run('sh', ['-c', `command -v ${cmd}`]);
  return r.ok ? r.stdout.trim() : null;
}

function hasWasmTarget(rustc) {
  const r = run(rustc, ['--print', 'sysroot']);
  return r.ok && existsSync(join(r.stdout.trim(), 'lib', 'rustlib', TARGET, 'lib'));
}

function debianRustc() {
  return existsSync('/usr/bin/rustc') && existsSync('/usr/bin/cargo') && existsSync(DEBIAN_RUST_SRC)
    ? { rustc: '/usr/bin/rustc', cargo: '/usr/bin/cargo' }
    : null;
}

function sysrootReady(rustc, sysroot) {
  const stamp = join(sysroot, 'rustc-version');
  const libdir = join(sysroot, 'lib', 'rustlib', TARGET, 'lib');
  return (
    existsSync(stamp) &&
    readFileSync(stamp, 'utf8') === run(rustc, ['--version']).stdout &&
    existsSync(join(libdir, 'libcore.rlib')) &&
    existsSync(join(libdir, 'libcompiler_builtins.rlib'))
  );
}

/** Builds `core` (with target `features`, if any) and an empty compiler_builtins into `sysroot`. */
function buildSysroot(rustc, sysroot, features) {
  const libdir = join(sysroot, 'lib', 'rustlib', TARGET, 'lib');
  mkdirSync(libdir, { recursive: true });
  log(`building core for ${TARGET}${features ? ` (${features})` : ''} into ${relative(root, sysroot)} (about 25 s, once)`);
  const env = { ...process.env, RUSTC_BOOTSTRAP: '1' };
  const common = [
    '--edition',
    '2024',
    '--crate-type',
    'rlib',
    '--target',
    TARGET,
    '-C',
    'opt-level=3',
    '-C',
    'panic=abort',
    '-C',
    'debuginfo=0',
    ...(features ? ['-C', `target-feature=${features}`] : []),
  ];
  let r = run(rustc, [...common, '--crate-name', 'core', DEBIAN_RUST_SRC, '-o', join(libdir, 'libcore.rlib')], { env });
  if (!r.ok) throw new Error(`building core failed:\n${r.stderr}`);
  // The crate needs no compiler intrinsics beyond what wasm has natively (bulk memory included), so an
  // empty compiler_builtins satisfies the dependency every no_std crate has on it.
  const cbSrc = join(sysroot, 'compiler_builtins.rs');
  writeFileSync(cbSrc, '#![feature(compiler_builtins)]\n#![compiler_builtins]\n#![no_std]\n#![no_builtins]\n');
  r = run(
    rustc,
    [...common, '--sysroot', sysroot, '--crate-name', 'compiler_builtins', cbSrc, '-o', join(libdir, 'libcompiler_builtins.rlib')],
    { env },
  );
  if (!r.ok) throw new Error(`building compiler_builtins failed:\n${r.stderr}`);
  writeFileSync(join(sysroot, 'rustc-version'), run(rustc, ['--version']).stdout);
}

function aptInstall() {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !which('apt-get')) return false;
  log(`installing ${DEBIAN_PACKAGES.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!run('apt-get', ['update', '-qq'], { env }).ok) return false;
  const r = run('apt-get', ['install', '-y', '-qq', ...DEBIAN_PACKAGES], { env });
  if (!r.ok) log(`apt-get install failed:\n${r.stderr.slice(-2000)}`);
  return r.ok;
}

/** @returns {{rustc: string, cargo: string, rustflags: string[]}} */
function resolveToolchain() {
  const rustc = which('rustc');
  const cargo = which('cargo');
  if (rustc && cargo && hasWasmTarget(rustc)) return { rustc, cargo, rustflags: [] };
  let deb = debianRustc();
  if (deb && sysrootReady(deb.rustc, sysroot)) return { ...deb, rustflags: ['--sysroot', sysroot] };
  if (which('rustup')) {
    const r = run('rustup', ['target', 'add', TARGET]);
    if (r.ok && rustc && cargo && hasWasmTarget(rustc)) return { rustc, cargo, rustflags: [] };
    log(`rustup target add ${TARGET} failed; trying the Debian rustc-web route`);
  }
  if (!deb && aptInstall()) deb = debianRustc();
  if (deb) {
    if (!sysrootReady(deb.rustc, sysroot)) buildSysroot(deb.rustc, sysroot);
    return { ...deb, rustflags: ['--sysroot', sysroot] };
  }
  throw new Error(
    `no Rust toolchain that can target ${TARGET}. Install one of:\n` +
      `  - rustup (https://rustup.rs), then: rustup target add ${TARGET}\n` +
      `  - on Debian/Ubuntu: sudo apt-get install ${DEBIAN_PACKAGES.join(' ')} (then rerun this build)`,
  );
}

/**
 * The sysroot of a `core` compiled with atomics, for the threaded builds: built from the library
 * source Debian's rust-web-src ships (rustup's prebuilt `core` has no atomics; building it needs a
 * nightly toolchain's -Zbuild-std, which this script does not attempt).
 */
function atomicsSysrootFor(tc) {
  const deb = debianRustc();
  if (!deb || deb.rustc !== tc.rustc) {
    throw new Error(`the threaded builds need Debian's rustc-web and rust-web-src (sudo apt-get install ${DEBIAN_PACKAGES.join(' ')})`);
  }
  if (!sysrootReady(tc.rustc, atomicsSysroot)) buildSysroot(tc.rustc, atomicsSysroot, ATOMICS);
  return atomicsSysroot;
}

function filesUnder(dir) {
  return readdirSync(dir)
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? filesUnder(p) : [p];
    })
    .sort();
}

/** The names a module imports (the kernels must import nothing: the loader instantiates with no imports). */
function importsOf(bytes) {
  const leb = (at) => {
    let value = 0,
      shift = 0,
      byte;
    do {
      byte = bytes[at++];
      value |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    return [value, at];
  };
  for (let at = 8; at < bytes.length;) {
    const id = bytes[at];
    const [size, body] = leb(at + 1);
    if (id === 2) {
      let [count, p] = leb(body);
      const names = [];
      for (; count > 0; count--) {
        const [moduleLen, m] = leb(p);
        const [fieldLen, f] = leb(m + moduleLen);
        names.push(`${Buffer.from(bytes.subarray(m, m + moduleLen))}.${Buffer.from(bytes.subarray(f, f + fieldLen))}`);
        p = f + fieldLen;
        const kind = bytes[p++];
        // func: type index; table: reftype + limits; memory: limits; global: valtype + mutability
        if (kind === 0) p = leb(p)[1];
        else if (kind === 1 || kind === 2) {
          if (kind === 1) p++;
          const flags = bytes[p++];
          p = leb(p)[1];
          if (flags & 1) p = leb(p)[1];
        } else p += 2;
      }
      return names;
    }
    at = body + size;
  }
  return [];
}

function crateHash(toolchainId) {
  const h = createHash('sha256').update(toolchainId).update(JSON.stringify(VARIANTS));
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  for (const f of [join(crateDir, 'Cargo.toml'), ...filesUnder(join(crateDir, 'src'))]) {
    h.update(relative(crateDir, f)).update(readFileSync(f));
  }
  return h.digest('hex');
}

function main() {
  const tc = resolveToolchain();
  const version = run(tc.rustc, ['--version']).stdout.trim();
  const stampFile = join(outDir, '.stamp');
  const hash = crateHash(`${tc.rustc} ${version}`);
  const outputs = Object.keys(VARIANTS).map((v) => join(outDir, `simdnet-${v}.wasm`));
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === hash && outputs.every(existsSync)) {
    log('crate unchanged: wasm is up to date');
    return;
  }
  mkdirSync(outDir, { recursive: true });
  for (const [variant, features] of Object.entries(VARIANTS)) {
    const variantTarget = join(targetDir, variant);
    const threaded = features.includes('+atomics');
    const env = {
      ...process.env,
      RUSTC: tc.rustc,
      // The kernels need little stack; Rust's 1 MiB default would be dead weight in every instance.
      // Loop strength reduction rewrites the micro-kernel's loads as `i32.add` + load, which wasm's
      // offset folding cannot undo (it needs inbounds/nuw address arithmetic); without it the loads
      // of one k-step share a base pointer and take their offsets as immediates.
      RUSTFLAGS: [
        ...(threaded ? ['--sysroot', atomicsSysrootFor(tc)] : tc.rustflags),
        '-C',
        `target-feature=${features}`,
        '-C',
        'link-arg=-zstack-size=65536',
        '-C',
        'llvm-args=-disable-lsr',
        ...(threaded ? ['--cfg', 'simdnet_threads', ...THREADED_LINK_ARGS.flatMap((arg) => ['-C', `link-arg=${arg}`])] : []),
      ].join(' '),
      CARGO_TARGET_DIR: variantTarget,
    };
    const t0 = performance.now();
    const r = spawnSync(tc.cargo, ['build', '--release', '--target', TARGET, '--manifest-path', join(crateDir, 'Cargo.toml')], {
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`cargo build (${variant}) failed`);
    const out = join(outDir, `simdnet-${variant}.wasm`);
    const built = join(variantTarget, TARGET, 'release', 'simdnet.wasm');
    const imports = importsOf(readFileSync(built)).filter((name) => !(threaded && name === 'env.memory'));
    if (imports.length) throw new Error(`the ${variant} build imports ${imports.join(', ')}; the kernels must be self-contained`);
    copyFileSync(built, out);
    log(`${variant}: ${relative(root, out)} ${statSync(out).size} bytes (${((performance.now() - t0) / 1000).toFixed(1)} s, ${version})`);
  }
  writeFileSync(stampFile, hash);
}

try {
  main();
} catch (e) {
  log(e instanceof Error ? e.message : String(e));
  process.exit(1);
}
