import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryWindowStore } from '../../functions/adapters/memory-window-store.ts';
import { AlertPublishError } from '../../functions/adapters/sns-alert-publisher.ts';
import {
  StoreConflictError,
  StoreUnavailableError,
} from '../../functions/adapters/store-errors.ts';
import type { PartitionStore } from '../../functions/batch/state.ts';
import type { RawRecord } from '../../functions/core/types.ts';
import type { AlertPublisher } from '../../functions/ports.ts';
import {
  createBatchProcessor,
  type DetectionSettings,
  PageCache,
} from '../../functions/process-batch.ts';
import {
  deliveryBatches,
  deliveryStepsArb,
  partitionRecords,
  SWEEP_SETTINGS,
  sweepStream,
  unkeyedStreamArb,
} from '../helpers/delivery-gen.ts';
import {
  CALL_FAULTS,
  type CallFault,
  FaultInjectingStore,
  FaultSchedule,
  faultInjectingPublisher,
} from '../helpers/fault-injection.ts';
import { lawParameters, lawRuns } from '../helpers/fc-params.ts';
import { cutAt } from '../helpers/kafka-events.ts';
import { PipelineProbe, referenceSummary } from '../helpers/pipeline-probe.ts';
import { runReferenceModel } from '../helpers/reference-model.ts';
import { repartition, repartitionRunArb, withoutCopies } from '../helpers/repartition-sim.ts';
import { detectionArb, STREAM_NOW_MS, streamArb, wideStreamArb } from '../helpers/stream-gen.ts';
import {
  memoryBuckets,
  memoryCooldowns,
  unionAggregates,
  withoutSumSq,
} from '../helpers/table-state.ts';

/** What a retried batch looks like: the same, cut in pieces, or merged with the next one. */
type RetryShape = 'whole' | 'split' | 'merge';
const retryShapeArb = fc.constantFrom<RetryShape>('whole', 'split', 'merge');

function processorFor(
  settings: DetectionSettings,
  store: PartitionStore,
  probe: PipelineProbe,
  publisher?: AlertPublisher,
  cache?: PageCache,
) {
  return createBatchProcessor(settings, {
    store,
    publisher: publisher ?? probe.publisher(),
    observer: probe,
    nowMs: () => STREAM_NOW_MS,
    ...(cache === undefined ? {} : { cache }),
  });
}

/** The errors an infrastructure failure may surface as; anything else is a bug. */
function isInfrastructureError(error: unknown): boolean {
  return (
    error instanceof StoreUnavailableError ||
    error instanceof StoreConflictError ||
    error instanceof AlertPublishError
  );
}

interface FaultyRunResult {
  readonly store: MemoryWindowStore;
  readonly probe: PipelineProbe;
  readonly failures: number;
  readonly conflicts: number;
  readonly schedule: FaultSchedule;
}

/**
 * Delivers `batches` like an event source mapping: a failed batch is retried (whole, split
 * or merged with the next) until it succeeds; a zombie re-runs the batch in flight.
 */
async function runWithFaults(
  settings: DetectionSettings,
  batches: readonly RawRecord[][],
  faults: ReadonlyMap<number, CallFault>,
  shapes: readonly RetryShape[],
  splitAt: readonly number[],
): Promise<FaultyRunResult> {
  const inner = new MemoryWindowStore();
  const probe = new PipelineProbe();
  const schedule = new FaultSchedule(faults);
  const zombieRun = processorFor(settings, inner, probe);
  const run = processorFor(
    settings,
    new FaultInjectingStore(inner, schedule),
    probe,
    faultInjectingPublisher(probe.publisher(), schedule),
  );
  const queue = batches.map((b) => [...b]);
  let failures = 0;
  let conflicts = 0;
  while (queue.length > 0) {
    // Stuck: a batch that keeps failing (a few faults fail a few attempts, never dozens).
    if (failures > 50) throw new Error(`no progress: ${failures} failed attempts`);
    const batch = queue.shift() as RawRecord[];
    schedule.zombie = async () => {
      await zombieRun(batch);
    };
    try {
      await run(batch);
    } catch (error) {
      if (!isInfrastructureError(error)) throw error;
      if (error instanceof StoreConflictError) conflicts += 1;
      const shape = shapes[failures % shapes.length] ?? 'whole';
      failures += 1;
      if (shape === 'split') queue.unshift(...cutAt(batch, splitAt));
      else if (shape === 'merge' && queue.length > 0)
        queue.unshift([...batch, ...(queue.shift() as RawRecord[])]);
      else queue.unshift(batch);
    }
  }
  return { store: inner, probe, failures, conflicts, schedule };
}

