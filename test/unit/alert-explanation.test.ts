import { describe, expect, it } from 'vitest';
import { toMessage } from '../../functions/adapters/sns-alert-publisher.ts';
import { anomalyJson, emailBody, explanation, smsText } from '../../functions/core/alert-text.ts';
import { robustStep } from '../../functions/core/robust.ts';
import { ROBUST_DEFAULTS, type RobustState } from '../../functions/core/robust-state.ts';
import type { Anomaly } from '../../functions/core/types.ts';

/** A step judged by the robust detector (its first reading: a spike), made an anomaly as the batch path does. */
function stepAnomaly(): Anomaly {
  let state: RobustState | undefined;
  const spec = { kind: 'robust' as const, ...ROBUST_DEFAULTS };
  for (let i = 0; i < 300; i += 1) state = robustStep(spec, state, 10 + (i % 7) * 0.1).state;
  const { judgement: v } = robustStep(spec, state, 14);
  expect(v.anomaly).toBe(true);
  return {
    alertId: 'plant-0-300',
    sensorId: 'press_1',
    value: 14,
    mean: v.mean,
    count: v.count,
    deviation: v.deviation,
    limit: v.limit,
    detector: 'robust',
    sigma: spec.sigma,
    eventTimeMs: Date.UTC(2026, 11, 6),
    severity: 'critical',
    source: { topic: 'plant', partition: 0, offset: 300 },
    ...explanation(v),
  };
}

describe('alerts explain themselves', () => {
  it('the JSON of the log line and the sinks has the test, score and expected band', () => {
    const json = anomalyJson(stepAnomaly(), 0);
    expect(json).toMatchObject({ test: 'spike', detector: 'robust' });
    expect(json.score).toBeGreaterThan(0.5);
    expect(json.score).toBeLessThan(1);
    expect(json.expected).toBeCloseTo(10.3, 0);
    expect(json.expectedLow).toBeLessThan(json.expected as number);
    expect(json.expectedHigh).toBeGreaterThan(json.expected as number);
    expect(json.expectedHigh).toBeLessThan(14);
  });

  it('the email says why in one line; the SMS names the test', () => {
    const anomaly = stepAnomaly();
    expect(emailBody(anomaly, 0)).toMatch(
      /^Why: {8}spike \(score 0\.\d{3}\), expected 10\.\d+ \(normal [\d.]+ … [\d.]+\)$/m,
    );
    expect(smsText(anomaly, 0)).toMatch(/^CRITICAL spike press_1 /);
  });

  it('SNS carries test and score as filterable attributes', () => {
    const anomaly = stepAnomaly();
    const m = toMessage({ anomaly, notify: true, heldBackBefore: 0 });
    expect(m.attributes.test).toEqual({ DataType: 'String', StringValue: 'spike' });
    expect(m.attributes.score?.DataType).toBe('Number');
    expect(Number(m.attributes.score?.StringValue)).toBe(anomaly.score);
  });

  it('an anomaly without an explanation renders as before', () => {
    const { test, score, expected, expectedLow, expectedHigh, ...plain } = stepAnomaly();
    const json = anomalyJson(plain, 0);
    expect(Object.keys(json)).not.toContain('test');
    expect(emailBody(plain, 0)).not.toContain('Why:');
    expect(toMessage({ anomaly: plain, notify: true, heldBackBefore: 0 }).attributes.test).toBe(
      undefined,
    );
  });
});
