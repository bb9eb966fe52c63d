import { spawnSync } from 'node:child_process';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RawRecord } from '../../functions/core/types.ts';
import { createRepartitionHandler } from '../../functions/repartition/create-handler.ts';
import { KafkaKeyedProducer } from '../../functions/repartition/kafka-keyed-producer.ts';
import {
  keyedTopicOf,
  REPARTITION_HEADERS,
} from '../../functions/repartition/repartition-batch.ts';
import { kcatPath, type MockKafka } from '../../local/embedded/kafka-mock-cluster.ts';
import { describeWithKafka } from '../helpers/kafka-available.ts';
import { mskEvent, toRawRecord } from '../helpers/kafka-events.ts';
import { type KafkaFault, kafkaFaultSocket } from '../helpers/kafka-fault-socket.ts';
import { uniqueName, workerKafka } from '../helpers/worker-services.ts';

/**
 * The repartition step against the embedded Kafka (librdkafka's mock cluster, 4 partitions
 * per topic) with broker faults on its produce requests: the keyed topic holds every source
 * record, keyed by sensor, in source-offset order per source partition, duplicates only as
 * re-produced prefixes; and a sensor's partition is the one any Kafka client computes.
 */

interface Keyed {
  readonly partition: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly timestamp: string;
  readonly headers: Record<string, string>;
}

const T0 = Date.parse('2026-12-01T10:00:00Z');

/** This file's names for topics, groups and tables on the worker's shared services. */
const ns = uniqueName('repartition');

