import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeBucket,
  encodeBucket,
  ITEM_LIMIT_BYTES,
  LIMITS,
  MAX_ALERT_BYTES,
} from '../../functions/adapters/dynamodb/codecs.ts';
import { pageItem, rootItem } from '../../functions/adapters/dynamodb/partition-store.ts';
import { MemoryWindowStore } from '../../functions/adapters/memory-window-store.ts';
import {
  BUCKET_PAGE_SENSORS,
  DICT_PAGE_SENSORS,
  MAX_GAPS,
  MAX_SOURCES,
  STATE_PAGE_SENSORS,
} from '../../functions/batch/layout.ts';
import type { PageTable, PartitionRoot, SensorState } from '../../functions/batch/state.ts';
import { OPEN_WINDOWS_ROOT_RESERVE_BYTES } from '../../functions/batch/window-close/open-pages.ts';
import {
  LISTED_ID_CHARS,
  LISTED_SENSORS,
  MAX_GROUP_ALERTS_PER_COMMIT,
  MAX_GROUP_NAME,
  MAX_GROUP_PERIODS,
  shown,
} from '../../functions/core/alerting/groups.ts';
import { ADAPTIVE_DEFAULTS, learningStep } from '../../functions/core/detectors.ts';
import { MAX_READINGS_PER_RECORD } from '../../functions/core/readings/parse-record.ts';
import type { AlertDecision, GroupSummary } from '../../functions/core/types.ts';
import { createBatchProcessor } from '../../functions/process-batch.ts';
import { lawParameters } from '../helpers/fc-params.ts';
import { toRawRecord } from '../helpers/kafka-events.ts';
import { PipelineProbe } from '../helpers/pipeline-probe.ts';
import { memoryBuckets } from '../helpers/table-state.ts';

/**
 * DynamoDB's item size: attribute names and values, UTF-8 (Developer Guide, "Item sizes and
 * formats"); numbers at most 21 bytes.
 */
function itemBytes(item: Record<string, AttributeValue>): number {
  let bytes = 0;
  for (const [name, v] of Object.entries(item)) {
    bytes += Buffer.byteLength(name);
    if (v.S !== undefined) bytes += Buffer.byteLength(v.S);
    else if (v.B !== undefined) bytes += v.B.byteLength;
    else if (v.N !== undefined) bytes += 21;
  }
  return bytes;
}

/** A 256-byte sensor id (the parser's limit), four bytes per character. */
const longId = (i: number) => `${'𝔰'.repeat(62)}${String(i).padStart(8, '0')}`.slice(0, 256);
const TOPIC = 't'.repeat(249);
const ADAPTIVE = { kind: 'adaptive', ...ADAPTIVE_DEFAULTS } as const;
const PID = `abcdefghij#${TOPIC}#99999`;
const GEN = `${(2 ** 40).toString(36)}.zzzzzz`;

/** 256 bytes of characters JSON escapes (each one written as two). */
const escapedId = (i: number) => `${'"\\'.repeat(124)}${String(i).padStart(8, '0')}`;

function worstAlert(i: number, sensorId = longId(i)): AlertDecision {
  return {
    anomaly: {
      alertId: `${TOPIC}-99999-${9_007_199_254_740_991 - i}.63~99`,
      sensorId,
      value: -Number.MIN_VALUE * 3,
      mean: -Number.MAX_VALUE / 3,
      count: 4_294_967_295,
      deviation: Number.MAX_VALUE / 3,
      limit: Number.MIN_VALUE * 3,
      detector: 'adaptive',
      sigma: Math.PI,
      eventTimeMs: 9_007_199_254_740_991,
      severity: 'critical',
      source: { topic: TOPIC, partition: 99_999, offset: 9_007_199_254_740_991 },
      test: 'level shift',
      score: 1 - Number.EPSILON,
      expected: -Number.MAX_VALUE / 7,
      expectedLow: -Number.MAX_VALUE / 3,
      expectedHigh: Number.MAX_VALUE / 3,
    },
    notify: true,
    heldBackBefore: 4_294_967_295,
    escalated: true,
    // Another reading's id of the same partition, the longest tail.
    episodeId: `${TOPIC}-99999-${9_007_199_254_740_990 - i}.63~99`,
  };
}

