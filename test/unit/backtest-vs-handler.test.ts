import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertDecision } from '../../functions/core/types.ts';
import { createHandler } from '../../functions/detector/create-handler.ts';
import {
  type BacktestRow,
  linesToRecords,
  runBacktest,
} from '../../local/backtest/run-backtest.ts';
import { parseBacktestOptions } from '../../local/flags/backtest-options.ts';
import { captureStdout } from '../helpers/capture-stdout.ts';
import { cutAt, mskEvent } from '../helpers/kafka-events.ts';
import { type LocalAws, startLocalAws } from '../helpers/local-aws.ts';

/**
 * The backtest and the deployed handler (on dynalite and the loopback SNS endpoint) judge
 * the same recorded stream identically: same anomalies with the same numbers, same
 * notifications, though the backtest uses the in-memory store and other batch sizes.
 */
let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws.close();
});

const FIXTURE = 'test/fixtures/backtest/plant.csv';

describe('backtest and Lambda handler agree', () => {
  it.each([
    ['rules: threshold, zscore and ewma sensors', ['--rules', 'test/fixtures/backtest/rules.json']],
    [
      'ewma everywhere, short memory',
      ['--detector', 'ewma', '--ewma-half-life-readings', '10', '--ewma-warmup-readings', '5'],
    ],
  ] as const)('%s', async (_name, args) => {
    // Prepare: the backtest's run and records
    const lines = readFileSync(FIXTURE, 'utf8').split('\n');
    const options = parseBacktestOptions(['--input', FIXTURE, ...args]);
    const rows: BacktestRow[] = [];
    await runBacktest(
      lines,
      { detection: options.detection, input: options.input, batchSize: 500 },
      (r) => rows.push(r),
    );
    const { records, lineNumbers } = linesToRecords(lines, options.input);
    const offsetOfLine = new Map(lineNumbers.map((line, offset) => [line, offset]));

    const config = await aws.freshConfig(options.detection);
    const decisions: AlertDecision[] = [];
    // The handler runs as if live, each batch at the time of its last reading, as the
    // backtest replays the recording; on the machine's clock the recorded readings would be
    // past the freshness limit and none notified.
    let replayedMs = 0;
    const handler = createHandler({
      clock: () => replayedMs,
      config,
      dynamodb: aws.dynamodbClient,
      sns: aws.snsClient,
      observer: { anomaly: (d) => decisions.push(d), rejected() {}, published() {} },
    });
    const sentBefore = aws.sns.messages.length;
    // Act: Lambda-sized batches of uneven length
    const quiet = captureStdout();
    try {
      for (const batch of cutAt(records, [0.03, 0.2, 0.21, 0.5, 0.77])) {
        replayedMs = Math.max(replayedMs, ...batch.map((r) => r.timestampMs));
        await handler(mskEvent(batch));
      }
    } finally {
      quiet.restore();
    }
    // Assess
    const fromBacktest = rows
      .filter((r) => r.anomaly)
      .map((r) => ({
        alertId: `backtest-0-${offsetOfLine.get(r.lineNumber)}`,
        value: r.value,
        mean: r.baseline,
        deviation: r.deviation,
        limit: r.limit,
        detector: r.detector,
        notify: r.notified,
      }));
    const fromHandler = decisions.map(({ anomaly: a, notify }) => ({
      alertId: a.alertId,
      value: a.value,
      mean: a.mean,
      deviation: a.deviation,
      limit: a.limit,
      detector: a.detector,
      notify,
    }));
    expect(fromBacktest.length).toBeGreaterThan(5);
    expect(fromHandler).toEqual(fromBacktest);
    const payloads = aws.sns.messages
      .slice(sentBefore)
      .map((m) => JSON.parse(JSON.parse(m.message).sqs) as { alertId?: string; event?: string });
    // One message per notified anomaly, as the backtest's `notified` column says.
    const sent = payloads.filter((p) => p.event === undefined).map((p) => p.alertId);
    expect(sent.sort()).toEqual(
      fromBacktest
        .filter((a) => a.notify)
        .map((a) => a.alertId)
        .sort(),
    );
    // Besides them only `resolved` messages, each ending an episode that opened with one of
    // the backtest's anomalies (an episode's id is its first alert's).
    const others = payloads.filter((p) => p.event !== undefined);
    expect(others.length).toBeGreaterThan(0);
    expect(others.every((p) => p.event === 'resolved')).toBe(true);
    const anomalyIds = new Set(fromBacktest.map((a) => a.alertId));
    expect(
      others
        .map((p) => (p as { episodeId?: string }).episodeId)
        .filter((id) => id === undefined || !anomalyIds.has(id)),
    ).toEqual([]);
  });
});
