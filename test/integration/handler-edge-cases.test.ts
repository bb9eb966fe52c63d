import type { MSKEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { REJECT_REASONS } from '../../functions/core/parse-reading.ts';
import { createHandler } from '../../functions/detector/create-handler.ts';
import { localSnsClient } from '../../local/embedded/clients.ts';
import { captureStdout } from '../helpers/capture-stdout.ts';
import { mskEvent, toRawRecord } from '../helpers/kafka-events.ts';
import { countCommands, type LocalAws, startLocalAws } from '../helpers/local-aws.ts';
import { tableBuckets } from '../helpers/table-state.ts';

const T0 = Date.parse('2026-11-21T10:00:00Z');
let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws.close();
});

describe('hostile records', () => {
  it('rejects each with its reason, logs it once with a bounded preview, and processes its neighbours', async () => {
    // Prepare: a good reading between every two bad ones
    const config = await aws.freshConfig();
    const handler = createHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns: aws.snsClient,
      clock: () => T0,
    });
    const hostile: [string | Uint8Array | null, string][] = [
      [new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0xff, 0x00]), REJECT_REASONS.notUtf8],
      ['sensor_1,NaN', REJECT_REASONS.invalidValue],
      ['sensor_1,1e308', REJECT_REASONS.valueOutOfRange],
      [`${'s'.repeat(300)},1`, REJECT_REASONS.sensorIdTooLong],
      [
        '{"sensorId":"x\\r\\nANOMALY → forged: value=1.0, avg=1.0","value":1}',
        REJECT_REASONS.sensorIdControlChars,
      ],
      [`sensor_1,1,${T0 + 3_600_000}`, REJECT_REASONS.futureTimestamp],
      [null, REJECT_REASONS.emptyValue],
      [`sensor_1,${'9'.repeat(70_000)}`, REJECT_REASONS.tooLarge],
      ['{"sensorId":"a","value":{"nested":[[[[1]]]]}}', REJECT_REASONS.invalidValue],
    ];
    const records = hostile.flatMap(([value], i) => [
      toRawRecord({ offset: 2 * i, timestampMs: T0, value }),
      toRawRecord({ offset: 2 * i + 1, timestampMs: T0, value: `good_${i},42` }),
    ]);
    const event = mskEvent(records);
    // A value that is not base64 at all, as a broken producer proxy might deliver.
    const group = Object.values(event.records)[0];
    group?.push({
      ...(group[0] as MSKEvent['records'][string][number]),
      offset: 999,
      value: '%%%not base64%%%',
    });
    const capture = captureStdout();
    // Act
    const report = await handler(event);
    capture.restore();
    // Assess
    const expectedReasons: Record<string, number> = {};
    for (const [, reason] of hostile) expectedReasons[reason] = (expectedReasons[reason] ?? 0) + 1;
    expectedReasons[REJECT_REASONS.malformedBase64] = 1;
    expect(report.rejectedByReason).toEqual(expectedReasons);
    expect(report.readings).toBe(hostile.length);
    // Every good neighbour applied: one bucket shard item holds all of the partition's sensors.
    expect(report.bucketsWritten).toBe(1);
    const rejections = capture.json().filter((l) => l.message === 'record rejected');
    expect(rejections).toHaveLength(hostile.length + 1);
    for (const line of rejections) {
      expect(line).toMatchObject({ topic: 'sensor-data', partition: 0 });
      expect(Buffer.byteLength(String(line.rawValue))).toBeLessThanOrEqual(200 * 3);
    }
    // No forged line: every line is one JSON object.
    expect(capture.lines().every((l) => l.startsWith('{'))).toBe(true);
    // Redelivered, the batch is not logged or counted again.
    const again = captureStdout();
    const second = await handler(event);
    again.restore();
    expect(second).toMatchObject({
      redelivered: records.length + 1,
      rejectedByReason: {},
      readings: 0,
    });
    expect(again.json().filter((l) => l.message === 'record rejected')).toHaveLength(0);
  });
});

