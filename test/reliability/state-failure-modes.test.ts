import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { MSKEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbWindowStore } from '../../functions/adapters/dynamodb-window-store.ts';
import { MemoryWindowStore } from '../../functions/adapters/memory-window-store.ts';
import { StoreUnavailableError } from '../../functions/adapters/store-errors.ts';
import type { PartitionStore } from '../../functions/batch/state.ts';
import { parseReading, REJECT_REASONS } from '../../functions/core/parse-reading.ts';
import type { RawRecord } from '../../functions/core/types.ts';
import { createHandler } from '../../functions/detector/create-handler.ts';
import { createBatchProcessor, type DetectionSettings } from '../../functions/process-batch.ts';
import { localDynamoDbClient } from '../../local/embedded/clients.ts';
import { captureStdout } from '../helpers/capture-stdout.ts';
import { mskEvent, toRawRecord } from '../helpers/kafka-events.ts';
import { type LocalAws, startLocalAws } from '../helpers/local-aws.ts';
import { PipelineProbe } from '../helpers/pipeline-probe.ts';
import { memoryBuckets, tableBuckets } from '../helpers/table-state.ts';

/**
 * The six failure modes the state layer's adversarial review found (docs/reliability.md,
 * "Failure modes of the state layer"), each as the scenario that reproduced it.
 */
const T0 = Date.parse('2026-11-21T10:00:00Z');
const SETTINGS: DetectionSettings = {
  slideMs: 5000,
  windowMs: 10_000,
  defaultDetector: { kind: 'threshold', threshold: 50 },
  rules: [],
  alertCooldownMs: 60_000,
  retentionMarginSeconds: 3600,
};

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws.close();
});

/** A client of its own (one attempt, like the handler's tests), so middleware stays per test. */
function ownClient(): DynamoDBClient {
  return localDynamoDbClient(aws.dynamo.endpoint, { maxAttempts: 1 });
}

/** 2,500 sensors that each jump from 0 to 1,000: 2,500 anomalies in one partition's batch. */
function storm(id: (s: number) => string): RawRecord[] {
  return Array.from({ length: 2500 }, (_, s) => [
    toRawRecord({ offset: 2 * s, timestampMs: T0, value: `${id(s)},0` }),
    toRawRecord({ offset: 2 * s + 1, timestampMs: T0 + 100, value: `${id(s)},1000` }),
  ]).flat();
}

function alertIdsSince(from: number): Set<string> {
  return new Set(
    aws.sns.messages.slice(from).map((m) => JSON.parse(JSON.parse(m.message).sqs).alertId),
  );
}

function event(records: readonly RawRecord[], eventSourceArn?: string): MSKEvent {
  const e = mskEvent(records);
  return eventSourceArn === undefined ? e : { ...e, eventSourceArn };
}

describe('failure mode 1: a lost PutItem response while a storm is committed', () => {
  it('does not stall the partition: the next attempt converges and every notification is sent', async () => {
    // Prepare: the first root write of the batch lands, but its response is lost
    const config = await aws.freshConfig();
    const dynamodb = ownClient();
    let lost = 0;
    dynamodb.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const sk = (args.input as { Item?: { sk?: { S?: string } } }).Item?.sk?.S ?? '';
        if (lost === 0 && context.commandName === 'PutItemCommand' && sk === 'root') {
          lost += 1;
          throw new Error('socket hang up (the write landed, its response was lost)');
        }
        return result;
      },
      { step: 'initialize', name: 'lose-one-response' },
    );
    const handler = createHandler({ config, dynamodb, sns: aws.snsClient, clock: () => T0 + 1000 });
    const records = storm((s) => `storm-sensor-with-a-long-name-${s}`);
    const sentBefore = aws.sns.messages.length;
    const capture = captureStdout();
    // Act: the event source mapping retries a failed batch, as often as it takes
    const errors: string[] = [];
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      try {
        await handler(mskEvent(records));
        break;
      } catch (error) {
        errors.push((error as Error).message);
      }
    }
    capture.restore();
    dynamodb.destroy();
    // Assess: one failed attempt (the lost response), then success, every anomaly notified
    expect(lost).toBe(1);
    expect(errors).toHaveLength(1);
    expect(alertIdsSince(sentBefore).size).toBe(2500);
  });
});

