import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { MSKEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbWindowStore } from '../../functions/adapters/dynamodb-window-store.ts';
import { MemoryWindowStore } from '../../functions/adapters/memory-window-store.ts';
import {
  StoreConflictError,
  StoreUnavailableError,
} from '../../functions/adapters/store-errors.ts';
import { parseReading, REJECT_REASONS } from '../../functions/core/parse-reading.ts';
import type { RawRecord } from '../../functions/core/types.ts';
import { createHandler } from '../../functions/detector/create-handler.ts';
import type { JournalWrite, WindowStore } from '../../functions/ports.ts';
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
    // Prepare: the first journal write of the batch lands, but its response is lost
    const config = await aws.freshConfig();
    const dynamodb = ownClient();
    let lost = 0;
    dynamodb.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const sk = (args.input as { Item?: { sk?: { S?: string } } }).Item?.sk?.S ?? '';
        if (lost === 0 && context.commandName === 'PutItemCommand' && sk.startsWith('journal')) {
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

/** A store whose first journal write is refused (throttled: it does not take effect). */
function firstJournalWriteThrottled(inner: WindowStore): WindowStore {
  let refused = false;
  return new Proxy(inner, {
    get(target, name) {
      const value = Reflect.get(target, name, target);
      if (name !== 'saveJournals') return typeof value === 'function' ? value.bind(target) : value;
      return async (writes: readonly JournalWrite[]) => {
        if (!refused && writes.length > 0) {
          refused = true;
          throw new StoreUnavailableError('ProvisionedThroughputExceededException (injected)');
        }
        return target.saveJournals(writes);
      };
    },
  });
}

/**
 * A store whose invocation, at its first call named `at`, waits until `until` settles: the
 * other invocation runs in between, against the same state.
 */
function pausedAt(
  inner: WindowStore,
  at: 'saveJournals' | 'saveBuckets',
  until: () => Promise<unknown>,
): WindowStore {
  let paused = false;
  return new Proxy(inner, {
    get(target, name) {
      const value = Reflect.get(target, name, target);
      if (name !== at) return typeof value === 'function' ? value.bind(target) : value;
      return async (writes: readonly unknown[], now: number) => {
        if (!paused && writes.length > 0) {
          paused = true;
          await until().catch(() => {});
        }
        return (value as (w: readonly unknown[], n: number) => Promise<void>).call(
          target,
          writes,
          now,
        );
      };
    },
  });
}

/** Runs a batch as an event source mapping would: retried after a failure. */
async function untilDone(run: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await run();
      return;
    } catch (error) {
      if (!(error instanceof StoreConflictError) || attempt >= 10) throw error;
    }
  }
}

interface Interleaving {
  /** Where the first invocation stops until the second's first attempt has settled. */
  readonly at: 'saveJournals' | 'saveBuckets';
  /** Which partition is the sensor's home (runs a batch first, alone). */
  readonly home: 0 | 1;
}

/**
 * One sensor through partitions 0 and 1 (an unkeyed producer). Partition `home` first
 * claims it and decides `before` alone; then partition 0 decides `p0` and partition 1 `p1` at once,
 * partition 0 stopped at its first `at` call until partition 1's first attempt settled.
 */
async function concurrentScenario(
  storeOf: () => Promise<WindowStore>,
  way: Interleaving,
  before: readonly number[],
  p0: readonly number[],
  p1: readonly number[],
): Promise<PipelineProbe> {
  const inner = await storeOf();
  const probe = new PipelineProbe();
  const processor = (store: WindowStore) =>
    createBatchProcessor(SETTINGS, {
      store,
      publisher: probe.publisher(),
      observer: probe,
      nowMs: () => T0 + 60_000,
      // Waiting for the other invocation's writes: a millisecond, not the default backoff.
      sleep: () => new Promise((resolve) => setTimeout(resolve, 1)),
    });
  const offsets = [0, 0];
  const records = (partition: 0 | 1, values: readonly number[]) =>
    values.map((v) => {
      const offset = offsets[partition] ?? 0;
      offsets[partition] = offset + 1;
      return toRawRecord({ partition, offset, timestampMs: T0 + offset * 10, value: `s,${v}` });
    });
  // The home claims the sensor with a reading an hour older, outside every later window.
  const claim = toRawRecord({
    partition: way.home,
    offset: 0,
    timestampMs: T0 - 3_600_000,
    value: `s,0,${T0 - 3_600_000}`,
  });
  offsets[way.home] = 1;
  await processor(inner)([claim, ...records(way.home, before)]);
  const batch0 = records(0, p0);
  const batch1 = records(1, p1);
  let second: Promise<unknown> = new Promise(() => {});
  const first = untilDone(() => processor(pausedAt(inner, way.at, () => second))(batch0));
  second = processor(inner)(batch1);
  await second.catch(() => {});
  await first;
  await untilDone(() => processor(inner)(batch1));
  return probe;
}

