import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryWindowStore } from '../../functions/adapters/memory-window-store.ts';
import { ADAPTIVE_DEFAULTS } from '../../functions/core/adaptive.ts';
import {
  type DetectorSpec,
  ROBUST_DEFAULTS,
  type Verdict,
} from '../../functions/core/detectors.ts';
import {
  adjustVerdict,
  baseOdds,
  compileFeedback,
  FEEDBACK_BOUNDS,
  type FeedbackRecord,
  factorFor,
  feedbackFactor,
  feedbackRecord,
  odds,
  warm,
} from '../../functions/core/feedback.ts';
import type { RawRecord } from '../../functions/core/types.ts';
import type { Evaluation } from '../../functions/ports.ts';
import { createBatchProcessor, type DetectionSettings } from '../../functions/process-batch.ts';
import { lawParameters, lawRuns } from '../helpers/fc-params.ts';
import { toRawRecord } from '../helpers/kafka-events.ts';
import { PipelineProbe } from '../helpers/pipeline-probe.ts';
import { detectionArb, STREAM_NOW_MS, streamArb } from '../helpers/stream-gen.ts';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const DAY = 86_400_000;
const THRESHOLD: DetectorSpec = { kind: 'threshold', threshold: 10 };

const verdictOf = (deviation: number, limit: number, anomaly = deviation > limit): Verdict => ({
  anomaly,
  mean: 0,
  count: 10,
  deviation,
  limit,
  score: deviation / (deviation + limit),
});

const record = (over: Partial<FeedbackRecord> = {}): FeedbackRecord => ({
  alertId: 'sensor-data-0-1',
  sensorId: 's1',
  verdict: 'not-anomaly',
  recordedAtMs: T0,
  expiresAtMs: T0 + 30 * DAY,
  by: 'ops@test',
  ...over,
});

