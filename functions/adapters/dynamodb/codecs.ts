import type {
  BucketRefs,
  DictPage,
  OffsetGap,
  Page,
  PageKey,
  PageTable,
  PartitionRoot,
  SensorState,
  SourceMark,
  StatePage,
  StoreLimits,
} from '../../batch/state.ts';
import type { DigestContribution } from '../../core/alerting/digest.ts';
import type { EpisodeState } from '../../core/alerting/episodes.ts';
import type { GroupPeriod } from '../../core/alerting/groups.ts';
import type { NotificationState } from '../../core/alerting/notification-policy.ts';
import type { Severity } from '../../core/types.ts';
import { decodeBucket, encodeBucket } from './bucket-codec.ts';
import { decodeOpenPage, encodeOpenPage } from './open-codec.ts';

/**
 * The encodings of the partition root and its pages, and their byte budgets. DynamoDB items
 * hold at most 400 KB (names and values together): "The maximum item size in DynamoDB is
 * 400 KB, which includes both attribute name binary length (UTF-8 length) and attribute
 * value lengths (again binary length)" (DynamoDB Developer Guide, Service quotas). Every
 * item kind is bounded by design below that, whatever the fleet and id lengths
 * (test/unit/item-budgets.test.ts encodes the worst cases):
 *
 * | item            | worst case                                                     | budget |
 * |-----------------|----------------------------------------------------------------|--------|
 * | root            | outbox ≤ 96 KB + one alert, page table ≤ 192 KB, 256 source marks of 249-character topics, 16 gaps | < 400 KB |
 * | dictionary page | 1,024 ids of 256 bytes, one per line                           | 264 KB |
 * | bucket page     | 1,024 sensors × (5-byte count and code, sum, code, sum of squares) | 22 KB |
 * | state page      | 256 sensors × the largest learned state (adaptive, 11 numbers) | < 128 KB |
 * | index page      | the moved bucket refs (3 at a time) × their chunks' generations | < 64 KB  |
 */
export const ITEM_LIMIT_BYTES = 400 * 1024;
export const MAX_OUTBOX_BYTES = 96 * 1024;
/**
 * The largest one alert of the outbox encodes to: a 256-byte sensor id of characters JSON
 * escapes, a 249-character topic, the longest numbers and every explanation field
 * (test/unit/item-budgets.test.ts builds it). A record of MAX_READINGS_PER_RECORD readings
 * therefore fits an empty outbox's budget.
 */
export const MAX_ALERT_BYTES = 1536;
export const MAX_PAGE_TABLE_BYTES = 192 * 1024;

export const LIMITS: StoreLimits = {
  maxOutboxBytes: MAX_OUTBOX_BYTES,
  maxAlertBytes: MAX_ALERT_BYTES,
  alertBytes: (a) => Buffer.byteLength(JSON.stringify(compactAlert(a))) + 1,
  episodeEndBytes: (e) => Buffer.byteLength(JSON.stringify(compactEpisodeEnd(e))) + 1,
  maxPageTableBytes: MAX_PAGE_TABLE_BYTES,
  pageTableBytes: (t) => Buffer.byteLength(encodePageTable(t)),
};

import { compactAlert, compactEpisodeEnd, expandAlert, expandEpisodeEnd } from './alert-codec.ts';

export { compactAlert, compactEpisodeEnd, expandAlert, expandEpisodeEnd };

// Root ---------------------------------------------------------------------------------

export interface EncodedRoot {
  readonly header: string;
  readonly table: string;
  readonly outbox: string;
}

export function encodeRoot(root: PartitionRoot): EncodedRoot {
  return {
    header: JSON.stringify([
      root.epoch,
      root.decidedThroughOffset,
      finiteOrNull(root.maxTimestampMs),
      root.gaps.map((g) => [g.from, g.to, g.decidedThrough]),
      Object.entries(root.sources).map(([k, m]) => [k, m.offset, finiteOrNull(m.maxTimestampMs)]),
      // Optional tails, each only when it or a later one holds anything (a root without them
      // is as before): alert groups' open periods, episodes that ended (delivered with the
      // outbox), the digest heads.
      ...optionalTail([
        (root.groups ?? []).map((g) => [g.id, g.endMs, g.count, g.alerted ? 1 : 0]),
        (root.episodeEnds ?? []).map(compactEpisodeEnd),
        (root.digestHeads ?? []).map((h) => [h.periodStartMs, h.gen]),
      ]),
    ]),
    table: encodePageTable(root.pages),
    outbox: JSON.stringify(root.outbox.map(compactAlert)),
  };
}

