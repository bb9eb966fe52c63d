import type { MSKEvent, MSKRecord, SelfManagedKafkaEvent } from 'aws-lambda';

/** One Kafka record as the poller read it, before Lambda's encoding. */
export interface PolledRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestampMs: number;
  readonly timestampType: 'CREATE_TIME' | 'LOG_APPEND_TIME';
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  /** In record order; a header key may repeat, as Kafka allows. */
  readonly headers: readonly (readonly [string, Uint8Array])[];
}

/** Which event source mapping is emulated: it decides `eventSource` and the top-level fields. */
export type EventSourceInfo =
  | { readonly kind: 'msk'; readonly clusterArn: string; readonly bootstrapServers: string }
  | { readonly kind: 'self-managed'; readonly bootstrapServers: string };

export type LambdaKafkaEvent = MSKEvent | SelfManagedKafkaEvent;

/** A made-up but well-formed cluster ARN for local MSK-shaped events. */
export const LOCAL_MSK_CLUSTER_ARN =
  'arn:aws:kafka:us-east-1:000000000000:cluster/local-cluster/00000000-0000-0000-0000-000000000000-1';

/**
 * A record as Lambda puts it in the event: base64 key and value, headers as a list of
 * one-key objects whose values are arrays of byte values
 * (https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html#msk-sample-event).
 * Lambda leaves `key` out for a record without one, though @types/aws-lambda says required.
 */
export function lambdaRecord(record: PolledRecord): MSKRecord {
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestampMs,
    timestampType: record.timestampType,
    ...(record.key === null ? {} : { key: base64(record.key) }),
    // A null value (tombstone) travels as an empty string; the handler rejects it as empty.
    value: record.value === null ? '' : base64(record.value),
    headers: record.headers.map(([name, bytes]) => ({ [name]: [...bytes] })),
  } as MSKRecord;
}

/** Groups records under "topic-partition" keys, keeping their order within each partition. */
export function buildLambdaEvent(
  records: readonly PolledRecord[],
  source: EventSourceInfo,
): LambdaKafkaEvent {
  const grouped: MSKEvent['records'] = {};
  for (const record of records) {
    const group = `${record.topic}-${record.partition}`;
    grouped[group] ??= [];
    grouped[group].push(lambdaRecord(record));
  }
  if (source.kind === 'msk') {
    return {
      eventSource: 'aws:kafka',
      eventSourceArn: source.clusterArn,
      bootstrapServers: source.bootstrapServers,
      records: grouped,
    };
  }
  return {
    eventSource: 'SelfManagedKafka',
    bootstrapServers: source.bootstrapServers,
    records: grouped,
  };
}

/** The bytes a record adds to the event's JSON, to keep events under Lambda's payload limit. */
export function lambdaRecordBytes(record: PolledRecord): number {
  return Buffer.byteLength(JSON.stringify(lambdaRecord(record))) + 1;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
