import type { MSKEvent, SelfManagedKafkaEvent } from 'aws-lambda';
import type { RawRecord } from './core/types.ts';

export type KafkaEvent = MSKEvent | SelfManagedKafkaEvent;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Flattens an MSK (`aws:kafka`) or self-managed (`SelfManagedKafka`) event into records.
 * Lambda groups records under "topic-partition" keys and base64-encodes keys and values.
 * Never throws on record content: a bad value becomes a record the parser rejects.
 */
export function recordsFromEvent(event: KafkaEvent): RawRecord[] {
  const records: RawRecord[] = [];
  for (const group of Object.values(event.records ?? {})) {
    for (const r of group ?? []) {
      const value = decodeBase64(r.value);
      const key = decodeBase64(r.key);
      records.push({
        topic: String(r.topic),
        partition: Number(r.partition),
        offset: Number(r.offset),
        timestampMs: Number(r.timestamp),
        key: key === 'malformed' ? null : key,
        value: value === 'malformed' ? null : value,
        ...(value === 'malformed' ? { malformedBase64: true } : {}),
      });
    }
  }
  return records;
}

function decodeBase64(text: string | null | undefined): Uint8Array | null | 'malformed' {
  if (text === undefined || text === null || text === '') return null;
  if (typeof text !== 'string' || !BASE64.test(text)) return 'malformed';
  return Buffer.from(text, 'base64');
}
