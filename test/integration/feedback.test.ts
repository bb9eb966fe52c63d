import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoDbFeedbackStore,
  feedbackItem,
} from '../../functions/adapters/dynamodb-feedback-store.ts';
import type { DetectorConfig } from '../../functions/config.ts';
import { FEEDBACK_BOUNDS, feedbackRecord } from '../../functions/core/feedback.ts';
import { createHandler } from '../../functions/detector/create-handler.ts';
import { FeedbackWriter } from '../../functions/feedback/feedback-writer.ts';
import { RULES_REFRESH_MS } from '../../functions/live-rules.ts';
import { runFeedbackCli } from '../../local/feedback/feedback-cli.ts';
import { captureStdout } from '../helpers/capture-stdout.ts';
import { mskEvent, toRawRecord } from '../helpers/kafka-events.ts';
import { countCommands, type LocalAws, startLocalAws } from '../helpers/local-aws.ts';

const T0 = Date.parse('2026-12-01T08:00:00Z');
const dir = mkdtempSync(join(tmpdir(), 'feedback-'));

let aws: LocalAws;
// The handler's JSON log lines, as Lambda would print them: kept off the test output.
let stdout: ReturnType<typeof captureStdout>;
beforeAll(async () => {
  aws = await startLocalAws();
  stdout = captureStdout();
});
afterAll(async () => {
  stdout.restore();
  await aws.close();
});

/** The CLI in this process against dynalite, its output collected. */
async function feedback(config: DetectorConfig, nowMs: number, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runFeedbackCli(
    [...argv, '--endpoint', aws.dynamo.endpoint, '--table', config.tableName],
    {
      out: (t) => {
        stdout += t;
      },
      err: (t) => {
        stderr += t;
      },
      env: {},
      who: 'alice@plant',
      now: () => new Date(nowMs),
    },
  );
  return { code, stdout, stderr };
}

/**
 * Nine readings of 20 a second apart, then `spike`: against the default threshold of 50 the
 * spike's window mean is (180 + spike) / 10, so 100 is 72 off (score 0.59) and 140 is 108
 * off (odds 2.16, past twice the threshold).
 */
function episode(startMs: number, firstOffset: number, spike: number) {
  return Array.from({ length: 10 }, (_, i) =>
    toRawRecord({
      offset: firstOffset + i,
      timestampMs: startMs + i * 1000,
      key: 'line_1_temp',
      value: `line_1_temp,${i === 9 ? spike : 20}`,
    }),
  );
}

