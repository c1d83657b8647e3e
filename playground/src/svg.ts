/** Small SVG and axis helpers shared by the panels' plots. */

const NS = 'http://www.w3.org/2000/svg';

export type Attributes = Record<string, string | number>;

/** A new SVG element with `attributes`, appended to `parent` if given. */
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Attributes = {}, parent?: Element): SVGElementTagNameMap[K] {
  const element = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  parent?.append(element);
  return element;
}

/** A linear map of `domain` onto `range`, with its inverse. */
export interface Scale {
  (value: number): number;
  invert(pixel: number): number;
  domain: readonly [number, number];
}

export function scale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const k = (r1 - r0) / (d1 - d0 || 1);
  return Object.assign((v: number) => r0 + (v - d0) * k, { invert: (p: number) => d0 + (p - r0) / k, domain });
}

/** Tick values at a step of 1, 2 or 5 × 10^k, about `count` of them over [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const base = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * base).find((s) => (hi - lo) / s <= count + 1)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** A tick label: few digits, a true minus sign. */
export function label(value: number): string {
  const text = Math.abs(value) >= 1e4 || (value !== 0 && Math.abs(value) < 1e-3) ? value.toExponential(0) : String(+value.toPrecision(3));
  return text.replace('-', '−');
}

/** A plot area inside `width × height` pixels, leaving margins for the tick labels. */
export interface Frame {
  x: Scale;
  y: Scale;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export function frame(width: number, height: number, xDomain: readonly [number, number], yDomain: readonly [number, number]): Frame {
  const [left, right, top, bottom] = [44, width - 12, 10, height - 26];
  return { x: scale(xDomain, [left, right]), y: scale(yDomain, [bottom, top]), left, right, top, bottom };
}

/** Grid lines and labelled ticks on both axes, the zero lines darker, into `parent`. */
export function axes(parent: Element, f: Frame, xTitle = '', yTitle = ''): void {
  const g = svg('g', { class: 'axes', 'font-size': 11, fill: '#555' }, parent);
  const line = (x1: number, y1: number, x2: number, y2: number, stroke: string) =>
    svg('line', { x1, y1, x2, y2, stroke, 'shape-rendering': 'crispEdges' }, g);
  for (const v of ticks(...f.x.domain, 6)) {
    line(f.x(v), f.top, f.x(v), f.bottom, v === 0 ? '#999' : '#e4e4e4');
    svg('text', { x: f.x(v), y: f.bottom + 15, 'text-anchor': 'middle' }, g).textContent = label(v);
  }
  for (const v of ticks(...f.y.domain, 5)) {
    line(f.left, f.y(v), f.right, f.y(v), v === 0 ? '#999' : '#e4e4e4');
    svg('text', { x: f.left - 5, y: f.y(v) + 4, 'text-anchor': 'end' }, g).textContent = label(v);
  }
  svg('rect', { x: f.left, y: f.top, width: f.right - f.left, height: f.bottom - f.top, fill: 'none', stroke: '#bbb' }, g);
  if (xTitle) svg('text', { x: f.right, y: f.bottom - 4, 'text-anchor': 'end' }, g).textContent = xTitle;
  if (yTitle) svg('text', { x: f.left + 4, y: f.top + 12 }, g).textContent = yTitle;
}

/**
 * A path through the points (xs[i], values[i]) in the frame's scales; non-finite values and values beyond
 * the frame's y domain break the line (instead of drawing it along the edge).
 */
export function polyline(f: Frame, xs: ArrayLike<number>, values: ArrayLike<number>): string {
  const [lo, hi] = f.y.domain;
  let d = '';
  let pen = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= lo && v <= hi)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${f.x(xs[i]!).toFixed(1)} ${f.y(v).toFixed(1)}`;
    pen = true;
  }
  return d;
}
