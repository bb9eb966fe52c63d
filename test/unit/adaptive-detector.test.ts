import { describe, expect, it } from 'vitest';
import { configFromEnv, parseRulesFile } from '../../functions/config.ts';
import {
  ADAPTIVE_DEFAULTS,
  type AdaptiveDetector,
  type AdaptiveState,
  adaptiveStep,
} from '../../functions/core/adaptive.ts';
import {
  LIKELIHOOD_INITIAL,
  likelihoodStep,
  logLikelihood,
  normalTail,
} from '../../functions/core/likelihood.ts';
import { mulberry32 } from '../../local/simulator/readings.ts';

const SPEC: AdaptiveDetector = { kind: 'adaptive', ...ADAPTIVE_DEFAULTS };

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function noise(n: number, seed: number, level = 0, sd = 1): number[] {
  const random = mulberry32(seed);
  return Array.from({ length: n }, () => level + sd * gaussian(random));
}

function run(values: readonly number[], spec = SPEC) {
  let state: AdaptiveState | undefined;
  const scores: number[] = [];
  const anomalies: number[] = [];
  for (const [i, v] of values.entries()) {
    const r = adaptiveStep(spec, state, v);
    state = r.state;
    scores.push(r.judgement.score);
    if (r.judgement.anomaly) anomalies.push(i);
  }
  return { scores, anomalies, state: state as AdaptiveState };
}

describe('likelihood', () => {
  it('normal tail: Q(0) = 0.5, Q(1.96) ≈ 0.025, Q(−3) ≈ 0.99865, Q(40) = 0 without NaN', () => {
    expect(normalTail(0)).toBeCloseTo(0.5, 7);
    expect(normalTail(1.959964)).toBeCloseTo(0.025, 6);
    expect(normalTail(-3)).toBeCloseTo(0.9986501, 6);
    expect(normalTail(40)).toBeGreaterThanOrEqual(0);
    expect(normalTail(40)).toBeLessThan(1e-300);
  });

  it('log scale: 0.5 → 0.03, 0.99999 → 0.5, 1 → 1', () => {
    expect(logLikelihood(0.5)).toBeCloseTo(0.0301, 4);
    expect(logLikelihood(0.99999)).toBeCloseTo(0.5, 3);
    expect(logLikelihood(1)).toBeCloseTo(1, 9);
  });

  it('an ordinary raw score is near 0.5, one far above the long-term distribution near 1', () => {
    const params = { longHalfLifeReadings: 500, shortHalfLifeReadings: 1, minVariance: 0.0003 };
    let state = LIKELIHOOD_INITIAL;
    const random = mulberry32(3);
    for (let i = 0; i < 2000; i += 1) state = likelihoodStep(params, state, 0.1 * random()).state;
    expect(likelihoodStep(params, state, state.mean).likelihood).toBeLessThan(0.7);
    expect(likelihoodStep(params, state, 0.9).likelihood).toBeGreaterThan(0.9999);
  });
});

describe('adaptive detector', () => {
  it('flags a spike once and the normal reading after it not at all', () => {
    const values = noise(600, 1, 50, 2);
    values[400] = 80;
    const r = run(values);
    expect(r.anomalies).toEqual([400]);
    expect(r.scores[401]).toBeLessThan(SPEC.scoreThreshold);
  });

  it('judges a spike against the readings before it: one right after warm-up is caught', () => {
    const values = noise(200, 2, 50, 2);
    values[SPEC.warmupReadings + 1] = 90;
    expect(run(values).anomalies).toEqual([SPEC.warmupReadings + 1]);
  });

  it('a level shift is one anomaly, not one per reading at the new level', () => {
    const values = noise(3000, 3, 100, 1).map((v, i) => (i >= 1500 ? v + 15 : v));
    expect(run(values).anomalies).toEqual([1500]);
  });

  it('gives the same scores and verdicts at any scale and offset', () => {
    const base = noise(1500, 4, 0, 1).map((v, i) => (i === 900 ? v + 12 : v));
    const small = run(base.map((v) => 0.001 * v));
    const huge = run(base.map((v) => 10_000 + 100 * v));
    expect(small.anomalies).toEqual([900]);
    expect(huge.anomalies).toEqual(small.anomalies);
    for (const i of [100, 500, 900, 1400]) {
      expect(huge.scores[i] as number).toBeCloseTo(small.scores[i] as number, 6);
    }
  });

  it('a flat sensor stays quiet, and its first change is one anomaly', () => {
    const flat = Array.from({ length: 800 }, (_, i) => (i >= 600 ? 1 : 0));
    const r = run(flat);
    expect(r.anomalies).toEqual([600]);
    expect(Math.max(...r.scores.slice(0, 600))).toBeLessThan(0.1);
    expect(r.scores[600]).toBeGreaterThan(0.9);
  });

  it('noise alone is rarely flagged: under 1 in 2000 readings', () => {
    expect(run(noise(20_000, 5, 20, 3)).anomalies.length).toBeLessThan(10);
  });

  it('scores lie in [0, 1]; the state is a small object of finite numbers, the same bits each run', () => {
    const values = noise(5000, 6, 7, 0.5).map((v, i) => (i % 997 === 0 ? v * 5 : v));
    const a = run(values);
    const b = run(values);
    expect(a.scores.every((s) => s >= 0 && s <= 1)).toBe(true);
    expect(b.state).toEqual(a.state);
    expect(b.scores).toEqual(a.scores);
    for (const v of Object.values(a.state)) expect(Number.isFinite(v)).toBe(true);
    expect(JSON.stringify(a.state).length).toBeLessThan(10 * 1024);
  });

  it('is quiet during warm-up', () => {
    const values = noise(100, 7, 0, 1);
    values[5] = 100;
    expect(run(values).anomalies).toEqual([]);
  });
});

describe('adaptive detector settings', () => {
  const base = { TABLE_NAME: 't', ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:1:t' };

  it('the function reads DETECTOR=adaptive and its ADAPTIVE_* variables', () => {
    const config = configFromEnv({ ...base, DETECTOR: 'adaptive', ADAPTIVE_SIGMA: '3' });
    expect(config.defaultDetector).toEqual({ ...SPEC, sigma: 3 });
  });

  it('names a bad variable, and a rules file takes the same parameters', () => {
    expect(() =>
      configFromEnv({ ...base, DETECTOR: 'adaptive', ADAPTIVE_SCORE_THRESHOLD: '1.5' }),
    ).toThrow(/ADAPTIVE_SCORE_THRESHOLD: .*"1.5"/);
    const file = parseRulesFile('{"default": {"kind": "adaptive", "refractoryReadings": 10}}', 'x');
    expect(file.defaultDetector).toEqual({ ...SPEC, refractoryReadings: 10 });
  });
});
