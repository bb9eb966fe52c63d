import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryWindowStore } from '../../functions/adapters/memory-window-store.ts';
import { detectorSpecSchema } from '../../functions/config.ts';
import type { MaintenanceWindow } from '../../functions/core/alerting/maintenance.ts';
import { compileAlerting } from '../../functions/core/alerting/policy.ts';
import type { DetectorSpec } from '../../functions/core/detectors.ts';
import type { AlertDecision, RawRecord } from '../../functions/core/types.ts';
import type { BatchReport } from '../../functions/ports.ts';
import { createBatchProcessor, type DetectionSettings } from '../../functions/process-batch.ts';
import { lawParameters, lawRuns } from '../helpers/fc-params.ts';
import { toRawRecord } from '../helpers/kafka-events.ts';
import { PipelineProbe } from '../helpers/pipeline-probe.ts';

/**
 * The maintenance law (docs/alerting-groups.md): a run whose rules hold maintenance windows
 * decides, for every reading outside them, exactly what a run without windows decides on the
 * same stream with the readings inside them removed, and ends with the same state (learned
 * states, cooldowns, window aggregates): learning never sees a muted reading, and muting
 * never changes a decision outside a window. Every in-window reading is notified never.
 */

const T0 = Date.parse('2026-12-04T22:00:00Z');
const DAY = 24 * 3600 * 1000;
/** Each detector with its defaults filled in, as a rules file gives it. */
const DETECTORS: Record<string, DetectorSpec> = Object.fromEntries(
  [
    { kind: 'ewma', warmupReadings: 3 },
    { kind: 'adaptive' },
    { kind: 'robust' },
    { kind: 'zscore', sigma: 2 },
    { kind: 'threshold', threshold: 5 },
  ].map((d) => [d.kind, detectorSpecSchema.parse(d)]),
);

/** Sensor ids in a hierarchy; one near the parser's 256-byte limit. */
const SENSORS = [
  'site-a/line-1/pump-1',
  'site-a/line-1/pump-2',
  'site-a/line-2/pump-1',
  `site-b/line-1/${'x'.repeat(230)}`,
];

type Target = { match: string } | { group: string };
const targetArb: fc.Arbitrary<Target> = fc.constantFrom(
  { match: 'site-a/line-1/*' },
  { match: SENSORS[3] as string },
  { group: 'site-a/line-1' },
  { group: 'site-*' },
  { match: 'site-a/*' },
  { group: 'site-b/line-1' },
);

/** A window, placed on the case's own horizon (so its edges fall among the readings). */
type WindowPlan =
  | { target: Target; from: number; length: number }
  | {
      target: Target;
      days: string[];
      from: number;
      to: number;
      timezone: string;
    };

const windowArb: fc.Arbitrary<WindowPlan> = fc.oneof(
  fc.record({
    target: targetArb,
    from: fc.double({ min: -0.1, max: 1, noNaN: true }),
    length: fc.double({ min: 0.001, max: 0.8, noNaN: true }),
  }),
  fc.record({
    target: targetArb,
    days: fc.uniqueArray(fc.constantFrom('sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'), {
      minLength: 1,
      maxLength: 7,
    }),
    from: fc.integer({ min: 0, max: 24 * 60 - 1 }),
    to: fc.integer({ min: 0, max: 24 * 60 - 1 }),
    timezone: fc.constantFrom('UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata'),
  }),
);

