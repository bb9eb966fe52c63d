import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REJECT_REASONS } from '../../functions/core/parse-reading.ts';
import { parseRecord, type RecordParse } from '../../functions/core/readings/parse-record.ts';
import { recordsFromEvent } from '../../functions/kafka-event.ts';
import { ConfluentRegistry } from '../../functions/schema-registry/confluent-registry.ts';
import { SchemaRegistryDecoder } from '../../functions/schema-registry/schema-decoder.ts';
import { type MockKafka, startMockKafka } from '../../local/embedded/kafka-mock-cluster.ts';
import { type KafkaPoller, startKafkaPoller } from '../../local/poller/kafka-poller.ts';
import { type LambdaKafkaEvent, LOCAL_MSK_CLUSTER_ARN } from '../../local/poller/lambda-event.ts';
import { describeWithKafka } from '../helpers/kafka-available.ts';
import { fixtureRecords, registerFixtureSchemas } from '../helpers/schema-registry-fixtures.ts';
import { LoopbackSchemaRegistry } from '../helpers/schema-registry-server.ts';

/**
 * The fixture topics produced as bytes into the embedded Kafka, read by the poller that
 * emulates the event source mapping, and decoded in "the function" (the event → records →
 * prepare → parseRecord steps the Lambda runs) against the loopback Confluent registry.
 */
describeWithKafka('Avro and Protobuf through Kafka and a schema registry', () => {
  let cluster: MockKafka;
  let producer: Producer;
  const registry = new LoopbackSchemaRegistry();
  const pollers: KafkaPoller[] = [];

  beforeAll(async () => {
    registerFixtureSchemas(registry);
    [cluster] = await Promise.all([startMockKafka(), registry.start()]);
    producer = new Kafka({ brokers: [cluster.bootstrap], logLevel: logLevel.NOTHING }).producer({
      allowAutoTopicCreation: true,
    });
    await producer.connect();
  }, 30_000);

  afterAll(async () => {
    await Promise.all(pollers.map((p) => p.stop()));
    await producer?.disconnect();
    await Promise.all([cluster?.close(), registry.stop()]);
  });

  it('decodes every record once; a registry outage fails the batch, which is retried', async () => {
    const topic = 'plant-avro-proto';
    const fixtures = [
      ...fixtureRecords('avro-topic.jsonl'),
      ...fixtureRecords('protobuf-topic.jsonl'),
    ];
    await producer.send({
      topic,
      messages: fixtures.map((r) => ({
        // One partition for the whole stream: the order of the fixture is kept.
        partition: 0,
        key: r.key === null ? null : Buffer.from(r.key),
        value: Buffer.from(r.value as Uint8Array),
        timestamp: String(r.timestampMs),
      })),
    });

    // Down until the first batch has failed: no record may be judged without its schema.
    registry.down = true;
    const decoder = new SchemaRegistryDecoder(new ConfluentRegistry({ url: registry.url }));
    const judged = new Map<number, RecordParse>();
    let failures = 0;
    const fields = (r: { value: Uint8Array | null }) =>
      // The Avro schema is id 1, the Protobuf one id 2 (bytes 1–4 of the framing).
      r.value?.[4] === 1 ? { sensorId: 'sensor' } : { sensorId: 'device', timestamp: 'time_ms' };
    const invoke = async (event: LambdaKafkaEvent) => {
      const records = recordsFromEvent(event);
      await decoder.prepare(records);
      for (const r of records) judged.set(r.offset, parseRecord(r, { decoder, fields: fields(r) }));
      return { records: records.length };
    };
    const poller = await startKafkaPoller({
      brokers: [cluster.bootstrap],
      topics: [topic],
      groupId: 'schema-registry-test',
      source: {
        kind: 'msk',
        clusterArn: LOCAL_MSK_CLUSTER_ARN,
        bootstrapServers: cluster.bootstrap,
      },
      invoke,
      batching: { batchSize: 100, batchingWindowMs: 100 },
      retry: { initialBackoffMs: 50, maxBackoffMs: 200 },
      sessionTimeoutMs: 3000,
      heartbeatIntervalMs: 300,
      maxWaitTimeMs: 100,
      hooks: {
        failed: () => {
          failures += 1;
          registry.down = false;
        },
      },
    });
    pollers.push(poller);
    await poller.ready;
    expect(await poller.drain(20_000)).toBe(true);

    expect(failures).toBeGreaterThan(0);
    expect(judged.size).toBe(fixtures.length);
    const results = [...judged.entries()].sort(([a], [b]) => a - b).map(([, p]) => p);
    const readings = results.flatMap((p) => (p.ok ? p.readings : []));
    expect(readings.filter((r) => r.sensorId === 'pump_1').map((r) => r.value)).toEqual([
      49, 50, 51, 49, 50, 51, 49, 50, 150, 49, 50, 51,
    ]);
    expect(readings.filter((r) => r.sensorId.startsWith('gw_7/')).length).toBe(12);
    expect(results.flatMap((p) => (p.ok ? [] : [p.rejection.reason]))).toEqual([
      REJECT_REASONS.undecodable, // cut short
      REJECT_REASONS.undecodable, // schema id 99
      REJECT_REASONS.invalidValue, // a heartbeat: no measurement
    ]);
    // Each schema fetched once, once the registry answered: 1, 2 and the unknown 99.
    expect(Object.fromEntries(registry.answered)).toEqual({ 1: 1, 2: 1, 99: 1 });
  }, 60_000);
});
