/**
 * The activations panel: f and f′ of any elementwise activation over a chosen range, both computed by
 * simdnet's kernels (nn.activate, and nn.activateBackward with dy = 1), and softmax applied to editable scores.
 */
import { ACTIVATION_NAMES, type ActivationName, type ActivationOptions, PRESETS, type Simdnet } from '../../dist/ts/index.js';
import { axes, frame, polyline, svg } from './svg.js';

/** Computed along rows, not elementwise: they have no curve f(x) (softmax has its own view below). */
const ROWWISE: readonly string[] = ['softmax', 'log_softmax', 'softmin', 'sparsemax', 'glu', 'prelu'];
export const ELEMENTWISE = ACTIVATION_NAMES.filter((name) => !ROWWISE.includes(name));

type OptionKey = Exclude<keyof ActivationOptions, 'preset' | 'slope'>;
/** The options each activation reads (docs: README's activation table); a blank field or an unticked box keeps the default. */
const OPTIONS: Partial<Record<ActivationName, readonly OptionKey[]>> = {
  relu: ['negativeSlope', 'maxValue', 'threshold'],
  leaky_relu: ['negativeSlope'],
  elu: ['alpha'],
  celu: ['alpha'],
  gelu: ['approximate'],
  hard_sigmoid: ['alpha', 'beta'],
  hard_silu: ['alpha', 'beta'],
  hard_swish: ['alpha', 'beta'],
  hard_tanh: ['minVal', 'maxVal'],
  hard_shrink: ['threshold'],
  soft_shrink: ['threshold'],
  silu: ['beta'],
  swish: ['beta'],
  softplus: ['beta', 'threshold'],
  squareplus: ['b'],
  threshold: ['threshold', 'value'],
  thresholded_relu: ['threshold'],
};

const SAMPLES = 601;
const [WIDTH, HEIGHT] = [600, 340];
/** The y axis shows at most this far from 0 (the exponentials would flatten everything else). */
const Y_LIMIT = 10;
export const COLORS = { f: '#1f5fbf', df: '#e8730c' };

function element<T extends HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

/** The activation, options and range the controls describe. */
function readControls(): { name: ActivationName; options: ActivationOptions; range: [number, number] } {
  const name = element<HTMLSelectElement>('act-name').value as ActivationName;
  const options: ActivationOptions = { preset: element<HTMLSelectElement>('act-preset').value as ActivationOptions['preset'] };
  for (const input of element('act-options').querySelectorAll('input')) {
    const key = input.name as OptionKey;
    if (input.type === 'checkbox') {
      if (input.checked) Object.assign(options, { [key]: true });
    } else if (input.value.trim() !== '') Object.assign(options, { [key]: Number(input.value) });
  }
  return { name, options, range: [Number(element<HTMLInputElement>('act-min').value), Number(element<HTMLInputElement>('act-max').value)] };
}

/** One input per option of `name`. */
function optionFields(name: ActivationName): void {
  const box = element('act-options');
  box.replaceChildren();
  for (const key of OPTIONS[name] ?? []) {
    const field = document.createElement('label');
    const input = document.createElement('input');
    input.name = key;
    if (key === 'approximate') input.type = 'checkbox';
    else Object.assign(input, { type: 'number', step: 'any', placeholder: 'default', size: 6 });
    field.append(`${key} `, input);
    box.append(field);
  }
}

