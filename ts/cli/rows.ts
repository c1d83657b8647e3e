/** Input rows for `simdnet predict`: CSV text (one row per line, an optional header) or a JSON array of rows. */

/** A decimal number as CSV and JSON write them: no hex, no `Infinity`/`NaN`, no empty cell. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * The value of one cell, or undefined when it is not a decimal number finite in float32 (the models
 * compute in float32: `1e39` would become Infinity there, as `1e400` does in a double).
 */
function decimal(cell: string): number | undefined {
  const text = cell.trim();
  const value = DECIMAL.test(text) ? Number(text) : NaN;
  return finiteFloat32(value) ? value : undefined;
}

const finiteFloat32 = (v: unknown) => typeof v === 'number' && Number.isFinite(Math.fround(v));

export interface ParsedRows {
  rows: number[][];
  /** The header's column names, when the first line was one. */
  header?: string[];
}

/**
 * Rows of finite numbers. CSV: blank lines are skipped but counted, so errors name the line an editor
 * shows; the first line is a header when `header` is true, or (when `header` is undefined) when none
 * of its cells is a number. JSON: an array of arrays of finite numbers.
 */
export function parseRows(text: string, header?: boolean): ParsedRows {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    let rows: unknown;
    try {
      rows = JSON.parse(trimmed);
    } catch (e) {
      throw new Error(`the input is not valid JSON (${(e as Error).message})`);
    }
    if (!Array.isArray(rows)) throw new Error('JSON input must be an array of rows of numbers');
    rows.forEach((row: unknown, i) => {
      if (!Array.isArray(row) || !row.every(finiteFloat32)) {
        throw new Error(`JSON row ${i + 1} is not an array of numbers finite in float32`);
      }
    });
    return { rows: rows as number[][] };
  }
  const lines = text
    .split(/\r?\n/)
    .map((line, i) => ({ number: i + 1, cells: line.split(',') }))
    .filter(({ cells }) => cells.join('').trim() !== '');
  const first = lines[0];
  const names = first && (header ?? first.cells.every((c) => decimal(c) === undefined)) ? first.cells.map((c) => c.trim()) : undefined;
  const body = names ? lines.slice(1) : lines;
  const rows = body.map(({ number, cells }) =>
    cells.map((cell) => {
      const value = decimal(cell);
      if (value === undefined) throw new Error(`line ${number}: "${cell.trim()}" is not a finite decimal number`);
      return value;
    }),
  );
  return names ? { rows, header: names } : { rows };
}
