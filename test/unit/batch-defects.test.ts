import { describe, expect, it } from 'vitest';
import { MemoryWindowStore } from '../../functions/adapters/memory-window-store.ts';
import type { RawRecord } from '../../functions/core/types.ts';
import { createBatchProcessor, PageCache } from '../../functions/process-batch.ts';
import { FaultInjectingStore, FaultSchedule } from '../helpers/fault-injection.ts';
import { FaultPlan, FaultyStore, InjectedFault } from '../helpers/faulty-memory-store.ts';
import { toRawRecord } from '../helpers/kafka-events.ts';
import { PipelineProbe, referenceSummary } from '../helpers/pipeline-probe.ts';
import { runReferenceModel } from '../helpers/reference-model.ts';
import { memoryBuckets, withoutSumSq } from '../helpers/table-state.ts';

/**
 * Defects reproduced against the earlier state layer, each fixed by the design of this one
 * (docs/state.md) and proven here.
 */
const T0 = Date.parse('2026-11-21T10:00:00Z');
const DAY = 86_400_000;
const SETTINGS = {
  slideMs: 5000,
  windowMs: 10_000,
  defaultDetector: { kind: 'threshold', threshold: 50 },
  rules: [],
  alertCooldownMs: 60_000,
  retentionMarginSeconds: 3600,
} as const;
const REFERENCE = {
  slideMs: 5000,
  windowMs: 10_000,
  detector: { kind: 'threshold', threshold: 50 },
  alertCooldownMs: 60_000,
} as const;

function offsets(records: readonly Omit<Parameters<typeof toRawRecord>[0], 'offset'>[], from = 0) {
  return records.map((r, i) => toRawRecord({ ...r, offset: from + i }));
}

describe('defect: a days-old backlog moved a cooldown back in time', () => {
  it('a cooldown only moves forward: live notifications stay a cooldown apart', async () => {
    // Prepare: live now; a spike notified 10 s ago
    const nowMs = T0 + 3 * DAY;
    const probe = new PipelineProbe();
    const process = createBatchProcessor(SETTINGS, {
      store: new MemoryWindowStore(),
      publisher: probe.publisher(),
      observer: probe,
      nowMs: () => nowMs,
    });
    const at = (t: number, v: number) => ({ timestampMs: t, value: `s,${v}` });
    await process(offsets([at(nowMs - 12_000, 50), at(nowMs - 10_000, 500)]));
    // Act: a backlog from three days ago with a spike, then another live spike 20 s later
    await process(offsets([at(T0, 50), at(T0 + 1000, 500)], 2));
    await process(offsets([at(nowMs + 8_000, 50), at(nowMs + 10_000, 500)], 4));
    // Assess: three anomalies, one notification: the backlog's is held back (it is older
    // than the last notification), and so is the live one inside the cooldown
    expect(probe.anomalies.map((d) => [d.anomaly.source.offset, d.notify])).toEqual([
      [1, true],
      [3, false],
      [5, false],
    ]);
    expect([...probe.sent.keys()]).toEqual(['sensor-data-0-1']);
  });
});

describe('defect: a warm cache passing its bound in the middle of a batch', () => {
  it('judges every sensor with its window: results as the reference, at every cache bound', async () => {
    // Prepare: 1,500 sensors on one partition (two bucket pages, six state pages), a spike
    // for every tenth sensor in each later batch
    const ids = Array.from({ length: 1500 }, (_, i) => `sensor-${i}`);
    const batches: RawRecord[][] = [];
    let offset = 0;
    for (let round = 0; round < 4; round += 1) {
      batches.push(
        ids.map((id, i) =>
          toRawRecord({
            offset: offset++,
            timestampMs: T0 + round * 1500 + i,
            value: `${id},${round > 0 && i % 10 === round ? 400 : 50}`,
          }),
        ),
      );
    }
    const expected = runReferenceModel(batches.flat(), REFERENCE);
    expect(expected.anomalies.length).toBeGreaterThan(100);
    for (const bound of [1, 2, 3, 7, 4096]) {
      const store = new MemoryWindowStore();
      const probe = new PipelineProbe();
      const cache = new PageCache(bound);
      const process = createBatchProcessor(SETTINGS, {
        store,
        publisher: probe.publisher(),
        observer: probe,
        nowMs: () => T0 + 60_000,
        cache,
      });
      // Act
      for (const batch of batches) await process(batch);
      // Assess
      expect(cache.size, `bound ${bound}`).toBeLessThanOrEqual(bound);
      expect(probe.anomalySummary(), `bound ${bound}`).toEqual(referenceSummary(expected));
      expect(probe.sent, `bound ${bound}`).toEqual(expected.notifications);
      expect(memoryBuckets(store), `bound ${bound}`).toEqual(withoutSumSq(expected.buckets));
    }
  });
});

