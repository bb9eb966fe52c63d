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
import type { GroupPeriod } from '../../core/alerting/groups.ts';
import type { AlertDecision, Anomaly, GroupSummary } from '../../core/types.ts';
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
  maxPageTableBytes: MAX_PAGE_TABLE_BYTES,
  pageTableBytes: (t) => Buffer.byteLength(encodePageTable(t)),
};

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
      // Alert groups' open periods, only when there are any (a root without groups is as before).
      ...(root.groups === undefined || root.groups.length === 0
        ? []
        : [root.groups.map((g) => [g.id, g.endMs, g.count, g.alerted ? 1 : 0])]),
    ]),
    table: encodePageTable(root.pages),
    outbox: JSON.stringify(root.outbox.map(compactAlert)),
  };
}

export function decodeRoot(version: number, commitId: string, encoded: EncodedRoot): PartitionRoot {
  const [epoch, decided, maxTs, gaps, sources, groups] = JSON.parse(encoded.header) as [
    number,
    number,
    number | null,
    [number, number, number][],
    [string, number, number | null][],
    [string, number, number, number][] | undefined,
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
    ...(groups === undefined
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
  };
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

/** Outbox alerts as compact tuples. */
export function compactAlert(a: AlertDecision): unknown[] {
  const x = a.anomaly;
  return [
    x.sensorId,
    x.value,
    x.mean,
    x.count,
    x.deviation,
    x.limit,
    x.detector,
    x.eventTimeMs,
    x.severity,
    x.source.topic,
    x.source.partition,
    x.source.offset,
    a.notify ? 1 : 0,
    a.heldBackBefore,
    x.sigma ?? null,
    x.alertId,
    // Why the detector fired (the robust and limits detectors); absent for the others.
    ...(x.test === undefined
      ? a.group === undefined && x.windowEndMs === undefined
        ? []
        : [null]
      : [
          [
            x.test,
            x.score ?? null,
            x.expected ?? null,
            x.expectedLow ?? null,
            x.expectedHigh ?? null,
          ],
        ]),
    // The group alert this notification carries (docs/alerting-groups.md).
    ...(a.group === undefined
      ? x.windowEndMs === undefined
        ? []
        : [null]
      : [compactGroup(a.group)]),
    // The window of a window-close decision, and the seed's number format ('p' or 'j').
    ...(x.windowEndMs === undefined ? [] : [[x.windowEndMs, x.seedFormat === 'java' ? 'j' : 'p']]),
  ];
}

type GroupRow = [string, number, number, number, number, number, string, string[]];

function compactGroup(g: GroupSummary): GroupRow {
  return [
    g.key,
    g.threshold,
    g.periodSeconds,
    g.sensors,
    g.alerts,
    g.inPeriod,
    g.severity,
    [...g.listed],
  ];
}

function expandGroup(row: GroupRow): GroupSummary {
  const [key, threshold, periodSeconds, sensors, alerts, inPeriod, severity, listed] = row;
  return {
    key,
    threshold,
    periodSeconds,
    sensors,
    alerts,
    inPeriod,
    severity: severity as GroupSummary['severity'],
    listed,
  };
}

export function expandAlert(raw: unknown): AlertDecision {
  const [
    sensorId,
    value,
    mean,
    count,
    deviation,
    limit,
    detector,
    eventTimeMs,
    severity,
    topic,
    partition,
    offset,
    notify,
    heldBackBefore,
    sigma,
    alertId,
    why,
    group,
    window,
  ] = raw as [
    string,
    number,
    number,
    number,
    number,
    number,
    string,
    number,
    'warning' | 'critical',
    string,
    number,
    number,
    number,
    number,
    number | null,
    string,
    [string, number | null, number | null, number | null, number | null] | null | undefined,
    GroupRow | null | undefined,
    [number, 'p' | 'j'] | undefined,
  ];
  const [test, score, expected, expectedLow, expectedHigh] = why ?? [];
  return {
    anomaly: {
      alertId,
      sensorId,
      value,
      mean,
      count,
      deviation,
      limit,
      detector,
      eventTimeMs,
      severity,
      ...(sigma === null || sigma === undefined ? {} : { sigma }),
      source: { topic, partition, offset },
      ...(test === undefined ? {} : { test: test as NonNullable<Anomaly['test']> }),
      ...(score === null || score === undefined ? {} : { score }),
      ...(expected === null || expected === undefined ? {} : { expected }),
      ...(expectedLow === null || expectedLow === undefined ? {} : { expectedLow }),
      ...(expectedHigh === null || expectedHigh === undefined ? {} : { expectedHigh }),
      ...(window === undefined
        ? {}
        : { windowEndMs: window[0], seedFormat: window[1] === 'j' ? 'java' : 'python' }),
    },
    notify: notify === 1,
    heldBackBefore,
    ...(group === undefined || group === null ? {} : { group: expandGroup(group) }),
  };
}

// Pages --------------------------------------------------------------------------------

export { decodeBucket, encodeBucket };

const KIND_LETTER = { dict: 'd', bucket: 'b', state: 's', index: 'i', open: 'o' } as const;
const LETTER_KIND = { d: 'dict', b: 'bucket', s: 'state', i: 'index', o: 'open' } as const;

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
  }
}

export function decodePage(kind: PageKey['kind'], body: EncodedPage): Page {
  if (kind === 'bucket') return decodeBucket('bytes' in body ? body.bytes : new Uint8Array());
  const text = 'text' in body ? body.text : '';
  if (kind === 'dict')
    return { kind: 'dict', ids: text === '' ? [] : text.split('\n') } as DictPage;
  if (kind === 'index') return { kind: 'index', buckets: decodeBucketRefs(JSON.parse(text)) };
  if (kind === 'open') return decodeOpenPage(text);
  return decodeStates(text);
}

/** `[[slot, lastNotified | null, heldBack, learnedKind?, learnedState?]…]` */
function encodeStates(page: StatePage): string {
  const rows: unknown[] = [];
  for (const [slot, s] of page.entries) {
    const row: unknown[] = [slot, s.cooldown.lastNotifiedEventTimeMs, s.cooldown.heldBack];
    if (s.learned !== undefined) row.push(s.learned.kind, s.learned.state);
    rows.push(row);
  }
  return JSON.stringify(rows);
}

function decodeStates(text: string): StatePage {
  const entries = new Map<number, SensorState>();
  for (const row of JSON.parse(text === '' ? '[]' : text) as unknown[][]) {
    const [slot, last, heldBack, kind, state] = row as [
      number,
      number | null,
      number,
      string?,
      unknown?,
    ];
    entries.set(slot, {
      cooldown: { lastNotifiedEventTimeMs: last, heldBack },
      ...(kind === undefined ? {} : { learned: { kind, state } }),
    });
  }
  return { kind: 'state', entries };
}