describe('a verdict on a sensor', () => {
  it('not-anomaly at an alert: the same reading is no longer an anomaly, a larger one still is', () => {
    // Prepare: the alert was 14 from the mean against a threshold of 10.
    const alert = verdictOf(14, 10);
    const sensor = compileFeedback([record({ score: alert.score })], T0)('s1');
    expect(sensor).toBeDefined();
    const f = factorFor(sensor as NonNullable<typeof sensor>, THRESHOLD);
    // Act, Assess
    expect(f).toBeCloseTo(1.4 * FEEDBACK_BOUNDS.margin, 10);
    expect(adjustVerdict(THRESHOLD, f, alert).anomaly).toBe(false);
    expect(adjustVerdict(THRESHOLD, f, verdictOf(14.6, 10)).anomaly).toBe(false);
    expect(adjustVerdict(THRESHOLD, f, verdictOf(15, 10)).anomaly).toBe(true);
    // Other sensors are untouched.
    expect(compileFeedback([record({ score: alert.score })], T0)('s2')).toBeUndefined();
  });

  it('is capped at twice the limit: an alert far past it is not taught away', () => {
    const f = feedbackFactor([record({ score: verdictOf(100, 10).score })], 1);
    expect(f).toBe(FEEDBACK_BOUNDS.maxRaise);
    expect(adjustVerdict(THRESHOLD, f, verdictOf(19.9, 10)).anomaly).toBe(false);
    expect(adjustVerdict(THRESHOLD, f, verdictOf(20.1, 10)).anomaly).toBe(true);
    expect(adjustVerdict(THRESHOLD, f, verdictOf(100, 10)).anomaly).toBe(true);
  });

  it('missed at a reading: that reading and larger ones become anomalies, floored at half the limit', () => {
    const missed = verdictOf(7, 10);
    const f = feedbackFactor([record({ verdict: 'missed', score: missed.score })], 1);
    expect(f).toBeCloseTo(0.7 / FEEDBACK_BOUNDS.margin, 10);
    expect(adjustVerdict(THRESHOLD, f, missed).anomaly).toBe(true);
    expect(adjustVerdict(THRESHOLD, f, verdictOf(6, 10)).anomaly).toBe(false);
    const floor = feedbackFactor([record({ verdict: 'missed', score: 0.01 })], 1);
    expect(floor).toBe(FEEDBACK_BOUNDS.minLower);
    expect(adjustVerdict(THRESHOLD, floor, verdictOf(4.9, 10)).anomaly).toBe(false);
  });

  it('without a score moves one step per verdict, within the bounds', () => {
    const up = (n: number) =>
      feedbackFactor(
        Array.from({ length: n }, () => record()),
        1,
      );
    expect(up(1)).toBe(FEEDBACK_BOUNDS.step);
    expect(up(2)).toBe(FEEDBACK_BOUNDS.step ** 2);
    expect(up(10)).toBe(FEEDBACK_BOUNDS.maxRaise);
    const down = feedbackFactor([record({ verdict: 'missed' })], 1);
    expect(down).toBe(1 / FEEDBACK_BOUNDS.step);
  });

  it('the later of two disagreeing verdicts wins, whatever order the store lists them in', () => {
    const first = record({ alertId: 'a', score: 0.6, recordedAtMs: T0 });
    const later = record({ alertId: 'b', verdict: 'missed', score: 0.55, recordedAtMs: T0 + 1 });
    const resolve = compileFeedback([later, first], T0 + 2);
    const f = factorFor(resolve('s1') as NonNullable<ReturnType<typeof resolve>>, THRESHOLD);
    expect(f).toBeCloseTo(odds(0.55) / FEEDBACK_BOUNDS.margin, 10);
  });

  it('applies from when it was recorded until it expires', () => {
    const r = record({ score: 0.6, recordedAtMs: T0, expiresAtMs: T0 + DAY });
    expect(compileFeedback([r], T0 - 1)('s1')).toBeUndefined();
    expect(compileFeedback([r], T0)('s1')).toBeDefined();
    expect(compileFeedback([r], T0 + DAY - 1)('s1')).toBeDefined();
    expect(compileFeedback([r], T0 + DAY)('s1')).toBeUndefined();
  });

  it('never overrules engineering limits, nor the limits detector', () => {
    const limits: DetectorSpec = { kind: 'limits', high: 100 };
    expect(baseOdds(limits)).toBeNull();
    const beyond = { ...verdictOf(5, 0, true), score: 0.6, test: 'limit' as const };
    expect(adjustVerdict(THRESHOLD, 2, beyond)).toBe(beyond);
    expect(adjustVerdict(limits, 2, beyond)).toBe(beyond);
  });

  it('on an alert that names its pattern, applies to that pattern of the sensor only', () => {
    const robust = { kind: 'robust', ...ROBUST_DEFAULTS } as DetectorSpec;
    const sensor = compileFeedback([record({ score: 0.6, test: 'spike' })], T0)('s1');
    const s = sensor as NonNullable<typeof sensor>;
    const spike = { ...verdictOf(1, 1, true), score: 0.6, test: 'spike' as const };
    const shift = { ...spike, test: 'level shift' as const };
    expect(adjustVerdict(robust, factorFor(s, robust, spike.test), spike).anomaly).toBe(false);
    expect(adjustVerdict(robust, factorFor(s, robust, shift.test), shift)).toBe(shift);
    // A verdict without a pattern applies to every pattern.
    const all = compileFeedback([record({ score: 0.6 })], T0)('s1') as typeof s;
    expect(adjustVerdict(robust, factorFor(all, robust, shift.test), shift).anomaly).toBe(false);
    // The alert's pattern comes with it; a limit breach is about the sensor as a whole.
    const alert = { alertId: 'x', sensorId: 's1', score: 0.6 };
    expect(
      feedbackRecord({ verdict: 'not-anomaly', alert: { ...alert, test: 'spike' } }, 'ops', T0)
        .test,
    ).toBe('spike');
    expect(
      feedbackRecord({ verdict: 'not-anomaly', alert: { ...alert, test: 'limit' } }, 'ops', T0)
        .test,
    ).toBeUndefined();
  });

  it('uses the detector score threshold as its base for adaptive and robust', () => {
    const adaptive = { kind: 'adaptive', ...ADAPTIVE_DEFAULTS } as DetectorSpec;
    const robust = { kind: 'robust', ...ROBUST_DEFAULTS } as DetectorSpec;
    expect(baseOdds(adaptive)).toBeCloseTo(odds(ADAPTIVE_DEFAULTS.scoreThreshold), 12);
    expect(baseOdds(robust)).toBeCloseTo(odds(ROBUST_DEFAULTS.scoreThreshold), 12);
    // An adaptive alert at 0.8 (threshold 0.7): not-anomaly makes 0.8 pass no more.
    const f = feedbackFactor([record({ score: 0.8 })], baseOdds(adaptive) as number);
    const v = { ...verdictOf(1, 1, true), score: 0.8 };
    expect(adjustVerdict(adaptive, f, v).anomaly).toBe(false);
  });
});

