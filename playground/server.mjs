#!/usr/bin/env node
/**
 * Serves the bundled playground (playground/build/, made by build.mjs) from 127.0.0.1 and prints its URL.
 * Cross-origin isolated (COOP/COEP), as a page that may use SharedArrayBuffer or threads must be.
 * Usage: node playground/server.mjs [--port N]   (default 8787; 0 picks a free port)
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('./build/', import.meta.url));
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};
const HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
};

/** The file a request names inside build/, or null for one outside it (`..`, an absolute path) or malformed. */
function fileOf(url) {
  let pathname;
  try {
    pathname = decodeURIComponent(new URL(url ?? '/', 'http://localhost').pathname);
  } catch {
    return null;
  }
  const path = join(root, pathname.endsWith('/') ? `${pathname}index.html` : pathname);
  return path.startsWith(root) ? path : null;
}

const { values } = parseArgs({ options: { port: { type: 'string', default: '8787' } } });
const port = /^\d{1,5}$/.test(values.port) ? Number(values.port) : NaN;
if (!(port <= 65535)) {
  console.error(`--port must be an integer in [0, 65535], got ${values.port}`);
  process.exit(2);
}

const server = createServer(async (req, res) => {
  if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, HEADERS).end();
  const path = fileOf(req.url);
  if (path === null) return void res.writeHead(403, HEADERS).end();
  try {
    if (!(await stat(path)).isFile()) throw new Error('not a file');
  } catch {
    return void res.writeHead(404, { ...HEADERS, 'content-type': 'text/plain' }).end('not found\n');
  }
  res.writeHead(200, { ...HEADERS, 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(path).pipe(res);
});
server.on('error', (error) => {
  console.error(`simdnet playground: cannot serve on 127.0.0.1:${port}: ${error.message}`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => console.log(`simdnet playground: http://127.0.0.1:${server.address().port}/`));
