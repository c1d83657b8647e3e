import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, absent, launchChromium } from './browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ActivationName, type ActivationOptions, init } from '../ts/index.js';
import * as ref from '../ts/reference.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Starts playground/server.mjs on an ephemeral port; resolves to the URL it prints. */
function startServer(): Promise<[ChildProcess, string]> {
  const server = spawn(process.execPath, [join(root, 'playground/server.mjs'), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let printed = '';
    server.stdout!.on('data', (chunk) => {
      printed += String(chunk);
      const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(printed)?.[0];
      if (url) resolve([server, url]);
    });
    server.on('exit', (code) => reject(new Error(`the server exited (${code}) before printing its URL: ${printed}`)));
  });
}

/** The status of a GET of `path` as sent, unnormalized (fetch would resolve `..` itself). */
function statusOf(url: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    request({ hostname, port, path }, (res) => resolve(res.statusCode!))
      .on('error', reject)
      .end();
  });
}

/** Sets a control's value as a user would (an input event), and waits for the page's queue to settle. */
async function set(page: Page, selector: string, value: string | number): Promise<void> {
  await page.locator(selector).evaluate((el, v) => {
    (el as HTMLInputElement).value = String(v);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, value);
}

/** Clicks Step `epochs` times at once and waits until the page has trained them all. */
async function train(page: Page, epochs: number): Promise<void> {
  const start = Number(await page.textContent('#epoch'));
  await page.evaluate((n) => {
    for (let i = 0; i < n; i++) document.getElementById('step')!.click();
  }, epochs);
  await page.waitForFunction((n) => document.getElementById('epoch')!.textContent === String(n), start + epochs, { timeout: 60_000 });
}

const numberOf = async (page: Page, selector: string, key = 'value') => Number(await page.locator(selector).getAttribute(`data-${key}`));

describe('playground/server.mjs', () => {
  it('refuses a --port that is not a port, before listening (a server that listened would be killed by the timeout)', () => {
    const script = join(root, 'playground/server.mjs');
    for (const port of ['http', '65536', '80.5', '']) {
      const serve = () => execFileSync(process.execPath, [script, '--port', port], { stdio: 'pipe', timeout: 10_000 });
      expect(serve, port).toThrow(/--port must be an integer in \[0, 65535\]/);
    }
  });
});

describe.skipIf(absent('playground', 'Chromium', [CHROMIUM], 'apt-get install chromium'))(
  'the playground page, in headless Chromium',
  () => {
    let server: ChildProcess | undefined;
    let browser: Browser | undefined;
    let page: Page;
    let url: string;
    const problems: string[] = [];
    const outputs = mkdtempSync(join(tmpdir(), 'simdnet-playground-'));

    beforeAll(async () => {
      expect(existsSync(join(root, 'dist/ts/index.js')), 'dist/ must be built (npm run build)').toBe(true);
      try {
        execFileSync(process.execPath, [join(root, 'playground/build.mjs')], { encoding: 'utf8', stdio: 'pipe' });
      } catch (e) {
        const { stdout, stderr } = e as { stdout: string; stderr: string };
        throw new Error(`playground/build.mjs failed:\n${stdout}${stderr}`);
      }
      [server, url] = await startServer();
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.on('console', (message) => void (message.type() === 'error' && problems.push(message.text())));
      page.on('pageerror', (error) => void problems.push(error.message));
      page.on('requestfailed', (failed) => void problems.push(`${failed.url()}: ${failed.failure()?.errorText}`));
      await page.goto(url);
      await page.waitForSelector('body[data-ready]', { timeout: 30_000 });
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      server?.kill();
    });

    it('is served from 127.0.0.1, cross-origin isolated, with nothing outside playground/build/', async () => {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      expect(await page.textContent('#variant')).toBe('simdnet relaxed build');
      expect(await statusOf(url, '/wasm/simdnet-simd.wasm')).toBe(200);
      for (const path of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/nothing.js']) {
        expect(await statusOf(url, path), path).not.toBe(200);
      }
    });

    const CASES: [ActivationName, ActivationOptions][] = [
      ['relu', {}],
      ['leaky_relu', { negativeSlope: 0.1 }],
      ['elu', { alpha: 0.5 }],
      ['gelu', { approximate: true }],
      ['gelu', {}],
      ['sigmoid', {}],
      ['tanh', {}],
      ['softplus', { beta: 2 }],
    ];
    it.each(CASES)('plots %s %o: f and f′ at hovered points match simdnet/reference', async (name, options) => {
      await set(page, '#act-name', name);
      await set(page, '#act-min', -4);
      await set(page, '#act-max', 3);
      for (const [key, value] of Object.entries(options)) {
        if (typeof value === 'boolean') await page.locator(`#act-options input[name=${key}]`).setChecked(value);
        else await set(page, `#act-options input[name=${key}]`, value);
      }
      expect(await page.textContent('#act-error')).toBe('');
      const box = (await page.locator('#act-plot svg').boundingBox())!;
      const seen = new Set<number>();
      for (const fraction of [0.1, 0.3, 0.45, 0.62, 0.8, 0.97]) {
        await page.mouse.move(box.x + fraction * box.width, box.y + box.height / 2);
        const [x, f, df] = await Promise.all(['x', 'f', 'df'].map((key) => numberOf(page, '#act-readout', key)));
        seen.add(x!);
        expect(x).toBeGreaterThanOrEqual(-4);
        expect(x).toBeLessThanOrEqual(3);
        expect(f).toBeCloseTo(ref.scalarActivation(name, options)(x!), 5);
        expect(df).toBeCloseTo(ref.derivative(name, options)(x!), 5);
      }
      expect(seen.size).toBe(6);
    });

    it('shows softmax of the scores over the temperature, as simdnet/reference computes it', async () => {
      await set(page, '#softmax-scores', '2, -1, 0.5');
      await set(page, '#softmax-temperature', 2);
      const expected = ref.softmax([1, -0.5, 0.25]);
      const labels = await page.locator('#softmax-plot text').allTextContents();
      for (const p of expected) expect(labels).toContain(p.toFixed(3));
      expect(await page.textContent('#softmax-sum')).toBe('sum = 1.0000');
    });

    it("reports a rejected activation option as simdnet's INVALID_ARGUMENT, keeping the plot and the memory as they were", async () => {
      await set(page, '#act-name', 'softplus');
      const [plot, bytes] = [await page.innerHTML('#act-plot'), await numberOf(page, '#allocated')];
      await set(page, '#act-options input[name=beta]', 0);
      expect(await page.textContent('#act-error')).toMatch(/^INVALID_ARGUMENT: softplus beta must be non-zero/);
      expect(await page.innerHTML('#act-plot')).toBe(plot);
      expect(await numberOf(page, '#allocated')).toBe(bytes);
    });

    it('trains the leaky-ReLU preset on two moons (seed 1) to a test accuracy ≥ 0.95 in 150 epochs', async () => {
      await page.click('button[data-preset="leaky-rescue"]');
      expect(await page.inputValue('#data-name')).toBe('moons');
      await set(page, '#seed', 1);
      await train(page, 150);
      expect(await numberOf(page, '#test-accuracy')).toBeGreaterThanOrEqual(0.95);
      expect(await numberOf(page, '#test-f1')).toBeGreaterThanOrEqual(0.95);
      expect(await numberOf(page, '#train-loss')).toBeLessThan(0.1);
      expect(await page.locator('#network .unit.dead').count()).toBe(0);
      await page.locator('#training').screenshot({ path: join(outputs, 'training-leaky.png') });
    });

    it('shows most units of a layer dead (over 50%, greyed) with the dying-ReLU preset, and training stuck near chance', async () => {
      await page.click('button[data-preset="relu-dying"]');
      await set(page, '#seed', 1);
      await train(page, 60);
      expect(await numberOf(page, '#max-dead')).toBeGreaterThan(0.5);
      expect(await page.locator('#network .unit.dead').count()).toBeGreaterThanOrEqual(4);
      expect(await numberOf(page, '#test-accuracy')).toBeLessThan(0.8);
      expect(await page.textContent('#preset-note')).toMatch(/dying units/);
    });

    it("shows the sigmoid deep net's gradient vanishing layer by layer towards the input", async () => {
      await page.click('button[data-preset="sigmoid-deep"]');
      await train(page, 20);
      const norms = await page
        .locator('#network g.layer[data-gradient-norm]')
        .evaluateAll((layers) => layers.map((l) => Number((l as SVGGElement).dataset.gradientNorm)));
      expect(norms).toHaveLength(7);
      expect(norms[0]! * 100).toBeLessThan(norms[5]!);
      await page.locator('#training').screenshot({ path: join(outputs, 'training-sigmoid.png') });
    });

    it("colours the 3-class softmax preset's map by the three classes, and keeps wasm memory flat while training", async () => {
      await page.click('button[data-preset="softmax-3"]');
      await train(page, 1);
      const bytes = await numberOf(page, '#allocated');
      await train(page, 30);
      expect(await numberOf(page, '#allocated')).toBe(bytes);
      expect(await numberOf(page, '#test-accuracy')).toBeGreaterThan(0.9);
      // Beyond each blob's centre (blob c lies at angle 90° + 120°·c), the map has that class's colour, orange, blue, green.
      const pixels = await page.locator('#boundary').evaluate((canvas: HTMLCanvasElement) =>
        [0, 1, 2].map((c) => {
          const angle = Math.PI / 2 + (2 * Math.PI * c) / 3;
          const [x, y] = [1.8 * Math.cos(angle), 1.8 * Math.sin(angle)].map((v, axis) => ((axis ? 2 - v : v + 2) / 4) * canvas.width);
          return [...canvas.getContext('2d')!.getImageData(x!, y!, 1, 1).data.subarray(0, 3)];
        }),
      );
      const strongest = pixels
        .map(([r, g, b]) => [r! - b!, b! - r!, g! - Math.max(r!, b!)])
        .map((scores) => scores.indexOf(Math.max(...scores)));
      expect(strongest).toEqual([0, 1, 2]);
      await page.locator('#training').screenshot({ path: join(outputs, 'training-softmax.png') });
      await page.locator('#activations').screenshot({ path: join(outputs, 'activations.png') });
      console.log(`[playground] screenshots in ${outputs}`);
    });

    it('trains from Start until Pause; a layer of 0 units is INVALID_ARGUMENT, the model and memory left as they were', async () => {
      await page.click('#run');
      await page.waitForFunction(() => Number(document.getElementById('epoch')!.textContent) > 40);
      await page.click('#run');
      expect(await page.textContent('#run')).toBe('Start');
      const state = () => Promise.all([page.textContent('#epoch'), page.innerHTML('#network'), numberOf(page, '#allocated')]);
      const before = await state();
      await set(page, '#layers li:first-child .units', 0);
      await expect.poll(() => page.textContent('#train-error')).toMatch(/^INVALID_ARGUMENT: units must be/);
      expect(await state()).toEqual(before);
    });

    it("downloads the model in simdnet's format (nn.loadModel reads it back), the map as PNG and the plot as SVG", async () => {
      await set(page, '#layers li:first-child .units', 8);
      await train(page, 5);
      const [json, bin] = await Promise.all([
        page.waitForEvent('download', (d) => d.suggestedFilename() === 'model.json'),
        page.waitForEvent('download', (d) => d.suggestedFilename() === 'model.bin'),
        page.click('#export-model'),
      ]);
      await json.saveAs(join(outputs, 'model.json'));
      await bin.saveAs(join(outputs, 'model.bin'));
      const model = await (await init()).loadModel(join(outputs, 'model.json'));
      expect(model.layers.map((l) => [l.units, l.activation.name])).toEqual([
        [8, 'relu'],
        [8, 'relu'],
        [3, 'softmax'],
      ]);
      const [tfjsJson, tfjsBin] = await Promise.all([
        page.waitForEvent('download', (d) => d.suggestedFilename() === 'model.json'),
        page.waitForEvent('download', (d) => d.suggestedFilename() === 'model.weights.bin'),
        page.click('#export-tfjs'),
      ]);
      const tfjsDir = join(outputs, 'tfjs');
      mkdirSync(tfjsDir, { recursive: true });
      await tfjsJson.saveAs(join(tfjsDir, 'model.json'));
      await tfjsBin.saveAs(join(tfjsDir, 'model.weights.bin'));
      // simdnet reads the TF.js files back as the same model (TF.js itself reading them is tested in test/train-*.test.ts).
      const fromTfjs = await (await init()).loadModel(join(tfjsDir, 'model.json'));
      const probe = new Float32Array([0.3, -0.7, 1.1, 0.2]);
      expect(fromTfjs.predict(probe, 2)).toEqual(model.predict(probe, 2));
      const [png] = await Promise.all([page.waitForEvent('download'), page.click('#export-boundary')]);
      expect([...readFileSync((await png.path())!).subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
      const [plot] = await Promise.all([page.waitForEvent('download'), page.click('#export-activation')]);
      expect(readFileSync((await plot.path())!, 'utf8')).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^]*<path d="M/);
    });

    it('logged no console error, page error or failed request', () => {
      expect(problems).toEqual([]);
    });
  },
);