async function cleanRun(settings: DetectionSettings, batches: readonly RawRecord[][]) {
  const result = await runWithFaults(settings, batches, new Map(), ['whole'], []);
  expect(result.failures).toBe(0);
  return result;
}

/** The guarantees of semantics.md §6, comparing a run that met faults with a clean one. */
function expectSameOutcome(faulty: FaultyRunResult, clean: FaultyRunResult, label: string): void {
  // Exactly-once state.
  expect(memoryBuckets(faulty.store), label).toEqual(memoryBuckets(clean.store));
  expect(memoryCooldowns(faulty.store), label).toEqual(memoryCooldowns(clean.store));
  // At-least-once notification, duplicates identical.
  expect(faulty.probe.sent, label).toEqual(clean.probe.sent);
  // Every verdict logged at least once, and only the clean run's verdicts.
  const verdicts = new Map(faulty.probe.anomalySummary().map((a) => [a.alertId, a]));
  expect([...verdicts.values()], label).toEqual(clean.probe.anomalySummary());
  for (const a of faulty.probe.anomalySummary()) expect(a, label).toEqual(verdicts.get(a.alertId));
  expect(new Set(faulty.probe.rejections), label).toEqual(new Set(clean.probe.rejections));
  expect(faulty.schedule.zombieFailures, label).toBe(0);
}

const faultPlanArb = fc.array(
  // Unbiased: fast-check favours small and extreme numbers, which would all hit call 1.
  fc.record({
    at: fc.noBias(fc.integer({ min: 0, max: 1_000_000 })),
    kind: fc.constantFrom(...CALL_FAULTS),
  }),
  { minLength: 1, maxLength: 3 },
);

function planFrom(
  plan: readonly { at: number; kind: CallFault }[],
  calls: number,
): Map<number, CallFault> {
  const faults = new Map<number, CallFault>();
  for (const { at, kind } of plan) faults.set(1 + (at % calls), kind);
  return faults;
}

describe('law: replay equivalence (in-memory store)', () => {
  const runs = lawRuns(400);
  it(`any delivery (cuts, partition mixes, redelivered ranges, repeats) gives the reference results (${runs} cases)`, async () => {
    let batchesRun = 0;
    let redelivered = 0;
    await fc.assert(
      fc.asyncProperty(
        streamArb,
        deliveryStepsArb,
        detectionArb,
        async (records, steps, detection) => {
          // Prepare
          const probe = new PipelineProbe();
          const store = new MemoryWindowStore();
          const process = processorFor(detection.settings, store, probe);
          // Act
          for (const batch of deliveryBatches(records, steps)) {
            const report = await process(batch);
            batchesRun += 1;
            redelivered += report.redelivered;
          }
          // Assess
          const expected = runReferenceModel(records, detection.reference);
          expect(probe.anomalySummary()).toEqual(referenceSummary(expected));
          expect(probe.sent).toEqual(expected.notifications);
          expect(memoryBuckets(store)).toEqual(withoutSumSq(expected.buckets));
          expect(probe.rejections).toHaveLength(expected.rejected);
        },
      ),
      lawParameters(runs),
    );
    console.info(
      `[law replay/memory] ${runs} cases, ${batchesRun} batches, ${redelivered} records redelivered`,
    );
  });
});

