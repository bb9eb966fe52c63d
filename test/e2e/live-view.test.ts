import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type LiveView, startLiveView } from '../../local/live/live-server.ts';
import { localDetectorConfig } from '../../local/pipeline/local-detector.ts';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline/local-pipeline.ts';
import { describeWithChromium, launchChromium } from './support/chromium.ts';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
export const SCREENSHOT = `${ARTIFACTS}live-view.png`;

describeWithChromium('the live view of npm start, in Chromium', () => {
  let pipeline: LocalPipeline;
  let live: LiveView;
  let anomalies = 0;
  const startMs = Date.now() - 60_000;

  beforeAll(async () => {
    // Prepare: the local pipeline (in-process topic, dynalite, SNS endpoint) feeding a live view.
    let current: LocalPipeline | undefined;
    live = await startLiveView({
      title: 'npm start: sensor-data',
      detection: 'threshold 50, window 10 s sliding every 5 s, alert cooldown 60 s',
      status: async () => {
        const stats = current?.stats();
        return {
          atMs: Date.now(),
          elapsedSeconds: 12,
          readingsPerSecond: 20,
          lag: 0,
          processed: stats?.recordsProcessed ?? 0,
          batches: stats?.batches ?? 0,
          anomalies,
          notifications: 0,
          heldBack: 0,
          rejected: 0,
          retries: 0,
        };
      },
    });
    pipeline = await startLocalPipeline({
      config: localDetectorConfig(),
      topic: 'sensor-data',
      groupId: 'live-view-test',
      fromBeginning: true,
      eventSource: 'msk',
      batching: { batchSize: 100, batchingWindowMs: 100 },
      inProcess: true,
      observer: {
        anomaly: (d) => {
          anomalies += 1;
          live.anomaly(d);
        },
        rejected: (r) => live.rejected(r),
        evaluated: (e) => live.evaluated(e),
      },
      onNotification: (n) => live.notification(n),
    });
    current = pipeline;
  });

  afterAll(async () => {
    await pipeline?.stop();
    await live?.close();
  });

  /** Readings of three sensors, one every 250 ms of event time, around 50. */
  const send = (from: number, count: number, spikes: Readonly<Record<number, number>> = {}) =>
    pipeline.send(
      Array.from({ length: count }, (_, k) => {
        const i = from + k;
        const sensor = `sensor_${(i % 3) + 1}`;
        const value = spikes[i] ?? 50 + 4 * Math.sin(i / 5) + ((i * 7) % 5) - 2;
        return { key: sensor, value: `${sensor},${value.toFixed(1)},${startMs + i * 250}` };
      }),
    );

  it('shows an anomaly produced into the pipeline, live and after a reload', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await send(0, 90);
      await pipeline.drain(10_000);
      expect(live.watchers()).toBe(0);

      // Act: open the page, then produce a spike on sensor_1 (index 90 is sensor_1) and a
      // second one that the cooldown holds back.
      await page.goto(live.url);
      await page.waitForSelector('section.chart[data-sensor="sensor_1"]');
      expect(live.watchers()).toBe(1);
      await send(90, 75, { 90: 200, 150: 180 });

      // Assess: the chart marks it, the feed prints the console's line, the counter counts it.
      const chart = page.locator('section.chart[data-sensor="sensor_1"]');
      await expect.poll(() => chart.getAttribute('data-anomalies'), { timeout: 15_000 }).toBe('2');
      await expect
        .poll(() => page.locator('#feed').textContent(), { timeout: 10_000 })
        .toContain('ANOMALY → sensor_1: value=200.0');
      expect(await page.locator('#feed').textContent()).toMatch(
        /ANOMALY → sensor_1: value=180\.0, avg=[\d.]+ {2}\(held back by the cooldown\)/,
      );
      await expect.poll(() => page.locator('#feed').textContent()).toContain('SNS → [critical]');
      await expect.poll(() => page.locator('#anomalies').textContent()).toBe('2');
      expect(await chart.locator('h2').textContent()).toBe('sensor_1 · 2 anomalies (1 notified)');
      expect(await page.locator('section.chart').count()).toBe(3);
      expect(await page.locator('#state').textContent()).toBe('live');

      // A reload gets the server's recent history: the same anomalies, the same charts.
      await page.reload();
      await expect.poll(() => chart.getAttribute('data-anomalies'), { timeout: 10_000 }).toBe('2');
      expect(await page.locator('#feed').textContent()).toContain(
        'ANOMALY → sensor_1: value=200.0',
      );
      await page.waitForTimeout(500);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(errors).toEqual([]);

      // Closing the page stops the stream: nothing is formatted for nobody.
      await page.close();
      await expect.poll(() => live.watchers(), { timeout: 5000 }).toBe(0);
    } finally {
      await browser.close();
    }
  });
});
