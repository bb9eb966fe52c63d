import { parseReading } from '../core/parse-reading.ts';
import type { RawRecord } from '../core/types.ts';

/**
 * The repartition step (docs/repartition.md): readings of an unkeyed source topic, re-produced
 * to a topic keyed by sensor id, so each sensor's readings reach one partition of it before
 * detection (Kafka Streams inserts a repartition topic before a keyed aggregation the same
 * way; Flink's keyBy is the same shuffle). Stateless: every record is forwarded, in
 * source-offset order per source partition, with where it came from in its headers; the
 * detector drops the copies a retried batch re-produces by a high-water mark of
 * `source-offset` per source partition.
 */

/** Header names on every re-produced record (values: decimal strings, UTF-8). */
export const REPARTITION_HEADERS = {
  sourceTopic: 'source-topic',
  sourcePartition: 'source-partition',
  sourceOffset: 'source-offset',
} as const;

/** The keyed topic of a source topic, unless configured otherwise. */
export const keyedTopicOf = (sourceTopic: string) => `${sourceTopic}.by-sensor`;

/** One record to produce: Kafka's default (murmur2) partitioner places it by `key`. */
export interface KeyedRecord {
  readonly key: Uint8Array | string | null;
  readonly value: Uint8Array | null;
  /** The source record's timestamp, ms since the epoch, as a decimal string. */
  readonly timestamp: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Produces records to a topic in order, all or nothing as far as the caller knows: resolves
 * once every record was acknowledged by all in-sync replicas, throws otherwise.
 */
export interface KeyedProducer {
  produce(topic: string, records: readonly KeyedRecord[]): Promise<void>;
}

export interface RepartitionReport {
  readonly received: number;
  readonly produced: number;
  /** Records that are not a valid reading, forwarded with their Kafka key (or none). */
  readonly notReadings: number;
  readonly sourcePartitions: number;
}

export interface RepartitionDeps {
  readonly producer: KeyedProducer;
  /** The keyed topic of each source topic. @default keyedTopicOf */
  readonly targetTopic?: (sourceTopic: string) => string;
  /**
   * The key of a sensor: its alert group's prefix (docs/alerting-groups.md), so a group's
   * sensors share a partition and their alerts are grouped exactly. @default the sensor id
   */
  readonly keyOf?: (sensorId: string) => string;
}

/** The first `depth` `/`-separated parts of a sensor id (the id itself when it has no more). */
export function keyPrefix(depth: number): (sensorId: string) => string {
  return (sensorId) => sensorId.split('/').slice(0, depth).join('/');
}

/** The keyed record of one source record: key = its sensor id, else its own Kafka key. */
export function keyedRecord(
  record: RawRecord,
  keyOf: (sensorId: string) => string = (id) => id,
): { record: KeyedRecord; reading: boolean } {
  const parsed = parseReading(record);
  return {
    reading: parsed.ok,
    record: {
      key: parsed.ok ? keyOf(parsed.reading.sensorId) : record.key,
      value: record.value,
      timestamp: String(record.timestampMs),
      headers: {
        [REPARTITION_HEADERS.sourceTopic]: record.topic,
        [REPARTITION_HEADERS.sourcePartition]: String(record.partition),
        [REPARTITION_HEADERS.sourceOffset]: String(record.offset),
      },
    },
  };
}

/**
 * Re-produces a batch, one source partition after the other, each in source-offset order (a
 * batch may carry several partitions; Lambda gives them in order, sorted again here). A
 * produce that fails fails the batch, and the event source mapping retries it: the retry
 * re-produces from the first record, so what it repeats is a prefix of what was produced.
 */
export async function repartitionBatch(
  records: readonly RawRecord[],
  deps: RepartitionDeps,
): Promise<RepartitionReport> {
  const targetTopic = deps.targetTopic ?? keyedTopicOf;
  const bySource = new Map<string, RawRecord[]>();
  for (const r of records) {
    const id = `${r.topic}\u0000${r.partition}`;
    const group = bySource.get(id);
    if (group === undefined) bySource.set(id, [r]);
    else group.push(r);
  }
  let produced = 0;
  let notReadings = 0;
  for (const group of bySource.values()) {
    group.sort((a, b) => a.offset - b.offset);
    const keyed = group.map((r) => keyedRecord(r, deps.keyOf));
    notReadings += keyed.filter((k) => !k.reading).length;
    await deps.producer.produce(
      targetTopic((group[0] as RawRecord).topic),
      keyed.map((k) => k.record),
    );
    produced += group.length;
  }
  return {
    received: records.length,
    produced,
    notReadings,
    sourcePartitions: bySource.size,
  };
}