export function decodeRoot(version: number, commitId: string, encoded: EncodedRoot): PartitionRoot {
  const [epoch, decided, maxTs, gaps, sources, groups, ends, heads] = JSON.parse(
    encoded.header,
  ) as [
    number,
    number,
    number | null,
    [number, number, number][],
    [string, number, number | null][],
    [string, number, number, number][] | undefined,
    unknown[] | undefined,
    [number, string][] | undefined,
  ];
  return {
    version,
    commitId,
    epoch,
    decidedThroughOffset: decided,
    maxTimestampMs: maxTs ?? Number.NEGATIVE_INFINITY,
    gaps: gaps.map(([from, to, decidedThrough]): OffsetGap => ({ from, to, decidedThrough })),
    sources: Object.fromEntries(
      sources.map(([k, offset, ts]): [string, SourceMark] => [
        k,
        { offset, maxTimestampMs: ts ?? Number.NEGATIVE_INFINITY },
      ]),
    ),
    pages: decodePageTable(encoded.table),
    outbox: (JSON.parse(encoded.outbox) as unknown[]).map(expandAlert),
    ...(groups === undefined || groups.length === 0
      ? {}
      : {
          groups: groups.map(
            ([id, endMs, count, alerted]): GroupPeriod => ({
              id,
              endMs,
              count,
              alerted: alerted === 1,
            }),
          ),
        }),
    ...(ends === undefined || ends.length === 0 ? {} : { episodeEnds: ends.map(expandEpisodeEnd) }),
    ...(heads === undefined || heads.length === 0
      ? {}
      : { digestHeads: heads.map(([periodStartMs, gen]) => ({ periodStartMs, gen })) }),
  };
}

