import { readFileSync } from 'node:fs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Admin, Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AlertDecision } from '../../functions/core/types.ts';
import { localDynamoDbClient, localSnsClient } from '../../local/embedded/clients.ts';
import { type EmbeddedDynamoDb, ensureTable } from '../../local/embedded/dynamodb.ts';
import type { MockKafka } from '../../local/embedded/kafka-mock-cluster.ts';
import { type SnsEndpoint, startSnsEndpoint } from '../../local/embedded/sns-endpoint.ts';
import { createLocalDetector, localDetectorConfig } from '../../local/pipeline/local-detector.ts';
import type { DispatchHooks } from '../../local/poller/dispatcher.ts';
import { type KafkaPoller, startKafkaPoller } from '../../local/poller/kafka-poller.ts';
import { type LambdaKafkaEvent, LOCAL_MSK_CLUSTER_ARN } from '../../local/poller/lambda-event.ts';
import { describeWithKafka } from '../helpers/kafka-available.ts';
import { kafkaEventShape } from '../helpers/kafka-event-shape.ts';
import { tableBuckets } from '../helpers/table-state.ts';
import { uniqueName, workerDynamoDb, workerKafka } from '../helpers/worker-services.ts';

const fixture = (name: string) =>
  JSON.parse(
    readFileSync(new URL(`../fixtures/events/${name}`, import.meta.url), 'utf8'),
  ) as LambdaKafkaEvent;

/** Two sensors at a steady 50, then one spike each: exactly two anomalies. */
function readingsWithSpikes(): { key: string; value: string }[] {
  const lines: { key: string; value: string }[] = [];
  for (let i = 0; i < 20; i += 1) {
    for (const sensor of ['sensor_1', 'sensor_2'])
      lines.push({ key: sensor, value: `${sensor},${49 + (i % 3)}.0` });
  }
  lines.push(
    { key: 'sensor_1', value: 'sensor_1,150.0' },
    { key: 'sensor_2', value: 'sensor_2,180.0' },
  );
  for (const sensor of ['sensor_1', 'sensor_2'])
    lines.push({ key: sensor, value: `${sensor},50.0` });
  return lines;
}

/** This file's names for topics, groups and tables on the worker's shared services. */
const ns = uniqueName('kafka-pipeline');