describe('failure mode 2: records that cannot be redeliveries are judged', () => {
  const readings = (from: number, timestampMs: number, values: number[]) =>
    values.map((v, i) =>
      toRawRecord({ offset: from + i, timestampMs: timestampMs + i, value: `sensor_1,${v}` }),
    );

  it('the same topic, partition and offsets from another cluster', async () => {
    // Prepare: offsets 0–3 decided on one MSK cluster
    const config = await aws.freshConfig();
    const handler = createHandler({ config, dynamodb: aws.dynamodbClient, sns: aws.snsClient });
    const capture = captureStdout();
    await handler(
      event(readings(0, T0, [50, 50, 50, 50]), 'arn:aws:kafka:us-east-1:1:cluster/a/1'),
    );
    // Act: a spike at offset 3 of the same topic on another cluster
    const report = await handler(
      event(readings(0, T0 + 60_000, [50, 50, 50, 1000]), 'arn:aws:kafka:us-east-1:1:cluster/b/2'),
    );
    capture.restore();
    // Assess
    expect(report).toMatchObject({ redelivered: 0, readings: 4, anomalies: 1 });
  });

  it('a recreated topic: offsets restart at 0 with records newer than any decided one', async () => {
    // Prepare: offsets 0–4 decided
    const config = await aws.freshConfig();
    const handler = createHandler({ config, dynamodb: aws.dynamodbClient, sns: aws.snsClient });
    const capture = captureStdout();
    await handler(event(readings(0, T0, [50, 50, 50, 50, 50])));
    // Act: the topic deleted and created again; its first records an hour later
    const report = await handler(event(readings(0, T0 + 3_600_000, [50, 50, 1000])));
    // ...and a real redelivery of those is still recognised
    const again = await handler(event(readings(0, T0 + 3_600_000, [50, 50, 1000])));
    capture.restore();
    // Assess
    expect(report).toMatchObject({ redelivered: 0, readings: 3, anomalies: 1 });
    expect(again).toMatchObject({ redelivered: 3, readings: 0, anomalies: 0 });
    const buckets = await tableBuckets(aws.dynamodbClient, config.tableName);
    expect([...buckets.values()].reduce((n, b) => n + b.count, 0)).toBe(8);
  });

  it('a replay of offsets the event source mapping gave up on (the README recovery advice)', async () => {
    // Prepare: offsets 0–4 decided, 5–9 given up on (never delivered), 10–14 decided
    const config = await aws.freshConfig();
    const handler = createHandler({ config, dynamodb: aws.dynamodbClient, sns: aws.snsClient });
    const capture = captureStdout();
    await handler(event(readings(0, T0, [50, 50, 50, 50, 50])));
    await handler(event(readings(10, T0 + 10_000, [50, 50, 50, 50, 50])));
    // Act: the skipped offsets re-read from Kafka and replayed, a spike among them; twice
    const replay = readings(5, T0 + 5000, [50, 50, 50, 50, 1000]);
    const report = await handler(event(replay));
    const again = await handler(event(replay));
    capture.restore();
    // Assess: judged once, counted once
    expect(report).toMatchObject({ redelivered: 0, readings: 5, anomalies: 1 });
    expect(again).toMatchObject({ redelivered: 5, readings: 0, anomalies: 0 });
    const buckets = await tableBuckets(aws.dynamodbClient, config.tableName);
    expect([...buckets.values()].reduce((n, b) => n + b.count, 0)).toBe(15);
  });
});

/** A store whose first root write is refused (throttled: it does not take effect). */
function firstCommitThrottled(inner: PartitionStore): PartitionStore {
  let refused = false;
  return {
    limits: inner.limits,
    readRoots: (pids) => inner.readRoots(pids),
    readPages: (keys, now) => inner.readPages(keys, now),
    putPages: (writes) => inner.putPages(writes),
    commitRoot: async (pid, root, expected) => {
      if (!refused) {
        refused = true;
        throw new StoreUnavailableError('ProvisionedThroughputExceededException (injected)');
      }
      return inner.commitRoot(pid, root, expected);
    },
  };
}

/**
 * One sensor whose readings arrive through two partitions of an unkeyed topic, brought to one
 * keyed partition by the repartition step (headers `source-*`): `p0` from source partition 0
 * and `p1` from source partition 1, in the order the repartition step produced them.
 */