describe('feedbackRecord (the CLI and API input)', () => {
  it('takes the score from the alert as delivered, or deviation / (deviation + threshold)', () => {
    const alert = {
      alertId: 'sensor-data-3-42',
      sensorId: 'line_1_temp',
      value: 95,
      deviation: 30,
      threshold: 10,
      detector: 'threshold',
      eventTime: '2026-12-01T00:00:00.000Z',
    };
    const r = feedbackRecord({ verdict: 'not-anomaly', alert }, 'ops', T0);
    expect(r).toMatchObject({
      alertId: 'sensor-data-3-42',
      sensorId: 'line_1_temp',
      score: 0.75,
      value: 95,
      eventTimeMs: T0,
      recordedAtMs: T0,
      expiresAtMs: T0 + FEEDBACK_BOUNDS.defaultLifetimeMs,
    });
    expect(
      feedbackRecord({ verdict: 'missed', alert: { ...alert, score: 0.4 } }, 'ops', T0).score,
    ).toBe(0.4);
  });

  it.each([
    [{ verdict: 'not-anomaly', sensorId: 's' }, 'alertId: which alert'],
    [
      { alertId: 'x', verdict: 'nope', sensorId: 's' },
      'verdict: not-anomaly or missed (got "nope")',
    ],
    [{ alertId: 'x', verdict: 'missed' }, 'sensorId: the sensor of the alert'],
    [{ alertId: 'x', verdict: 'missed', sensorId: 's', score: 2 }, 'score: between 0 and 1'],
    [{ alertId: 'x', verdict: 'missed', sensorId: 's', score: 'abc' }, 'score: a finite number'],
    [{ alertId: 'x'.repeat(513), verdict: 'missed', sensorId: 's' }, 'alertId: at most 512 bytes'],
    [{ alertId: 'x', verdict: 'missed', sensorId: 'é'.repeat(129) }, 'sensorId: at most 256 bytes'],
    [{ alertId: 'x', verdict: 'missed', sensorId: 's', expiresInDays: 0 }, 'expiresInDays'],
    [
      { alertId: 'x', verdict: 'missed', sensorId: 's', alert: [1] },
      'alert: the alert as delivered',
    ],
  ])('rejects %j with one line', (input, message) => {
    expect(() => feedbackRecord(input, 'ops', T0)).toThrow(message);
  });
});

const specArb: fc.Arbitrary<DetectorSpec> = fc.oneof(
  fc
    .double({ min: 0.001, max: 1000, noNaN: true })
    .map((threshold) => ({ kind: 'threshold', threshold }) as DetectorSpec),
  fc
    .double({ min: 0.05, max: 0.95, noNaN: true })
    .map(
      (scoreThreshold) =>
        ({ kind: 'adaptive', ...ADAPTIVE_DEFAULTS, scoreThreshold }) as DetectorSpec,
    ),
  fc
    .double({ min: 0.05, max: 0.95, noNaN: true })
    .map(
      (scoreThreshold) => ({ kind: 'robust', ...ROBUST_DEFAULTS, scoreThreshold }) as DetectorSpec,
    ),
);

const verdictsArb = (sensors: readonly string[]) =>
  fc.array(
    fc.record({
      sensorId: fc.constantFrom(...sensors),
      verdict: fc.constantFrom('not-anomaly' as const, 'missed' as const),
      // Mostly near the detectors' limits, where a verdict moves decisions; the edges too.
      score: fc.option(
        fc.oneof(fc.double({ min: 0.3, max: 0.8, noNaN: true }), fc.constantFrom(0, 1, 0.5)),
        { nil: undefined, freq: 6 },
      ),
      // Horizons of days: some verdicts recorded later than now, some expired.
      recordedAtMs: fc.oneof(
        fc.integer({ min: -3 * DAY, max: 0 }),
        fc.integer({ min: -3 * DAY, max: DAY }),
      ),
      lifetimeMs: fc.integer({ min: 1, max: 60 * DAY }),
      id: fc.nat(),
    }),
    { maxLength: 12 },
  );