describe('defect: a warm container kept every generation of every page it wrote', () => {
  it('holds one generation per page: a thousand batches in one bucket leave the cache as one did', async () => {
    // Prepare: five sensors, every batch within one 5-s bucket (so no new bucket pages appear);
    // each batch writes new generations of the same pages
    const cache = new PageCache();
    const process = createBatchProcessor(SETTINGS, {
      store: new MemoryWindowStore(),
      publisher: new PipelineProbe().publisher(),
      nowMs: () => T0 + 5000,
      cache,
    });
    const batch = (n: number) =>
      offsets(
        Array.from({ length: 5 }, (_, i) => ({ timestampMs: T0 + (n % 4000), value: `s${i},50` })),
        n * 5,
      );
    await process(batch(0));
    const afterOne = cache.size;
    // Act
    for (let n = 1; n < 1000; n += 1) await process(batch(n));
    // Assess: the same slots, each at its latest generation (was: one more page per batch
    // and write, up to 4,096 pages of superseded state in the container's heap)
    expect(afterOne).toBeGreaterThan(0);
    expect(cache.size).toBe(afterOne);
    const result = await process(batch(1000));
    expect(result.bucketKeysRead).toBe(0);
  });
});

describe('defect: a skipped first batch, replayed later, was counted as redelivered', () => {
  it('offsets before a partition’s first batch stay open and are judged when replayed', async () => {
    // Prepare: the mapping gave up on offsets 0–9 (the partition's very first batch) and
    // delivered 10–19
    const probe = new PipelineProbe();
    const store = new MemoryWindowStore();
    const process = createBatchProcessor(SETTINGS, {
      store,
      publisher: probe.publisher(),
      observer: probe,
      nowMs: () => T0 + 60_000,
    });
    const all = Array.from({ length: 20 }, (_, i) =>
      toRawRecord({ offset: i, timestampMs: T0 + i * 100, value: `s,${i === 5 ? 400 : 50}` }),
    );
    await process(all.slice(10));
    // Act: the operator replays the skipped offsets (docs/operations.md)
    const replay = await process(all.slice(0, 10));
    const again = await process(all.slice(0, 10));
    // Assess: judged once (the spike at offset 5 found), then redelivered
    expect(replay.readings).toBe(10);
    expect(replay.redelivered).toBe(0);
    expect(probe.anomalies.map((d) => d.anomaly.alertId)).toEqual(['sensor-data-0-5']);
    expect(again.redelivered).toBe(10);
    expect(memoryBuckets(store).get(`s|${T0}`)?.count).toBe(20);
  });
});

describe('defect: an anomaly storm after a crash whose retry carries more records', () => {
  it('no sensor is notified twice within its cooldown', async () => {
    // Prepare: 800 sensors with 200-byte ids jump to 1,000 (the outbox commits in pieces);
    // the invocation dies after its second root write
    const id = (s: number) => `${'x'.repeat(190)}-${s}`;
    const storm = Array.from({ length: 800 }, (_, s) => [
      { timestampMs: T0, value: `${id(s)},0` },
      { timestampMs: T0 + 100, value: `${id(s)},1000` },
    ]).flat();
    const first = offsets(storm);
    // The retry carries every record again and a second spike per sensor, 20 s later.
    const more = offsets(
      Array.from({ length: 800 }, (_, s) => ({ timestampMs: T0 + 20_000, value: `${id(s)},0` })),
      first.length,
    );
    const inner = new MemoryWindowStore();
    const probe = new PipelineProbe();
    const roots: number[] = [];
    const plan = new FaultPlan(null);
    const store = new FaultyStore(inner, plan);
    const commit = store.commitRoot.bind(store);
    store.commitRoot = async (pid, root, expected) => {
      roots.push(root.outbox.length);
      await commit(pid, root, expected);
      if (roots.length === 2) throw new InjectedFault('crash after the second root write');
    };
    const process = createBatchProcessor(SETTINGS, {
      store,
      publisher: probe.publisher(),
      observer: probe,
      nowMs: () => T0 + 60_000,
    });
    // Act
    await expect(process(first)).rejects.toThrow(InjectedFault);
    await process([...first, ...more]);
    // Assess: every sensor notified exactly once; the second spikes held back
    // (probe.sent is keyed by alert id: a second notification of a sensor would add one)
    expect(probe.sent.size).toBe(800);
    const sentSensors = new Set(
      [...probe.sent.keys()].map(
        (alertId) => probe.anomalies.find((d) => d.anomaly.alertId === alertId)?.anomaly.sensorId,
      ),
    );
    expect(sentSensors.size).toBe(800);
    expect(roots.filter((n) => n > 0).length).toBeGreaterThan(2);
  });
});

