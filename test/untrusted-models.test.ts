import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ErrorCode, init } from '../ts/index.js';
import { type TfjsDocument, expectRefused, literally, tinyTfjs, withPaths, writeFiles } from './model-files.js';

const nn = await init();
const witness = nn.sequential([{ inputDim: 3, units: 2, activation: 'tanh', seed: 7 }]);
const SECRET = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
const tmp = () => mkdtempSync(join(tmpdir(), 'simdnet-untrusted-'));
type Source = Parameters<typeof nn.loadModel>[0];
/** Expects loading `source` (with `options`) to fail with `code` and `message`, leaving everything as it was. */
const refuses = (source: Source, code: ErrorCode, message?: RegExp, options?: Parameters<typeof nn.loadModel>[1]) =>
  expectRefused(nn, witness, () => nn.loadModel(source, options), code, message);

/** A 3→4 model whose kernel is 12 uint8 values (scale 1, min 0) read from `path`, and its bias from a float16 shard beside it. */
function quantizedKernelFrom(path: string): TfjsDocument {
  const { doc } = tinyTfjs();
  doc.weightsManifest = [
    { paths: [path], weights: [{ ...doc.weightsManifest[0]!.weights[0], quantization: { dtype: 'uint8', scale: 1, min: 0 } }] },
    { paths: ['bias.bin'], weights: [{ name: 'dense/bias', shape: [4], dtype: 'float32', quantization: { dtype: 'float16' } }] },
  ];
  return doc;
}
const BIAS = new Uint8Array(8);

/** A folder `model/` holding a model whose kernel comes from `path`, beside `secret.bin` outside it. */
function escapingModel(path: string): string {
  const dir = writeFiles(tmp(), { 'secret.bin': SECRET, 'model/bias.bin': BIAS, 'model/model.json': quantizedKernelFrom(path) });
  return join(dir, 'model', 'model.json');
}

describe("weight files stay inside the model file's folder", () => {
  const escapes = [
    '../secret.bin',
    '%2e%2e/secret.bin',
    '.%2E/.%2E/secret.bin',
    'sub/../../secret.bin',
    '..\\secret.bin',
    '/etc/passwd',
    'file:///etc/passwd',
    '/proc/self/environ',
    '/dev/zero',
    '',
    'a//b.bin',
    './bias.bin',
    'bias.bin?x=1',
    'bias.bin#frag',
    'C:secret.bin',
  ];
  it.each(escapes)('refuses %j before reading it (INVALID_MODEL naming the path)', async (path) => {
    await refuses(escapingModel(path), 'INVALID_MODEL', literally(`weights path ${JSON.stringify(path)}`));
  });

  it('loads shards in subfolders, and through symlinks that stay inside; refuses a symlink that leaves', async () => {
    const dir = tmp();
    const { doc, shard, kernel } = tinyTfjs();
    writeFiles(dir, { 'outside.bin': shard, 'model/shards/a.bin': shard, 'model/model.json': withPaths(doc, 'shards/a.bin') });
    expect((await nn.loadModel(join(dir, 'model/model.json'))).getWeights()[0]).toEqual(kernel);
    symlinkSync(join(dir, 'model/shards/a.bin'), join(dir, 'model/inside.bin'));
    symlinkSync(join(dir, 'outside.bin'), join(dir, 'model/leaves.bin'));
    writeFiles(dir, { 'model/in.json': withPaths(doc, 'inside.bin') });
    writeFiles(dir, { 'model/out.json': withPaths(doc, 'leaves.bin') });
    expect((await nn.loadModel(join(dir, 'model/in.json'))).getWeights()[0]).toEqual(kernel);
    await refuses(join(dir, 'model/out.json'), 'INVALID_MODEL', /leaves\.bin.*symlink/);
  });

  it("simdnet's weightsPath obeys the same rule", async () => {
    const saved = witness.save('../model.bin');
    const dir = writeFiles(tmp(), { 'model.bin': saved.weights, 'model/model.json': new Uint8Array(Buffer.from(saved.json)) });
    await refuses(join(dir, 'model/model.json'), 'INVALID_MODEL', /"\.\.\/model\.bin"/);
  });

  it('allowExternalWeights lifts the folder rule, not the size bounds; unknown options are refused', async () => {
    const model = escapingModel('../secret.bin');
    const loaded = await nn.loadModel(model, { allowExternalWeights: true });
    expect(Array.from(loaded.getWeights()[0]!)).toEqual(Array.from(SECRET));
    loaded.dispose();
    const tooLong = writeFiles(tmp(), { 'secret.bin': new Uint8Array(13), 'model/bias.bin': BIAS });
    writeFiles(tooLong, { 'model/model.json': quantizedKernelFrom('../secret.bin') });
    await refuses(join(tooLong, 'model/model.json'), 'INVALID_MODEL', /more than the 12 bytes/, { allowExternalWeights: true });
    await refuses(escapingModel('/dev/zero'), 'IO_ERROR', /\/dev\/zero is not a regular file/, { allowExternalWeights: true });
    await refuses(model, 'INVALID_ARGUMENT', /allowExternal/, { allowExternal: true } as never);
    await refuses(model, 'INVALID_ARGUMENT', /boolean/, { allowExternalWeights: 'yes' } as never);
  });
});

