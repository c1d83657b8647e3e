import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseRows } from '../ts/cli/rows.js';

const cli = fileURLToPath(new URL('../dist/ts/cli/main.js', import.meta.url));
const run = (args: string[], input = '') => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', input });

describe('CLI input rows', () => {
  it('counts blank lines in the line numbers it reports', () => {
    expect(() => parseRows('1,2,3\n\n\n4,x,6')).toThrow(/^line 4: "x" is not a finite decimal number$/);
    expect(() => parseRows('1,2\r\n\r\n3,')).toThrow(/^line 3: "" is not/);
  });

  it('takes only finite decimal numbers', () => {
    for (const cell of [
      '1e400',
      '-1e400',
      '1e39',
      '-3.5e38',
      '0x10',
      'Infinity',
      'NaN',
      'nan',
      '1_000',
      '',
      ' ',
      '0b1',
      '1e',
      '.',
      '+-1',
    ]) {
      expect(() => parseRows(`1,${cell}`), cell).toThrow(/line 1/);
    }
    expect(parseRows('-1.5e3, .25 ,+7.\n3.4028234e38,0,-0').rows).toEqual([
      [-1500, 0.25, 7],
      [3.4028234e38, 0, -0],
    ]);
  });

  it('skips a header row of names, or the first line with header: true', () => {
    expect(parseRows('a,b\n1,2\n')).toEqual({ rows: [[1, 2]], header: ['a', 'b'] });
    expect(parseRows('1,2\n3,4', true)).toEqual({ rows: [[3, 4]], header: ['1', '2'] });
    expect(parseRows('1,2\n3,4').rows).toEqual([
      [1, 2],
      [3, 4],
    ]);
    // A first line that mixes names and numbers is data with a bad cell, not a header.
    expect(() => parseRows('a,1\n2,3')).toThrow(/^line 1: "a"/);
  });

  it('checks JSON rows', () => {
    expect(parseRows('[[1,2],[3,4]]').rows).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(() => parseRows('[[1,"2"]]')).toThrow(/JSON row 1/);
    expect(() => parseRows('[[1,1e39]]')).toThrow(/JSON row 1 is not an array of numbers finite in float32/);
    expect(() => parseRows('[1,2]')).toThrow(/JSON row 1/);
    expect(() => parseRows('[[1,2]')).toThrow(/not valid JSON/);
  });
});

describe('CLI commands', () => {
  it('--version prints the package version', () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const r = run([flag]);
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe(`simdnet ${version}`);
    }
  });

  it('every command has its own --help', () => {
    for (const command of ['bench', 'info', 'predict', 'plot']) {
      const r = run([command, '--help']);
      expect(r.status, command).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: simdnet ${command}`));
    }
    expect(run(['--help']).stdout).toMatch(/simdnet <command> --help/);
  });

  it('reaches the relaxed build on Node 20 by itself, and takes --variant', () => {
    expect(run(['info']).stdout).toMatch(/running the 'relaxed' build/);
    expect(run(['info', '--variant', 'scalar']).stdout).toMatch(/running the 'scalar' build/);
  });

  it('predict skips a CSV header', () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdnet-cli-'));
    const json = JSON.stringify({
      format: 'simdnet-sequential',
      version: 1,
      weightsPath: 'model.bin',
      layers: [{ inputDim: 2, units: 1, activation: 'linear', kernel: [0, 2], bias: [2, 1] }],
    });
    writeFileSync(join(dir, 'model.json'), json);
    writeFileSync(join(dir, 'model.bin'), new Uint8Array(new Float32Array([1, 10, 0.5]).buffer));
    const r = run(['predict', join(dir, 'model.json'), '--input', '-'], 'x0,x1\n1,2\n\n3,4\n');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('21.5\n43.5\n');
    const bad = run(['predict', join(dir, 'model.json'), '--input', '-'], 'x0,x1\n1,2\n\n3,0x10\n');
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toBe('simdnet: line 4: "0x10" is not a finite decimal number');
  });
});