describe('law: fleets and ids at the item limits, horizons of days, caches at their bounds (in-memory store)', () => {
  const runs = lawRuns(40);
  it(`1,000–2,600 sensors per stream, ids up to 256 bytes, outages of minutes and jumps of days, a page cache of 1–8 pages: the reference results (${runs} cases)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        wideStreamArb,
        deliveryStepsArb,
        detectionArb,
        fc.integer({ min: 1, max: 8 }),
        async (records, steps, detection, cachePages) => {
          // Prepare: batches of up to a few hundred records, so the fleet spans many
          const probe = new PipelineProbe();
          const store = new MemoryWindowStore();
          const process = processorFor(
            detection.settings,
            store,
            probe,
            undefined,
            new PageCache(cachePages),
          );
          const wide = steps.map((st) => ({ ...st, take: st.take.map((t) => t * 40) }));
          // Act
          for (const batch of deliveryBatches(records, wide)) await process(batch);
          // Assess
          const expected = runReferenceModel(records, detection.reference);
          expect(probe.anomalySummary()).toEqual(referenceSummary(expected));
          expect(probe.sent).toEqual(expected.notifications);
          expect(memoryBuckets(store)).toEqual(withoutSumSq(expected.buckets));
        },
      ),
      lawParameters(runs),
    );
  });
});

describe('law: exactly-once state, at-least-once notification under faults (in-memory store)', () => {
  const runs = lawRuns(400);
  it(`1–3 faults (lost response, throttle, duplicate request, zombie) at any call, retried whole, split or merged (${runs} cases)`, async () => {
    const totals = { injected: 0, failures: 0, conflicts: 0, byKind: {} as Record<string, number> };
    await fc.assert(
      fc.asyncProperty(
        streamArb,
        deliveryStepsArb,
        detectionArb,
        faultPlanArb,
        fc.array(retryShapeArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 3 }),
        async (records, steps, detection, plan, shapes, splitAt) => {
          // Prepare: the clean run, and how many store and SNS calls it makes
          const batches = deliveryBatches(records, steps);
          const clean = await cleanRun(detection.settings, batches);
          const faults = planFrom(plan, clean.schedule.calls);
          // Act
          const faulty = await runWithFaults(detection.settings, batches, faults, shapes, splitAt);
          // Assess
          expectSameOutcome(faulty, clean, `faults ${JSON.stringify([...faults])}`);
          expect(memoryBuckets(faulty.store)).toEqual(
            withoutSumSq(runReferenceModel(records, detection.reference).buckets),
          );
          totals.injected += faulty.schedule.injected.length;
          totals.failures += faulty.failures;
          totals.conflicts += faulty.conflicts;
          for (const f of faulty.schedule.injected)
            totals.byKind[f.fault] = (totals.byKind[f.fault] ?? 0) + 1;
        },
      ),
      lawParameters(runs),
    );
    console.info(
      `[law faults/memory] ${runs} cases, ${totals.injected} faults injected ${JSON.stringify(totals.byKind)}, ` +
        `${totals.failures} failed batches retried (${totals.conflicts} on a version conflict), all converged`,
    );
  });

  it('every call of a fixed run in turn × every fault kind × every retry shape', async () => {
    // Prepare: three batches of two sensors with spikes, late readings and a bad record
    const { batches } = sweepStream();
    const settings: DetectionSettings = SWEEP_SETTINGS;
    const clean = await cleanRun(settings, batches);
    expect(clean.probe.sent.size).toBeGreaterThan(2);
    let runsDone = 0;
    let failures = 0;
    const conflictsByKind: Record<string, number> = {};
    const failuresByKind: Record<string, number> = {};
    // Act + Assess
    for (let call = 1; call <= clean.schedule.calls; call += 1) {
      for (const kind of CALL_FAULTS) {
        for (const shape of ['whole', 'split', 'merge'] as const) {
          const faulty = await runWithFaults(
            settings,
            batches,
            new Map([[call, kind]]),
            [shape],
            [0.5],
          );
          expectSameOutcome(faulty, clean, `${kind} at call ${call}, retried ${shape}`);
          runsDone += 1;
          failures += faulty.failures;
          failuresByKind[kind] = (failuresByKind[kind] ?? 0) + faulty.failures;
          conflictsByKind[kind] = (conflictsByKind[kind] ?? 0) + faulty.conflicts;
        }
      }
    }
    console.info(
      `[sweep/memory] ${clean.schedule.calls} calls × ${CALL_FAULTS.length} fault kinds × 3 retry shapes = ${runsDone} runs, ` +
        `${failures} failed batches ${JSON.stringify(failuresByKind)}, of which version conflicts ${JSON.stringify(conflictsByKind)}; all converged`,
    );
  });
});

describe('law: unkeyed input through the repartition step (in-memory store)', () => {
  const runs = lawRuns(400);
  it(`a sensor's readings from any source partition, repartitioned (copies after its retries included) and delivered any way, give the reference results of the keyed stream (${runs} cases)`, async () => {
    let copies = 0;
    await fc.assert(
      fc.asyncProperty(
        unkeyedStreamArb,
        repartitionRunArb,
        deliveryStepsArb,
        detectionArb,
        async (source, run, steps, detection) => {
          // Prepare: the keyed topic as the repartition step writes it
          const keyed = repartition(source, run);
          const once = withoutCopies(keyed);
          copies += keyed.length - once.length;
          const probe = new PipelineProbe();
          const store = new MemoryWindowStore();
          const process = processorFor(detection.settings, store, probe);
          // Act
          let duplicates = 0;
          for (const batch of deliveryBatches(keyed, steps))
            duplicates += (await process(batch)).duplicates;
          // Assess: the keyed stream without copies, judged one sensor per partition
          const expected = runReferenceModel(once, detection.reference);
          expect(probe.anomalySummary()).toEqual(referenceSummary(expected));
          expect(probe.sent).toEqual(expected.notifications);
          expect(memoryBuckets(store)).toEqual(withoutSumSq(expected.buckets));
          // ...which are exactly the source's readings, each counted once
          expect(memoryBuckets(store)).toEqual(unionAggregates(source, detection.settings.slideMs));
          expect(duplicates).toBeGreaterThanOrEqual(keyed.length - once.length > 0 ? 1 : 0);
        },
      ),
      lawParameters(runs),
    );
    console.info(`[law repartition/memory] ${runs} cases, ${copies} re-produced copies dropped`);
  });

  it(`under faults (lost response, throttle, duplicate request, zombie) at any call, retried whole, split or merged (${lawRuns(300)} cases)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        unkeyedStreamArb,
        repartitionRunArb,
        deliveryStepsArb,
        detectionArb,
        faultPlanArb,
        fc.array(retryShapeArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 3 }),
        async (source, run, steps, detection, plan, shapes, splitAt) => {
          const batches = deliveryBatches(repartition(source, run), steps);
          const clean = await cleanRun(detection.settings, batches);
          const faulty = await runWithFaults(
            detection.settings,
            batches,
            planFrom(plan, clean.schedule.calls),
            shapes,
            splitAt,
          );
          expectSameOutcome(faulty, clean, `faults ${JSON.stringify(plan)}`);
          expect(memoryBuckets(faulty.store)).toEqual(
            unionAggregates(source, detection.settings.slideMs),
          );
        },
      ),
      lawParameters(lawRuns(300)),
    );
  });
});

describe('law: one sensor through two partitions without repartition (in-memory store)', () => {
  const runs = lawRuns(300);
  it(`two partitions' invocations, interleaved at every store call: each partition judges its own copy, counts exact, no conflict (${runs} cases)`, async () => {
    let interleavedCalls = 0;
    await fc.assert(
      fc.asyncProperty(
        unkeyedStreamArb,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
        detectionArb,
        fc.scheduler(),
        async (records, cuts0, cuts1, detection, s) => {
          // Prepare: one store; every call waits for the scheduler, which picks the order
          const inner = new MemoryWindowStore();
          const gate = async <T>(call: () => Promise<T>) => {
            await s.schedule(Promise.resolve(), 'call');
            interleavedCalls += 1;
            return call();
          };
          const store: PartitionStore = {
            limits: inner.limits,
            readRoots: (pids) => gate(() => inner.readRoots(pids)),
            readPages: (keys, now) => gate(() => inner.readPages(keys, now)),
            putPages: async (ws) => {
              for (const w of ws) await gate(() => inner.putPages([w]));
            },
            commitRoot: (pid, root, v) => gate(() => inner.commitRoot(pid, root, v)),
          };
          const probe = new PipelineProbe();
          const parts = [partitionRecords(records, 0), partitionRecords(records, 1)];
          const consumer = async (partition: number, cuts: number[]) => {
            const process = processorFor(detection.settings, store, probe);
            for (const batch of cutAt(parts[partition] ?? [], cuts)) await process(batch);
          };
          // Act
          await s.waitFor(Promise.all([consumer(0, cuts0), consumer(1, cuts1)]));
          // Assess: counts and sums exact over both partitions; each partition's verdicts are
          // those of its own records alone
          expect(memoryBuckets(inner)).toEqual(
            unionAggregates(records, detection.settings.slideMs),
          );
          const expected = [
            ...referenceSummary(runReferenceModel(parts[0] ?? [], detection.reference)),
            ...referenceSummary(runReferenceModel(parts[1] ?? [], detection.reference)),
          ].sort((x, y) => x.alertId.localeCompare(y.alertId));
          expect(probe.anomalySummary()).toEqual(expected);
        },
      ),
      lawParameters(runs),
    );
    console.info(
      `[law two partitions/memory] ${runs} cases, ${interleavedCalls} scheduled store calls`,
    );
  });
});