describe('retention', () => {
  it('ignores an expired bucket that DynamoDB has not deleted yet, and replaces it', async () => {
    // Prepare: a bucket full of high readings, written more than its TTL ago (dynalite, like
    // DynamoDB within its deletion lag, still holds the page)
    const config = await aws.freshConfig();
    const handlerAt = (nowMs: number) =>
      createHandler({
        config,
        dynamodb: aws.dynamodbClient,
        sns: aws.snsClient,
        clock: () => nowMs,
      });
    const capture = captureStdout();
    await handlerAt(T0 + 2000)(
      mskEvent(
        Array.from({ length: 5 }, (_, i) =>
          toRawRecord({ offset: i, timestampMs: T0 + 1000, value: 'sensor_1,500' }),
        ),
      ),
    );
    // Act: a normal reading in the same bucket, once the bucket page's TTL has passed
    const report = await handlerAt(T0 + 2000 + (10 + 3600 + 1) * 1000)(
      mskEvent([toRawRecord({ offset: 5, timestampMs: T0 + 1000, value: 'sensor_1,50' })]),
    );
    capture.restore();
    // Assess: judged against an empty window, not against the stale mean of 500, and the
    // expired page replaced by a new one
    expect(report.anomalies).toBe(0);
    expect(report.bucketsWritten).toBe(1);
    const buckets = await tableBuckets(aws.dynamodbClient, config.tableName);
    expect(buckets.get(`sensor_1|${T0}`)).toEqual({ count: 1, sum: 50 });
  });
});

describe('a storm of anomalies', () => {
  it('commits a storm in pieces so each root stays far below 400 KB, and still sends every notification after a failure', async () => {
    // Prepare: 2,500 sensors that each jump from 0 to 1,000 → 2,500 anomalies in one batch
    const config = await aws.freshConfig();
    const records = Array.from({ length: 2500 }, (_, s) => [
      toRawRecord({
        offset: 2 * s,
        timestampMs: T0,
        value: `storm-sensor-with-a-long-name-${s},0`,
      }),
      toRawRecord({
        offset: 2 * s + 1,
        timestampMs: T0 + 100,
        value: `storm-sensor-with-a-long-name-${s},1000`,
      }),
    ]).flat();
    const sns = localSnsClient(aws.sns.endpoint, { maxAttempts: 1 });
    const sizes = outboxSizes(aws.dynamodbClient);
    const handler = createHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns,
      clock: () => T0 + 1000,
    });
    const sentBefore = aws.sns.messages.length;
    const capture = captureStdout();
    // Act: SNS fails the first time, after a root was committed
    aws.sns.failNext(1, 'internal');
    await expect(handler(mskEvent(records))).rejects.toThrow(/SNS/);
    const retry = await handler(mskEvent(records));
    capture.restore();
    sns.destroy();
    // Assess: every anomaly notified, no root near the limit
    expect(retry.redelivered).toBeGreaterThan(0);
    const ids = new Set(
      aws.sns.messages.slice(sentBefore).map((m) => JSON.parse(JSON.parse(m.message).sqs).alertId),
    );
    expect(ids.size).toBe(2500);
    expect(Math.max(...sizes)).toBeLessThan(150_000);
    expect(sizes.length).toBeGreaterThan(4);
  });
});

/** Bytes of every root PutItem's outbox attribute (the bulk of the item). */
function outboxSizes(client: LocalAws['dynamodbClient']): number[] {
  const sizes: number[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PutItemCommand') {
        const item = (args.input as { Item?: Record<string, { S?: string }> }).Item;
        if (item?.sk?.S === 'root') sizes.push(Buffer.byteLength(item.o?.S ?? ''));
      }
      return next(args);
    },
    { step: 'initialize', name: `sizes-${Math.random()}` },
  );
  return sizes;
}

