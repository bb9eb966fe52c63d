import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Consumer, Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { anomalyRecord, KafkaAnomalySink } from '../../functions/adapters/kafka-anomaly-sink.ts';
import type { AlertDecision } from '../../functions/core/types.ts';
import { localDynamoDbClient, localSnsClient } from '../../local/embedded/clients.ts';
import { type EmbeddedDynamoDb, ensureTable } from '../../local/embedded/dynamodb.ts';
import type { MockKafka } from '../../local/embedded/kafka-mock-cluster.ts';
import { type SnsEndpoint, startSnsEndpoint } from '../../local/embedded/sns-endpoint.ts';
import { createLocalDetector, localDetectorConfig } from '../../local/pipeline/local-detector.ts';
import { type KafkaPoller, startKafkaPoller } from '../../local/poller/kafka-poller.ts';
import { LOCAL_MSK_CLUSTER_ARN } from '../../local/poller/lambda-event.ts';
import { describeWithKafka } from '../helpers/kafka-available.ts';
import { type KafkaFault, kafkaFaultSocket } from '../helpers/kafka-fault-socket.ts';
import { uniqueName, workerDynamoDb, workerKafka } from '../helpers/worker-services.ts';

/** Sensors at a steady 50 with one spike each, spikes in several batches: one anomaly each. */
function readings(sensors: number): { key: string; value: string }[] {
  const lines: { key: string; value: string }[] = [];
  for (let i = 0; i < 12; i += 1) {
    for (let s = 1; s <= sensors; s += 1)
      lines.push({ key: `sensor_${s}`, value: `sensor_${s},${49 + (i % 3)}.0` });
  }
  for (let s = 1; s <= sensors; s += 1) {
    lines.push({ key: `sensor_${s}`, value: `sensor_${s},${150 + s}.0` });
    lines.push({ key: `sensor_${s}`, value: `sensor_${s},50.0` });
  }
  return lines;
}

interface Consumed {
  readonly key: string;
  readonly alertId: string;
  readonly value: string;
}

/** This file's names for topics, groups and tables on the worker's shared services. */
const ns = uniqueName('anomalies-topic');

