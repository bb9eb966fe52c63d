import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { SilenceAlert, SilentEntry } from '../core/silence.ts';

/**
 * How the silence items are encoded in DynamoDB, and each one's byte budget (docs/silence.md,
 * "Bounded in bytes"). DynamoDB: "The maximum item size in DynamoDB is 400 KB, which includes
 * both attribute name binary length (UTF-8 length) and attribute value lengths (again binary
 * length)." (Amazon DynamoDB developer guide, Constraints, Items,
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html). Every
 * budget below stays far under it with the key (a partition id is at most about 280 bytes),
 * the attribute names and the version; a page that would pass its budget is split (the
 * pages' planner, functions/silence/pages.ts), the outbox takes no more alerts.
 */

/** Key, version, TTL and attribute names of a page: generously counted. */
const ITEM_OVERHEAD_BYTES = 1024;
/** A last-seen page: about 250 sensors with 256-byte ids, 4,000 with 10-byte ones. */
export const SEEN_PAGE_BUDGET_BYTES = 64 * 1024;
/** A page of the check's silent set: about 200 entries with 256-byte ids. */
export const SILENT_PAGE_BUDGET_BYTES = 64 * 1024;
/**
 * The check's outbox (alerts decided, not yet delivered everywhere): about 150 alerts with
 * 256-byte ids, 500 with short ones. While delivery fails the check decides no new alert that
 * would pass it (docs/silence.md, "Backpressure").
 */
export const OUTBOX_BUDGET_BYTES = 160 * 1024;

/**
 * A last-seen page as binary: per sensor a 2-byte id length, the id in UTF-8 and the time in
 * whole seconds (4 bytes, good until 2106): about 16 bytes for `sensor_123`.
 */
export function encodeSeen(sensors: ReadonlyMap<string, number>): Uint8Array {
  const ids = [...sensors.keys()].map((id) => Buffer.from(id, 'utf8'));
  const out = Buffer.allocUnsafe(ids.reduce((n, b) => n + 6 + b.length, 0));
  let at = 0;
  let i = 0;
  for (const ms of sensors.values()) {
    const id = ids[i] as Buffer;
    i += 1;
    out.writeUInt16LE(id.length, at);
    id.copy(out, at + 2);
    out.writeUInt32LE(Math.ceil(ms / 1000), at + 2 + id.length);
    at += 6 + id.length;
  }
  return out;
}

export function decodeSeen(bytes: Uint8Array): Map<string, number> {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const result = new Map<string, number>();
  let at = 0;
  while (at + 2 <= b.length) {
    const length = b.readUInt16LE(at);
    const id = b.toString('utf8', at + 2, at + 2 + length);
    result.set(id, b.readUInt32LE(at + 2 + length) * 1000);
    at += 6 + length;
  }
  return result;
}

export function seenPageBytes(sensors: ReadonlyMap<string, number>): number {
  let bytes = ITEM_OVERHEAD_BYTES;
  for (const id of sensors.keys()) bytes += 6 + Buffer.byteLength(id, 'utf8');
  return bytes;
}

export const seenPageFits = (sensors: ReadonlyMap<string, number>) =>
  seenPageBytes(sensors) <= SEEN_PAGE_BUDGET_BYTES;

type SilentRow = [string, number, number, number];

export function encodeSilent(silent: ReadonlyMap<string, SilentEntry>): string {
  const rows: SilentRow[] = [...silent].map(([id, e]) => [
    id,
    e.lastSeenMs,
    e.silenceSeconds,
    e.declaredAtMs,
  ]);
  return JSON.stringify(rows);
}

export function decodeSilent(text: string): Map<string, SilentEntry> {
  const rows = JSON.parse(text) as SilentRow[];
  return new Map(
    rows.map(([id, lastSeenMs, silenceSeconds, declaredAtMs]) => [
      id,
      { lastSeenMs, silenceSeconds, declaredAtMs },
    ]),
  );
}

export const silentPageFits = (silent: ReadonlyMap<string, SilentEntry>) =>
  ITEM_OVERHEAD_BYTES + Buffer.byteLength(encodeSilent(silent), 'utf8') <= SILENT_PAGE_BUDGET_BYTES;

export const encodeOutbox = (alerts: readonly SilenceAlert[]) => JSON.stringify(alerts);
export const decodeOutbox = (text: string) => JSON.parse(text) as SilenceAlert[];

/** Bytes one alert adds to the outbox (its JSON and a comma). */
export const outboxAlertBytes = (alert: SilenceAlert) =>
  Buffer.byteLength(JSON.stringify(alert), 'utf8') + 1;

/** Whether an outbox holding `alerts` stays within its budget. */
export function outboxFits(alerts: readonly SilenceAlert[]): boolean {
  let bytes = ITEM_OVERHEAD_BYTES + 2;
  for (const a of alerts) bytes += outboxAlertBytes(a);
  return bytes <= OUTBOX_BUDGET_BYTES;
}

/** The codec of one kind of page: its attribute, and whether a content fits the budget. */
export interface PageCodec<V> {
  encode(entries: ReadonlyMap<string, V>): AttributeValue;
  decode(value: AttributeValue | undefined): Map<string, V>;
  fits(entries: ReadonlyMap<string, V>): boolean;
  /** Seconds a page lives past its last write (the table's TTL) when nothing rewrites it. */
  readonly ttlSeconds: number;
}

export const SEEN_CODEC: PageCodec<number> = {
  encode: (entries) => ({ B: encodeSeen(entries) }),
  decode: (value) => decodeSeen(value?.B ?? new Uint8Array()),
  fits: seenPageFits,
  // Past the recorder's 7-day retention: every entry of a page unwritten this long is older.
  ttlSeconds: 8 * 24 * 3600,
};

export const SILENT_CODEC: PageCodec<SilentEntry> = {
  encode: (entries) => ({ S: encodeSilent(entries) }),
  decode: (value) => decodeSilent(value?.S ?? '[]'),
  fits: silentPageFits,
  // Past the check's 30-day retention of a silent sensor: a page with live entries changes
  // (an entry is dropped, or declared, or recovers) well within it.
  ttlSeconds: 40 * 24 * 3600,
};