describe(`the feedback laws (${lawRuns(300)} runs)`, () => {
  it('adjustments stay within [minLower, maxRaise] of the detector limit', () => {
    fc.assert(
      fc.property(
        specArb,
        verdictsArb(['s1']),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.boolean(),
        (spec, verdicts, score, anomaly) => {
          const base = baseOdds(spec) as number;
          const f = feedbackFactor(
            verdicts.map((v) =>
              record({ ...v, alertId: String(v.id), expiresAtMs: v.recordedAtMs + v.lifetimeMs }),
            ),
            base,
          );
          expect(f).toBeGreaterThanOrEqual(FEEDBACK_BOUNDS.minLower);
          expect(f).toBeLessThanOrEqual(FEEDBACK_BOUNDS.maxRaise);
          const v = { ...verdictOf(1, 1, anomaly), score };
          const after = adjustVerdict(spec, f, v);
          if (after.anomaly === v.anomaly) expect(after).toBe(v);
          else if (v.anomaly)
            expect(odds(score)).toBeLessThanOrEqual(base * FEEDBACK_BOUNDS.maxRaise);
          else expect(odds(score)).toBeGreaterThan(base * FEEDBACK_BOUNDS.minLower);
        },
      ),
      lawParameters(300),
    );
  });

  it('through the batch: decisions differ only within the bounds, and deleting every verdict restores them', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(streamArb, noisyStreamArb),
        detectionArb,
        fc.integer({ min: 0, max: 100 }),
        verdictsArb(['sensor_0', 'sensor_1', 'sensor_2', 'sensor_3']),
        async (records, detection, cut, verdicts) => {
          const at = Math.floor((records.length * cut) / 100);
          const stored = verdicts.map((v) =>
            record({
              ...v,
              alertId: String(v.id),
              recordedAtMs: STREAM_NOW_MS + v.recordedAtMs,
              expiresAtMs: STREAM_NOW_MS + v.recordedAtMs + v.lifetimeMs,
            }),
          );
          const plain = await run(detection.settings, records, at, [null, null]);
          const taught = await run(detection.settings, records, at, [stored, null]);
          // After every verdict is deleted: the very decisions of the run that had none.
          expect(taught.second).toEqual(plain.second);
          // Before: a decision changes only where the verdicts may move it.
          const resolve = compileFeedback(stored, STREAM_NOW_MS);
          for (const [i, e] of plain.evaluations.entries()) {
            const t = taught.evaluations[i] as Evaluation;
            expect(t.reading).toEqual(e.reading);
            if (t.verdict.anomaly === e.verdict.anomaly) continue;
            const sensor = resolve(e.reading.sensorId);
            expect(sensor).toBeDefined();
            const base = baseOdds(e.detector) as number;
            const o = odds(e.verdict.score);
            if (e.verdict.anomaly) expect(o).toBeLessThanOrEqual(base * FEEDBACK_BOUNDS.maxRaise);
            else expect(o).toBeGreaterThan(base * FEEDBACK_BOUNDS.minLower);
          }
        },
      ),
      lawParameters(150),
    );
  });
});

describe(`the feedback laws on verdicts about the stream's own alerts (${lawRuns(100)} runs)`, () => {
  it('not-anomaly on an alert silences every later reading of that sensor up to its score (within the cap); missed fires on every one from its score (above the floor)', async () => {
    await fc.assert(
      fc.asyncProperty(
        noisyStreamArb,
        detectionArb,
        fc.array(fc.tuple(fc.boolean(), fc.nat()), { minLength: 1, maxLength: 4 }),
        async (records, detection, picks) => {
          // The operator's verdicts are about readings the detector judged: its own scores,
          // on its alerts more often than their share.
          const plain = await run(detection.settings, records, records.length, [null, null]);
          if (plain.evaluations.length === 0) return;
          const alerts = plain.evaluations.filter((e) => e.verdict.anomaly);
          const stored = picks.map(([onAlert, p], k) => {
            const from = onAlert && alerts.length > 0 ? alerts : plain.evaluations;
            const e = from[p % from.length] as Evaluation;
            return record({
              alertId: `a${k}`,
              sensorId: e.reading.sensorId,
              verdict: e.verdict.anomaly ? 'not-anomaly' : 'missed',
              score: e.verdict.score,
              // The alert's pattern, as the CLI takes it from the alert (never `limit`).
              ...(e.verdict.test === undefined || e.verdict.test === 'limit'
                ? {}
                : { test: e.verdict.test }),
              recordedAtMs: STREAM_NOW_MS - 1000 + k,
              expiresAtMs: STREAM_NOW_MS + DAY,
            });
          });
          const taught = await run(detection.settings, records, records.length, [stored, null]);
          const resolve = compileFeedback(stored, STREAM_NOW_MS);
          for (const [i, e] of plain.evaluations.entries()) {
            const t = taught.evaluations[i] as Evaluation;
            const sensor = resolve(e.reading.sensorId);
            const base = baseOdds(e.detector);
            if (sensor === undefined || base === null || e.verdict.test === 'limit') {
              expect(t.verdict.anomaly).toBe(e.verdict.anomaly);
              continue;
            }
            // The decision is exactly the detector's, filtered at factor × base.
            const f = factorFor(sensor, e.detector, e.verdict.test);
            const o = odds(e.verdict.score);
            const warmed = warm(e.detector, e.verdict);
            const expected =
              f > 1
                ? e.verdict.anomaly && o > base * f
                : f < 1
                  ? e.verdict.anomaly || (warmed && e.verdict.score > 0 && o > base * f)
                  : e.verdict.anomaly;
            expect(t.verdict.anomaly).toBe(expected);
            // In the operator's terms: after not-anomaly at s (the sensor's last word), no
            // alert at or below s comes back unless s was past the cap; after missed at s, every
            // warm reading above the floor and above s fires.
            // The verdicts on this reading's pattern, and those on the sensor as a whole.
            const last = sensor.verdicts
              .filter((v) => v.test === undefined || v.test === (e.verdict.test ?? ''))
              .at(-1);
            if (last === undefined) {
              expect(f).toBe(1);
              continue;
            }
            const s = odds(last.score as number);
            if (
              last.verdict === 'not-anomaly' &&
              s * FEEDBACK_BOUNDS.margin <= base * FEEDBACK_BOUNDS.maxRaise &&
              o <= s
            )
              expect(t.verdict.anomaly).toBe(false);
            if (
              last.verdict === 'missed' &&
              f < 1 &&
              warmed &&
              o > s &&
              o > base * FEEDBACK_BOUNDS.minLower &&
              e.verdict.score > 0
            )
              expect(t.verdict.anomaly).toBe(true);
          }
        },
      ),
      lawParameters(100),
    );
  });
});

