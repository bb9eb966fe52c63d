import { describe, expect, it } from 'vitest';
import { evaluate, validateDetector } from '../../functions/core/detectors.ts';
import {
  EWMA_DEFAULTS,
  EWMA_INITIAL,
  type EwmaDetector,
  type EwmaState,
  ewmaAlpha,
  ewmaJudge,
  ewmaLimit,
  ewmaStep,
} from '../../functions/core/ewma.ts';
import { EMPTY_AGGREGATE } from '../../functions/core/types.ts';

const SPEC: EwmaDetector = { kind: 'ewma', ...EWMA_DEFAULTS };

function learn(
  spec: EwmaDetector,
  values: readonly number[],
  from: EwmaState = EWMA_INITIAL,
): EwmaState {
  return values.reduce((state, v) => ewmaStep(spec, state, v), from);
}

/** A noisy but deterministic signal around `level` with standard deviation about `sd`. */
function wobble(level: number, sd: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => level + sd * Math.SQRT2 * Math.sin(i * 1.7));
}

describe('ewma: the weight of a reading', () => {
  it.each([
    [1, 0.5],
    [2, 1 - Math.SQRT1_2],
    [50, 1 - 2 ** (-1 / 50)],
  ])('half-life %d readings → α = %f', (halfLife, alpha) => {
    expect(ewmaAlpha(halfLife)).toBeCloseTo(alpha, 15);
  });

  it('after a half-life of readings, an old reading weighs half as much', () => {
    const alpha = ewmaAlpha(50);
    expect((1 - alpha) ** 50).toBeCloseTo(0.5, 12);
  });
});

describe('ewma: warm-up learns the plain mean and population variance', () => {
  it.each([
    [[10], 10, 0],
    [[10, 20], 15, 25],
    [[2, 4, 4, 4, 5, 5, 7, 9], 5, 4],
  ])('%o → mean %d, variance %d', (values, mean, variance) => {
    // Prepare: a long half-life, so 1/(n+1) is the weight throughout
    const state = learn({ ...SPEC, halfLifeReadings: 1000 }, values);
    // Assess
    expect(state.count).toBe(values.length);
    expect(state.mean).toBeCloseTo(mean, 12);
    expect(state.variance).toBeCloseTo(variance, 12);
  });

  it('never flags during warm-up, however far off a reading is', () => {
    const state = learn(SPEC, wobble(100, 1, SPEC.warmupReadings - 1));
    expect(ewmaJudge(SPEC, state, 1e9).anomaly).toBe(false);
    expect(ewmaJudge(SPEC, ewmaStep(SPEC, state, 100), 1e9).anomaly).toBe(true);
  });

  it('judges the first reading of a sensor against itself: deviation 0, score 0', () => {
    expect(evaluate(SPEC, EMPTY_AGGREGATE, 42, EWMA_INITIAL)).toMatchObject({
      anomaly: false,
      mean: 42,
      count: 0,
      deviation: 0,
      score: 0,
    });
  });
});

describe('ewma: the band', () => {
  const state = (mean: number, variance: number): EwmaState => ({
    ...EWMA_INITIAL,
    count: 100,
    mean,
    variance,
  });

  it.each([
    ['k·σ', state(100, 4), { sigma: 4 }, 8],
    ['1% of |mean| when σ is tiny', state(100, 0.0001), {}, 1],
    ['1% of |mean| below zero too', state(-500, 0), {}, 5],
    ['minDeviation when both are smaller', state(0, 0), { minDeviation: 0.5 }, 0.5],
    ['nothing when all are 0 (a flat zero sensor)', state(0, 0), {}, 0],
  ] as const)('%s', (_name, s, overrides, limit) => {
    expect(ewmaLimit({ ...SPEC, ...overrides }, s)).toBeCloseTo(limit, 12);
  });

  it('flags strictly beyond the band and scores 0.5 at it', () => {
    const s = state(100, 4);
    expect(evaluate(SPEC, EMPTY_AGGREGATE, 108, s)).toMatchObject({
      anomaly: false,
      limit: 8,
      score: 0.5,
    });
    expect(evaluate(SPEC, EMPTY_AGGREGATE, 108.01, s).anomaly).toBe(true);
    expect(evaluate(SPEC, EMPTY_AGGREGATE, 91.9, s).anomaly).toBe(true);
    expect(evaluate(SPEC, EMPTY_AGGREGATE, 150, s).score).toBeGreaterThan(
      evaluate(SPEC, EMPTY_AGGREGATE, 120, s).score,
    );
  });
});