describeWithKafka('repartition: unkeyed source → topic keyed by sensor (embedded Kafka)', () => {
  let cluster: MockKafka;
  let kafka: Kafka;
  const consumers: Consumer[] = [];
  const producers: KafkaKeyedProducer[] = [];
  let run = 0;

  beforeAll(async () => {
    cluster = await workerKafka();
    kafka = new Kafka({ brokers: [cluster.bootstrap], logLevel: logLevel.NOTHING });
  });
  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.disconnect()));
    await Promise.all(producers.map((p) => p.close()));
    await cluster?.close();
  });

  /** The source: 4 partitions, each with readings of 12 sensors spread over all of them. */
  function sourceRecords(topic: string): RawRecord[] {
    const records: RawRecord[] = [];
    for (let partition = 0; partition < 4; partition += 1) {
      for (let offset = 0; offset < 30; offset += 1) {
        const sensor = `sensor_${(offset * 7 + partition) % 12}`;
        const value =
          offset % 11 === 5
            ? 'not a reading' // rejected by the detector (MALFORMED), forwarded by its own key
            : `${sensor},${(offset % 9) + 0.5},${new Date(T0 + offset * 1000).toISOString()}`;
        records.push(
          toRawRecord({
            topic,
            partition,
            offset: 100 + offset,
            timestampMs: T0 + offset * 1000 + partition,
            key: offset % 11 === 5 && partition % 2 === 0 ? `raw-key-${partition}` : null,
            value,
          }),
        );
      }
    }
    return records;
  }

  async function readAll(topic: string, expected: number): Promise<Keyed[]> {
    const got: Keyed[] = [];
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
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        got.push({
          partition,
          key: message.key === null ? null : message.key.toString(),
          value: message.value === null ? null : message.value.toString(),
          timestamp: message.timestamp,
          headers,
        });
      },
    });
    const deadline = Date.now() + 20_000;
    while (got.length < expected && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500)); // late copies, if any, arrive too
    return got;
  }

  /** Runs the source through the handler in batches, retrying a failed batch as the mapping does. */
  async function repartition(faults: KafkaFault[]) {
    run += 1;
    const source = `${ns}-readings-${run}`;
    const wire = kafkaFaultSocket({ downMs: 500 });
    wire.failNextProduce(...faults);
    // Retries 0: each fault fails the produce and so the batch, which is retried whole.
    const producer = new KafkaKeyedProducer({
      brokers: [cluster.bootstrap],
      auth: { kind: 'none' },
      socketFactory: wire.socketFactory,
      retries: 0,
      requestTimeoutMs: 3000,
    });
    producers.push(producer);
    const handler = createRepartitionHandler({ producer });
    const records = sourceRecords(source);
    // Batches as the mapping cuts them: consecutive offsets of a partition, 10 at a time, and
    // a payload may carry two partitions (Lambda's docs: one payload can hold several).
    const batches: RawRecord[][] = [];
    for (let chunk = 0; chunk < 3; chunk += 1) {
      for (const pair of [
        [0, 1],
        [2, 3],
      ]) {
        batches.push(
          records.filter(
            (r) => pair.includes(r.partition) && Math.floor((r.offset - 100) / 10) === chunk,
          ),
        );
      }
    }
    let failures = 0;
    for (const batch of batches) {
      for (let attempt = 1; ; attempt += 1) {
        try {
          await handler(mskEvent(batch));
          break;
        } catch {
          failures += 1;
          expect(attempt).toBeLessThan(20);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
    const keyed = await readAll(keyedTopicOf(source), records.length);
    return { source, records, keyed, failures, wire };
  }

  /** Every source record there, keyed right, in order per source partition, copies as prefixes. */
  function reconcile(records: readonly RawRecord[], keyed: readonly Keyed[]) {
    const byOrigin = new Map<string, RawRecord>();
    for (const r of records) byOrigin.set(`${r.partition}:${r.offset}`, r);
    const decoder = new TextDecoder();
    const seen = new Set<string>();
    // Per target partition and source partition: the high-water mark of source-offset.
    const highWater = new Map<string, number>();
    const sensorPartition = new Map<string, number>();
    let copies = 0;
    for (const k of keyed) {
      expect(Object.keys(k.headers).sort()).toEqual(
        [
          REPARTITION_HEADERS.sourceOffset,
          REPARTITION_HEADERS.sourcePartition,
          REPARTITION_HEADERS.sourceTopic,
        ].sort(),
      );
      const origin = `${k.headers[REPARTITION_HEADERS.sourcePartition]}:${k.headers[REPARTITION_HEADERS.sourceOffset]}`;
      const r = byOrigin.get(origin);
      expect(r, `record ${origin} on the keyed topic is not a source record`).toBeDefined();
      const source = r as RawRecord;
      expect(k.headers[REPARTITION_HEADERS.sourceTopic]).toBe(source.topic);
      expect(k.value).toBe(source.value === null ? null : decoder.decode(source.value));
      expect(k.timestamp).toBe(String(source.timestampMs));
      const text = k.value ?? '';
      const sensor = text.startsWith('sensor_') ? text.split(',')[0] : undefined;
      expect(k.key).toBe(sensor ?? (source.key === null ? null : decoder.decode(source.key)));
      if (sensor !== undefined) {
        const before = sensorPartition.get(sensor);
        expect(before === undefined || before === k.partition, `${sensor} on one partition`).toBe(
          true,
        );
        sensorPartition.set(sensor, k.partition);
      }
      const stream = `${k.partition}/${source.partition}`;
      const mark = highWater.get(stream) ?? Number.NEGATIVE_INFINITY;
      if (source.offset > mark) {
        // New: the next record of that source partition for this target partition, none skipped.
        const skipped = records.filter(
          (x) =>
            x.partition === source.partition &&
            x.offset > mark &&
            x.offset < source.offset &&
            !seen.has(`${x.partition}:${x.offset}`) &&
            keyedPartitionOf(keyed, x) === k.partition,
        );
        expect(skipped, `records skipped before ${origin}`).toEqual([]);
        highWater.set(stream, source.offset);
      } else {
        // A copy: only ever of a record already there (a re-produced prefix).
        expect(seen.has(origin), `${origin} below the high-water mark but never seen`).toBe(true);
        copies += 1;
      }
      seen.add(origin);
    }
    expect(seen.size).toBe(records.length);
    return { copies, sensors: sensorPartition };
  }

  function keyedPartitionOf(keyed: readonly Keyed[], r: RawRecord): number | undefined {
    return keyed.find(
      (k) =>
        k.headers[REPARTITION_HEADERS.sourcePartition] === String(r.partition) &&
        k.headers[REPARTITION_HEADERS.sourceOffset] === String(r.offset),
    )?.partition;
  }

  it('without faults: every record once, keyed by sensor, each sensor on the partition librdkafka computes', async () => {
    const { records, keyed, failures, source } = await repartition([]);
    const { copies, sensors } = reconcile(records, keyed);
    expect(failures).toBe(0);
    expect(copies).toBe(0);
    expect(keyed).toHaveLength(records.length);
    // Another client agrees: librdkafka (kcat) with its Java-compatible partitioner.
    const agreed = kcatPartitions(cluster.bootstrap, `${source}.kcat`, [...sensors.keys()]);
    for (const [sensor, partition] of sensors)
      expect(agreed.get(sensor), `${sensor}'s partition`).toBe(partition);
  }, 60_000);

  it('a lost produce response and a broker down: retried batches, every record there, copies only as re-produced prefixes', async () => {
    const { records, keyed, failures, wire } = await repartition([
      'lost-response',
      'broker-down',
      'reset',
      'lost-response',
    ]);
    const { copies } = reconcile(records, keyed);
    expect(failures).toBeGreaterThanOrEqual(4);
    expect(wire.stats.faults['lost-response']).toBe(2);
    expect(copies).toBeGreaterThan(0);
  }, 60_000);
});

/**
 * The partition librdkafka's `murmur2_random` partitioner (the Java client's default) gives
 * each key, found by producing the keys with kcat and reading them back.
 */
function kcatPartitions(bootstrap: string, topic: string, keys: readonly string[]) {
  const bin = kcatPath() as string;
  const produce = spawnSync(
    bin,
    ['-b', bootstrap, '-P', '-t', topic, '-K', ':', '-X', 'partitioner=murmur2_random'],
    { input: keys.map((k) => `${k}:x`).join('\n'), timeout: 20_000 },
  );
  expect(produce.status, produce.stderr?.toString()).toBe(0);
  const consume = spawnSync(
    bin,
    ['-b', bootstrap, '-C', '-t', topic, '-e', '-o', 'beginning', '-f', '%k %p\\n'],
    { timeout: 20_000 },
  );
  expect(consume.status, consume.stderr?.toString()).toBe(0);
  const partitions = new Map<string, number>();
  for (const line of consume.stdout.toString().split('\n')) {
    const [key, partition] = line.trim().split(' ');
    if (key !== undefined && partition !== undefined && key !== '')
      partitions.set(key, Number(partition));
  }
  return partitions;
}
