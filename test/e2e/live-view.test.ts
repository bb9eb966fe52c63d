import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseRulesFile } from '../../functions/config.ts';
import { localDynamoDbClient } from '../../local/embedded/clients.ts';
import { listenOn } from '../../local/embedded/listen.ts';
import { LivePortInUseError, type LiveView, startLiveView } from '../../local/live/live-server.ts';
import { localDetectorConfig } from '../../local/pipeline/local-detector.ts';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline/local-pipeline.ts';
import { detectionLine, rulesChangeLine } from '../../local/pipeline/start-banner.ts';
import { RulesWriter } from '../../local/rules/rules-writer.ts';
import { describeWithChromium, launchChromium } from './support/chromium.ts';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
export const SCREENSHOT = `${ARTIFACTS}live-view.png`;
export const FLEET_SCREENSHOT = `${ARTIFACTS}live-view-fleet.png`;

/** quiet_* sensors are watched for silence (2 s); the rest as npm start's defaults. */
const QUIET_RULE = {
  match: 'quiet_*',
  detector: { kind: 'threshold', threshold: 50 },
  silenceSeconds: 2,
};

describeWithChromium('the live view of npm start, in Chromium', () => {
  let pipeline: LocalPipeline;
  let live: LiveView;
  let anomalies = 0;
  const startMs = Date.now() - 60_000;

  beforeAll(async () => {
    // Prepare: the local pipeline (in-process topic, dynalite, SNS endpoint) feeding a live view.
    let current: LocalPipeline | undefined;
    const config = localDetectorConfig({
      rules: parseRulesFile(JSON.stringify({ rules: [QUIET_RULE] }), 'test rules').rules,
    });
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
          partitions: (await current?.partitionLag())?.map(({ partition, lag }) => ({
            partition,
            lag,
          })),
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
      config,
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
        published: (alerts) => live.published(alerts),
      },
      onNotification: (n) => live.notification(n),
      // As npm start wires them: the silence check and the rules document in the table.
      silenceCheck: { intervalMs: 500, onAlert: (a) => live.silence(a) },
      liveRules: {
        refreshMs: 500,
        changed: (now) =>
          live.rulesChanged(
            detectionLine({ ...config, defaultDetector: now.defaultDetector, rules: now.rules }),
            rulesChangeLine(now),
          ),
      },
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
  /** Readings of one sensor, value 50 unless given, at these event times. */
  const readingsOf = (sensorId: string, timesMs: readonly number[], value = 50) =>
    pipeline.send(
      timesMs.map((t) => ({ key: sensorId, value: `${sensorId},${value.toFixed(1)},${t}` })),
    );
  const chartOf = (page: import('playwright-core').Page, sensorId: string) =>
    page.locator(`section.chart[data-sensor="${sensorId}"]`);

  it('tells the truth: time axes from the first reading, seconds, gaps, silence, rules, a fleet, latency, lag', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(live.url);
      await expect.poll(() => page.locator('#state').textContent()).toBe('live');

      // A new sensor with three readings: its axis spans those seconds, not years.
      const nowMs = Date.now();
      const fresh = [nowMs - 2000, nowMs - 1000, nowMs];
      await readingsOf('fresh_1', fresh);
      const freshChart = chartOf(page, 'fresh_1');
      await expect
        .poll(() => freshChart.getAttribute('data-x-max'), { timeout: 10_000 })
        .not.toBeNull();
      await expect
        .poll(async () => {
          const min = Number(await freshChart.getAttribute('data-x-min'));
          const max = Number(await freshChart.getAttribute('data-x-max'));
          return min <= (fresh[0] as number) / 1000 && max >= nowMs / 1000 && max - min <= 60;
        })
        .toBe(true);

      // Hovering shows the reading's time to the second.
      const over = freshChart.locator('.u-over');
      const box = await over.boundingBox();
      expect(box).not.toBeNull();
      await page.mouse.move((box?.x ?? 0) + (box?.width ?? 0) / 2, (box?.y ?? 0) + 10);
      await expect
        .poll(() =>
          freshChart.locator('.u-legend .u-series').first().locator('.u-value').textContent(),
        )
        .toMatch(/^\d\d:\d\d:\d\d$/);

      // A minute without readings is drawn as a gap: an empty row breaks the line.
      const before = Array.from({ length: 10 }, (_, i) => nowMs - 90_000 + i * 1000);
      const after = Array.from({ length: 10 }, (_, i) => nowMs - 20_000 + i * 1000);
      await readingsOf('gappy_1', [...before, ...after]);
      const gappy = chartOf(page, 'gappy_1');
      await expect.poll(() => gappy.getAttribute('data-gaps'), { timeout: 10_000 }).toBe('1');
      expect(
        // The page's own chart state: a top-level binding of its script, read in its scope.
        await page.evaluate(
          "(() => { const v = charts.get('gappy_1').data.v; return { nulls: v.filter((x) => x === null).length, rows: v.length }; })()",
        ),
      ).toEqual({ nulls: 1, rows: 21 });

      // A sensor that stops is marked silent, in its chart and in the feed, and unmarked when back.
      await readingsOf('quiet_1', [nowMs - 500, nowMs]);
      const quiet = chartOf(page, 'quiet_1');
      await expect.poll(() => quiet.getAttribute('data-silent'), { timeout: 15_000 }).toBe('true');
      expect(await quiet.locator('h2').textContent()).toMatch(/· SILENT since \d\d:\d\d:\d\d$/);
      await expect.poll(() => page.locator('#feed').textContent()).toContain('SILENT quiet_1');
      await readingsOf('quiet_1', [Date.now()]);
      await expect.poll(() => quiet.getAttribute('data-silent'), { timeout: 15_000 }).toBe('false');
      await expect.poll(() => page.locator('#feed').textContent()).toContain('RECOVERED quiet_1');

      // A notified anomaly now: its latency (event time → notification) is on the header.
      await readingsOf('spiky_1', [Date.now() - 3000, Date.now() - 2000, Date.now() - 1000]);
      await readingsOf('spiky_1', [Date.now()], 5000);
      await expect
        .poll(() => chartOf(page, 'spiky_1').getAttribute('data-anomalies'), { timeout: 15_000 })
        .toBe('1');
      await expect
        .poll(() => page.locator('#latencyP50').textContent(), { timeout: 10_000 })
        .toMatch(/^\d+(\.\d+)? (ms|s)$/);
      expect(await page.locator('#latencyP99').textContent()).toMatch(/^\d+(\.\d+)? (ms|s)$/);
      // A rules change reaches the header and the feed.
      expect(await page.locator('#detection').textContent()).toMatch(/^threshold 50/);
      const writer = new RulesWriter({
        client: localDynamoDbClient(pipeline.dynamodbEndpoint),
        tableName: localDetectorConfig().tableName,
      });
      await writer.put(JSON.stringify({ default: { kind: 'zscore' }, rules: [QUIET_RULE] }), null, {
        updatedBy: 'operator@test',
        updatedAt: new Date().toISOString(),
      });
      // The function reads the document when a batch comes, at most every refreshMs.
      await expect
        .poll(
          async () => {
            await readingsOf('fresh_1', [Date.now()]);
            return page.locator('#detection').textContent();
          },
          { timeout: 15_000 },
        )
        .toMatch(/^zscore 2\.5σ \(\+1 per-sensor rules\)/);
      expect(await page.locator('#feed li.rules').first().textContent()).toMatch(
        /RULES → version 1 by operator@test: default zscore/,
      );

      // Lag per partition of the topic (the in-process topic has four).
      await expect.poll(() => page.locator('#partitions .partition').count()).toBe(4);
      expect(await page.locator('#partitions .partition').allTextContents()).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^p0 \d+$/),
          expect.stringMatching(/^p3 \d+$/),
        ]),
      );

      // A fleet: the first 24 charted, a filter for the others, and only those with anomalies.
      await pipeline.send(
        Array.from({ length: 40 }, (_, i) => ({
          key: `pump_${i + 1}`,
          value: `pump_${i + 1},50.0,${Date.now()}`,
        })),
      );
      await expect
        .poll(() => page.locator('#shown').textContent(), { timeout: 10_000 })
        .toMatch(/^\d+ sensors: charting the first 24, narrow the filter for others$/);
      expect(await page.locator('section.chart').count()).toBe(24);
      await page.locator('#filter').fill('pump_1');
      await expect.poll(() => page.locator('section.chart').count(), { timeout: 10_000 }).toBe(11);
      const pumps = await page
        .locator('section.chart')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-sensor')));
      expect(pumps).toEqual(['pump_1', ...Array.from({ length: 10 }, (_, i) => `pump_${10 + i}`)]);
      expect(await page.locator('#shown').textContent()).toMatch(/^\d+ sensors, 11 match$/);
      await page.locator('#filter').fill('');
      await page.locator('#onlyAnomalies').check();
      await expect
        .poll(
          () =>
            page
              .locator('section.chart')
              .evaluateAll((els) => els.map((e) => e.getAttribute('data-sensor'))),
          { timeout: 10_000 },
        )
        .toContain('spiky_1');
      const flagged = await page
        .locator('section.chart')
        .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-anomalies'))));
      expect(flagged.length).toBeLessThan(10);
      expect(flagged.every((n) => n > 0)).toBe(true);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: FLEET_SCREENSHOT, fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('a --live-port in use is a one-line error, not a stack trace', async () => {
    const taken = createServer();
    const port = await listenOn(taken);
    try {
      await expect(
        startLiveView({ port, title: 't', detection: 'd', status: async () => ({}) as never }),
      ).rejects.toThrow(LivePortInUseError);
    } finally {
      taken.close();
    }
  });
});