describe('DynamoDB requests for 10,000-record batches from 1,000 keyed sensors on 4 partitions', () => {
  it('writes one page per (partition, bucket) and one root per partition and, warm, reads only the roots', async () => {
    // Prepare: 10 readings per sensor, at 0, 2, …, 18 s → 4 buckets touched per partition,
    // 5 in the windows (each window also reaches back one bucket before the first)
    const config = await aws.freshConfig();
    const batch = (from: number) =>
      Array.from({ length: 10_000 }, (_, i) =>
        toRawRecord({
          partition: i % 4,
          offset: from + Math.floor(i / 4),
          timestampMs: T0 + 2 + (from / 250) * 2000 + Math.floor(i / 1000) * 2000,
          value: `sensor_${i % 1000},${50 + (i % 7)}`,
        }),
      );
    const counts = countCommands(aws.dynamodbClient);
    const handler = createHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns: aws.snsClient,
      clock: () => T0 + 60_000,
    });
    const capture = captureStdout();
    // Act: a cold container, then the next 20 s warm
    const cold = await handler(mskEvent(batch(0)));
    const coldReads = counts.get('BatchGetItemCommand') ?? 0;
    const coldWrites = counts.get('PutItemCommand') ?? 0;
    const warm = await handler(mskEvent(batch(2500)));
    capture.restore();
    const warmReads = (counts.get('BatchGetItemCommand') ?? 0) - coldReads;
    const warmWrites = (counts.get('PutItemCommand') ?? 0) - coldWrites;
    console.info(
      `10,000 records, 1,000 sensors, 4 partitions: cold ${coldReads} BatchGetItem, ${coldWrites} PutItem ` +
        `(${cold.bucketsWritten} bucket pages, 4 dictionary pages, 4 roots); warm ${warmReads} BatchGetItem, ` +
        `${warmWrites} PutItem (${warm.bucketsWritten} bucket pages, 4 index pages, 4 roots)`,
    );
    // Assess: cold: the 4 roots in one read (new partitions have no pages to read); per
    // partition a dictionary page, 4 bucket pages and the root
    expect(cold.bucketsWritten).toBe(16);
    expect(coldReads).toBe(1);
    expect(coldWrites).toBe(4 + 16 + 4);
    // Warm: the roots only (pages are immutable: the container's cache holds them); with 8
    // buckets now, each root moves its older bucket refs to an index page (more than 6)
    expect(warm.bucketsWritten).toBe(16);
    expect(warmReads).toBe(1);
    expect(warmWrites).toBe(warm.bucketsWritten + 4 + 4);
  });
});

describe('configuration', () => {
  it('fails the cold start with an error that names each bad variable', async () => {
    // Prepare
    vi.resetModules();
    vi.stubEnv('TABLE_NAME', 'windows');
    vi.stubEnv('ALERT_TOPIC_ARN', '');
    vi.stubEnv('WINDOW_SECONDS', 'ten');
    // Act + Assess
    await expect(import('../../functions/detector/handler.ts')).rejects.toThrow(
      'invalid configuration: ALERT_TOPIC_ARN: required but not set; WINDOW_SECONDS: Invalid input: expected number, received NaN (got "ten")',
    );
    vi.unstubAllEnvs();
  });

  it('rejects a window that is not a whole multiple of the slide', async () => {
    vi.resetModules();
    vi.stubEnv('TABLE_NAME', 'windows');
    vi.stubEnv('ALERT_TOPIC_ARN', 'arn:aws:sns:us-east-1:1:t');
    vi.stubEnv('SLIDE_SECONDS', '4');
    await expect(import('../../functions/detector/handler.ts')).rejects.toThrow(
      /window \(10000 ms\) must be a whole multiple of the slide \(4000 ms\)/,
    );
    vi.unstubAllEnvs();
  });

  it('builds the handler from a valid environment', async () => {
    vi.resetModules();
    vi.stubEnv('TABLE_NAME', 'windows');
    vi.stubEnv('ALERT_TOPIC_ARN', 'arn:aws:sns:us-east-1:1:t');
    vi.stubEnv('AWS_REGION', 'us-east-1');
    const module = await import('../../functions/detector/handler.ts');
    expect(typeof module.handler).toBe('function');
    expect(typeof module.createHandler).toBe('function');
    vi.unstubAllEnvs();
  });
});