describe('item budgets: the worst case of every item kind fits DynamoDB’s 400 KB', () => {
  it('one alert at its largest fits MAX_ALERT_BYTES, and a whole record of alerts an empty outbox', () => {
    expect(Buffer.byteLength(escapedId(0))).toBe(256);
    expect(LIMITS.alertBytes(worstAlert(0, escapedId(0)))).toBeLessThanOrEqual(MAX_ALERT_BYTES);
    expect(LIMITS.alertBytes(worstAlert(0))).toBeLessThanOrEqual(MAX_ALERT_BYTES);
    expect(MAX_READINGS_PER_RECORD * MAX_ALERT_BYTES).toBeLessThanOrEqual(LIMITS.maxOutboxBytes);
  });

  it('a dictionary page of 1,024 ids of 256 bytes', () => {
    const ids = Array.from({ length: DICT_PAGE_SENSORS }, (_, i) => longId(i));
    expect(ids.every((id) => Buffer.byteLength(id) <= 256)).toBe(true);
    const item = pageItem({
      key: { pid: PID, kind: 'dict', scope: 0, chunk: 999, gen: GEN },
      page: { kind: 'dict', ids },
      expiresAtEpochSeconds: 2 ** 33,
    });
    expect(itemBytes(item)).toBeLessThan(ITEM_LIMIT_BYTES);
  });

  it('a bucket page of 1,024 sensors with sums of squares and the largest counts', () => {
    const n = BUCKET_PAGE_SENSORS;
    const item = pageItem({
      key: { pid: PID, kind: 'bucket', scope: 9_007_199_254_740_000, chunk: 999, gen: GEN },
      page: {
        kind: 'bucket',
        count: new Array(n).fill(2 ** 32),
        sum: new Array(n).fill(-1.2345678901234567e300),
        sumSq: new Array(n).fill(1.2345678901234567e300),
      },
      expiresAtEpochSeconds: 2 ** 33,
    });
    expect(itemBytes(item)).toBeLessThan(64 * 1024);
  });

  it('a state page of 256 sensors with the largest learned state (adaptive)', () => {
    let learned = learningStep(ADAPTIVE, undefined, 1e300 / 3).state;
    for (let i = 0; i < 50; i += 1)
      learned = learningStep(ADAPTIVE, learned, -1e300 / (i + 7)).state;
    const entries = new Map<number, SensorState>();
    for (let slot = 0; slot < STATE_PAGE_SENSORS; slot += 1)
      entries.set(slot, {
        cooldown: {
          lastNotifiedEventTimeMs: 9_007_199_254_740_991,
          heldBack: 4_294_967_295,
          lastSeverity: 'critical',
          lastExceedance: Number.MAX_VALUE / 3,
          escalations: 4_294_967_295,
        },
        learned: { kind: 'adaptive', state: learned },
        episode: {
          id: `${9_007_199_254_740_991}.63~99`,
          startMs: 9_007_199_254_740_991,
          peak: 'critical',
          anomalies: 4_294_967_295,
          notified: true,
          normalRun: 4_294_967_295,
        },
      });
    const item = pageItem({
      key: { pid: PID, kind: 'state', scope: 0, chunk: 999, gen: GEN },
      page: { kind: 'state', entries },
      expiresAtEpochSeconds: 2 ** 33,
    });
    expect(itemBytes(item)).toBeLessThan(128 * 1024);
  });

  it.each([
    ['arrival', false],
    ['window-close (its state in the root, the outbox leaving it room)', true],
  ])(
    'a root with a full outbox, a full page table, every source mark and every gap, and every alert group: %s',
    (_, windowClose) => {
      const outbox: AlertDecision[] = [];
      let bytes = 0;
      const budget = LIMITS.maxOutboxBytes - (windowClose ? OPEN_WINDOWS_ROOT_RESERVE_BYTES : 0);
      // As judging fills it: the record that reaches the budget is the last one in.
      while (bytes < budget) {
        const a = worstAlert(outbox.length);
        outbox.push(a);
        bytes += LIMITS.alertBytes(a);
      }
      // Alert groups are decided after judging: the most group alerts a commit carries, each
      // with the longest names JSON escapes (docs/alerting-groups.md), as decideGroups shows them.
      const escaped = (n: number) => shown('"'.repeat(n), n);
      const group: GroupSummary = {
        key: escaped(MAX_GROUP_NAME),
        threshold: 2 ** 31,
        periodSeconds: 604_800,
        sensors: 2 ** 31,
        alerts: 2 ** 31,
        inPeriod: 2 ** 31,
        severity: 'critical',
        listed: Array.from({ length: LISTED_SENSORS }, () => escaped(LISTED_ID_CHARS)),
      };
      for (let i = 0; i < MAX_GROUP_ALERTS_PER_COMMIT; i += 1)
        outbox[i] = { ...(outbox[i] as AlertDecision), group };
      const groups = Array.from({ length: MAX_GROUP_PERIODS }, (_, i) => ({
        id: `${i}`.padStart(11, 'z'),
        endMs: 9_007_199_254_740_991,
        count: 2 ** 31,
        alerted: true,
      }));
      let pages: PageTable = {
        sensors: 2 ** 31,
        dict: [],
        state: [],
        buckets: [],
        bucketIndex: [],
      };
      // Buckets added until the table passes its budget, then cut back as the commit cuts it.
      const chunks = Array.from({ length: 98 }, () => GEN);
      const buckets = [];
      for (
        let i = 0;
        LIMITS.pageTableBytes({ ...pages, buckets }) <= LIMITS.maxPageTableBytes;
        i += 1
      )
        buckets.push({
          startMs: 9_007_199_254_740_000 - i * 5000,
          expiresAtEpochSeconds: 2 ** 33,
          chunks,
        });
      buckets.pop();
      pages = { ...pages, buckets };
      const root: PartitionRoot = {
        version: 2 ** 40,
        commitId: 'zzzzzz',
        epoch: 2 ** 31,
        decidedThroughOffset: 9_007_199_254_740_991,
        maxTimestampMs: 9_007_199_254_740_991,
        gaps: Array.from({ length: MAX_GAPS }, () => ({
          from: 9_007_199_254_740_991,
          to: 9_007_199_254_740_991,
          decidedThrough: 9_007_199_254_740_991,
        })),
        sources: Object.fromEntries(
          Array.from({ length: MAX_SOURCES }, (_, i) => [
            `${TOPIC}#${i + 90_000}`,
            { offset: 9_007_199_254_740_991, maxTimestampMs: 9_007_199_254_740_991 },
          ]),
        ),
        pages,
        outbox,
        groups,
        // Window-close evaluation: a cursor and a queued record of 64 readings of 256-byte ids
        // JSON escapes, the open pages' refs of 4 bucket starts at their most parts.
        ...(windowClose
          ? {
              openWindows: {
                watermarkMs: 9_007_199_254_740_991,
                seq: 9_007_199_254_740_991,
                closing: {
                  floorMs: 9_007_199_254_740_991,
                  endMs: 9_007_199_254_740_991,
                  sensorId: '"'.repeat(256),
                  seq: 9_007_199_254_740_991,
                },
                movedAtMs: 9_007_199_254_740_991,
                buckets: Array.from({ length: 4 }, (_, i) => ({
                  startMs: 9_007_199_254_740_000 - i * 5000,
                  expiresAtEpochSeconds: 2 ** 33,
                  parts: Array.from({ length: 16 }, () => GEN),
                })),
                queued: Array.from({ length: 64 }, (_, i) => ({
                  sensorId: '"'.repeat(256),
                  value: -1.2345678901234567e-308,
                  eventTimeMs: 9_007_199_254_740_991,
                  source: { topic: TOPIC, partition: 2_147_483_647, offset: 9_007_199_254_740_991 },
                  index: i,
                })),
              },
            }
          : {}),
      };
      expect(itemBytes(rootItem(PID, root))).toBeLessThan(ITEM_LIMIT_BYTES);
    },
  );
});

