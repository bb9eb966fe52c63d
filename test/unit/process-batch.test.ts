import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryWindowStore } from '../../functions/adapters/memory-window-store.ts';
import type { RawRecord } from '../../functions/core/types.ts';
import { createBatchProcessor, type DetectionSettings } from '../../functions/process-batch.ts';
import {
  FaultPlan,
  FaultyStore,
  faultyPublisher,
  InjectedFault,
} from '../helpers/faulty-memory-store.ts';
import { lawParameters } from '../helpers/fc-params.ts';
import { cutAt, toRawRecord } from '../helpers/kafka-events.ts';
import { PipelineProbe, referenceSummary } from '../helpers/pipeline-probe.ts';
import { learnedAsState, runReferenceModel } from '../helpers/reference-model.ts';
import { cutsArb, detectionArb, STREAM_NOW_MS, streamArb } from '../helpers/stream-gen.ts';
import { memoryBuckets, withoutSumSq } from '../helpers/table-state.ts';

/** What the learning detector holds per sensor, as stored. */
function memoryLearned(store: MemoryWindowStore) {
  const result = new Map<string, unknown>();
  for (const [id, sensor] of store.sensorStates())
    if (sensor.learned !== undefined) result.set(id, sensor.learned.state);
  return result;
}

async function runInBatches(
  records: RawRecord[],
  cuts: number[],
  settings: DetectionSettings,
  nowMs = STREAM_NOW_MS,
) {
  const store = new MemoryWindowStore();
  const probe = new PipelineProbe();
  const process = createBatchProcessor(settings, {
    store,
    publisher: probe.publisher(),
    observer: probe,
    nowMs: () => nowMs,
  });
  for (const batch of cutAt(records, cuts)) await process(batch);
  return { store, probe };
}

describe('process batch: the seed scenario', () => {
  it('flags the spikes of sensor_1 as the Flink job did and notifies once per cooldown', async () => {
    // Prepare: the seed's readings, one per second
    const t0 = Date.parse('2026-11-21T10:00:00Z');
    const values = [52.1, 48.3, 55.0, 61.2, 150.0, 49.9, 180.0, 45.0];
    const records = values.map((v, i) =>
      toRawRecord({ offset: i, timestampMs: t0 + i * 1000, value: `sensor_1,${v}` }),
    );
    const settings = {
      slideMs: 5000,
      windowMs: 10_000,
      defaultDetector: { kind: 'threshold', threshold: 50 },
      rules: [],
      alertCooldownMs: 60_000,
      retentionMarginSeconds: 3600,
    } as const;
    // Act: judged as they arrive (10 s after the first reading: none is stale)
    const { probe } = await runInBatches(records, [], settings, t0 + 10_000);
    // Assess
    expect(
      probe.anomalies.map((d) => [
        d.anomaly.alertId,
        d.anomaly.value,
        Number(d.anomaly.mean.toFixed(2)),
        d.notify,
      ]),
    ).toEqual([
      ['sensor-data-0-4', 150, 73.32, true],
      ['sensor-data-0-6', 180, 85.21, false],
    ]);
    expect([...probe.sent.keys()]).toEqual(['sensor-data-0-4']);
  });
});