const INTERLEAVINGS: readonly Interleaving[] = [
  { at: 'saveJournals', home: 0 },
  { at: 'saveJournals', home: 1 },
  { at: 'saveBuckets', home: 0 },
  { at: 'saveBuckets', home: 1 },
];

describe.each([
  ['in-memory store', async (): Promise<WindowStore> => new MemoryWindowStore()],
  [
    'dynalite',
    async (): Promise<WindowStore> =>
      new DynamoDbWindowStore({
        client: aws.dynamodbClient,
        tableName: (await aws.freshConfig()).tableName,
      }),
  ],
])('failure mode 3: one sensor judged through two partitions at once (%s)', (_, storeOf) => {
  it.each(INTERLEAVINGS)(
    'readings 0 and 120 give exactly one anomaly, as in either serial order (stopped at $at, home $home)',
    async (way) => {
      // Prepare: the sensor's home has claimed it (with a reading long before)
      // Act: 0 through partition 0 and 120 through partition 1, concurrently
      const probe = await concurrentScenario(storeOf, way, [], [0], [120]);
      // Assess: window {0, 120} for whichever came second: one anomaly (threshold 50)
      const told = new Set(probe.anomalies.map((d) => d.anomaly.alertId));
      expect(told.size).toBe(1);
    },
  );

  it.each(INTERLEAVINGS)(
    'two spikes at once are notified once inside the cooldown (stopped at $at, home $home)',
    async (way) => {
      // Prepare: a window of 50s decided by the home
      // Act: a spike through each partition, concurrently
      const probe = await concurrentScenario(storeOf, way, [50, 50, 50], [300], [310]);
      // Assess: both anomalies, one notification (the cooldown is 60 s)
      const told = new Map(probe.anomalies.map((d) => [d.anomaly.alertId, d]));
      expect(told.size).toBe(2);
      expect([...told.values()].filter((d) => d.notify)).toHaveLength(1);
      expect(probe.sent.size).toBe(1);
    },
  );
});

describe('failure mode 4: a verdict told before its commit, then judged otherwise on retry', () => {
  it('tells only committed anomalies, so every notification it told is sent (laws-memory seed 1770727201)', async () => {
    // Prepare: one sensor through two partitions (an unkeyed producer)
    const inner = new MemoryWindowStore();
    const probe = new PipelineProbe();
    const process = createBatchProcessor(SETTINGS, {
      store: firstJournalWriteThrottled(inner),
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
    // Act: partition 1 judges 200 an anomaly, its journal write is throttled; partition 0
    // moves the sensor's window on; partition 1's retry judges against the new window
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

describe('failure mode 5: a journal larger than 300 KB', () => {
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
      nowMs: () => T0 + 600_000,
    });
    const ahead = T0 + 5 * 365 * 24 * 3600 * 1000;
    const at = (offset: number, ms: number, value: number) =>
      toRawRecord({ offset, timestampMs: ms, value: `sensor_1,${value},${ms}` });
    // Act: a spike at the wrong time, then, the clock fixed, a spike two minutes later
    await process([at(0, ahead, 50), at(1, ahead + 1000, 1000)]);
    await process([at(2, T0 + 120_000, 50), at(3, T0 + 121_000, 1000)]);
    // Assess: both notified
    expect([...probe.sent.keys()].sort()).toEqual(['sensor-data-0-1', 'sensor-data-0-3']);
  });
});
