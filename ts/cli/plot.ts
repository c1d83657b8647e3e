import type { ActivationName, ActivationOptions } from '../activations.js';
import type { Simdnet } from '../simdnet.js';

/** What `simdnet plot` draws: every elementwise activation, with the options in its title. */
export const PLOTTED: [string, ActivationName, ActivationOptions][] = [
  ['relu', 'relu', {}],
  ['leaky_relu', 'leaky_relu', {}],
  ['relu6', 'relu6', {}],
  ['elu', 'elu', {}],
  ['selu', 'selu', {}],
  ['celu', 'celu', {}],
  ['exponential', 'exponential', {}],
  ['sigmoid', 'sigmoid', {}],
  ['tanh', 'tanh', {}],
  ['gelu', 'gelu', {}],
  ['gelu (tanh)', 'gelu', { approximate: true }],
  ['hard_sigmoid', 'hard_sigmoid', {}],
  ['hard_silu', 'hard_silu', {}],
  ['hard_tanh', 'hard_tanh', {}],
  ['hard_shrink', 'hard_shrink', {}],
  ['soft_shrink', 'soft_shrink', {}],
  ['log_sigmoid', 'log_sigmoid', {}],
  ['mish', 'mish', {}],
  ['silu', 'silu', {}],
  ['softplus', 'softplus', {}],
  ['softsign', 'softsign', {}],
  ['sparse_plus', 'sparse_plus', {}],
  ['sparse_sigmoid', 'sparse_sigmoid', {}],
  ['squareplus', 'squareplus', {}],
  ['tanh_shrink', 'tanh_shrink', {}],
  ['threshold (1, -1)', 'threshold', { threshold: 1, value: -1 }],
  ['thresholded_relu', 'thresholded_relu', {}],
  ['linear', 'linear', {}],
];

const COLUMNS = 4;
const PANEL = { width: 240, height: 180, left: 34, right: 10, top: 26, bottom: 24 };
const X_RANGE: [number, number] = [-5, 5];
const X_TICKS = [-4, -2, 0, 2, 4];
/** The y axis shows at most this far from 0: beyond it (the exponentials) curves are clipped and marked. */
const Y_LIMIT = 6;
const SAMPLES = 801;
/** Points closer than this to the simplified line are dropped: a quarter pixel, invisible at any zoom a reader uses. */
const TOLERANCE = 0.25;
const COLORS = { f: '#1f5fbf', df: '#e8730c' };

type Point = [number, number];

/** Ramer–Douglas–Peucker: the fewest points whose polyline stays within TOLERANCE of `points`. */
function simplify(points: Point[]): Point[] {
  if (points.length < 3) return points;
  const keep = new Uint8Array(points.length);
  keep[0] = keep[points.length - 1] = 1;
  const stack: [number, number][] = [[0, points.length - 1]];
  while (stack.length > 0) {
    const [a, b] = stack.pop()!;
    const [[ax, ay], [bx, by]] = [points[a]!, points[b]!];
    const length = Math.hypot(bx - ax, by - ay) || 1;
    let [worst, at] = [0, -1];
    for (let i = a + 1; i < b; i++) {
      const [px, py] = points[i]!;
      const distance = Math.abs((bx - ax) * (ay - py) - (ax - px) * (by - ay)) / length;
      if (distance > worst) [worst, at] = [distance, i];
    }
    if (worst > TOLERANCE) {
      keep[at] = 1;
      stack.push([a, at], [at, b]);
    }
  }
  return points.filter((_, i) => keep[i]);
}

/** A y-axis step of 1, 2 or 5 × 10^k giving three to six ticks over [lo, hi]. */
function tickStep(lo: number, hi: number): number {
  const raw = (hi - lo) / 4;
  const base = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * base).find((s) => (hi - lo) / s <= 6)!;
}

const label = (v: number) => String(+v.toPrecision(3)).replace('-', '−');

/**
 * One curve as path segments over the panel, broken where the function is not finite, and clipped at
 * the panel's top and bottom: the crossing point is interpolated, and marked with a triangle.
 */
function curve(xs: Float32Array, ys: Float32Array, sx: (x: number) => number, sy: (y: number) => number, [lo, hi]: Point) {
  const segments: Point[][] = [];
  const exits: { at: Point; up: boolean }[] = [];
  let current: Point[] = [];
  const end = () => {
    if (current.length > 1) segments.push(current);
    current = [];
  };
  for (let i = 0; i < xs.length; i++) {
    const [x, y] = [xs[i]!, ys[i]!];
    const inside = Number.isFinite(y) && y >= lo && y <= hi;
    const prev = i > 0 && Number.isFinite(ys[i - 1]!) ? ys[i - 1]! : undefined;
    const prevInside = prev !== undefined && prev >= lo && prev <= hi;
    if (prev !== undefined && Number.isFinite(y) && inside !== prevInside) {
      // The curve crosses the top or bottom edge between samples i-1 and i.
      const edge = (inside ? prev : y) > hi ? hi : lo;
      const t = (edge - prev) / (y - prev);
      const crossing: Point = [sx(xs[i - 1]! + t * (x - xs[i - 1]!)), sy(edge)];
      if (inside) current.push(crossing);
      else {
        current.push(crossing);
        end();
      }
      exits.push({ at: crossing, up: edge === hi });
    }
    if (inside) current.push([sx(x), sy(y)]);
    else end();
  }
  end();
  const d = segments
    .map((s) =>
      simplify(s)
        .map(([px, py], j) => `${j === 0 ? 'M' : 'L'}${+px.toFixed(1)} ${+py.toFixed(1)}`)
        .join(''),
    )
    .join('');
  return { d, exits };
}