describeWithKafka('Kafka (mock cluster) → poller → Lambda handler → dynalite → SNS', () => {
  let kafkaCluster: MockKafka;
  let dynamo: EmbeddedDynamoDb;
  let sns: SnsEndpoint;
  let dynamodb: DynamoDBClient;
  let kafka: Kafka;
  let producer: Producer;
  let admin: Admin;
  const pollers: KafkaPoller[] = [];
  let run = 0;

  beforeAll(async () => {
    [kafkaCluster, dynamo, sns] = await Promise.all([
      workerKafka(),
      workerDynamoDb(),
      startSnsEndpoint(),
    ]);
    dynamodb = localDynamoDbClient(dynamo.endpoint);
    kafka = new Kafka({ brokers: [kafkaCluster.bootstrap], logLevel: logLevel.NOTHING });
    producer = kafka.producer({ allowAutoTopicCreation: true });
    admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);
  });

  afterAll(async () => {
    await Promise.all(pollers.map((p) => p.stop()));
    await producer?.disconnect();
    await admin?.disconnect();
    dynamodb?.destroy();
    await Promise.all([kafkaCluster?.close(), dynamo?.close(), sns?.close()]);
  });

  /** A fresh topic, group and table per test, all on the shared services. */
  async function pipeline(options: {
    eventSource?: 'msk' | 'self-managed';
    wrapInvoke?: (
      invoke: (e: LambdaKafkaEvent) => Promise<unknown>,
    ) => (e: LambdaKafkaEvent) => Promise<unknown>;
    hooks?: DispatchHooks;
    batchSize?: number;
    topic?: string;
  }) {
    run += 1;
    const topic = options.topic ?? `${ns}-sensors-${run}`;
    const config = localDetectorConfig({ tableName: `${ns}-windows-${run}` });
    await ensureTable(dynamodb, config.tableName);
    const anomalies: AlertDecision[] = [];
    const events: LambdaKafkaEvent[] = [];
    const handler = createLocalDetector({
      config,
      dynamodb,
      sns: localSnsClient(sns.endpoint, { maxAttempts: 1 }),
      observer: { anomaly: (d) => anomalies.push(d), rejected() {}, published() {} },
    });
    const invoke = async (event: LambdaKafkaEvent) => {
      events.push(structuredClone(event));
      return handler(event);
    };
    const groupId = `${ns}-group-${run}`;
    const poller = await startKafkaPoller({
      brokers: [kafkaCluster.bootstrap],
      topics: [topic],
      groupId,
      source:
        options.eventSource === 'self-managed'
          ? { kind: 'self-managed', bootstrapServers: kafkaCluster.bootstrap }
          : {
              kind: 'msk',
              clusterArn: LOCAL_MSK_CLUSTER_ARN,
              bootstrapServers: kafkaCluster.bootstrap,
            },
      invoke: options.wrapInvoke?.(invoke) ?? invoke,
      batching: { batchSize: options.batchSize ?? 100, batchingWindowMs: 100 },
      retry: { initialBackoffMs: 50, maxBackoffMs: 200 },
      sessionTimeoutMs: 3000,
      heartbeatIntervalMs: 300,
      maxWaitTimeMs: 100,
      ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
    });
    pollers.push(poller);
    const committedOffsets = async () =>
      (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions
        // -1: nothing committed, which is right for a partition that never had a record.
        .map((p) => ({ partition: p.partition, offset: Math.max(0, Number(p.offset)) }))
        .sort((a, b) => a.partition - b.partition);
    const endOffsets = async () =>
      (await admin.fetchTopicOffsets(topic))
        .map((p) => ({ partition: p.partition, offset: Number(p.high) }))
        .sort((a, b) => a.partition - b.partition);
    return { topic, config, poller, anomalies, events, committedOffsets, endOffsets };
  }

  /** Sum of the bucket counts per sensor: every reading must be in exactly once. */
  async function readingsInBuckets(tableName: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const [key, bucket] of await tableBuckets(dynamodb, tableName)) {
      const sensor = key.slice(0, key.lastIndexOf('|'));
      counts[sensor] = (counts[sensor] ?? 0) + bucket.count;
    }
    return counts;
  }

  it('detects the anomalies, notifies SNS and commits every offset, in partition order', async () => {
    // Prepare
    const p = await pipeline({ batchSize: 10 });
    const before = sns.messages.length;
    // Act
    await producer.send({ topic: p.topic, messages: readingsWithSpikes() });
    const drained = await p.poller.drain(20_000);
    // Assess
    expect(drained).toBe(true);
    expect(p.anomalies.map((d) => [d.anomaly.sensorId, d.anomaly.value]).sort()).toEqual([
      ['sensor_1', 150],
      ['sensor_2', 180],
    ]);
    const published = sns.messages.slice(before);
    expect(published.map((m) => m.messageAttributes.sensorId?.stringValue).sort()).toEqual([
      'sensor_1',
      'sensor_2',
    ]);
    expect(published.map((m) => JSON.parse(JSON.parse(m.message).sqs).alertId).sort()).toEqual(
      p.anomalies.map((d) => d.anomaly.alertId).sort(),
    );
    expect(await p.committedOffsets()).toEqual(await p.endOffsets());
    // Each partition's records arrive once, in offset order, without gaps, at most 10 per event.
    const seen = new Map<string, number[]>();
    for (const event of p.events) {
      expect(Object.values(event.records).flat().length).toBeLessThanOrEqual(10);
      for (const [group, records] of Object.entries(event.records)) {
        seen.set(group, [...(seen.get(group) ?? []), ...records.map((r) => r.offset)]);
      }
    }
    for (const offsets of seen.values()) {
      expect(offsets).toEqual(offsets.map((_, i) => (offsets[0] ?? 0) + i));
    }
    expect([...seen.values()].flat().length).toBe(readingsWithSpikes().length);
  });

  it('retries a batch whose function invocation failed, unchanged, and commits only after success', async () => {
    // Prepare
    const timeline: string[] = [];
    const attempts: LambdaKafkaEvent[] = [];
    let calls = 0;
    const p = await pipeline({
      wrapInvoke: (invoke) => async (event) => {
        calls += 1;
        attempts.push(structuredClone(event));
        if (calls <= 2) throw new Error(`injected function error ${calls}`);
        return invoke(event);
      },
      hooks: {
        failed: ({ attempt }) => timeline.push(`failed#${attempt}`),
        invoked: ({ attempt }) => timeline.push(`invoked#${attempt}`),
        committed: () => timeline.push('committed'),
      },
    });
    // Act
    await producer.send({ topic: p.topic, messages: readingsWithSpikes() });
    const drained = await p.poller.drain(20_000);
    // Assess
    expect(drained).toBe(true);
    expect(timeline.slice(0, 4)).toEqual(['failed#1', 'failed#2', 'invoked#3', 'committed']);
    expect(attempts[1]).toEqual(attempts[0]);
    expect(attempts[2]).toEqual(attempts[0]);
    expect(p.anomalies.map((d) => d.anomaly.value).sort()).toEqual([150, 180]);
    expect(p.poller.stats()).toMatchObject({
      failedInvocations: 2,
      recordsProcessed: readingsWithSpikes().length,
    });
    expect(await p.committedOffsets()).toEqual(await p.endOffsets());
  });

  it('retries through an SNS outage mid-batch: no notification lost, none sent twice, state applied once', async () => {
    // Prepare
    const failures: unknown[] = [];
    const p = await pipeline({ hooks: { failed: ({ error }) => failures.push(error) } });
    const before = sns.messages.length;
    sns.failNext(2, 'internal');
    // Act
    await producer.send({ topic: p.topic, messages: readingsWithSpikes() });
    const drained = await p.poller.drain(20_000);
    // Assess
    expect(drained).toBe(true);
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(String((failures[0] as Error).message)).toMatch(/SNS/);
    // The first attempt recorded its decisions before SNS failed: the retry only publishes.
    expect(p.anomalies).toHaveLength(2);
    const alertIds = sns.messages
      .slice(before)
      .map((m) => JSON.parse(JSON.parse(m.message).sqs).alertId);
    expect(alertIds.sort()).toEqual(p.anomalies.map((d) => d.anomaly.alertId).sort());
    expect(p.events.length).toBeGreaterThan(1);
    expect(p.poller.stats().recordsProcessed).toBe(readingsWithSpikes().length);
    expect(await p.committedOffsets()).toEqual(await p.endOffsets());
    expect(await readingsInBuckets(p.config.tableName)).toEqual({ sensor_1: 22, sensor_2: 22 });
  });

  it.each([
    ['msk', 'msk-event.json'],
    ['self-managed', 'self-managed-kafka-event.json'],
  ] as const)(
    'sends %s events with the structure of Lambda’s (%s)',
    async (eventSource, fixtureName) => {
      // Prepare
      const p = await pipeline({ eventSource });
      const sentAtMs = 1_700_000_000_123;
      // Act
      await producer.send({
        topic: p.topic,
        messages: [
          {
            key: 'sensor_1',
            value: 'sensor_1,150.0',
            headers: { headerKey: 'headerValue' },
            timestamp: String(sentAtMs),
          },
        ],
      });
      await p.poller.drain(20_000);
      // Assess
      const [event] = p.events;
      expect(kafkaEventShape(event)).toEqual(kafkaEventShape(fixture(fixtureName)));
      const [record] = Object.values(event?.records ?? {}).flat();
      expect(record).toMatchObject({
        topic: p.topic,
        offset: 0,
        timestamp: sentAtMs,
        timestampType: 'CREATE_TIME',
        key: Buffer.from('sensor_1').toString('base64'),
        value: Buffer.from('sensor_1,150.0').toString('base64'),
        headers: [{ headerKey: [...Buffer.from('headerValue')] }],
      });
      expect(Object.keys(event?.records ?? {})).toEqual([`${p.topic}-${record?.partition}`]);
      if (eventSource === 'msk') {
        expect(event).toMatchObject({
          eventSource: 'aws:kafka',
          eventSourceArn: LOCAL_MSK_CLUSTER_ARN,
        });
      } else {
        expect(event).toMatchObject({
          eventSource: 'SelfManagedKafka',
          bootstrapServers: kafkaCluster.bootstrap,
        });
      }
    },
  );
});
