import fc from 'fast-check';
import type { RawRecord } from '../../functions/core/types.ts';
import type { DetectionSettings } from '../../functions/process-batch.ts';
import { toRawRecord } from './kafka-events.ts';
import type { ReferenceConfig } from './reference-model.ts';

export const TOPIC = 'sensor-data';
const START_MS = Date.parse('2026-11-21T10:00:00Z');

interface GenRecord {
  readonly sensor: number;
  readonly kind: 'normal' | 'spike' | 'invalid';
  readonly value: number;
  readonly advanceMs: number;
  /** When set, the reading carries its own event time this far before the record time. */
  readonly lateByMs: number | null;
}

const genRecord: fc.Arbitrary<GenRecord> = fc.record({
  sensor: fc.integer({ min: 0, max: 3 }),
  kind: fc.constantFrom('normal', 'normal', 'normal', 'normal', 'normal', 'spike', 'invalid'),
  value: fc.integer({ min: 40, max: 60 }),
  advanceMs: fc.integer({ min: 0, max: 3000 }),
  lateByMs: fc.option(fc.integer({ min: 0, max: 20_000 }), { freq: 4 }),
});

/**
 * Streams of sensor readings keyed by sensor (sensor i always on partition i mod 2), with
 * spikes, late (out-of-order) readings and invalid records mixed in, in produce order.
 */
export const streamArb: fc.Arbitrary<RawRecord[]> = fc
  .array(genRecord, { minLength: 1, maxLength: 60 })
  .map((gens) => {
    const offsets = [0, 0];
    let timeMs = START_MS;
    return gens.map((g) => {
      timeMs += g.advanceMs;
      const partition = g.sensor % 2;
      const offset = offsets[partition] ?? 0;
      offsets[partition] = offset + 1;
      const sensorId = `sensor_${g.sensor}`;
      const value = g.kind === 'spike' ? g.value * 3 + 20 : g.value;
      const text =
        g.kind === 'invalid'
          ? `${sensorId},not-a-number`
          : g.lateByMs === null
            ? `${sensorId},${value}.5`
            : `${sensorId},${value},${timeMs - g.lateByMs}`;
      return toRawRecord({
        topic: TOPIC,
        partition,
        offset,
        timestampMs: timeMs,
        key: sensorId,
        value: text,
      });
    });
  });

/** Short memory, so that 60-record streams warm up, flag, clip and re-baseline. */
const EWMA_FOR_LAWS = {
  kind: 'ewma',
  halfLifeReadings: 4,
  sigma: 2,
  warmupReadings: 3,
  minRelativeDeviation: 0.01,
  minDeviation: 0,
  levelShiftReadings: 2,
} as const;

/** Short memory and no warm-up, so that a few readings per sensor flag, go quiet and flag again. */
const ADAPTIVE_FOR_LAWS = {
  kind: 'adaptive',
  halfLifeReadings: 4,
  envelopeHalfLifeReadings: 2,
  extremeHalfLifeReadings: 20,
  sigma: 1,
  extremeMargin: 0.05,
  extremeMaturityReadings: 10,
  scoreThreshold: 0.5,
  warmupReadings: 1,
  refractoryReadings: 1,
  minSpreadFraction: 0.01,
  minDeviation: 0,
} as const;

/** Short memory and no warm-up, limits and persistence on, so every branch of robust is met. */
const ROBUST_FOR_LAWS = {
  kind: 'robust',
  halfLifeReadings: 4,
  baselineHalfLifeReadings: 20,
  smoothingHalfLifeReadings: 2,
  extremeHalfLifeReadings: 20,
  sigma: 2,
  driftSigma: 2,
  varianceRatio: 2,
  flatReadings: 2,
  extremeMargin: 0.05,
  scoreThreshold: 0.5,
  warmupReadings: 2,
  refractoryReadings: 1,
  minDeviation: 0,
  persistenceReadings: 1,
  persistenceWindow: 2,
  direction: 'both',
  limits: { high: 140 },
} as const;

/** Cut points as fractions of the stream. */
export const cutsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 });