/** One SVG with a panel per activation: f (solid) and f' (dashed, drawn over f) on [-5, 5], both from the wasm kernels. */
export function plotActivations(nn: Simdnet): string {
  const xs = Float32Array.from({ length: SAMPLES }, (_, i) => X_RANGE[0] + ((X_RANGE[1] - X_RANGE[0]) * i) / (SAMPLES - 1));
  const ones = new Float32Array(SAMPLES).fill(1);
  const rows = Math.ceil(PLOTTED.length / COLUMNS);
  const [width, height] = [COLUMNS * PANEL.width, rows * PANEL.height + 40];
  const [w, h] = [PANEL.width - PANEL.left - PANEL.right, PANEL.height - PANEL.top - PANEL.bottom];
  const panels = PLOTTED.map(([title, name, options], index) => {
    const ys = nn.activate(name, xs, options);
    const ds = nn.activateBackward(name, xs, ones, options);
    const finite = [...ys, ...ds].filter(Number.isFinite);
    const span: Point = [Math.max(Math.min(-1, ...finite), -Y_LIMIT), Math.min(Math.max(1, ...finite), Y_LIMIT)];
    const step = tickStep(...span);
    const yTicks: number[] = [];
    for (let t = Math.ceil(span[0] / step) * step; t <= span[1] + 1e-9; t += step) yTicks.push(+t.toFixed(6));
    const [ox, oy] = [(index % COLUMNS) * PANEL.width + PANEL.left, 40 + Math.floor(index / COLUMNS) * PANEL.height + PANEL.top];
    const sx = (x: number) => ox + ((x - X_RANGE[0]) / (X_RANGE[1] - X_RANGE[0])) * w;
    const sy = (y: number) => oy + (1 - (y - span[0]) / (span[1] - span[0])) * h;
    const f = curve(xs, ys, sx, sy, span);
    const df = curve(xs, ds, sx, sy, span);
    const marker = ({ at: [px, py], up }: { at: Point; up: boolean }, color: string) =>
      `<path d="M${+px.toFixed(1)} ${+(py + (up ? -1 : 1)).toFixed(1)}l-3.5 ${up ? 6 : -6}h7z" fill="${color}"/>`;
    return [
      `<g>`,
      `<rect x="${ox}" y="${oy}" width="${w}" height="${h}" fill="#fafafa" stroke="#ccc"/>`,
      ...yTicks.map(
        (t) =>
          `<path d="M${ox - 3} ${+sy(t).toFixed(1)}h${t === 0 ? w + 3 : 3}" stroke="${t === 0 ? '#999' : '#bbb'}"/>` +
          `<text x="${ox - 5}" y="${+(sy(t) + 3).toFixed(1)}" text-anchor="end">${label(t)}</text>`,
      ),
      ...X_TICKS.map(
        (t) =>
          `<path d="M${+sx(t).toFixed(1)} ${t === 0 ? oy : oy + h}v${t === 0 ? h + 3 : 3}" stroke="${t === 0 ? '#999' : '#bbb'}"/>` +
          `<text x="${+sx(t).toFixed(1)}" y="${oy + h + 13}" text-anchor="middle">${label(t)}</text>`,
      ),
      `<text x="${ox + w / 2}" y="${oy - 9}" text-anchor="middle" font-size="13">${title}</text>`,
      `<path d="${f.d}" fill="none" stroke="${COLORS.f}" stroke-width="2.6" stroke-opacity="0.85"/>`,
      `<path d="${df.d}" fill="none" stroke="${COLORS.df}" stroke-width="1.4" stroke-dasharray="4 2"/>`,
      ...f.exits.map((e) => marker(e, COLORS.f)),
      ...df.exits.map((e) => marker(e, COLORS.df)),
      `</g>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="9">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="12" y="24" font-size="15">simdnet activations on [−5, 5], computed by the wasm kernels: `,
    `<tspan fill="${COLORS.f}">f(x)</tspan>, <tspan fill="${COLORS.df}">f′(x) (dashed)</tspan>; ▲▼ where a curve leaves the panel</text>`,
    ...panels,
    `</svg>`,
  ].join('\n');
}
