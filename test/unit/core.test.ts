import { describe, expect, it } from 'vitest';
import {
  anomalyLine,
  emailBody,
  emailSubject,
  pythonFloat,
  smsText,
} from '../../functions/core/alert-text.ts';
import { decideNotification, INITIAL_COOLDOWN } from '../../functions/core/cooldown.ts';
import { compileRules } from '../../functions/core/detector-rules.ts';
import { DEFAULT_DETECTOR, evaluate, score } from '../../functions/core/detectors.ts';
import type { Anomaly } from '../../functions/core/types.ts';
import {
  bucketStartMs,
  combine,
  validateWindowSpec,
  windowBucketStarts,
} from '../../functions/core/windows.ts';

const SPEC = { slideMs: 5000, windowMs: 10_000 };

describe('windows', () => {
  it.each([
    [0, 0],
    [4999, 0],
    [5000, 5000],
    [12_345, 10_000],
  ])('bucket of %i ms starts at %i', (t, start) => {
    expect(bucketStartMs(t, SPEC)).toBe(start);
  });

  it('a window is the k buckets ending with the reading’s own, oldest first', () => {
    expect(windowBucketStarts(12_345, SPEC)).toEqual([5000, 10_000]);
    expect(windowBucketStarts(12_345, { slideMs: 1000, windowMs: 3000 })).toEqual([
      10_000, 11_000, 12_000,
    ]);
  });

  it.each([
    [{ slideMs: 0, windowMs: 10 }],
    [{ slideMs: 5000, windowMs: 12_000 }],
    [{ slideMs: 5000, windowMs: 2500 }],
  ])('rejects %o with a message naming the values', (spec) => {
    expect(() => validateWindowSpec(spec)).toThrow(/slide|window/);
  });

  it('combines aggregates', () => {
    expect(
      combine([
        { count: 1, sum: 2, sumSq: 4 },
        { count: 2, sum: 3, sumSq: 5 },
      ]),
    ).toEqual({ count: 3, sum: 5, sumSq: 9 });
  });
});

describe('detectors', () => {
  it('threshold: the Flink rule, strictly greater than 50', () => {
    // window of 100 and 0: mean 50, deviation 50 → not an anomaly; 101 → 50.5 → anomaly
    expect(evaluate(DEFAULT_DETECTOR, { count: 2, sum: 100, sumSq: 10_000 }, 100).anomaly).toBe(
      false,
    );
    const v = evaluate(DEFAULT_DETECTOR, { count: 2, sum: 101, sumSq: 10_201 }, 101);
    expect(v).toMatchObject({ anomaly: true, mean: 50.5, deviation: 50.5, limit: 50 });
  });

  it('zscore needs minCount, k·σ and minDeviation', () => {
    const spec = { kind: 'zscore', sigma: 2, minCount: 5, minDeviation: 1 } as const;
    // values 10,10,10,10,30: mean 14, std 8, deviation of 30 = 16 = 2σ → not strictly greater
    const window = { count: 5, sum: 70, sumSq: 4 * 100 + 900 };
    expect(evaluate(spec, window, 30)).toMatchObject({ anomaly: false, limit: 16 });
    const tight = { ...spec, sigma: 1.9 };
    expect(evaluate(tight, window, 30).anomaly).toBe(true);
    expect(evaluate({ ...tight, minCount: 6 }, window, 30).anomaly).toBe(false);
    expect(evaluate({ ...tight, minDeviation: 20 }, window, 30).anomaly).toBe(false);
  });

  it('score is 0.5 at the limit and grows past it', () => {
    expect(score(50, 50)).toBe(0.5);
    expect(score(0, 50)).toBe(0);
    expect(score(100, 50)).toBeGreaterThan(score(60, 50));
  });
});

describe('detector rules', () => {
  const z = (sigma: number) => ({ kind: 'zscore', sigma, minCount: 5, minDeviation: 0 }) as const;
  const resolve = compileRules(DEFAULT_DETECTOR, [
    { match: 'line_*', detector: z(3) },
    { match: 'line_1_*', detector: z(4) },
    { match: 'line_1_boiler', detector: z(5) },
    { match: 'pump-?', detector: { kind: 'threshold', threshold: 10 } },
  ]);

  it.each([
    ['line_1_boiler', z(5)],
    ['line_1_pump', z(4)],
    ['line_2_pump', z(3)],
    ['pump-7', { kind: 'threshold', threshold: 10 }],
    ['pump-17', DEFAULT_DETECTOR],
    ['other', DEFAULT_DETECTOR],
  ])('%s → most specific rule', (sensorId, expected) => {
    expect(resolve(sensorId)).toEqual(expected);
  });

  it('rejects an invalid rule with its index and pattern', () => {
    expect(() =>
      compileRules(DEFAULT_DETECTOR, [
        { match: 'a*', detector: { kind: 'threshold', threshold: -1 } },
      ]),
    ).toThrow(/rule 0 \(a\*\)/);
  });
});

describe('cooldown', () => {
  it('notifies once per cooldown of event time and reports how many were held back', () => {
    const first = decideNotification(INITIAL_COOLDOWN, 1000, 60_000);
    const second = decideNotification(first.next, 30_000, 60_000);
    const third = decideNotification(second.next, 50_000, 60_000);
    const fourth = decideNotification(third.next, 61_000, 60_000);
    expect([first.notify, second.notify, third.notify, fourth.notify]).toEqual([
      true,
      false,
      false,
      true,
    ]);
    expect(fourth.heldBackBefore).toBe(2);
    expect(fourth.next).toEqual({ lastNotifiedEventTimeMs: 61_000, heldBack: 0 });
  });

  it('holds back an out-of-order anomaly older than the last notification', () => {
    const first = decideNotification(INITIAL_COOLDOWN, 500_000, 60_000);
    expect(decideNotification(first.next, 100_000, 60_000).notify).toBe(false);
  });
});

describe('alert text', () => {
  const anomaly: Anomaly = {
    alertId: 'sensor-data-0-42',
    sensorId: 'sensor_1',
    value: 150,
    mean: 59.2083,
    count: 12,
    deviation: 90.79,
    limit: 50,
    detector: 'threshold',
    eventTimeMs: Date.parse('2026-11-21T10:00:00Z'),
    severity: 'warning',
    source: { topic: 'sensor-data', partition: 0, offset: 42 },
  };

  it('prints the Flink job’s line', () => {
    expect(anomalyLine(anomaly)).toBe('ANOMALY → sensor_1: value=150.0, avg=59.21');
    expect(anomalyLine({ ...anomaly, value: 45, mean: 112.5 })).toBe(
      'ANOMALY → sensor_1: value=45.0, avg=112.5',
    );
    expect(pythonFloat(59.2)).toBe('59.2');
  });

  it('keeps SMS short and email subjects single-line printable ASCII', () => {
    const hostile = { ...anomaly, sensorId: `Ünicode-${'x'.repeat(300)}` };
    expect(smsText(hostile, 3).length).toBeLessThanOrEqual(140);
    const subject = emailSubject(hostile);
    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
  });

  it('says in the email how many anomalies were held back', () => {
    expect(emailBody(anomaly, 4)).toContain('4 further anomalies');
    expect(smsText(anomaly, 4)).toContain('+4 held back');
  });
});
