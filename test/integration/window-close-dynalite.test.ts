import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AlertDecision } from '../../functions/core/types.ts';
import { createHandler } from '../../functions/detector/create-handler.ts';
import { createWindowFlushHandler } from '../../functions/detector/create-window-flush-handler.ts';
import { linesToRecords } from '../../local/backtest/run-backtest.ts';
import { captureStdout } from '../helpers/capture-stdout.ts';
import { cutAt, mskEvent } from '../helpers/kafka-events.ts';
import { type LocalAws, startLocalAws } from '../helpers/local-aws.ts';

/**
 * Window-close evaluation deployed: the very handler on dynalite and the SNS endpoint, the
 * open windows in their DynamoDB items, and the scheduled flush closing the windows of a
 * partition gone quiet.
 */

let aws: LocalAws;
let stdout: ReturnType<typeof captureStdout> | null = null;

beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws.close();
});
afterEach(() => {
  stdout?.restore();
  stdout = null;
});

const FLINK_OUT = readFileSync('test/fixtures/parity/seed-sample-flink.out', 'utf8')
  .split('\n')
  .map((l) => l.replace(/^\d+> /, ''))
  .filter((l) => l.startsWith('ANOMALY → '));

function sampleRecords() {
  const text = readFileSync('test/fixtures/parity/seed-sample.csv', 'utf8');
  return linesToRecords(text.split('\n'), {
    format: 'auto',
    timeUnit: 'ms',
    startMs: 0,
    intervalMs: 1000,
  }).records.map((r) => ({ ...r, topic: 'sensor-data' }));
}

describe('window-close evaluation on dynalite: batches, then the scheduled flush', () => {
  it("the seed's sample in batches of any size: the seed's lines, logged once each, the last windows closed by the flush", async () => {
    // Prepare
    const config = {
      ...(await aws.freshConfig({ alertCooldownMs: 0 })),
      evaluation: 'window-close' as const,
      allowedLatenessMs: 2000,
      flinkFormat: 'python' as const,
    };
    const records = sampleRecords();
    const lastEventMs = Math.max(...records.map((r) => r.timestampMs));
    let now = lastEventMs;
    const told: AlertDecision[] = [];
    const observer = {
      rejected() {},
      anomaly: (d: AlertDecision) => told.push(d),
      published() {},
    };
    const handler = createHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns: aws.snsClient,
      clock: () => now,
      observer,
    });
    const flush = createWindowFlushHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns: aws.snsClient,
      clock: () => now,
      observer,
    });
    stdout = captureStdout();
    // Act: batches of 7, 30 and the rest; then the partition goes quiet.
    for (const batch of cutAt(records, [7 / records.length, 37 / records.length]))
      await handler(mskEvent(batch));
    const beforeFlush = told.length;
    const early = await flush();
    now += 60_000;
    const report = await flush();
    const again = await flush();
    const logs = stdout.json();
    stdout.restore();
    // Assess
    expect(early.windowsClosed).toBe(0); // not quiet yet: its own readings would close them
    expect(report.partitions).toBe(1);
    expect(report.windowsClosed).toBeGreaterThan(0);
    expect(again.windowsClosed).toBe(0);
    expect(beforeFlush).toBeLessThan(told.length);
    const lines = logs.map((l) => String(l.message)).filter((m) => m.startsWith('ANOMALY → '));
    expect(lines).toEqual(FLINK_OUT);
    expect(told.map((d) => d.anomaly.alertId)).toEqual([
      ...new Set(told.map((d) => d.anomaly.alertId)),
    ]);
    expect(told.every((d) => d.anomaly.alertId.includes('@'))).toBe(true);
  });
});