/** The header's optional tails, up to the last that holds anything (empty ones as `[]`). */
function optionalTail(tails: readonly unknown[][]): unknown[][] {
  let n = tails.length;
  while (n > 0 && (tails[n - 1] as unknown[]).length === 0) n -= 1;
  return tails.slice(0, n);
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** `{n, d: [[gen, ttl]…], s: [[gen, ttl] | 0…], b: [[start, ttl, [gen | 0…]]…]}` */
export function encodePageTable(t: PageTable): string {
  return JSON.stringify({
    n: t.sensors,
    d: t.dict.map((r) => [r.gen, r.expiresAtEpochSeconds]),
    s: t.state.map((r) => (r === null ? 0 : [r.gen, r.expiresAtEpochSeconds])),
    b: encodeBucketRefs(t.buckets),
    i: t.bucketIndex.map((r) => [r.chunk, r.gen, r.expiresAtEpochSeconds]),
  });
}

/** Bucket refs as `[start, expiry, [gen | 0 …]]` rows: the root's table and index pages alike. */
type BucketRefRow = [number, number, (string | 0)[]];

function encodeBucketRefs(refs: readonly BucketRefs[]): BucketRefRow[] {
  return refs.map((b) => [b.startMs, b.expiresAtEpochSeconds, b.chunks.map((g) => g ?? 0)]);
}

function decodeBucketRefs(rows: readonly BucketRefRow[]): BucketRefs[] {
  return rows.map(([startMs, e, chunks]) => ({
    startMs,
    expiresAtEpochSeconds: e,
    chunks: chunks.map((g) => (g === 0 ? null : g)),
  }));
}

export function decodePageTable(text: string): PageTable {
  const raw = JSON.parse(text) as {
    n: number;
    d: [string, number][];
    s: ([string, number] | 0)[];
    b: [number, number, (string | 0)[]][];
    i?: [number, string, number][];
  };
  return {
    sensors: raw.n,
    dict: raw.d.map(([gen, e]) => ({ gen, expiresAtEpochSeconds: e })),
    state: raw.s.map((r) => (r === 0 ? null : { gen: r[0], expiresAtEpochSeconds: r[1] })),
    buckets: decodeBucketRefs(raw.b),
    bucketIndex: (raw.i ?? []).map(([chunk, gen, e]) => ({ chunk, gen, expiresAtEpochSeconds: e })),
  };
}

// Pages --------------------------------------------------------------------------------

export { decodeBucket, encodeBucket };

const KIND_LETTER = {
  dict: 'd',
  bucket: 'b',
  state: 's',
  index: 'i',
  open: 'o',
  digest: 'g',
} as const;
const LETTER_KIND = { d: 'dict', b: 'bucket', s: 'state', i: 'index', o: 'open' } as const;

/**
 * A digest page's key: `digest#<periodStartMs>` and `<pid>#<gen>`, so that one Query on the
 * partition key finds every partition's contributions to a period (docs/alerting.md).
 */
export const DIGEST_PK_PREFIX = 'digest#';

export function digestPk(periodStartMs: number): string {
  return `${DIGEST_PK_PREFIX}${periodStartMs}`;
}

export function digestSk(pid: string, gen: string): string {
  return `${pid}#${gen}`;
}

/** A digest item's key back: the pid may hold '#', the generation never does. */
export function parseDigestKey(pk: string, sk: string): PageKey {
  const cut = sk.lastIndexOf('#');
  return {
    pid: sk.slice(0, cut),
    kind: 'digest',
    scope: Number(pk.slice(DIGEST_PK_PREFIX.length)),
    chunk: 0,
    gen: sk.slice(cut + 1),
  };
}

/** `page#<pid>#<kind><scope>#<chunk>#<gen>`; pid may hold '#', so it is parsed from the end. */
export function pagePk(key: PageKey): string {
  return `page#${key.pid}#${KIND_LETTER[key.kind]}${key.scope}#${key.chunk}#${key.gen}`;
}

export function parsePagePk(pk: string): PageKey {
  const parts = pk.slice('page#'.length).split('#');
  const gen = parts.pop() as string;
  const chunk = Number(parts.pop());
  const kindScope = parts.pop() as string;
  return {
    pid: parts.join('#'),
    kind: LETTER_KIND[kindScope[0] as keyof typeof LETTER_KIND],
    scope: Number(kindScope.slice(1)),
    chunk,
    gen,
  };
}

/** A page's body: text for the dictionary and states, bytes for buckets. */
export type EncodedPage = { readonly text: string } | { readonly bytes: Uint8Array };

export function encodePage(page: Page): EncodedPage {
  switch (page.kind) {
    case 'dict':
      // Sensor ids hold no control characters (the parser rejects them): one per line.
      return { text: page.ids.join('\n') };
    case 'state':
      return { text: encodeStates(page) };
    case 'bucket':
      return { bytes: encodeBucket(page) };
    case 'index':
      return { text: JSON.stringify(encodeBucketRefs(page.buckets)) };
    case 'open':
      return { text: encodeOpenPage(page) };
    case 'digest':
      return { text: JSON.stringify({ p: page.prev, c: page.contribution }) };
  }
}

export function decodePage(kind: PageKey['kind'], body: EncodedPage): Page {
  if (kind === 'bucket') return decodeBucket('bytes' in body ? body.bytes : new Uint8Array());
  const text = 'text' in body ? body.text : '';
  if (kind === 'dict')
    return { kind: 'dict', ids: text === '' ? [] : text.split('\n') } as DictPage;
  if (kind === 'index') return { kind: 'index', buckets: decodeBucketRefs(JSON.parse(text)) };
  if (kind === 'open') return decodeOpenPage(text);
  if (kind === 'digest') {
    const raw = JSON.parse(text) as { p: string | null; c: DigestContribution };
    return { kind: 'digest', prev: raw.p, contribution: raw.c };
  }
  return decodeStates(text);
}

/**
 * `[[slot, lastNotified | null, heldBack, learnedKind | null?, learnedState?, alerting?]…]`,
 * where `alerting` is `[lastSeverity | null, lastExceedance | null, escalations, episode?]`
 * and an episode `[id, startMs, peak, anomalies, notified, normalRun]` (docs/alerting.md).
 */
function encodeStates(page: StatePage): string {
  const rows: unknown[] = [];
  for (const [slot, s] of page.entries) {
    const c = s.cooldown;
    const row: unknown[] = [slot, c.lastNotifiedEventTimeMs, c.heldBack];
    const alerting =
      c.lastSeverity === undefined && s.episode === undefined
        ? undefined
        : [
            c.lastSeverity ?? null,
            c.lastExceedance ?? null,
            c.escalations ?? 0,
            ...(s.episode === undefined ? [] : [encodeEpisode(s.episode)]),
          ];
    if (s.learned !== undefined) row.push(s.learned.kind, s.learned.state);
    else if (alerting !== undefined) row.push(null, null);
    if (alerting !== undefined) row.push(alerting);
    rows.push(row);
  }
  return JSON.stringify(rows);
}

function encodeEpisode(e: EpisodeState): unknown[] {
  return [e.id, e.startMs, e.peak, e.anomalies, e.notified ? 1 : 0, e.normalRun];
}

function decodeEpisode(raw: unknown[]): EpisodeState {
  const [id, startMs, peak, anomalies, notified, normalRun] = raw as [
    string,
    number,
    Severity,
    number,
    number,
    number,
  ];
  return { id, startMs, peak, anomalies, notified: notified === 1, normalRun };
}

function decodeStates(text: string): StatePage {
  const entries = new Map<number, SensorState>();
  for (const row of JSON.parse(text === '' ? '[]' : text) as unknown[][]) {
    const [slot, last, heldBack, kind, state, alerting] = row as [
      number,
      number | null,
      number,
      (string | null)?,
      unknown?,
      [Severity | null, number | null, number, unknown[]?]?,
    ];
    const [severity, exceedance, escalations, episode] = alerting ?? [null, null, 0];
    const cooldown: NotificationState = {
      lastNotifiedEventTimeMs: last,
      heldBack,
      ...(severity === null ? {} : { lastSeverity: severity }),
      ...(exceedance === null ? {} : { lastExceedance: exceedance }),
      ...(escalations === 0 ? {} : { escalations }),
    };
    entries.set(slot, {
      cooldown,
      ...(kind === undefined || kind === null ? {} : { learned: { kind, state } }),
      ...(episode === undefined ? {} : { episode: decodeEpisode(episode) }),
    });
  }
  return { kind: 'state', entries };
}
