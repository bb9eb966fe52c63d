import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { MemoryWindowStore } from '../../functions/adapters/memory-window-store.ts';
import { parseReading } from '../../functions/core/parse-reading.ts';
import type { RawRecord } from '../../functions/core/types.ts';
import type { PublishedMessage } from '../../local/embedded/sns-endpoint.ts';
import { scanTableState } from '../../local/inspect/table-state.ts';
import type { ReferenceResolved } from './reference-model.ts';

export interface BucketAggregate {
  count: number;
  sum: number;
}

/** `sensorId|bucketStartMs` → aggregates, the reference model's keys. */
export type BucketMap = Map<string, BucketAggregate>;

/**
 * Every sensor's bucket aggregates in the table (roots and their pages decoded). Sums of
 * squares are kept only where a zscore detector needs them (docs/state.md), so they are
 * left out here; compare against `withoutSumSq(reference.buckets)`.
 */
export async function tableBuckets(client: DynamoDBClient, tableName: string): Promise<BucketMap> {
  return comparable((await scanTableState(client, tableName)).buckets);
}

/** `sensorId` → the cooldown (and what a learning detector learned) the table holds for it. */
export async function tableCooldowns(
  client: DynamoDBClient,
  tableName: string,
): Promise<
  Map<string, { lastNotifiedEventTimeMs: number | null; heldBack: number; learned?: unknown }>
> {
  const result = new Map<
    string,
    { lastNotifiedEventTimeMs: number | null; heldBack: number; learned?: unknown }
  >();
  for (const [sensor, e] of (await scanTableState(client, tableName)).sensors)
    result.set(sensor, {
      ...e.cooldown,
      ...(e.learned === undefined ? {} : { learned: e.learned }),
    });
  return result;
}

function comparable(from: ReadonlyMap<string, { count: number; sum: number }>): BucketMap {
  const result: BucketMap = new Map();
  for (const [id, a] of from) result.set(id.replace('\u0000', '|'), { count: a.count, sum: a.sum });
  return result;
}

/** A reference model's buckets without sums of squares, as tableBuckets and memoryBuckets give them. */
export function withoutSumSq(
  buckets: ReadonlyMap<string, { count: number; sum: number }>,
): BucketMap {
  const result: BucketMap = new Map();
  for (const [id, a] of buckets) result.set(id, { count: a.count, sum: a.sum });
  return result;
}

export function memoryBuckets(store: MemoryWindowStore): BucketMap {
  return comparable(store.aggregates());
}

/** `sensorId` → its cooldown and whatever a learning detector learned (versions left out). */
export function memoryCooldowns(store: MemoryWindowStore) {
  return new Map(
    [...store.sensorStates()].map(([id, s]) => [
      id,
      { ...s.cooldown, ...(s.learned === undefined ? {} : { learned: s.learned }) },
    ]),
  );
}

/** Sum of every bucket's count: each applied reading counts once. */
export function totalCount(buckets: BucketMap): number {
  let total = 0;
  for (const b of buckets.values()) total += b.count;
  return total;
}

/**
 * The aggregates the readings must add up to, whatever order they were applied in (exact
 * when values are integers or halves): each (topic, partition, offset) counted once.
 */
export function unionAggregates(records: readonly RawRecord[], slideMs: number): BucketMap {
  const result: BucketMap = new Map();
  const seen = new Set<string>();
  for (const record of records) {
    const id = `${record.topic}-${record.partition}-${record.offset}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const parsed = parseReading(record);
    if (!parsed.ok) continue;
    const { sensorId, value, eventTimeMs } = parsed.reading;
    const key = `${sensorId}|${Math.floor(eventTimeMs / slideMs) * slideMs}`;
    const b = result.get(key) ?? { count: 0, sum: 0 };
    b.count += 1;
    b.sum += value;
    result.set(key, b);
  }
  return result;
}

/** The machine-readable body of a notification (the `sqs` protocol's text). */
export function notificationBody(
  message: PublishedMessage,
): { alertId: string; heldBackBefore: number } & Record<string, unknown> {
  return JSON.parse(JSON.parse(message.message).sqs) as { alertId: string; heldBackBefore: number };
}

/** What reached the topic, by kind; every message is one of these or the call throws. */
export interface SentByKind {
  /** `kind=alert` anomalies: alertId → heldBackBefore (a duplicate must carry the same value). */
  readonly alerts: Map<string, number>;
  /** `kind=alert`, `event=resolved`: episodeId → what it says (a duplicate must say the same). */
  readonly resolved: Map<string, ReferenceResolved>;
  /** `kind=digest` messages (email), counted. */
  readonly digests: number;
}

/**
 * Sorts the messages by their `kind` and `event` attributes, as subscription filter policies
 * do (docs/alerting.md). A message of any other shape is an error, never skipped: a probe that
 * drops what it does not know would hide a message sent by mistake.
 */
export function sentByKind(messages: readonly PublishedMessage[]): SentByKind {
  const alerts = new Map<string, number>();
  const resolved = new Map<string, ReferenceResolved>();
  let digests = 0;
  for (const m of messages) {
    const kind = m.messageAttributes.kind?.stringValue;
    const event = m.messageAttributes.event?.stringValue;
    if (kind === 'digest') {
      digests += 1;
    } else if (kind === 'alert' && event === undefined) {
      const body = notificationBody(m);
      if (typeof body.alertId !== 'string')
        throw new Error(`alert without an alertId: ${m.message}`);
      const earlier = alerts.get(body.alertId);
      if (earlier !== undefined && earlier !== body.heldBackBefore) {
        throw new Error(`duplicate notification ${body.alertId} with a different heldBackBefore`);
      }
      alerts.set(body.alertId, body.heldBackBefore);
    } else if (kind === 'alert' && event === 'resolved') {
      const body = notificationBody(m) as unknown as Record<string, unknown>;
      const end: ReferenceResolved = {
        sensorId: body.sensorId as string,
        endId: body.endId as string,
        anomalies: body.anomalies as number,
        peak: body.peak as ReferenceResolved['peak'],
      };
      const episodeId = body.episodeId;
      if (typeof episodeId !== 'string')
        throw new Error(`resolved without an episodeId: ${m.message}`);
      const earlier = resolved.get(episodeId);
      if (earlier !== undefined && JSON.stringify(earlier) !== JSON.stringify(end)) {
        throw new Error(`duplicate resolved ${episodeId} saying something else`);
      }
      resolved.set(episodeId, end);
    } else {
      throw new Error(`unexpected message (kind=${kind}, event=${event}): ${m.subject ?? ''}`);
    }
  }
  return { alerts, resolved, digests };
}

/**
 * What SNS received, in the reference model's terms (`notifications`, `resolved`): the
 * alerts by id and the resolved notices by episode; a digest is not expected (a test whose
 * run may send digests uses `sentByKind`).
 */
export function sentAsReference(messages: readonly PublishedMessage[]): {
  notifications: Map<string, number>;
  resolved: Map<string, ReferenceResolved>;
} {
  const sent = sentByKind(messages);
  if (sent.digests > 0) throw new Error(`expected no digest, got ${sent.digests}`);
  return { notifications: sent.alerts, resolved: sent.resolved };
}