describe('reads are bounded by what the model declares', () => {
  it('shards must add up to exactly the bytes of their weights, group by group', async () => {
    const { doc, shard, kernel } = tinyTfjs();
    const group = doc.weightsManifest[0]!;
    const split = writeFiles(tmp(), { 'a.bin': shard.subarray(0, 40), 'b.bin': shard.subarray(40) });
    writeFiles(split, { 'model.json': withPaths(doc, 'a.bin', 'b.bin') });
    expect((await nn.loadModel(join(split, 'model.json'))).getWeights()[0]).toEqual(kernel);
    const wrongLengths = [
      [new Uint8Array([...shard, 0]), /more than the 64 bytes/],
      [shard.subarray(0, 60), /hold 60 bytes; their weights need 64/],
    ] as const;
    for (const [bytes, message] of wrongLengths) {
      const dir = writeFiles(tmp(), { 'group1-shard1of1.bin': bytes, 'model.json': doc });
      await refuses(join(dir, 'model.json'), 'INVALID_MODEL', message);
    }
    // The right total, but 4 of the kernel's bytes in the bias' group.
    const [kernelSpec, biasSpec] = group.weights;
    const shifted = {
      ...doc,
      weightsManifest: [
        { paths: ['k.bin'], weights: [kernelSpec!] },
        { paths: ['b.bin'], weights: [biasSpec!] },
      ],
    };
    const dir = writeFiles(tmp(), { 'k.bin': shard.subarray(0, 44), 'b.bin': shard.subarray(44), 'model.json': shifted });
    await refuses(join(dir, 'model.json'), 'INVALID_MODEL', /k\.bin hold 44 bytes; their weights need 48/);
  });

  it("simdnet's weights file must be exactly as long as its layers need", async () => {
    const { json, weights } = witness.save();
    for (const bytes of [new Uint8Array([...weights, 0, 0, 0, 0]), weights.subarray(0, weights.length - 4)]) {
      const dir = writeFiles(tmp(), { 'model.bin': bytes, 'model.json': JSON.parse(json) as object });
      await refuses(join(dir, 'model.json'), 'INVALID_MODEL', /model\.bin|bytes/);
      await refuses({ json, weights: bytes }, 'INVALID_MODEL', /the weights have \d+ bytes; the layers need 32/);
    }
  });

  it('refuses FIFOs and directories as weight files without blocking', async () => {
    const { doc } = tinyTfjs();
    const dir = writeFiles(tmp(), { 'model.json': doc, 'folder.bin/x': new Uint8Array(1) });
    execFileSync('mkfifo', [join(dir, 'group1-shard1of1.bin')]);
    await refuses(join(dir, 'model.json'), 'IO_ERROR', /group1-shard1of1\.bin is not a regular file/);
    writeFiles(dir, { 'model.json': withPaths(doc, 'folder.bin') });
    await refuses(join(dir, 'model.json'), 'IO_ERROR', /folder\.bin is not a regular file/);
  });

  it('a model path is a path: "#", "?" and "%" in folder names are part of it', async () => {
    const { doc, shard, kernel } = tinyTfjs();
    const dir = writeFiles(tmp(), { 'a#b?c%2e%2e/model.json': doc, 'a#b?c%2e%2e/group1-shard1of1.bin': shard });
    expect((await nn.loadModel(join(dir, 'a#b?c%2e%2e/model.json'))).getWeights()[0]).toEqual(kernel);
  });

  it('files that cannot be read are IO_ERROR naming them', async () => {
    const dir = writeFiles(tmp(), { 'model.json': tinyTfjs().doc });
    await refuses(join(dir, 'model.json'), 'IO_ERROR', /weights file not found: .*group1-shard1of1\.bin/);
    await refuses(join(dir, 'nothing.json'), 'IO_ERROR', /model file not found: .*nothing\.json/);
  });
});

