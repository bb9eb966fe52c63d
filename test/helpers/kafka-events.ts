import type { MSKEvent, SelfManagedKafkaEvent } from 'aws-lambda';
import type { RawRecord } from '../../functions/core/types.ts';

export interface TestRecord {
  readonly topic?: string;
  readonly partition?: number;
  readonly offset: number;
  readonly timestampMs: number;
  readonly key?: string | null;
  readonly value: string | Uint8Array | null;
}

const enc = new TextEncoder();

export function toRawRecord(r: TestRecord): RawRecord {
  return {
    topic: r.topic ?? 'sensor-data',
    partition: r.partition ?? 0,
    offset: r.offset,
    timestampMs: r.timestampMs,
    key: r.key === undefined || r.key === null ? null : enc.encode(r.key),
    value: r.value === null ? null : typeof r.value === 'string' ? enc.encode(r.value) : r.value,
  };
}

/** An MSK event as Lambda delivers it: records grouped by "topic-partition", base64 payloads. */
export function mskEvent(records: readonly RawRecord[]): MSKEvent {
  const grouped: MSKEvent['records'] = {};
  for (const r of records) {
    const group = `${r.topic}-${r.partition}`;
    grouped[group] ??= [];
    // Lambda leaves `key` out for records without one, though the typings call it required.
    grouped[group].push({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestampMs,
      timestampType: 'CREATE_TIME',
      ...(r.key === null ? {} : { key: Buffer.from(r.key).toString('base64') }),
      // Lambda's header shape: one-key objects, values as arrays of bytes.
      value: r.value === null ? '' : Buffer.from(r.value).toString('base64'),
      ...(r.origin === undefined
        ? { headers: [] }
        : {
            headers: [
              { 'source-topic': [...Buffer.from(r.origin.topic)] },
              { 'source-partition': [...Buffer.from(String(r.origin.partition))] },
              { 'source-offset': [...Buffer.from(String(r.origin.offset))] },
            ],
          }),
    } as MSKEvent['records'][string][number]);
  }
  return {
    eventSource: 'aws:kafka',
    eventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/test/abc',
    bootstrapServers: 'b-1.test.kafka.us-east-1.amazonaws.com:9098',
    records: grouped,
  };
}

export function selfManagedEvent(records: readonly RawRecord[]): SelfManagedKafkaEvent {
  const { records: grouped } = mskEvent(records);
  return { eventSource: 'SelfManagedKafka', bootstrapServers: 'localhost:9092', records: grouped };
}

/** Cuts `items` at the given fractions (0..1) into consecutive, non-empty pieces. */
export function cutAt<T>(items: readonly T[], cuts: readonly number[]): T[][] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * items.length)))]
    .filter((p) => p > 0 && p < items.length)
    .sort((a, b) => a - b);
  const pieces: T[][] = [];
  let start = 0;
  for (const p of [...points, items.length]) {
    pieces.push(items.slice(start, p));
    start = p;
  }
  return pieces.filter((p) => p.length > 0);
}
