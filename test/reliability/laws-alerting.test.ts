import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryDigestStore } from '../../functions/adapters/memory-digest-store.ts';
import { MemoryWindowStore } from '../../functions/adapters/memory-window-store.ts';
import type { Digest } from '../../functions/core/alerting/digest.ts';
import type { AlertDecision, RawRecord } from '../../functions/core/types.ts';
import { type DigestPublisher, sendDigests } from '../../functions/digest/send-digests.ts';
import { createBatchProcessor } from '../../functions/process-batch.ts';
import {
  FaultPlan,
  FaultyStore,
  faultyPublisher,
  InjectedFault,
} from '../helpers/faulty-memory-store.ts';
import { lawParameters, lawRuns } from '../helpers/fc-params.ts';
import { cutAt } from '../helpers/kafka-events.ts';
import { PipelineProbe } from '../helpers/pipeline-probe.ts';
import { cutsArb, detectionArb, STREAM_NOW_MS, streamArb } from '../helpers/stream-gen.ts';

const PERIOD_S = 60;

/**
 * Digests by time under crashes (docs/alerting.md): a crash after any store or SNS call (the
 * call landed, its response lost), the batch retried whole, processing time moving on between
 * invocations (so retries fall in later periods and periods close mid-stream). Every decision
 * the partitions committed is in exactly one period's digest: none lost, none twice.
 */
async function runWithCrash(
  records: readonly RawRecord[],
  cuts: number[],
  settings: Parameters<typeof createBatchProcessor>[0],
  failAt: number | null,
  advancesMs: readonly number[],
) {
  const inner = new MemoryWindowStore();
  const probe = new PipelineProbe();
  const plan = new FaultPlan(failAt);
  let now = STREAM_NOW_MS;
  let invocations = 0;
  const run = createBatchProcessor(settings, {
    store: new FaultyStore(inner, plan),
    publisher: faultyPublisher(probe.publisher(), plan),
    observer: probe,
    nowMs: () => {
      now += advancesMs[invocations % advancesMs.length] ?? 0;
      invocations += 1;
      return now;
    },
  });
  let failures = 0;
  for (const batch of cutAt(records, cuts)) {
    for (;;) {
      try {
        await run(batch);
        break;
      } catch (error) {
        if (!(error instanceof InjectedFault)) throw error;
        failures += 1;
      }
    }
  }
  return { inner, probe, plan, failures, endMs: now };
}

/** Every committed decision once, by alert id (a retry tells the same decision again). */
function decisions(probe: PipelineProbe): Map<string, AlertDecision> {
  return new Map(probe.anomalies.map((d) => [d.anomaly.alertId, d]));
}

async function allDigests(inner: MemoryWindowStore, endMs: number, publisher?: DigestPublisher) {
  const sent: Digest[] = [];
  const digests = new MemoryDigestStore(inner);
  // From the period before the stream's first batch: every period the run touched.
  await digests.advanceCursor(null, Math.floor(STREAM_NOW_MS / 60_000) * 60_000 - 60_000);
  const deps = {
    digests,
    partitions: inner,
    publisher: publisher ?? { publishDigest: async (d: Digest) => void sent.push(d) },
    periodMs: PERIOD_S * 1000,
    graceMs: 0,
    maxPeriods: 10_000,
  };
  await sendDigests(deps, endMs + 3 * PERIOD_S * 1000);
  return { sent, deps };
}

describe('law: email digests by time, exactly once under crashes', () => {
  const runs = lawRuns(200);
  it(`every committed decision is counted in exactly one period's digest (${runs} cases)`, async () => {
    let crashed = 0;
    await fc.assert(
      fc.asyncProperty(
        streamArb,
        cutsArb,
        detectionArb,
        fc.option(fc.nat({ max: 80 }), { freq: 4 }),
        fc.array(fc.integer({ min: 0, max: 90_000 }), { minLength: 1, maxLength: 5 }),
        async (records, cuts, detection, failAt, advances) => {
          // Act
          const settings = { ...detection.settings, digestPeriodSeconds: PERIOD_S };
          const run = await runWithCrash(records, cuts, settings, failAt, advances);
          crashed += run.failures;
          const { sent } = await allDigests(run.inner, run.endMs);
          // Assess: the digests' counts are the committed decisions, each once
          const decided = [...decisions(run.probe).values()];
          const total = (k: keyof Digest['counts']) => sent.reduce((n, d) => n + d.counts[k], 0);
          expect(total('alerts')).toBe(decided.length);
          expect(total('notified')).toBe(decided.filter((d) => d.notify).length);
          expect(total('stale')).toBe(decided.filter((d) => d.stale === true).length);
          expect(total('escalated')).toBe(decided.filter((d) => d.escalated === true).length);
          expect(total('heldBack')).toBe(
            decided.filter((d) => !d.notify && d.stale !== true).length,
          );
          const listed = sent.flatMap((d) => d.listed.map((e) => e.alertId));
          expect(new Set(listed).size).toBe(listed.length);
          for (const id of listed) expect(decisions(run.probe).has(id)).toBe(true);
          // One digest per period at most, most severe first
          const periods = sent.map((d) => d.periodStartMs);
          expect(new Set(periods).size).toBe(periods.length);
          for (const d of sent)
            for (let i = 1; i < d.listed.length; i += 1)
              expect(
                (d.listed[i - 1]?.severity === 'critical' ? 0 : 1) <=
                  (d.listed[i]?.severity === 'critical' ? 0 : 1),
              ).toBe(true);
        },
      ),
      lawParameters(runs),
    );
    expect(crashed).toBeGreaterThan(0);
  });

  it('a digest whose publish response is lost is sent again by the next run, and only it', async () => {
    await fc.assert(
      fc.asyncProperty(
        streamArb,
        detectionArb,
        fc.nat({ max: 5 }),
        async (records, detection, k) => {
          // Prepare: a committed run over several periods, and a publisher whose (k+1)-th
          // publish lands and then fails (the response lost)
          const settings = { ...detection.settings, digestPeriodSeconds: PERIOD_S };
          const run = await runWithCrash(records, [0.3, 0.6], settings, null, [40_000]);
          const clean = await allDigests(run.inner, run.endMs);
          const published: number[] = [];
          let lost: number | null = null;
          const flaky: DigestPublisher = {
            async publishDigest(d) {
              published.push(d.periodStartMs);
              if (published.length === k + 1) {
                lost = d.periodStartMs;
                throw new Error('response lost');
              }
            },
          };
          const digests = new MemoryDigestStore(run.inner);
          await digests.advanceCursor(null, Math.floor(STREAM_NOW_MS / 60_000) * 60_000 - 60_000);
          const deps = { ...clean.deps, digests, publisher: flaky };
          // Act: runs until one succeeds, then one more
          const end = run.endMs + 3 * PERIOD_S * 1000;
          for (let i = 0; i < 3; i += 1) await sendDigests(deps, end).catch(() => undefined);
          // Assess: every period of the clean run sent, the lost one twice, the others once
          const counts = new Map<number, number>();
          for (const p of published) counts.set(p, (counts.get(p) ?? 0) + 1);
          expect([...counts.keys()].sort()).toEqual(clean.sent.map((d) => d.periodStartMs).sort());
          for (const [p, n] of counts) expect(n).toBe(p === lost ? 2 : 1);
        },
      ),
      lawParameters(50),
    );
  });
});