describe('models over HTTP', () => {
  const requests: string[] = [];
  const files = new Map<string, Uint8Array>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(req.url!);
    if (req.url === '/endless/group1-shard1of1.bin') {
      // No Content-Length, and bytes until the client goes away.
      const chunk = new Uint8Array(65536);
      const more = () => {
        while (res.write(chunk));
      };
      res.on('drain', more);
      more();
      return;
    }
    const body = files.get(req.url!);
    res.writeHead(body ? 200 : 404).end(body);
  });
  let base = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const serve = (path: string, content: Uint8Array | object) =>
    files.set(path, content instanceof Uint8Array ? content : new Uint8Array(Buffer.from(JSON.stringify(content))));

  it("loads shards from the model's folder; never requests one outside it", async () => {
    const { doc, shard, kernel } = tinyTfjs();
    serve('/m/model.json', doc);
    serve('/m/group1-shard1of1.bin', shard);
    serve('/secret', shard);
    expect((await nn.loadModel(`${base}/m/model.json`)).getWeights()[0]).toEqual(kernel);
    for (const path of [`${base}/secret`, '../secret', `//127.0.0.1:${new URL(base).port}/secret`, 'http://localhost/secret']) {
      serve('/m/evil.json', withPaths(doc, path));
      await refuses(`${base}/m/evil.json`, 'INVALID_MODEL', /weights path/);
    }
    expect(requests).not.toContain('/secret');
    serve('/m/local.json', withPaths(doc, 'file:///etc/passwd'));
    await refuses(`${base}/m/local.json`, 'INVALID_MODEL', /"file:\/\/\/etc\/passwd" names a local file/, { allowExternalWeights: true });
  });

  it('refuses a shard longer than declared, by Content-Length or while streaming', async () => {
    const { doc, shard } = tinyTfjs();
    serve('/long/model.json', doc);
    serve('/long/group1-shard1of1.bin', new Uint8Array([...shard, 0]));
    await refuses(`${base}/long/model.json`, 'INVALID_MODEL', /group1-shard1of1\.bin holds more than the 64 bytes/);
    serve('/endless/model.json', doc);
    await refuses(`${base}/endless/model.json`, 'INVALID_MODEL', /more than the 64 bytes/);
  });

  it('failed fetches are IO_ERROR naming the URL and the HTTP status or cause', async () => {
    serve('/missing/model.json', tinyTfjs().doc);
    await refuses(`${base}/missing/model.json`, 'IO_ERROR', /missing\/group1-shard1of1\.bin failed: HTTP 404/);
    await refuses(`${base}/nothing.json`, 'IO_ERROR', /nothing\.json failed: HTTP 404/);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/model.json`;
    await new Promise((resolve) => closed.close(resolve));
    await refuses(url, 'IO_ERROR', literally(`fetching model file ${url} failed`));
  });
});

describe('malformed TF.js files are INVALID_MODEL naming the layer or field', () => {
  const cases: [string, (doc: TfjsDocument) => void, RegExp][] = [
    ['missing paths', (d) => delete (d.weightsManifest[0] as Partial<TfjsDocument['weightsManifest'][0]>).paths, /paths/],
    ['null weights', (d) => (d.weightsManifest[0]!.weights = null as never), /weights/],
    ['a null weight spec', (d) => (d.weightsManifest[0]!.weights[0] = null as never), /weights\[0\]/],
    ['a null shape', (d) => (d.weightsManifest[0]!.weights[0]!.shape = null), /shape/],
    ['shape [-2]', (d) => (d.weightsManifest[0]!.weights[1]!.shape = [-2]), /shape\[0\]/],
    ['a null layer', (d) => (d.modelTopology.config.layers[0] = null as never), /layer 0/],
    ['a null layer config', (d) => (d.modelTopology.config.layers[0]!.config = null as never), /layer 0's config/],
    ['dtype int32', (d) => (d.weightsManifest[0]!.weights[0]!.dtype = 'int32'), /dtype "int32"/],
    ['quantization dtype int8', (d) => (d.weightsManifest[0]!.weights[0]!.quantization = { dtype: 'int8', scale: 1, min: 0 }), /int8/],
    ['quantization dtype bogus', (d) => (d.weightsManifest[0]!.weights[0]!.quantization = { dtype: 'bogus' }), /bogus/],
    ['uint8 without scale', (d) => (d.weightsManifest[0]!.weights[0]!.quantization = { dtype: 'uint8', min: 0 }), /scale/],
    ['uint16 without min', (d) => (d.weightsManifest[0]!.weights[0]!.quantization = { dtype: 'uint16', scale: 1 }), /min/],
    ['scale "abc"', (d) => (d.weightsManifest[0]!.weights[0]!.quantization = { dtype: 'uint8', scale: 'abc', min: 0 }), /scale/],
    [
      'kernel shape [4, 3]',
      (d) => (d.weightsManifest[0]!.weights[0]!.shape = [4, 3]),
      /dense\/kernel has shape \[4, 3\], expected \[3, 4\]/,
    ],
    ['kernel shape [12]', (d) => (d.weightsManifest[0]!.weights[0]!.shape = [12]), /expected \[3, 4\]/],
    ['kernel shape [-1, -12]', (d) => (d.weightsManifest[0]!.weights[0]!.shape = [-1, -12]), /shape\[0\]/],
    ['kernel shape [1.5, 8]', (d) => (d.weightsManifest[0]!.weights[0]!.shape = [1.5, 8]), /shape\[0\]/],
    ['bias shape [2, 2]', (d) => (d.weightsManifest[0]!.weights[1]!.shape = [2, 2]), /expected \[4\]/],
    ['a duplicate weight name', (d) => (d.weightsManifest[0]!.weights[1]!.name = 'dense/kernel'), /listed twice/],
    ['units 2.5', (d) => (d.modelTopology.config.layers[0]!.config.units = 2.5), /units/],
    ['use_bias "no"', (d) => (d.modelTopology.config.layers[0]!.config.use_bias = 'no'), /use_bias/],
    ['activation 7', (d) => (d.modelTopology.config.layers[0]!.config.activation = 7), /activation/],
    ['no weightsManifest', (d) => delete (d as Partial<TfjsDocument>).weightsManifest, /weightsManifest/],
  ];
  it.each(cases)('%s', async (_, mutate, message) => {
    const { doc, shard } = tinyTfjs();
    mutate(doc);
    const dir = writeFiles(tmp(), { 'model.json': doc, 'group1-shard1of1.bin': shard });
    await refuses(join(dir, 'model.json'), 'INVALID_MODEL', message);
  });

  it('artifacts passed directly get the same checks', async () => {
    const { doc, shard } = tinyTfjs();
    const artifacts = { modelTopology: doc.modelTopology, weightSpecs: doc.weightsManifest[0]!.weights, weightData: shard };
    expect((await nn.loadModel(artifacts as never)).getWeights()[1]).toEqual(tinyTfjs().bias);
    await refuses({ ...artifacts, weightSpecs: undefined } as never, 'INVALID_MODEL', /weightSpecs/);
    await refuses({ ...artifacts, weightData: shard.subarray(4) } as never, 'INVALID_MODEL', /60 bytes/);
    const bad = { ...artifacts, weightSpecs: [{ ...artifacts.weightSpecs[0], shape: [12] }, artifacts.weightSpecs[1]] };
    await refuses(bad as never, 'INVALID_MODEL', /expected \[3, 4\]/);
  });

  it('activations are looked up by own property: "__proto__" or "toString" is not one', async () => {
    for (const name of ['__proto__', 'toString', 'constructor']) {
      const { doc, shard } = tinyTfjs();
      doc.modelTopology.config.layers[0]!.config.activation = name;
      const dir = writeFiles(tmp(), { 'model.json': doc, 'group1-shard1of1.bin': shard });
      await refuses(join(dir, 'model.json'), 'INVALID_MODEL', new RegExp(`activation "${name}" is not supported`));
    }
  });
});

describe('malformed simdnet files are INVALID_MODEL, checked before the weights file is read', () => {
  const saved = nn.sequential([{ inputDim: 3, units: 4, activation: 'relu' }, { units: 2 }]).save();
  type Doc = { layers: Record<string, unknown>[] } & Record<string, unknown>;
  const cases: [string, (doc: Doc) => unknown, RegExp][] = [
    ['null', () => null, /not a simdnet model document/],
    ['[]', () => [], /not a simdnet model document/],
    ['a null layer', (d) => ((d.layers[0] = null as never), d), /layer 0 must be an object/],
    ['a null kernel', (d) => ((d.layers[0]!.kernel = null), d), /layer 0's kernel must be \[offset, length\]/],
    ['offset 0.5', (d) => ((d.layers[1]!.bias = [0.5, 2]), d), /layer 1's bias offset/],
    ['a negative offset', (d) => ((d.layers[1]!.kernel = [-1, 8]), d), /layer 1's kernel offset/],
    ['a place past the weights', (d) => ((d.layers[1]!.bias = [30, 2]), d), /layer 1's bias lies outside the 104 bytes/],
    ['inputDim -1', (d) => ((d.layers[0]!.inputDim = -1), d), /layer 0's inputDim/],
    ['units "4"', (d) => ((d.layers[0]!.units = '4'), d), /layer 0's units/],
    ['a chain that does not fit', (d) => ((d.layers[1]!.inputDim = 5), d), /layer 1 has inputDim 5 but the previous layer has 4 units/],
    ['an unknown activation', (d) => ((d.layers[0]!.activation = 'bogus'), d), /layer 0: .*bogus/],
    ['glu', (d) => ((d.layers[0]!.activation = 'glu'), d), /layer 0: .*glu/],
    ['prelu with 3 slopes for 4 units', (d) => ((d.layers[0]!.activation = { name: 'prelu', slope: [1, 2, 3] }), d), /layer 0: .*3 slopes/],
    ['a numeric weightsPath', (d) => ((d.weightsPath = 5), d), /weightsPath/],
    ['huge sizes', (d) => ((d.layers[0]!.units = 2 ** 40), d), /4 GiB|previous layer/],
  ];
  it.each(cases)('%s', async (_, mutate, message) => {
    const doc = mutate(JSON.parse(saved.json) as Doc);
    // No model.bin: a document checked first fails on itself, not on the missing file.
    const dir = writeFiles(tmp(), { 'model.json': new Uint8Array(Buffer.from(JSON.stringify(doc))) });
    await refuses(join(dir, 'model.json'), 'INVALID_MODEL', message);
    await refuses({ json: JSON.stringify(doc), weights: saved.weights }, 'INVALID_MODEL', message);
  });

  it("the CLI's loadModel of an escaping model reports the typed error, not the file's bytes", async () => {
    const error = await nn.loadModel(escapingModel('/etc/passwd')).catch((e: Error) => e);
    expect(String(error)).toMatch(/^SimdnetError: INVALID_MODEL: weights path "\/etc\/passwd"/);
  });
});
