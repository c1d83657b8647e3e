import type { ActivationName, ActivationOptions } from '../activations.js';
import type { Simdnet } from '../runtime.js';

/** What `simdnet plot` draws: every elementwise activation, with the options in its title. */
export const PLOTTED: [string, ActivationName, ActivationOptions][] = [
  ['relu', 'relu', {}], ['leaky_relu', 'leaky_relu', {}], ['relu6', 'relu6', {}], ['elu', 'elu', {}],
  ['selu', 'selu', {}], ['celu', 'celu', {}], ['exponential', 'exponential', {}], ['sigmoid', 'sigmoid', {}],
  ['tanh', 'tanh', {}], ['gelu', 'gelu', {}], ['gelu (tanh)', 'gelu', { approximate: true }],
  ['hard_sigmoid', 'hard_sigmoid', {}], ['hard_silu', 'hard_silu', {}], ['hard_tanh', 'hard_tanh', {}],
  ['hard_shrink', 'hard_shrink', {}], ['soft_shrink', 'soft_shrink', {}], ['log_sigmoid', 'log_sigmoid', {}],
  ['mish', 'mish', {}], ['silu', 'silu', {}], ['softplus', 'softplus', {}], ['softsign', 'softsign', {}],
  ['sparse_plus', 'sparse_plus', {}], ['sparse_sigmoid', 'sparse_sigmoid', {}], ['squareplus', 'squareplus', {}],
  ['tanh_shrink', 'tanh_shrink', {}], ['threshold (1, -1)', 'threshold', { threshold: 1, value: -1 }],
  ['thresholded_relu', 'thresholded_relu', {}], ['linear', 'linear', {}],
];

const COLUMNS = 4;
const PANEL = { width: 230, height: 170, pad: 26 };
const X_RANGE: [number, number] = [-5, 5];
const SAMPLES = 401;

function path(xs: Float32Array, ys: Float32Array, sx: (x: number) => number, sy: (y: number) => number): string {
  let d = '';
  let pen = false;
  xs.forEach((x, i) => {
    const y = ys[i]!;
    if (!Number.isFinite(y)) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
    pen = true;
  });
  return d;
}

/** One SVG with a panel per activation: f (solid) and f' (dashed) over [-5, 5], both from the wasm kernels. */
export function plotActivations(nn: Simdnet): string {
  const xs = Float32Array.from({ length: SAMPLES }, (_, i) => X_RANGE[0] + ((X_RANGE[1] - X_RANGE[0]) * i) / (SAMPLES - 1));
  const ones = new Float32Array(SAMPLES).fill(1);
  const rows = Math.ceil(PLOTTED.length / COLUMNS);
  const width = COLUMNS * PANEL.width;
  const height = rows * PANEL.height + 40;
  const panels = PLOTTED.map(([title, name, options], index) => {
    const ys = nn.activate(name, xs, options);
    const ds = nn.activateBackward(name, xs, ones, options);
    const finite = [...ys, ...ds].filter(Number.isFinite);
    let [lo, hi] = [Math.min(-1, ...finite), Math.max(1, ...finite)];
    hi = Math.min(hi, 6);
    lo = Math.max(lo, -6);
    const ox = (index % COLUMNS) * PANEL.width;
    const oy = 40 + Math.floor(index / COLUMNS) * PANEL.height;
    const [w, h] = [PANEL.width - 2 * PANEL.pad, PANEL.height - 2 * PANEL.pad];
    const sx = (x: number) => ox + PANEL.pad + ((x - X_RANGE[0]) / (X_RANGE[1] - X_RANGE[0])) * w;
    const sy = (y: number) => oy + PANEL.pad + (1 - (Math.min(Math.max(y, lo), hi) - lo) / (hi - lo)) * h;
    return [
      `<g>`,
      `<rect x="${ox + PANEL.pad}" y="${oy + PANEL.pad}" width="${w}" height="${h}" fill="#fafafa" stroke="#ccc"/>`,
      `<line x1="${sx(X_RANGE[0])}" y1="${sy(0)}" x2="${sx(X_RANGE[1])}" y2="${sy(0)}" stroke="#999" stroke-width="0.7"/>`,
      `<line x1="${sx(0)}" y1="${sy(lo)}" x2="${sx(0)}" y2="${sy(hi)}" stroke="#999" stroke-width="0.7"/>`,
      `<text x="${ox + PANEL.width / 2}" y="${oy + 17}" text-anchor="middle" font-size="13" font-family="sans-serif">${title}</text>`,
      `<text x="${ox + PANEL.pad - 3}" y="${sy(hi) + 4}" text-anchor="end" font-size="9" font-family="sans-serif">${+hi.toPrecision(2)}</text>`,
      `<text x="${ox + PANEL.pad - 3}" y="${sy(lo)}" text-anchor="end" font-size="9" font-family="sans-serif">${+lo.toPrecision(2)}</text>`,
      `<path d="${path(xs, ds, sx, sy)}" fill="none" stroke="#e8730c" stroke-width="1.4" stroke-dasharray="4 2"/>`,
      `<path d="${path(xs, ys, sx, sy)}" fill="none" stroke="#1f5fbf" stroke-width="1.8"/>`,
      `</g>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="12" y="24" font-size="15" font-family="sans-serif">simdnet activations on [-5, 5], computed by the wasm kernels: `,
    `<tspan fill="#1f5fbf">f(x)</tspan>, <tspan fill="#e8730c">f′(x) (dashed)</tspan></text>`,
    ...panels,
    `</svg>`,
  ].join('\n');
}