/** Draws f and f′; on a rejected option or range, shows simdnet's error and keeps the last plot. */
function plot(nn: Simdnet): void {
  const { name, options, range } = readControls();
  const error = element('act-error');
  const [lo, hi] = range;
  let f: Float32Array;
  let df: Float32Array;
  const xs = new Float32Array(SAMPLES).map((_, i) => lo + ((hi - lo) * i) / (SAMPLES - 1));
  try {
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) throw new Error(`the range needs min < max, got [${lo}, ${hi}]`);
    f = nn.activate(name, xs, options);
    df = nn.activateBackward(name, xs, new Float32Array(SAMPLES).fill(1), options);
  } catch (e) {
    error.textContent = (e as Error).message;
    return;
  }
  error.textContent = '';
  const finite = [...f, ...df].filter((v) => Number.isFinite(v) && Math.abs(v) <= Y_LIMIT);
  let [yLo, yHi] = [Math.min(0, ...finite), Math.max(1, ...finite)];
  const pad = 0.08 * (yHi - yLo);
  [yLo, yHi] = [yLo - pad, yHi + pad];
  const plotFrame = frame(WIDTH, HEIGHT, [lo, hi], [yLo, yHi]);
  const root = element<HTMLElement>('act-plot').querySelector('svg')!;
  root.replaceChildren();
  svg('rect', { width: WIDTH, height: HEIGHT, fill: '#fff' }, root);
  axes(root, plotFrame, 'x');
  const clip = svg('clipPath', { id: 'act-clip' }, root);
  const { left, right, top, bottom } = plotFrame;
  svg('rect', { x: left, y: top, width: right - left, height: bottom - top }, clip);
  const curves = svg('g', { 'clip-path': 'url(#act-clip)', fill: 'none', 'stroke-width': 2 }, root);
  svg('path', { d: polyline(plotFrame, xs, df), stroke: COLORS.df, 'stroke-dasharray': '6 3', class: 'derivative' }, curves);
  svg('path', { d: polyline(plotFrame, xs, f), stroke: COLORS.f, class: 'value' }, curves);
  const legend = svg('g', { 'font-size': 12 }, root);
  const title = `${name}${Object.entries(options)
    .filter(([k]) => k !== 'preset')
    .map(([k, v]) => ` ${k}=${v}`)
    .join('')}`;
  svg('text', { x: plotFrame.left + 8, y: plotFrame.top + 16, 'font-weight': 'bold', fill: '#222' }, legend).textContent = title;
  svg('text', { x: plotFrame.left + 8, y: plotFrame.top + 32, fill: COLORS.f }, legend).textContent = '— f(x)';
  svg('text', { x: plotFrame.left + 64, y: plotFrame.top + 32, fill: COLORS.df }, legend).textContent = '- - f′(x)';
  hover(root, plotFrame, xs, f, df);
}

/** A crosshair that follows the pointer: the sample nearest to it, its f and f′ in the read-out. */
function hover(root: SVGSVGElement, plotFrame: ReturnType<typeof frame>, xs: Float32Array, f: Float32Array, df: Float32Array): void {
  const marks = svg('g', { class: 'hover', visibility: 'hidden' }, root);
  const rule = svg('line', { y1: plotFrame.top, y2: plotFrame.bottom, stroke: '#888', 'stroke-dasharray': '2 2' }, marks);
  const dots = [svg('circle', { r: 4, fill: COLORS.f }, marks), svg('circle', { r: 4, fill: COLORS.df }, marks)];
  const readout = element('act-readout');
  root.onpointermove = (event) => {
    const box = root.getBoundingClientRect();
    const px = ((event.clientX - box.left) * WIDTH) / box.width;
    const [lo, hi] = plotFrame.x.domain;
    const i = Math.round(((plotFrame.x.invert(px) - lo) / (hi - lo)) * (SAMPLES - 1));
    if (i < 0 || i >= SAMPLES) return void marks.setAttribute('visibility', 'hidden');
    marks.setAttribute('visibility', 'visible');
    rule.setAttribute('x1', String(plotFrame.x(xs[i]!)));
    rule.setAttribute('x2', String(plotFrame.x(xs[i]!)));
    [f, df].forEach((values, k) => {
      dots[k]!.setAttribute('cx', String(plotFrame.x(xs[i]!)));
      dots[k]!.setAttribute('cy', String(plotFrame.y(Math.max(plotFrame.y.domain[0], Math.min(plotFrame.y.domain[1], values[i]!)))));
    });
    Object.assign(readout.dataset, { x: xs[i], f: f[i], df: df[i] });
    readout.textContent = `x = ${xs[i]!.toFixed(3)}   f(x) = ${f[i]!.toPrecision(5)}   f′(x) = ${df[i]!.toPrecision(5)}`;
  };
  root.onpointerleave = () => marks.setAttribute('visibility', 'hidden');
}