describe('feedback on dynalite: a verdict recorded, the next batch adapts', () => {
  it('not-anomaly from the alert as SNS delivered it stops that false alarm, within bounds; delete brings it back', async () => {
    // Prepare: the handler as Lambda runs it, following the verdicts in the table.
    const config = await aws.freshConfig({ alertCooldownMs: 0 });
    let now = T0;
    const anomalies: string[] = [];
    const handler = createHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns: aws.snsClient,
      clock: () => now,
      liveFeedback: {},
      observer: {
        rejected: () => {},
        anomaly: (d) => anomalies.push(d.anomaly.alertId),
        published: () => {},
      },
    });
    const sent = () => aws.sns.messages.filter((m) => m.topicArn === config.topicArn);
    await handler(mskEvent(episode(T0, 0, 100)));
    expect(anomalies).toEqual(['sensor-data-0-9']);
    const message = JSON.parse((sent().at(-1) as { message: string }).message) as { sqs: string };
    const alertFile = join(dir, 'alert.json');
    writeFileSync(alertFile, message.sqs);

    // Act: the operator says it was not an anomaly, with the alert as delivered.
    now += 5_000;
    const recorded = await feedback(
      config,
      now,
      'sensor-data-0-9',
      'not-anomaly',
      '--alert',
      alertFile,
      '--note',
      'valve test',
    );
    expect(recorded.stderr).toBe('');
    expect(recorded.code).toBe(0);
    expect(recorded.stdout).toContain(
      'recorded not-anomaly on sensor-data-0-9 (sensor line_1_temp, score 0.590)',
    );
    // 72 / 50 × 1.05: the sensor needs a deviation above 1.512 × its threshold.
    expect(recorded.stdout).toContain('it now needs 1.512× its detector');

    // Assess: within one cache period the same pattern on that sensor is quiet …
    now += RULES_REFRESH_MS;
    await handler(mskEvent(episode(T0 + 120_000, 10, 100)));
    expect(anomalies).toEqual(['sensor-data-0-9']);
    // … a spike past twice the threshold is not taught away …
    await handler(mskEvent(episode(T0 + 240_000, 20, 140)));
    expect(anomalies).toEqual(['sensor-data-0-9', 'sensor-data-0-29']);
    // … and the verdict is listed with who gave it and why.
    const listed = await feedback(config, now, 'list', '--json');
    expect(JSON.parse(listed.stdout)).toMatchObject({
      alertId: 'sensor-data-0-9',
      sensorId: 'line_1_temp',
      verdict: 'not-anomaly',
      value: 100,
      deviation: 72,
      limit: 50,
      by: 'alice@plant',
      note: 'valve test',
    });

    // Act: the verdict deleted, the false alarm comes back within one cache period.
    const deleted = await feedback(config, now, 'delete', 'sensor-data-0-9');
    expect(deleted.stdout).toContain('deleted the not-anomaly verdict on sensor-data-0-9');
    now += RULES_REFRESH_MS;
    await handler(mskEvent(episode(T0 + 360_000, 30, 100)));
    expect(anomalies).toEqual(['sensor-data-0-9', 'sensor-data-0-29', 'sensor-data-0-39']);
  });

  it('missed lowers the score the sensor needs, floored at half its threshold', async () => {
    const config = await aws.freshConfig({ alertCooldownMs: 0 });
    let now = T0;
    const anomalies: string[] = [];
    const handler = createHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns: aws.snsClient,
      clock: () => now,
      liveFeedback: {},
      observer: {
        rejected: () => {},
        anomaly: (d) => anomalies.push(d.anomaly.alertId),
        published: () => {},
      },
    });
    // 70: mean 25, 45 off (score 0.474): not an anomaly against 50.
    await handler(mskEvent(episode(T0, 0, 70)));
    expect(anomalies).toEqual([]);
    const r = await feedback(
      config,
      now,
      'sensor-data-0-9',
      'missed',
      '--sensor',
      'line_1_temp',
      '--score',
      String(45 / 95),
    );
    expect(r.code).toBe(0);
    now += RULES_REFRESH_MS;
    await handler(mskEvent(episode(T0 + 120_000, 10, 70)));
    expect(anomalies).toEqual(['sensor-data-0-19']);
    // 40: mean 22, 18 off: below half the threshold, never an anomaly.
    await handler(mskEvent(episode(T0 + 240_000, 20, 40)));
    expect(anomalies).toEqual(['sensor-data-0-19']);
  });

  it('reads the verdicts once per cache period, and skips items that are not verdicts', async () => {
    const config = await aws.freshConfig();
    const counts = countCommands(aws.dynamodbClient);
    let now = T0;
    const handler = createHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns: aws.snsClient,
      clock: () => now,
      liveFeedback: {},
    });
    await aws.dynamodbClient.send(
      new PutItemCommand({
        TableName: config.tableName,
        Item: { pk: { S: 'feedback' }, sk: { S: 'x' }, verdict: { S: 'maybe' } },
      }),
    );
    const before = counts.get('QueryCommand') ?? 0;
    for (let i = 0; i < 5; i += 1) {
      await handler(mskEvent(episode(T0 + i * 20_000, i * 10, 20)));
      now += 1000;
    }
    expect((counts.get('QueryCommand') ?? 0) - before).toBe(1);
    const store = new DynamoDbFeedbackStore({
      client: aws.dynamodbClient,
      tableName: config.tableName,
    });
    expect(await store.list({ forBatch: true })).toEqual({
      records: [],
      invalid: 1,
      truncated: false,
    });
  });
});