describe('process batch: laws against the reference model (in-memory store)', () => {
  it('gives the reference anomalies, notifications and aggregates for any cut into batches', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb, cutsArb, detectionArb, async (records, cuts, detection) => {
        // Act
        const { store, probe } = await runInBatches(records, cuts, detection.settings);
        const expected = runReferenceModel(records, detection.reference);
        // Assess
        expect(probe.anomalySummary()).toEqual(referenceSummary(expected));
        expect(probe.sent).toEqual(expected.notifications);
        expect(memoryBuckets(store)).toEqual(withoutSumSq(expected.buckets));
        expect(memoryLearned(store)).toEqual(
          new Map<string, unknown>([
            ...[...expected.learned].map(([id, s]) => [id, learnedAsState(s)] as const),
            ...expected.adaptive,
          ]),
        );
      }),
      lawParameters(300),
    );
  });

  it('redelivering any batch changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        streamArb,
        cutsArb,
        detectionArb,
        fc.nat(),
        async (records, cuts, detection, pick) => {
          // Prepare
          const batches = cutAt(records, cuts);
          const again = pick % batches.length;
          const store = new MemoryWindowStore();
          const probe = new PipelineProbe();
          const process = createBatchProcessor(detection.settings, {
            store,
            publisher: probe.publisher(),
            observer: probe,
            nowMs: () => STREAM_NOW_MS,
          });
          // Act: every batch once, then one of them again (a commit that did not stick)
          for (const batch of batches) await process(batch);
          const before = memoryBuckets(store);
          const learnedBefore = memoryLearned(store);
          const report = await process(batches[again] ?? []);
          // Assess
          expect(memoryBuckets(store)).toEqual(before);
          expect(memoryLearned(store)).toEqual(learnedBefore);
          expect(report.anomalies).toBe(0);
          expect(report.redelivered).toBe(batches[again]?.length);
        },
      ),
      lawParameters(200),
    );
  });

  it('after a crash at any call, retries (whole or re-cut) converge: same state, every notification sent', async () => {
    await fc.assert(
      fc.asyncProperty(
        streamArb,
        cutsArb,
        detectionArb,
        fc.nat(),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 4 }),
        async (records, cuts, detection, failSeed, retryCuts) => {
          // Prepare: the run without failure, and how many store/SNS calls it makes
          const clean = new FaultPlan(null);
          const cleanStore = new FaultyStore(new MemoryWindowStore(), clean);
          const cleanProbe = new PipelineProbe();
          const cleanRun = createBatchProcessor(detection.settings, {
            store: cleanStore,
            publisher: faultyPublisher(cleanProbe.publisher(), clean),
            observer: cleanProbe,
            nowMs: () => STREAM_NOW_MS,
          });
          for (const batch of cutAt(records, cuts)) await cleanRun(batch);
          const failAt = 1 + (failSeed % clean.calls);

          const plan = new FaultPlan(failAt);
          const store = new FaultyStore(new MemoryWindowStore(), plan);
          const probe = new PipelineProbe();
          const run = createBatchProcessor(detection.settings, {
            store,
            publisher: faultyPublisher(probe.publisher(), plan),
            observer: probe,
            nowMs: () => STREAM_NOW_MS,
          });
          // Act: like the event source mapping, resume from the first uncommitted record;
          // after the crash the remaining stream is cut anew.
          let remaining = records;
          let batches = cutAt(remaining, cuts);
          let crashed = false;
          while (remaining.length > 0) {
            const batch = batches[0] ?? [];
            try {
              await run(batch);
              remaining = remaining.slice(batch.length);
              batches = batches.slice(1);
            } catch (error) {
              expect(error).toBeInstanceOf(InjectedFault);
              crashed = true;
              batches = cutAt(remaining, retryCuts);
            }
          }
          // Assess
          expect(crashed).toBe(true);
          expect(memoryBuckets(store.inner)).toEqual(memoryBuckets(cleanStore.inner));
          expect(memoryLearned(store.inner)).toEqual(memoryLearned(cleanStore.inner));
          for (const [alertId, heldBack] of cleanProbe.sent)
            expect(probe.sent.get(alertId)).toBe(heldBack);
          expect([...probe.sent.keys()].sort()).toEqual([...cleanProbe.sent.keys()].sort());
          // Every verdict made across crash and retry is one the clean run made, unchanged.
          const verdicts = new Map(probe.anomalySummary().map((a) => [a.alertId, a]));
          expect([...verdicts.values()]).toEqual(cleanProbe.anomalySummary());
        },
      ),
      lawParameters(300),
    );
  });
});

describe('process batch: retention', () => {
  it('treats an expired bucket that was not deleted yet as absent', async () => {
    // Prepare: a bucket full of high values, written an hour and more ago (its TTL passed)
    const t0 = Date.parse('2026-11-21T10:00:00Z');
    const store = new MemoryWindowStore();
    const settings = {
      slideMs: 5000,
      windowMs: 10_000,
      defaultDetector: { kind: 'threshold', threshold: 50 },
      rules: [],
      alertCooldownMs: 60_000,
      retentionMarginSeconds: 3600,
    } as const;
    let nowMs = t0 + 2000;
    const probe = new PipelineProbe();
    const process = createBatchProcessor(settings, {
      store,
      publisher: probe.publisher(),
      observer: probe,
      nowMs: () => nowMs,
    });
    await process(
      Array.from({ length: 5 }, (_, i) =>
        toRawRecord({ offset: i, timestampMs: t0 + 1000, value: 'sensor_1,500' }),
      ),
    );
    expect(memoryBuckets(store).get(`sensor_1|${t0}`)).toEqual({ count: 5, sum: 2500 });
    // Act: a normal reading in the same bucket once the page's TTL (now + 10 s + 3,600 s) passed
    nowMs += (10 + 3600 + 1) * 1000;
    await process([toRawRecord({ offset: 5, timestampMs: t0 + 1000, value: 'sensor_1,50' })]);
    // Assess: no anomaly against the stale mean of 500, and the bucket starts afresh
    expect(probe.anomalies).toEqual([]);
    expect(memoryBuckets(store).get(`sensor_1|${t0}`)).toEqual({ count: 1, sum: 50 });
  });
});
