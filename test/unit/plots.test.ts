import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../local/backtest/html-plot.ts';
import { renderSvg, timeLabels } from '../../local/backtest/svg-plot.ts';
import { examplePlot } from './support/example-plot.ts';

describe('plots', () => {
  it('draw notified anomalies filled red and held-back ones as orange rings', async () => {
    const { plot, rows, summary } = await examplePlot();
    const svg = renderSvg(plot, summary, 'example');
    const group = (attributes: string) =>
      [...svg.matchAll(new RegExp(`<g ${attributes}>(.*?)</g>`, 'g'))]
        .map((m) => (m[1] ?? '').match(/<circle /g)?.length ?? 0)
        .reduce((a, b) => a + b, 0);
    const notified = rows.filter((r) => r.anomaly && r.notified).length;
    const heldBack = rows.filter((r) => r.anomaly && !r.notified).length;
    expect(notified).toBeGreaterThan(0);
    expect(heldBack).toBeGreaterThan(0);
    expect(group('fill="#d62728" stroke="#d62728"')).toBe(notified);
    expect(group('fill="none" stroke="#ff7f0e" stroke-width="1.6"')).toBe(heldBack);
  });

  it('label the value axis with round numbers and the time axis with UTC times', async () => {
    const { plot, summary } = await examplePlot();
    const svg = renderSvg(plot, summary, 'example');
    const yLabels = [
      ...svg.matchAll(/x="74" y="[\d.]+" text-anchor="end" fill="#555">([^<]+)</g),
    ].map((m) => m[1]);
    // d3-scale's nice ticks: 1, 2 or 5 times a power of ten, e.g. 0.045, 9,000, 260.
    for (const label of yLabels) {
      const digits = (label ?? '')
        .replace(/[−,.-]/g, '')
        .replace(/^0+/, '')
        .replace(/0+$/, '');
      expect(digits.length, label).toBeLessThanOrEqual(2);
    }
    expect(svg).toContain('>2026-11-21 00:00:00<');
    expect(svg).toContain('>00:01:00<');
  });

  it('time labels carry the date on the first tick and when the day changes', () => {
    const day = 86_400_000;
    const ticks = [0, 0.5, 1, 1.5].map((d) => new Date(Date.UTC(2026, 0, 1, 18) + d * day));
    expect(timeLabels(ticks, 1.5 * day)).toEqual([
      '2026-01-01 18:00',
      '2026-01-02 06:00',
      '18:00',
      '2026-01-03 06:00',
    ]);
  });

  it('the HTML plot is one file with uPlot inlined and each sensor aligned for it', async () => {
    const { plot, summary } = await examplePlot();
    const html = renderHtml(plot, summary, 'example </script>', 'summary');
    expect(html).not.toMatch(/<script[^>]+src=|<link /);
    expect(html).toContain(
      readFileSync('node_modules/uplot/dist/uPlot.iife.min.js', 'utf8').slice(0, 200),
    );
    const json = /<script type="application\/json" id="plot-data">(.*?)<\/script>/s.exec(html)?.[1];
    const data = JSON.parse(json ?? '') as { sensors: { id: string; columns: unknown[][] }[] };
    expect(data.sensors.map((s) => s.id)).toEqual([...plot.series.keys()]);
    for (const s of data.sensors) {
      expect(s.columns).toHaveLength(7);
      expect(new Set(s.columns.map((c) => c.length)).size).toBe(1);
    }
    expect(html).toContain('example &#60;/script&#62;');
  });
});