/**
 * Two noisy sensors with spikes, 40–300 readings each, a second, a minute or an hour apart (a
 * horizon of up to 12 days): long enough for every detector to warm up and raise alerts.
 */
const noisyStreamArb: fc.Arbitrary<RawRecord[]> = fc
  .record({
    n: fc.integer({ min: 40, max: 300 }),
    seed: fc.integer(),
    intervalMs: fc.constantFrom(1000, 60_000, 3_600_000),
    spikeEvery: fc.integer({ min: 5, max: 40 }),
    level: fc.integer({ min: -50, max: 200 }),
    noise: fc.constantFrom(0.5, 5, 30),
  })
  .map(({ n, seed, intervalMs, spikeEvery, level, noise }) => {
    let x = seed >>> 0;
    const random = () => {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      return x / 2 ** 32;
    };
    const start = STREAM_NOW_MS - n * intervalMs - 60_000;
    return Array.from({ length: 2 * n }, (_, i) => {
      const sensor = i % 2;
      const k = Math.floor(i / 2);
      const spike =
        random() * spikeEvery < 1 ? (random() < 0.5 ? -1 : 1) * noise * (2 + 8 * random()) : 0;
      const value = level + noise * (random() - 0.5) * 2 + spike;
      return toRawRecord({
        topic: 'sensor-data',
        partition: sensor,
        offset: k,
        timestampMs: start + k * intervalMs,
        key: `sensor_${sensor}`,
        value: `sensor_${sensor},${value.toFixed(3)}`,
      });
    });
  });

/** Two batches: the first judged with `verdicts[0]`, the second with `verdicts[1]`. */
async function run(
  settings: DetectionSettings,
  records: readonly RawRecord[],
  at: number,
  verdicts: readonly [FeedbackRecord[] | null, FeedbackRecord[] | null],
) {
  const store = new MemoryWindowStore();
  const probe = new (class extends PipelineProbe {
    readonly evaluations: Evaluation[] = [];
    evaluated(e: Evaluation) {
      this.evaluations.push(e);
    }
  })();
  const batch = (v: FeedbackRecord[] | null) =>
    createBatchProcessor(settings, {
      store,
      publisher: probe.publisher(),
      observer: probe,
      nowMs: () => STREAM_NOW_MS,
      ...(v === null ? {} : { feedback: compileFeedback(v, STREAM_NOW_MS) }),
    });
  await batch(verdicts[0])(records.slice(0, at));
  const firstCount = probe.anomalies.length;
  const firstEvaluations = probe.evaluations.length;
  await batch(verdicts[1])(records.slice(at));
  return {
    second: probe.anomalies.slice(firstCount).map((a) => a.anomaly),
    evaluations: probe.evaluations.slice(0, firstEvaluations),
  };
}