describe('ewma: learning after warm-up', () => {
  const warm = learn(SPEC, wobble(100, 2, 200));

  it('a spike barely moves the baseline or the spread (clipped to the band)', () => {
    // Act
    const after = ewmaStep(SPEC, warm, 10_000);
    // Assess
    expect(ewmaJudge(SPEC, warm, 10_000).anomaly).toBe(true);
    expect(Math.abs(after.mean - warm.mean)).toBeLessThan(0.2 * Math.sqrt(warm.variance));
    expect(after.variance / warm.variance).toBeLessThan(1.25);
    expect(after.run).toBe(1);
  });

  it('a level shift is flagged for levelShiftReadings readings, then becomes the baseline', () => {
    // Act
    const states: EwmaState[] = [];
    let s = warm;
    for (const v of wobble(160, 2, 8)) {
      states.push(s);
      s = ewmaStep(SPEC, s, v);
    }
    const flagged = wobble(160, 2, 8).map(
      (v, i) => ewmaJudge(SPEC, states[i] as EwmaState, v).anomaly,
    );
    // Assess: 5 flagged, then the new level is normal, with the old spread
    expect(flagged).toEqual([true, true, true, true, true, false, false, false]);
    expect(s.mean).toBeGreaterThan(155);
    expect(Math.sqrt(s.variance)).toBeLessThan(3 * Math.sqrt(warm.variance));
  });

  it('out-of-band readings on alternating sides widen the band instead (more noise, same level)', () => {
    const noisier = learn(SPEC, wobble(100, 20, 100), warm);
    expect(Math.sqrt(noisier.variance)).toBeGreaterThan(8);
    expect(ewmaJudge(SPEC, noisier, 120).anomaly).toBe(false);
  });

  it('tracks slow drift without flagging it', () => {
    const drift = Array.from(
      { length: 2000 },
      (_, i) => 100 + i * 0.02 + 2 * Math.SQRT2 * Math.sin(i * 1.7),
    );
    let s = EWMA_INITIAL;
    let flagged = 0;
    for (const v of drift) {
      if (ewmaJudge(SPEC, s, v).anomaly) flagged += 1;
      s = ewmaStep(SPEC, s, v);
    }
    expect(flagged).toBe(0);
    expect(s.mean).toBeCloseTo(140, -1);
  });

  it('flattens magnitudes DynamoDB cannot store to 0', () => {
    const tiny = learn(SPEC, [1e-60, 0, 0]);
    const s = learn(
      { ...SPEC, halfLifeReadings: 1 },
      Array.from({ length: 500 }, () => 0),
      tiny,
    );
    for (const x of [s.mean, s.variance, s.runMean, s.runM2]) {
      expect(x === 0 || Math.abs(x) >= 1e-125).toBe(true);
    }
  });
});

describe('ewma: validation', () => {
  it.each([
    [{ halfLifeReadings: 0 }, /halfLifeReadings/],
    [{ sigma: -1 }, /sigma/],
    [{ warmupReadings: 0.5 }, /warmupReadings/],
    [{ minRelativeDeviation: Number.NaN }, /minRelativeDeviation/],
    [{ minDeviation: -0.1 }, /minDeviation/],
    [{ levelShiftReadings: 0 }, /levelShiftReadings/],
  ])('rejects %o', (overrides, message) => {
    expect(() => validateDetector({ ...SPEC, ...overrides }, 'test')).toThrow(message);
  });
});