describe('defect: a lost response on the conditional root write, retried by the SDK', () => {
  it('the commit recognises its own landed write and is not taken for a conflict', async () => {
    // Prepare: every call in turn, the request lands twice (the SDK's retry after a lost
    // response): the second copy fails its version condition
    const records = offsets([
      { timestampMs: T0, value: 's,50' },
      { timestampMs: T0 + 100, value: 's,400' },
      { timestampMs: T0 + 200, value: 's,50' },
    ]);
    const clean = new FaultSchedule(new Map());
    const cleanProbe = new PipelineProbe();
    await createBatchProcessor(SETTINGS, {
      store: new FaultInjectingStore(new MemoryWindowStore(), clean),
      publisher: cleanProbe.publisher(),
      observer: cleanProbe,
      nowMs: () => T0 + 60_000,
    })(records);
    for (let call = 1; call <= clean.calls; call += 1) {
      const schedule = new FaultSchedule(new Map([[call, 'duplicate-request']]));
      const probe = new PipelineProbe();
      const process = createBatchProcessor(SETTINGS, {
        store: new FaultInjectingStore(new MemoryWindowStore(), schedule),
        publisher: probe.publisher(),
        observer: probe,
        nowMs: () => T0 + 60_000,
      });
      // Act: no failure reaches the event source mapping
      await process(records);
      // Assess: the clean run's verdicts and notifications
      expect(probe.anomalySummary(), `call ${call}`).toEqual(cleanProbe.anomalySummary());
      expect(probe.sent, `call ${call}`).toEqual(cleanProbe.sent);
    }
    expect(clean.calls).toBeGreaterThanOrEqual(3);
  });
});

describe('a partition idle past its pages’ TTL', () => {
  it('starts afresh, with a dictionary of its new sensors only', async () => {
    const store = new MemoryWindowStore();
    const probe = new PipelineProbe();
    let nowMs = T0 + 1000;
    const process = createBatchProcessor(SETTINGS, {
      store,
      publisher: probe.publisher(),
      observer: probe,
      nowMs: () => nowMs,
    });
    await process(
      offsets([
        { timestampMs: T0, value: 'a,50' },
        { timestampMs: T0 + 10, value: 'a,500' },
      ]),
    );
    // Act: 26 hours later, another sensor
    nowMs += 26 * 3600 * 1000;
    const later = T0 + 26 * 3600 * 1000;
    await process(offsets([{ timestampMs: later, value: 'b,50' }], 2));
    // Assess: the root's table names one sensor; only b's state and bucket are current
    const root = [...store.roots.values()][0];
    expect(root?.pages.sensors).toBe(1);
    expect([...memoryBuckets(store).keys()]).toEqual([`b|${later}`]);
  });
});

describe('a root that every batch rewrites stays small however long buckets live', () => {
  it('older bucket refs move to index pages, and late readings still find their windows', async () => {
    // Prepare: one sensor every 5 s for 20 minutes (240 buckets), in batches of 10, then late
    // readings into the early buckets (a spike among them)
    const live = Array.from({ length: 240 }, (_, i) => ({
      timestampMs: T0 + i * 5000 + 1000,
      value: `s,${50 + (i % 5)}`,
    }));
    const late = [
      { timestampMs: T0 + 240 * 5000, value: `s,50,${T0 + 10 * 5000 + 2000}` },
      { timestampMs: T0 + 240 * 5000, value: `s,400,${T0 + 10 * 5000 + 3000}` },
      { timestampMs: T0 + 240 * 5000, value: `s,52,${T0 + 200 * 5000 + 3000}` },
    ];
    const records = offsets([...live, ...late]);
    const store = new MemoryWindowStore();
    const probe = new PipelineProbe();
    const process = createBatchProcessor(SETTINGS, {
      store,
      publisher: probe.publisher(),
      observer: probe,
      nowMs: () => T0 + 240 * 5000 + 5000,
      cache: new PageCache(3),
    });
    // Act
    for (let i = 0; i < records.length; i += 10) await process(records.slice(i, i + 10));
    // Assess: the reference results; the root holds at most 6 bucket refs
    const expected = runReferenceModel(records, REFERENCE);
    expect(probe.anomalySummary()).toEqual(referenceSummary(expected));
    expect(memoryBuckets(store)).toEqual(withoutSumSq(expected.buckets));
    const root = [...store.roots.values()][0];
    expect(root?.pages.buckets.length).toBeLessThanOrEqual(6);
    expect(root?.pages.bucketIndex.length).toBeGreaterThan(5);
    expect(expected.anomalies.length).toBe(1);
  });
});