function repartitioned(order: readonly [0 | 1, number][]): RawRecord[] {
  const sourceOffsets = [0, 0];
  return order.map(([source, value], offset) => {
    const sourceOffset = sourceOffsets[source] ?? 0;
    sourceOffsets[source] = sourceOffset + 1;
    return {
      ...toRawRecord({
        topic: 'sensor-data-by-sensor',
        offset,
        timestampMs: T0 + offset * 10,
        key: 's',
        value: `s,${value}`,
      }),
      origin: { topic: 'sensor-data', partition: source, offset: sourceOffset },
    };
  });
}

describe.each([
  ['in-memory store', async (): Promise<PartitionStore> => new MemoryWindowStore()],
  [
    'dynalite',
    async (): Promise<PartitionStore> =>
      new DynamoDbWindowStore({
        client: aws.dynamodbClient,
        tableName: (await aws.freshConfig()).tableName,
      }),
  ],
])('failure mode 3: one sensor through two partitions of an unkeyed topic (%s)', (_, storeOf) => {
  const run = async (batches: RawRecord[][]) => {
    const store = await storeOf();
    const probe = new PipelineProbe();
    const process = createBatchProcessor(SETTINGS, {
      store,
      publisher: probe.publisher(),
      observer: probe,
      nowMs: () => T0 + 60_000,
    });
    for (const batch of batches) await process(batch);
    return probe;
  };

  it.each<[[0 | 1, number], [0 | 1, number]]>([
    [
      [0, 0],
      [1, 120],
    ],
    [
      [1, 120],
      [0, 0],
    ],
  ])(
    'readings 0 and 120, repartitioned, give exactly one anomaly in either order',
    async (a, b) => {
      // Act: through the keyed topic, one partition for the sensor
      const probe = await run([repartitioned([a, b])]);
      // Assess: the second is judged against a window holding both: one anomaly (threshold 50)
      expect(probe.anomalies).toHaveLength(1);
    },
  );

  it('two spikes, one from each source partition, are notified once inside the cooldown', async () => {
    const probe = await run([
      repartitioned([
        [0, 50],
        [1, 50],
        [0, 50],
        [0, 300],
        [1, 310],
      ]),
    ]);
    const told = new Map(probe.anomalies.map((d) => [d.anomaly.alertId, d]));
    expect(told.size).toBe(2);
    expect([...told.values()].filter((d) => d.notify)).toHaveLength(1);
    expect(probe.sent.size).toBe(1);
  });

  it('a prefix the repartition step produced again after its retry is dropped, not judged twice', async () => {
    // Prepare: source partition 0 gave 50, 50, 300; the step failed after producing 50, 300
    // of a batch and produced the batch again
    const first = repartitioned([
      [0, 50],
      [0, 50],
      [0, 300],
    ]);
    const copies = first.slice(1).map((r, i) => ({ ...r, offset: 3 + i }));
    const again = [...copies, { ...(first[2] as RawRecord), offset: 5 }];
    // Act: the copies arrive in a later batch
    const probe = await run([first, again]);
    // Assess: one anomaly, one notification; the copies neither counted nor judged
    expect(probe.anomalies.map((d) => d.anomaly.alertId)).toEqual(['sensor-data-by-sensor-0-2']);
    expect(probe.sent.size).toBe(1);
  });
});

describe('failure mode 4: a verdict told before its commit, then judged otherwise on retry', () => {
  it('tells only committed anomalies, so every notification it told is sent (laws-memory seed 1770727201)', async () => {
    // Prepare: one sensor through two partitions (an unkeyed producer, no repartition)
    const inner = new MemoryWindowStore();
    const probe = new PipelineProbe();
    const process = createBatchProcessor(SETTINGS, {
      store: firstCommitThrottled(inner),
      publisher: probe.publisher(),
      observer: probe,
      nowMs: () => T0 + 60_000,
    });
    const p1 = [
      toRawRecord({ partition: 1, offset: 0, timestampMs: T0, value: 's,0' }),
      toRawRecord({ partition: 1, offset: 1, timestampMs: T0 + 10, value: 's,200' }),
    ];
    const p0 = [0, 1, 2].map((i) =>
      toRawRecord({ partition: 0, offset: i, timestampMs: T0 + 20 + i, value: 's,200' }),
    );
    // Act: partition 1 judges 200 an anomaly, its root write is throttled; partition 0
    // judges its own copy of the sensor; partition 1's retry judges again
    await expect(process(p1)).rejects.toThrow(StoreUnavailableError);
    await process(p0);
    await process(p1);
    // Assess: each told anomaly is the committed verdict, and each told notification was sent
    const told = probe.anomalies.map((d) => d.anomaly.alertId);
    expect(new Set(told).size).toBe(told.length);
    for (const d of probe.anomalies) {
      if (d.notify) expect(probe.sent.has(d.anomaly.alertId), d.anomaly.alertId).toBe(true);
    }
    expect(memoryBuckets(inner).get(`s|${T0}`)?.count).toBe(5);
  });
});