/** Scores and their softmax (of scores / temperature) as pairs of bars. */
function softmaxView(nn: Simdnet): void {
  const scores = element<HTMLInputElement>('softmax-scores')
    .value.split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);
  const temperature = Number(element<HTMLInputElement>('softmax-temperature').value);
  element('softmax-temperature-value').textContent = temperature.toFixed(2);
  const error = element('softmax-error');
  let probabilities: Float32Array;
  try {
    if (scores.length === 0 || scores.some((s) => !Number.isFinite(s))) throw new Error('scores must be numbers, separated by commas');
    probabilities = nn.activate(
      'softmax',
      Float32Array.from(scores, (s) => s / temperature),
    );
  } catch (e) {
    error.textContent = (e as Error).message;
    return;
  }
  error.textContent = '';
  const [width, height] = [360, 170];
  const root = element('softmax-plot').querySelector('svg')!;
  root.replaceChildren();
  const largest = Math.max(1, ...scores.map(Math.abs));
  const slot = (width - 40) / scores.length;
  const [mid, half] = [70, 55];
  svg('line', { x1: 20, x2: width - 20, y1: mid, y2: mid, stroke: '#999' }, root);
  svg('line', { x1: 20, x2: width - 20, y1: height - 20, y2: height - 20, stroke: '#999' }, root);
  const text = (x: number, y: number, content: string, fill = '#333') =>
    (svg('text', { x, y, 'text-anchor': 'middle', 'font-size': 11, fill }, root).textContent = content);
  svg('text', { x: 22, y: 12, 'font-size': 11, fill: '#555' }, root).textContent = 'scores';
  svg('text', { x: 22, y: mid + 16, 'font-size': 11, fill: COLORS.f }, root).textContent = 'softmax(scores / T)';
  scores.forEach((s, i) => {
    const x = 20 + slot * (i + 0.5);
    const w = Math.min(40, slot * 0.6);
    const h = (Math.abs(s) / largest) * (half - 12);
    svg('rect', { x: x - w / 2, y: s >= 0 ? mid - h : mid, width: w, height: h, fill: '#aaa' }, root);
    text(x, s >= 0 ? mid - h - 3 : mid + h + 11, String(s));
    const p = probabilities[i]!;
    const ph = p * (height - 20 - mid - 24);
    svg('rect', { x: x - w / 2, y: height - 20 - ph, width: w, height: ph, fill: COLORS.f, class: 'probability' }, root);
    text(x, height - 23 - ph, p.toFixed(3), COLORS.f);
  });
  element('softmax-sum').textContent = `sum = ${probabilities.reduce((a, b) => a + b, 0).toFixed(4)}`;
}

/** Fills the controls and draws both views; they redraw on every change. */
export function setupActivationPanel(nn: Simdnet): void {
  const select = element<HTMLSelectElement>('act-name');
  select.append(...ELEMENTWISE.map((name) => new Option(name, name, name === 'relu', name === 'relu')));
  element<HTMLSelectElement>('act-preset').append(...PRESETS.map((p) => new Option(p, p)));
  optionFields(select.value as ActivationName);
  // Registered first: the fields must match the new activation before the controls' listener plots it.
  select.addEventListener('input', () => optionFields(select.value as ActivationName));
  element('act-controls').addEventListener('input', () => plot(nn));
  for (const id of ['softmax-scores', 'softmax-temperature']) element(id).addEventListener('input', () => softmaxView(nn));
  plot(nn);
  softmaxView(nn);
}

/** The activation plot as a standalone SVG document (without the hover marks). */
export function activationSvg(): string {
  const copy = element('act-plot').querySelector('svg')!.cloneNode(true) as SVGSVGElement;
  copy.querySelector('.hover')?.remove();
  copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  return new XMLSerializer().serializeToString(copy);
}
