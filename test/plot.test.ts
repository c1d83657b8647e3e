import { describe, expect, it } from 'vitest';
import { init } from '../ts/index.js';
import { PLOTTED, plotActivations } from '../ts/cli/plot.js';

describe('simdnet plot', () => {
  it('draws a panel per activation with f and f′ as paths of finite coordinates', async () => {
    const svg = plotActivations(await init());
    expect(svg.startsWith('<svg')).toBe(true);
    for (const [title] of PLOTTED) expect(svg).toContain(`>${title}</text>`);
    const paths = [...svg.matchAll(/ d="([^"]*)"/g)].map((m) => m[1]!);
    expect(paths).toHaveLength(2 * PLOTTED.length);
    for (const d of paths) {
      expect(d.length).toBeGreaterThan(100);
      expect(d).not.toMatch(/NaN|Infinity/);
    }
  });
});