describe('failure mode 5: an outbox larger than 300 KB', () => {
  it('is written as items DynamoDB accepts: no string cut inside a surrogate pair', async () => {
    // Prepare: ids of emoji (two UTF-16 units each), so a cut by UTF-16 units splits a pair
    const config = await aws.freshConfig();
    const dynamodb = ownClient();
    const strings: string[] = [];
    dynamodb.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutItemCommand') {
          const item = (args.input as { Item?: Record<string, { S?: string }> }).Item ?? {};
          for (const v of Object.values(item)) if (v.S !== undefined) strings.push(v.S);
        }
        return next(args);
      },
      { step: 'initialize', name: 'collect-strings' },
    );
    const handler = createHandler({ config, dynamodb, sns: aws.snsClient, clock: () => T0 + 1000 });
    const id = (s: number) => `${'🌡'.repeat(30)}-${s}`;
    const sentBefore = aws.sns.messages.length;
    const capture = captureStdout();
    // Act
    await handler(mskEvent(storm(id)));
    capture.restore();
    dynamodb.destroy();
    // Assess: every string well-formed UTF-16 (so valid UTF-8), every id notified intact
    const wellFormed = (s: string) =>
      !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
    expect(strings.filter((s) => !wellFormed(s))).toEqual([]);
    const sensors = new Set(
      aws.sns.messages.slice(sentBefore).map((m) => JSON.parse(JSON.parse(m.message).sqs).sensorId),
    );
    expect(sensors.size).toBe(2500);
    expect(sensors.has(id(2499))).toBe(true);
  });
});

describe('failure mode 6: record timestamps of -1 and event times far ahead', () => {
  it('a record without a timestamp (-1): the reading’s own time is used, no time at all is rejected', () => {
    // Prepare
    const own = toRawRecord({ offset: 0, timestampMs: -1, value: `sensor_1,42,${T0}` });
    const none = toRawRecord({ offset: 1, timestampMs: -1, value: 'sensor_1,42' });
    // Act
    const withOwn = parseReading(own);
    const withNone = parseReading(none);
    // Assess: not FUTURE_TIMESTAMP against -1; not a reading in 1969
    expect(withOwn).toMatchObject({ ok: true, reading: { eventTimeMs: T0 } });
    expect(withNone).toMatchObject({ ok: false, reason: REJECT_REASONS.badTimestamp });
  });

  it('an anomaly years ahead does not silence its sensor until then', async () => {
    // Prepare: a producer clock 5 years ahead (its Kafka CreateTime from the same clock)
    const probe = new PipelineProbe();
    const process = createBatchProcessor(SETTINGS, {
      store: new MemoryWindowStore(),
      publisher: probe.publisher(),
      observer: probe,
      // Processing time: each batch runs a second after its true time (readings minutes old
      // would be past the freshness limit, docs/alerting.md, and stale for that reason).
      nowMs: () => nowMs,
    });
    let nowMs = T0 + 2000;
    const ahead = T0 + 5 * 365 * 24 * 3600 * 1000;
    const at = (offset: number, ms: number, value: number) =>
      toRawRecord({ offset, timestampMs: ms, value: `sensor_1,${value},${ms}` });
    // Act: a spike at the wrong time, then, the clock fixed, a spike two minutes later
    await process([at(0, ahead, 50), at(1, ahead + 1000, 1000)]);
    nowMs = T0 + 122_000;
    await process([at(2, T0 + 120_000, 50), at(3, T0 + 121_000, 1000)]);
    // Assess: both notified
    expect([...probe.sent.keys()].sort()).toEqual(['sensor-data-0-1', 'sensor-data-0-3']);
  });
});