const clock = (m: number) =>
  `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

function windowOf(plan: WindowPlan, horizonMs: number): MaintenanceWindow {
  if ('length' in plan) {
    const start = T0 + Math.floor(plan.from * horizonMs);
    const end = Math.max(start + 1, T0 + Math.floor((plan.from + plan.length) * horizonMs));
    return {
      ...plan.target,
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
    };
  }
  return {
    ...plan.target,
    weekly: {
      days: plan.days as NonNullable<MaintenanceWindow['weekly']>['days'],
      from: clock(plan.from),
      to: clock(plan.to === plan.from ? (plan.to + 1) % (24 * 60) : plan.to),
    },
    timezone: plan.timezone,
  };
}

const readingArb = fc.record({
  sensor: fc.integer({ min: 0, max: SENSORS.length - 1 }),
  // Mostly steady, sometimes a spike: learning detectors learn and alert.
  value: fc.oneof(
    { weight: 8, arbitrary: fc.double({ min: 9, max: 11, noNaN: true }) },
    { weight: 1, arbitrary: fc.double({ min: 40, max: 1e6, noNaN: true }) },
  ),
  // Seconds to hours between readings: horizons of days.
  stepMs: fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 20_000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 6 * 3600 * 1000 }) },
  ),
});

const caseArb = fc.record({
  detector: fc.constantFrom(...Object.keys(DETECTORS)),
  windows: fc.array(windowArb, { minLength: 1, maxLength: 3 }),
  readings: fc.array(readingArb, { minLength: 1, maxLength: 120 }),
  cuts: fc.array(fc.integer({ min: 1, max: 119 }), { maxLength: 6 }),
  partitions: fc.integer({ min: 1, max: 2 }),
});

type Case = typeof caseArb extends fc.Arbitrary<infer C> ? C : never;

function recordsOf(c: Case): RawRecord[] {
  let t = T0;
  const offsets = new Map<number, number>();
  return c.readings.map((r) => {
    t += r.stepMs;
    const sensorId = SENSORS[r.sensor] as string;
    const partition = r.sensor % c.partitions;
    const offset = offsets.get(partition) ?? 0;
    offsets.set(partition, offset + 1);
    return toRawRecord({
      partition,
      offset,
      timestampMs: t,
      key: sensorId,
      value: `${sensorId},${r.value}`,
    });
  });
}

async function run(
  c: Case,
  records: readonly RawRecord[],
  windows: readonly MaintenanceWindow[],
): Promise<{ store: MemoryWindowStore; probe: PipelineProbe; reports: BatchReport[] }> {
  const settings: DetectionSettings = {
    slideMs: 5000,
    windowMs: 30_000,
    defaultDetector: DETECTORS[c.detector] as DetectorSpec,
    rules: [],
    alertCooldownMs: 60_000,
    retentionMarginSeconds: 3 * 24 * 3600,
    ...(windows.length === 0 ? {} : { alerting: { maintenance: windows } }),
  };
  const store = new MemoryWindowStore();
  const probe = new PipelineProbe();
  const process = createBatchProcessor(settings, {
    store,
    publisher: probe.publisher(),
    observer: probe,
    // Processing time after the whole horizon: nothing expires between batches.
    nowMs: () => T0 + 4 * DAY,
  });
  const reports: BatchReport[] = [];
  const cuts = [...new Set(c.cuts.filter((x) => x < c.readings.length))].sort((a, b) => a - b);
  let from = 0;
  for (const to of [...cuts, c.readings.length]) {
    const batch = records.filter((r) => {
      const i = records.indexOf(r);
      return i >= from && i < to;
    });
    if (batch.length > 0) reports.push(await process(batch));
    from = to;
  }
  return { store, probe, reports };
}

const byId = (alerts: readonly AlertDecision[]) =>
  new Map(alerts.map((a) => [a.anomaly.alertId, a] as const));

describe('maintenance windows (law)', () => {
  it(`decide outside the windows as if the readings inside never came, and learn nothing from them (${lawRuns(60)} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const records = recordsOf(c);
        const horizon = Math.max(1, (records.at(-1)?.timestampMs ?? T0) - T0);
        const windows = c.windows.map((w) => windowOf(w, horizon));
        const policy = compileAlerting({ maintenance: windows });
        const sensorOf = (r: RawRecord) =>
          new TextDecoder().decode(r.value as Uint8Array).split(',')[0] as string;
        const inside = new Set(
          records
            .filter((r) => policy.muted(sensorOf(r), r.timestampMs))
            .map((r) => `sensor-data-${r.partition}-${r.offset}`),
        );
        const muted = await run(c, records, windows);
        const reference = await run(
          c,
          records.filter((r) => !inside.has(`sensor-data-${r.partition}-${r.offset}`)),
          [],
        );
        // Outside the windows: the very same decisions (anomaly, notification, held-back count).
        const decided = byId(muted.probe.anomalies);
        expect([...decided.keys()].filter((id) => inside.has(id))).toEqual([]);
        expect(decided).toEqual(byId(reference.probe.anomalies));
        expect(muted.probe.sent).toEqual(reference.probe.sent);
        // The same state: learned, cooldowns, window aggregates.
        expect(muted.store.sensorStates()).toEqual(reference.store.sensorStates());
        expect(muted.store.aggregates()).toEqual(reference.store.aggregates());
        // Every reading is counted; the muted anomalies are counted, none is sent.
        const total = (rs: BatchReport[], k: keyof BatchReport) =>
          rs.reduce((n, r) => n + (r[k] as number), 0);
        expect(total(muted.reports, 'readings')).toBe(records.length);
        expect(total(muted.reports, 'notificationsMuted')).toBeLessThanOrEqual(inside.size);
      }),
      lawParameters(60),
    );
  }, 120_000);
});