export const detectionArb: fc.Arbitrary<{
  settings: DetectionSettings;
  reference: ReferenceConfig;
}> = fc
  .constantFrom<ReferenceConfig['detector']>(
    { kind: 'threshold', threshold: 50 },
    { kind: 'zscore', sigma: 1.5, minCount: 3, minDeviation: 5 },
    EWMA_FOR_LAWS,
    ADAPTIVE_FOR_LAWS,
    ROBUST_FOR_LAWS,
    {
      kind: 'ewma',
      halfLifeReadings: 2.5,
      sigma: 1.5,
      warmupReadings: 2,
      minRelativeDeviation: 0,
      minDeviation: 3,
      levelShiftReadings: 3,
    },
  )
  .chain((detector) =>
    // Half the time sensor_1 and sensor_2 get their own detectors by rule, so learning and
    // window detectors share batches, partitions and state items. The freshness limit is
    // off, past the whole stream, or inside it (a catch-up that ends mid-stream: readings of
    // the stream's first minute are stale at STREAM_NOW_MS); a rule may set sensor_1's.
    fc
      .tuple(
        fc.boolean(),
        fc.constantFrom(0, 3540, 3700),
        fc.option(fc.constantFrom(0, 3570), { freq: 2 }),
      )
      .map(([mixed, freshnessSeconds, sensor1Freshness]) => {
        const perSensor: Record<string, ReferenceConfig['detector']> = mixed
          ? {
              sensor_1: { kind: 'threshold', threshold: 50 },
              sensor_2: EWMA_FOR_LAWS,
              sensor_3: ADAPTIVE_FOR_LAWS,
              sensor_0: ROBUST_FOR_LAWS,
            }
          : {};
        return {
          settings: {
            slideMs: 5000,
            windowMs: 10_000,
            defaultDetector: detector,
            rules: Object.entries(perSensor).map(([match, d]) => ({
              match,
              detector: d,
              ...(match === 'sensor_1' && sensor1Freshness !== null
                ? { freshnessSeconds: sensor1Freshness }
                : {}),
            })),
            alertCooldownMs: 10_000,
            freshnessSeconds,
            retentionMarginSeconds: 3600,
          },
          reference: {
            slideMs: 5000,
            windowMs: 10_000,
            detector,
            alertCooldownMs: 10_000,
            perSensor,
            nowMs: STREAM_NOW_MS,
            freshnessSeconds,
            ...(mixed && sensor1Freshness !== null
              ? { freshnessBySensor: { sensor_1: sensor1Freshness } }
              : {}),
          },
        };
      }),
  );

/** The processing clock used with generated streams: shortly after them, so nothing expires. */
export const STREAM_NOW_MS = START_MS + 3_600_000;

/**
 * Streams at the dimensions where state layouts break: fleets of 1,000–2,600 sensors (more
 * than one page of each kind per partition), ids up to 256 bytes (the parser's limit),
 * horizons of days and outages of minutes between readings. Every sensor reports once at the
 * start, then random sensors go on (spikes, late readings, invalid records among them).
 */
export const wideStreamArb: fc.Arbitrary<RawRecord[]> = fc
  .record({
    fleet: fc.integer({ min: 1000, max: 2600 }),
    idBytes: fc.integer({ min: 8, max: 256 }),
    tail: fc.array(
      fc.record({
        sensor: fc.nat(),
        kind: fc.constantFrom('normal', 'normal', 'normal', 'spike', 'invalid'),
        value: fc.integer({ min: 40, max: 60 }),
        // Mostly seconds; now and then an outage of minutes or a jump of hours to two days.
        advanceMs: fc.oneof(
          { weight: 8, arbitrary: fc.integer({ min: 0, max: 3000 }) },
          { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 15 * 60_000 }) },
          { weight: 1, arbitrary: fc.integer({ min: 3_600_000, max: 2 * 86_400_000 }) },
        ),
        lateByMs: fc.option(fc.integer({ min: 0, max: 20_000 }), { freq: 4 }),
      }),
      { minLength: 1, maxLength: 60 },
    ),
  })
  .map(({ fleet, idBytes, tail }) => {
    const id = (i: number) => {
      const suffix = `-${i}`;
      return `${'s'.repeat(Math.max(1, idBytes - suffix.length))}${suffix}`;
    };
    const offsets = [0, 0];
    let timeMs = START_MS;
    const record = (sensor: number, text: string) => {
      const partition = sensor % 2;
      const offset = offsets[partition] ?? 0;
      offsets[partition] = offset + 1;
      return toRawRecord({
        topic: TOPIC,
        partition,
        offset,
        timestampMs: timeMs,
        key: id(sensor),
        value: text,
      });
    };
    const records = Array.from({ length: fleet }, (_, s) => record(s, `${id(s)},50`));
    for (const g of tail) {
      timeMs += g.advanceMs;
      const s = g.sensor % fleet;
      const value = g.kind === 'spike' ? g.value * 3 + 20 : g.value;
      records.push(
        record(
          s,
          g.kind === 'invalid'
            ? `${id(s)},not-a-number`
            : g.lateByMs === null
              ? `${id(s)},${value}.5`
              : `${id(s)},${value},${timeMs - g.lateByMs}`,
        ),
      );
    }
    return records;
  });