describeWithKafka('anomalies topic: Kafka sink fed from the outbox, under broker faults', () => {
  let kafkaCluster: MockKafka;
  let dynamo: EmbeddedDynamoDb;
  let sns: SnsEndpoint;
  let dynamodb: DynamoDBClient;
  let kafka: Kafka;
  let producer: Producer;
  const consumers: Consumer[] = [];
  const pollers: KafkaPoller[] = [];
  const sinks: KafkaAnomalySink[] = [];
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
    await producer.connect();
  });

  afterAll(async () => {
    await Promise.all(pollers.map((p) => p.stop()));
    await Promise.all(consumers.map((c) => c.disconnect()));
    await Promise.all(sinks.map((s) => s.close()));
    await producer?.disconnect();
    dynamodb?.destroy();
    await Promise.all([kafkaCluster?.close(), dynamo?.close(), sns?.close()]);
  });

  async function consume(topic: string): Promise<Consumed[]> {
    const got: Consumed[] = [];
    const consumer = kafka.consumer({
      groupId: `reader-${topic}`,
      sessionTimeout: 3000,
      heartbeatInterval: 300,
      maxWaitTimeInMs: 100,
    });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        got.push({
          key: message.key?.toString() ?? '',
          alertId: message.headers?.alertId?.toString() ?? '',
          value: message.value?.toString() ?? '',
        });
      },
    });
    return got;
  }

  async function runPipeline(faults: KafkaFault[]) {
    run += 1;
    const input = `${ns}-readings-${run}`;
    const output = `${ns}-anomalies-${run}`;
    const config = localDetectorConfig({ tableName: `${ns}-windows-${run}` });
    await ensureTable(dynamodb, config.tableName);
    const wire = kafkaFaultSocket();
    wire.failNextProduce(...faults);
    // Retries 0: each fault fails the sink and so the batch, which the poller retries.
    const sink = new KafkaAnomalySink({
      brokers: [kafkaCluster.bootstrap],
      topic: output,
      auth: { kind: 'none' },
      socketFactory: wire.socketFactory,
      retries: 0,
      requestTimeoutMs: 3000,
    });
    sinks.push(sink);
    const logged: AlertDecision[] = [];
    const handler = createLocalDetector({
      config,
      dynamodb,
      sns: localSnsClient(sns.endpoint, { maxAttempts: 1 }),
      observer: { anomaly: (d) => logged.push(d), rejected() {}, published() {} },
      sinks: [sink],
    });
    let failedInvocations = 0;
    const poller = await startKafkaPoller({
      brokers: [kafkaCluster.bootstrap],
      topics: [input],
      groupId: `${ns}-group-${run}`,
      source: {
        kind: 'msk',
        clusterArn: LOCAL_MSK_CLUSTER_ARN,
        bootstrapServers: kafkaCluster.bootstrap,
      },
      invoke: async (event) => {
        try {
          return await handler(event);
        } catch (error) {
          failedInvocations += 1;
          throw error;
        }
      },
      batching: { batchSize: 8, batchingWindowMs: 100 },
      retry: { initialBackoffMs: 50, maxBackoffMs: 200 },
      sessionTimeoutMs: 3000,
      heartbeatIntervalMs: 300,
      maxWaitTimeMs: 100,
    });
    pollers.push(poller);
    const consumed = await consume(output);
    await producer.send({ topic: input, messages: readings(6) });
    expect(await poller.drain(30_000)).toBe(true);
    // The consumer sees what the sink wrote; wait until every logged anomaly is there.
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const ids = new Set(consumed.map((c) => c.alertId));
      if (logged.length > 0 && logged.every((d) => ids.has(d.anomaly.alertId))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 500)); // late duplicates, if any, arrive too
    return { logged, consumed, wire, failedInvocations: () => failedInvocations };
  }

  /** Every logged anomaly on the topic, nothing else, and copies only identical ones. */
  function reconcile(logged: readonly AlertDecision[], consumed: readonly Consumed[]) {
    const expected = new Map<string, ReturnType<typeof anomalyRecord>>();
    for (const d of logged) expected.set(d.anomaly.alertId, anomalyRecord(d));
    const copies = new Map<string, number>();
    for (const c of consumed) {
      const want = expected.get(c.alertId);
      expect(want, `record ${c.alertId} on the topic was never logged`).toBeDefined();
      expect({ key: c.key, value: JSON.parse(c.value) }).toEqual({
        key: want?.key,
        value: JSON.parse(want?.value ?? 'null'),
      });
      copies.set(c.alertId, (copies.get(c.alertId) ?? 0) + 1);
    }
    for (const id of expected.keys()) expect(copies.get(id) ?? 0, id).toBeGreaterThanOrEqual(1);
    return [...copies.values()].filter((n) => n > 1).length;
  }

  it('without faults, every logged anomaly is on the topic exactly once, keyed by sensor', async () => {
    // Act
    const r = await runPipeline([]);
    // Assess
    expect(new Set(r.logged.map((d) => d.anomaly.sensorId)).size).toBe(6);
    expect(reconcile(r.logged, r.consumed)).toBe(0);
    expect(r.consumed).toHaveLength(r.logged.length);
    expect(r.failedInvocations()).toBe(0);
    const first = JSON.parse(r.consumed[0]?.value ?? '{}');
    expect(Object.keys(first)).toEqual(
      expect.arrayContaining(['alertId', 'sensorId', 'value', 'mean', 'severity', 'notified']),
    );
  });

  it('under resets, lost responses and a broker that is down, none is lost; copies share the alertId', async () => {
    // Act
    const r = await runPipeline(['reset', 'lost-response', 'broker-down', 'lost-response']);
    // Assess
    expect(r.wire.stats.faults.reset).toBe(1);
    expect(r.wire.stats.faults['broker-down']).toBe(1);
    expect(r.wire.stats.faults['lost-response']).toBe(2);
    expect(r.wire.stats.faults.refused).toBeGreaterThan(0);
    expect(r.failedInvocations()).toBeGreaterThanOrEqual(4);
    const duplicated = reconcile(r.logged, r.consumed);
    const distinct = new Set(r.logged.map((d) => d.anomaly.alertId)).size;
    console.info(
      `[anomalies-topic] faults ${JSON.stringify(r.wire.stats.faults)}, ${r.failedInvocations()} failed invocations: ${distinct} anomalies logged, ${r.consumed.length} records on the topic, all ${distinct} present, ${duplicated} with copies (same alertId, same value), 0 unknown`,
    );
    // A lost response stored the records it carried: they come again, and only they.
    expect(duplicated).toBeGreaterThanOrEqual(1);
    expect(r.consumed.length - r.logged.length).toBeLessThanOrEqual(
      r.wire.stats.faults['lost-response'] * r.logged.length,
    );
  });
});