describe('item budgets: what cannot fit is split by design', () => {
  const SETTINGS = {
    slideMs: 5000,
    windowMs: 10_000,
    defaultDetector: { kind: 'threshold', threshold: 50 },
    rules: [],
    alertCooldownMs: 60_000,
    retentionMarginSeconds: 3600,
  } as const;
  const T0 = Date.parse('2026-11-21T10:00:00Z');

  it('3,000 sensors with 256-byte ids in one partition, every one anomalous: every root and page fits, every reading counted', async () => {
    // Prepare
    const store = new MemoryWindowStore();
    const probe = new PipelineProbe();
    const process = createBatchProcessor(SETTINGS, {
      store,
      publisher: probe.publisher(),
      observer: probe,
      nowMs: () => T0 + 60_000,
    });
    const n = 3000;
    const records = Array.from({ length: n }, (_, s) => [
      toRawRecord({ offset: 2 * s, timestampMs: T0, value: `${longId(s)},0` }),
      toRawRecord({ offset: 2 * s + 1, timestampMs: T0 + 100, value: `${longId(s)},1000` }),
    ]).flat();
    // Act
    const report = await process(records);
    // Assess: one anomaly per sensor, all notified; state in several pages of each kind
    expect(report.anomalies).toBe(n);
    expect(probe.sent.size).toBe(n);
    const counts = [...memoryBuckets(store).values()].reduce((t, a) => t + a.count, 0);
    expect(counts).toBe(2 * n);
    const root = [...store.roots.values()][0] as PartitionRoot;
    expect(root.pages.dict.length).toBe(Math.ceil(n / DICT_PAGE_SENSORS));
    expect(root.pages.state.length).toBe(Math.ceil(n / STATE_PAGE_SENSORS));
    expect(itemBytes(rootItem(PID, root))).toBeLessThan(ITEM_LIMIT_BYTES);
    for (const [, stored] of store.pages) {
      const item = pageItem({
        key: { pid: PID, kind: stored.page.kind, scope: 0, chunk: 0, gen: GEN },
        page: stored.page,
        expiresAtEpochSeconds: 1,
      });
      expect(itemBytes(item)).toBeLessThan(ITEM_LIMIT_BYTES);
    }
    // The outbox was committed in pieces, each within its budget
    expect(store.requests.rootWrites).toBeGreaterThan(2);
  });
});

describe('bucket page encoding', () => {
  it('gives back every count, sum and sum of squares bit for bit (any double, NaN and -0 included)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            count: fc.nat({ max: 2 ** 32 }),
            sum: fc.oneof(
              fc.double(),
              fc.integer({ min: -1e6, max: 1e6 }).map((i) => i / 100),
              fc.constantFrom(-0, 0.1 + 0.2, 1e21),
            ),
            sumSq: fc.double(),
          }),
          { maxLength: 300 },
        ),
        fc.boolean(),
        (slots, withSq) => {
          const page = {
            kind: 'bucket' as const,
            count: slots.map((s) => s.count),
            sum: slots.map((s) => (s.count === 0 ? 0 : s.sum)),
            sumSq: withSq ? slots.map((s) => (s.count === 0 ? 0 : s.sumSq)) : null,
          };
          const back = decodeBucket(encodeBucket(page));
          expect(back.count).toEqual(page.count);
          for (const [i, x] of page.sum.entries()) expect(Object.is(back.sum[i], x)).toBe(true);
          for (const [i, x] of (page.sumSq ?? []).entries())
            expect(Object.is(back.sumSq?.[i], x)).toBe(true);
        },
      ),
      lawParameters(300),
    );
  });
});
