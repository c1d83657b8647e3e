import { describe, expect, it } from 'vitest';
import { init } from '../ts/index.js';
import { PLOTTED, plotActivations } from '../ts/cli/plot.js';

describe('simdnet plot', async () => {
  const svg = plotActivations(await init());
  const panels = svg.split('<g>').slice(1);

  it('draws a panel per activation with labelled x and y ticks', () => {
    expect(svg.startsWith('<svg')).toBe(true);
    expect(panels).toHaveLength(PLOTTED.length);
    PLOTTED.forEach(([title], i) => {
      expect(panels[i]).toContain(`>${title}</text>`);
      for (const x of ['−4', '−2', '0', '2', '4']) expect(panels[i]).toContain(`text-anchor="middle">${x}</text>`);
      expect([...panels[i]!.matchAll(/text-anchor="end">/g)].length, title).toBeGreaterThanOrEqual(3);
    });
  });

  it('draws f and f′ as paths of finite, rounded coordinates, simplified to a small file', () => {
    const curves = [...svg.matchAll(/<path d="([^"]*)" fill="none"/g)].map((m) => m[1]!);
    expect(curves).toHaveLength(2 * PLOTTED.length);
    for (const d of curves) {
      expect(d).toMatch(/^M/);
      expect(d).not.toMatch(/NaN|Infinity|\d\.\d\d/);
    }
    expect(svg.length).toBeLessThan(64 * 1024);
  });

  it('marks where a curve leaves the panel instead of drawing it flat along the edge', () => {
    const exponential = panels[PLOTTED.findIndex(([t]) => t === 'exponential')]!;
    expect(exponential.match(/l-3\.5 6h7z/g)).toHaveLength(2); // f and f′ both leave through the top
    expect(panels[PLOTTED.findIndex(([t]) => t === 'relu')]).not.toMatch(/h7z/);
  });
});
