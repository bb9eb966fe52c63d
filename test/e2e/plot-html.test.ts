import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { renderHtml } from '../../local/backtest/html-plot.ts';
import { examplePlot } from '../unit/support/example-plot.ts';
import { describeWithChromium, launchChromium } from './support/chromium.ts';

describeWithChromium('the backtest HTML plot, in Chromium', () => {
  it('draws every sensor offline and zooms, pans and shows values on hover', async () => {
    // Prepare
    const { plot, summary } = await examplePlot();
    const dir = mkdtempSync(join(tmpdir(), 'plot-html-'));
    const file = join(dir, 'judged.html');
    writeFileSync(file, renderHtml(plot, summary, 'backtest of readings.csv', 'summary'));
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      page.on('request', (request) => requests.push(request.url()));
      // Act
      await page.goto(`file://${file}`);
      await page.waitForSelector('section.chart canvas');
      // Assess: one chart per sensor, nothing fetched but the file itself.
      expect(await page.locator('section.chart').count()).toBe(plot.series.size);
      expect(requests).toEqual([`file://${file}`]);
      const chart = page.locator('section.chart').first();
      const over = chart.locator('.u-over');
      const box = await over.boundingBox();
      if (box === null) throw new Error('no plot area');
      // uPlot draws on a canvas; the page keeps its charts in window.plots for a look inside.
      const xLabels = () =>
        page.evaluate(
          // Runs in the page: `globalThis` is its window.
          () => {
            const plots = (
              globalThis as { plots?: { scales: { x: { min: number; max: number } } }[] }
            ).plots;
            const x = plots?.[0]?.scales.x;
            return `${x?.min}..${x?.max}`;
          },
        );
      const legendValue = () =>
        chart.locator('.u-legend .u-series').nth(1).locator('.u-value').textContent();

      // Hover: the legend shows the value under the cursor.
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await expect.poll(legendValue).toMatch(/^-?[\d,.]+$/);

      // Wheel: zoom in on the time axis.
      const before = await xLabels();
      await page.mouse.wheel(0, -400);
      await expect.poll(xLabels).not.toBe(before);
      const zoomed = await xLabels();

      // Shift-drag: pan.
      await page.keyboard.down('Shift');
      await page.mouse.move(box.x + box.width / 2, box.y + 20);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width / 2 + 200, box.y + 20, { steps: 5 });
      await page.mouse.up();
      await page.keyboard.up('Shift');
      await expect.poll(xLabels).not.toBe(zoomed);

      // Double-click: everything again.
      await over.dblclick();
      await expect.poll(xLabels).toBe(before);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