describe('verdicts at their limits', () => {
  it('the longest ids and notes round-trip; a fleet of verdicts past one 1 MB Query page is read whole', async () => {
    const config = await aws.freshConfig();
    const writer = new FeedbackWriter({ client: aws.dynamodbClient, tableName: config.tableName });
    // 256-byte sensor id (4-byte characters), 512-byte alert id, the longest note.
    const widest = feedbackRecord(
      {
        alertId: `${'t'.repeat(249)}-2147483647-${'9'.repeat(240)}`.slice(0, 512),
        verdict: 'not-anomaly',
        sensorId: '𝔰'.repeat(64),
        score: 0.7,
        note: 'n'.repeat(FEEDBACK_BOUNDS.maxNoteChars),
      },
      'x'.repeat(FEEDBACK_BOUNDS.maxByChars),
      T0,
    );
    await writer.put(widest);
    expect((await writer.list({ consistent: true })).records).toEqual([widest]);
    // 2,000 verdicts of about 0.8 KB: more than one page of a Query (1 MB).
    const fleet = Array.from({ length: 2000 }, (_, i) =>
      feedbackRecord(
        {
          alertId: `sensor-data-${i % 16}-${i}`,
          verdict: i % 3 === 0 ? 'missed' : 'not-anomaly',
          sensorId: `line_${i % 200}_${'s'.repeat(200)}`,
          score: (i % 100) / 100,
          note: 'why '.repeat(125),
        },
        'ops',
        T0 + i,
      ),
    );
    for (let i = 0; i < fleet.length; i += 25)
      await aws.dynamodbClient.send(
        new BatchWriteItemCommand({
          RequestItems: {
            [config.tableName]: fleet
              .slice(i, i + 25)
              .map((r) => ({ PutRequest: { Item: feedbackItem(r) } })),
          },
        }),
      );
    const counts = countCommands(aws.dynamodbClient);
    const all = await writer.list({ consistent: true });
    expect(counts.get('QueryCommand')).toBeGreaterThan(1);
    expect(all.records).toHaveLength(2001);
    expect(all.truncated).toBe(false);
    const forBatch = await new DynamoDbFeedbackStore({
      client: aws.dynamodbClient,
      tableName: config.tableName,
    }).list({ forBatch: true });
    expect(forBatch.records).toHaveLength(2001);
    // What a batch reads has no note and no author: the detector pays for what it uses.
    expect(forBatch.records.every((r) => r.note === undefined && r.by === '')).toBe(true);
  });
});

describe('npm run feedback: everyday mistakes get one line', () => {
  it.each([
    [
      ['not-anomaly', 'sensor-data-0-9'],
      'unknown verdict "sensor-data-0-9": the alert id comes first',
    ],
    [['sensor-data-0-9'], 'what is your verdict on sensor-data-0-9?'],
    [['sensor-data-0-9', 'not-anomaly'], 'sensorId: the sensor of the alert (give --sensor)'],
    [['sensor-data-0-9', 'missed', '--sensor', 's', '--score', '7'], 'score: between 0 and 1'],
    [['delete'], 'delete needs the ALERT_ID'],
    [['list', '--score', '1'], 'list takes no --score'],
  ])('%j', async (argv, message) => {
    const config = await aws.freshConfig();
    const r = await feedback(config, T0, ...argv);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('delete of an alert without a verdict says so', async () => {
    const config = await aws.freshConfig();
    const r = await feedback(config, T0, 'delete', 'sensor-data-0-1');
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe(
      `no verdict on sensor-data-0-1 in table ${config.tableName} (npm run feedback -- list shows them)\n`,
    );
  });
});
