import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ADAPTIVE_DEFAULTS } from '../../functions/core/adaptive.ts';
import {
  type LearnedState,
  type LearningDetector,
  learningStep,
  learningStepInPlace,
  type WorkingVerdict,
  workingLearnedState,
} from '../../functions/core/detectors.ts';
import { EWMA_DEFAULTS } from '../../functions/core/ewma.ts';
import { ROBUST_DEFAULTS } from '../../functions/core/robust-state.ts';
import { lawParameters, lawRuns } from '../helpers/fc-params.ts';

/**
 * The handler steps a batch's learned state in place (learningStepInPlace); the backtest's
 * reference, the reference model and the unit tests use the pure learningStep. Both must give
 * the same bits on every stream, or a retried batch, the backtest and the handler would part.
 */

const positive = (min: number, max: number) =>
  fc.double({ min, max, noNaN: true, noDefaultInfinity: true });

const ewmaArb: fc.Arbitrary<LearningDetector> = fc.record({
  kind: fc.constant('ewma' as const),
  halfLifeReadings: fc.oneof(fc.constant(EWMA_DEFAULTS.halfLifeReadings), positive(0.5, 500)),
  sigma: fc.oneof(fc.constant(EWMA_DEFAULTS.sigma), positive(0.5, 8)),
  warmupReadings: fc.integer({ min: 1, max: 40 }),
  minRelativeDeviation: fc.constantFrom(0, 0.01, 0.1),
  minDeviation: fc.constantFrom(0, 0.5),
  levelShiftReadings: fc.integer({ min: 1, max: 8 }),
});

const adaptiveArb: fc.Arbitrary<LearningDetector> = fc.record({
  kind: fc.constant('adaptive' as const),
  halfLifeReadings: fc.oneof(fc.constant(ADAPTIVE_DEFAULTS.halfLifeReadings), positive(1, 500)),
  envelopeHalfLifeReadings: positive(0.5, 100),
  extremeHalfLifeReadings: positive(10, 10_000),
  sigma: positive(0.5, 6),
  extremeMargin: positive(0.01, 1),
  extremeMaturityReadings: positive(1, 2000),
  scoreThreshold: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
  warmupReadings: fc.integer({ min: 0, max: 40 }),
  refractoryReadings: fc.integer({ min: 0, max: 60 }),
  minSpreadFraction: fc.constantFrom(0, 0.002, 0.05),
  minDeviation: fc.constantFrom(0, 0.5),
});

const robustArb: fc.Arbitrary<LearningDetector> = fc.record({
  kind: fc.constant('robust' as const),
  halfLifeReadings: fc.oneof(fc.constant(ROBUST_DEFAULTS.halfLifeReadings), positive(1, 500)),
  baselineHalfLifeReadings: positive(5, 5000),
  smoothingHalfLifeReadings: positive(0.5, 100),
  extremeHalfLifeReadings: positive(10, 10_000),
  sigma: positive(0.5, 8),
  driftSigma: positive(0.5, 8),
  varianceRatio: positive(1, 8),
  flatReadings: positive(1, 20),
  extremeMargin: positive(0.01, 1),
  scoreThreshold: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
  warmupReadings: fc.integer({ min: 0, max: 40 }),
  refractoryReadings: fc.integer({ min: 0, max: 60 }),
  minDeviation: fc.constantFrom(0, 0.5),
  persistenceReadings: fc.integer({ min: 1, max: 3 }),
  persistenceWindow: fc.integer({ min: 1, max: 5 }),
  direction: fc.constantFrom('both' as const, 'up' as const, 'down' as const),
  limits: fc.option(fc.constantFrom({ high: 5 }, { low: -5 }, { low: -100, high: 100 }), {
    nil: undefined,
  }),
});

/** Streams with the shapes that reach every branch: noise, spikes, level shifts, flat runs. */
const streamArb = fc
  .record({
    level: fc.oneof(fc.constant(0), fc.double({ min: -1e4, max: 1e4, noNaN: true })),
    scale: fc.constantFrom(1e-6, 0.01, 1, 100, 1e5),
    steps: fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant('noise' as const), n: fc.integer({ min: 1, max: 60 }) }),
        fc.record({ kind: fc.constant('flat' as const), n: fc.integer({ min: 1, max: 30 }) }),
        fc.record({
          kind: fc.constant('spike' as const),
          size: fc.double({ min: -50, max: 50, noNaN: true }),
        }),
        fc.record({
          kind: fc.constant('shift' as const),
          size: fc.double({ min: -20, max: 20, noNaN: true }),
        }),
      ),
      { minLength: 1, maxLength: 12 },
    ),
    seed: fc.integer(),
  })
  .map(({ level, scale, steps, seed }) => {
    let x = seed >>> 0 || 1;
    const random = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 2 ** 32 - 0.5;
    };
    let base = level;
    const values: number[] = [];
    for (const s of steps) {
      if (s.kind === 'noise') for (let i = 0; i < s.n; i += 1) values.push(base + scale * random());
      else if (s.kind === 'flat') for (let i = 0; i < s.n; i += 1) values.push(base);
      else if (s.kind === 'spike') values.push(base + s.size * scale);
      else {
        base += s.size * scale;
        values.push(base);
      }
    }
    return values;
  });

function sameBits(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && Object.is(a[k], b[k]));
}

function agrees(spec: LearningDetector, values: readonly number[]): void {
  let pure: LearnedState | undefined;
  const work = workingLearnedState(spec, undefined);
  const out: WorkingVerdict = {
    anomaly: false,
    mean: 0,
    count: 0,
    deviation: 0,
    limit: 0,
    score: 0,
  };
  for (const [i, v] of values.entries()) {
    const step = learningStep(spec, pure, v);
    learningStepInPlace(spec, work, v, out);
    pure = step.state;
    const where = `${spec.kind} reading ${i} (${v})`;
    expect(sameBits(out, { ...step.verdict }), where).toBe(true);
    expect(sameBits(work, { ...step.state }), where).toBe(true);
  }
}

describe('learning detectors stepped in place', () => {
  it(`ewma: the same verdicts and states, bit for bit, as the pure step (${lawRuns(300)} streams)`, () => {
    fc.assert(
      fc.property(ewmaArb, streamArb, (spec, values) => agrees(spec, values)),
      lawParameters(300),
    );
  });

  it(`adaptive: the same verdicts and states, bit for bit, as the pure step (${lawRuns(300)} streams)`, () => {
    fc.assert(
      fc.property(adaptiveArb, streamArb, (spec, values) => agrees(spec, values)),
      lawParameters(300),
    );
  });

  it(`robust: the same verdicts and states, bit for bit, as the pure step (${lawRuns(300)} streams)`, () => {
    fc.assert(
      fc.property(robustArb, streamArb, (spec, values) => agrees(spec, values)),
      lawParameters(300),
    );
  });

  it('starts from a stored state as the pure step does, and ignores one of another detector', () => {
    const adaptive: LearningDetector = { kind: 'adaptive', ...ADAPTIVE_DEFAULTS };
    const ewma: LearningDetector = { kind: 'ewma', ...EWMA_DEFAULTS };
    let a: LearnedState | undefined;
    let e: LearnedState | undefined;
    for (let i = 0; i < 50; i += 1) {
      a = learningStep(adaptive, a, 10 + Math.sin(i)).state;
      e = learningStep(ewma, e, 10 + Math.sin(i)).state;
    }
    for (const [spec, prior] of [
      [adaptive, a],
      [ewma, e],
      [adaptive, e],
      [ewma, a],
    ] as const) {
      const work = workingLearnedState(spec, prior);
      const out = { anomaly: false, mean: 0, count: 0, deviation: 0, limit: 0, score: 0 };
      const step = learningStep(spec, prior, 42);
      learningStepInPlace(spec, work, 42, out);
      expect(sameBits(out, { ...step.verdict })).toBe(true);
      expect(sameBits(work, { ...step.state })).toBe(true);
    }
    // The copy is the caller's: stepping it leaves the stored state as it was.
    const before = JSON.stringify(a);
    learningStepInPlace(adaptive, workingLearnedState(adaptive, a), 1e6, {
      anomaly: false,
      mean: 0,
      count: 0,
      deviation: 0,
      limit: 0,
      score: 0,
    });
    expect(JSON.stringify(a)).toBe(before);
  });
});
