import {
  ADAPTIVE_NEVER,
  type AdaptiveDetector,
  type AdaptiveState,
  adaptiveStep,
  adaptiveStepInPlace,
  type WorkingAdaptiveState,
} from './adaptive.ts';
import { CoreConfigError } from './errors.ts';
import {
  EWMA_INITIAL,
  type EwmaDetector,
  type EwmaState,
  ewmaJudge,
  ewmaStep,
  ewmaStepInPlace,
  type WorkingEwmaState,
} from './ewma.ts';
import type { Aggregate } from './types.ts';

export type { AdaptiveDetector, AdaptiveState } from './adaptive.ts';
export { ADAPTIVE_DEFAULTS, adaptiveStep } from './adaptive.ts';
export type { EwmaDetector, EwmaState } from './ewma.ts';
export { EWMA_DEFAULTS, EWMA_INITIAL, ewmaStep } from './ewma.ts';

/** The Flink job's rule: anomaly iff |v − mean| > threshold. */
export interface ThresholdDetector {
  readonly kind: 'threshold';
  readonly threshold: number;
}

/** Anomaly iff count ≥ minCount, |v − mean| > sigma · std and |v − mean| > minDeviation. */
export interface ZScoreDetector {
  readonly kind: 'zscore';
  readonly sigma: number;
  readonly minCount: number;
  readonly minDeviation: number;
}

export type DetectorSpec = ThresholdDetector | ZScoreDetector | EwmaDetector | AdaptiveDetector;
export type DetectorKind = DetectorSpec['kind'];

export const DEFAULT_DETECTOR: ThresholdDetector = { kind: 'threshold', threshold: 50 };
/**
 * sigma 2.5, not the textbook 3: the window includes the reading, and one value among n is at
 * most √(n − 1) population standard deviations from their mean, which is exactly 3 for the
 * 10 readings of a default window at 1 Hz, so 3 could never fire there (docs/detectors.md).
 */
export const ZSCORE_DEFAULTS = { sigma: 2.5, minCount: 5, minDeviation: 0 } as const;

export const DETECTOR_KINDS = ['threshold', 'zscore', 'ewma', 'adaptive'] as const;

/** Detectors that learn per-sensor state from every reading (kept in the sensor's state item). */
export type LearningDetector = EwmaDetector | AdaptiveDetector;
/** What a learning detector knows of one sensor: a plain object of numbers. */
export type LearnedState = EwmaState | AdaptiveState;

export function isLearning(spec: DetectorSpec): spec is LearningDetector {
  return spec.kind === 'ewma' || spec.kind === 'adaptive';
}

/**
 * A learning detector's pure step: judges `value` against what was learned before it and
 * returns the verdict and the state with the value learned. Deterministic, so a retried batch
 * re-applies exactly the same transition. A prior state of another detector (the sensor was
 * switched) counts as none.
 */
export function learningStep(
  spec: LearningDetector,
  prior: LearnedState | undefined,
  value: number,
): { verdict: Verdict; state: LearnedState } {
  if (spec.kind === 'adaptive') {
    const p = prior !== undefined && 'recentHigh' in prior ? prior : undefined;
    const { state, judgement } = adaptiveStep(spec, p, value);
    return { verdict: judgement, state };
  }
  const p = prior !== undefined && 'runMean' in prior ? prior : EWMA_INITIAL;
  const j = ewmaJudge(spec, p, value);
  // Nothing learned yet: the reading is its own baseline, neither near nor past a limit.
  const verdict = { ...j, score: j.count === 0 ? 0 : score(j.deviation, j.limit) };
  return { verdict, state: ewmaStep(spec, p, value) };
}

/** A learning detector's state that one batch owns and steps in place. */
export type WorkingLearnedState = WorkingEwmaState | WorkingAdaptiveState;
/** A verdict written in place (the handler's per-reading loop reuses one). */
export type WorkingVerdict = { -readonly [K in keyof Verdict]: Verdict[K] };

/**
 * A copy of `prior` to step in place with learningStepInPlace: what learningStep would start
 * from (a prior of another shape counts as none), with the keys in the order learningStep's
 * states have them.
 */
export function workingLearnedState(
  spec: LearningDetector,
  prior: LearnedState | undefined,
): WorkingLearnedState {
  if (spec.kind === 'adaptive') {
    const p = prior !== undefined && 'recentHigh' in prior ? prior : undefined;
    if (p === undefined || p.count === 0) {
      // Nothing learned: adaptiveStepInPlace sets every field from the first value.
      return {
        count: 0,
        mean: 0,
        variance: 0,
        recentLow: 0,
        recentHigh: 0,
        low: 0,
        high: 0,
        rawMean: 0,
        rawVariance: 0,
        rawRecent: 0,
        sinceAnomaly: ADAPTIVE_NEVER,
      };
    }
    return {
      count: p.count,
      mean: p.mean,
      variance: p.variance,
      recentLow: p.recentLow,
      recentHigh: p.recentHigh,
      low: p.low,
      high: p.high,
      rawMean: p.rawMean,
      rawVariance: p.rawVariance,
      rawRecent: p.rawRecent,
      sinceAnomaly: p.sinceAnomaly,
    };
  }
  const p = prior !== undefined && 'runMean' in prior ? prior : EWMA_INITIAL;
  return {
    count: p.count,
    mean: p.mean,
    variance: p.variance,
    run: p.run,
    runMean: p.runMean,
    runM2: p.runM2,
    varianceBeforeRun: p.varianceBeforeRun,
  };
}

/**
 * learningStep on a state the caller owns (from workingLearnedState): writes the verdict into
 * `out` and learns `value` into `state`, with the same bits as learningStep and no allocation.
 */
export function learningStepInPlace(
  spec: LearningDetector,
  state: WorkingLearnedState,
  value: number,
  out: WorkingVerdict,
): void {
  if (spec.kind === 'adaptive') {
    adaptiveStepInPlace(spec, state as WorkingAdaptiveState, value, out);
    return;
  }
  ewmaStepInPlace(spec, state as WorkingEwmaState, value, out);
  out.score = out.count === 0 ? 0 : score(out.deviation, out.limit);
}

export interface Verdict {
  readonly anomaly: boolean;
  readonly mean: number;
  readonly count: number;
  readonly deviation: number;
  /** How far from the mean a reading may be before it is an anomaly. */
  readonly limit: number;
  /** In [0, 1]; 0.5 at the limit, rising with how far past it the reading is. */
  readonly score: number;
}

export function validateDetector(spec: DetectorSpec, where: string): DetectorSpec {
  const bad = (what: string) => new CoreConfigError(`${where}: ${what}`);
  switch (spec.kind) {
    case 'threshold':
      if (!(Number.isFinite(spec.threshold) && spec.threshold >= 0)) {
        throw bad(`threshold must be a number >= 0, got ${spec.threshold}`);
      }
      return spec;
    case 'zscore':
      if (!(Number.isFinite(spec.sigma) && spec.sigma > 0))
        throw bad(`sigma must be > 0, got ${spec.sigma}`);
      if (!(Number.isInteger(spec.minCount) && spec.minCount >= 1)) {
        throw bad(`minCount must be a whole number >= 1, got ${spec.minCount}`);
      }
      if (!(Number.isFinite(spec.minDeviation) && spec.minDeviation >= 0)) {
        throw bad(`minDeviation must be >= 0, got ${spec.minDeviation}`);
      }
      return spec;
    case 'ewma':
      if (!(Number.isFinite(spec.halfLifeReadings) && spec.halfLifeReadings > 0)) {
        throw bad(`halfLifeReadings must be > 0, got ${spec.halfLifeReadings}`);
      }
      if (!(Number.isFinite(spec.sigma) && spec.sigma > 0))
        throw bad(`sigma must be > 0, got ${spec.sigma}`);
      if (!(Number.isInteger(spec.warmupReadings) && spec.warmupReadings >= 1)) {
        throw bad(`warmupReadings must be a whole number >= 1, got ${spec.warmupReadings}`);
      }
      if (!(Number.isFinite(spec.minRelativeDeviation) && spec.minRelativeDeviation >= 0)) {
        throw bad(`minRelativeDeviation must be >= 0, got ${spec.minRelativeDeviation}`);
      }
      if (!(Number.isFinite(spec.minDeviation) && spec.minDeviation >= 0)) {
        throw bad(`minDeviation must be >= 0, got ${spec.minDeviation}`);
      }
      if (!(Number.isInteger(spec.levelShiftReadings) && spec.levelShiftReadings >= 1)) {
        throw bad(`levelShiftReadings must be a whole number >= 1, got ${spec.levelShiftReadings}`);
      }
      return spec;
    case 'adaptive': {
      for (const key of [
        'halfLifeReadings',
        'envelopeHalfLifeReadings',
        'extremeHalfLifeReadings',
        'sigma',
        'extremeMargin',
        'extremeMaturityReadings',
      ] as const) {
        if (!(Number.isFinite(spec[key]) && spec[key] > 0)) {
          throw bad(`${key} must be > 0, got ${spec[key]}`);
        }
      }
      if (
        !(
          Number.isFinite(spec.scoreThreshold) &&
          spec.scoreThreshold > 0 &&
          spec.scoreThreshold < 1
        )
      ) {
        throw bad(`scoreThreshold must be between 0 and 1, got ${spec.scoreThreshold}`);
      }
      for (const key of ['warmupReadings', 'refractoryReadings'] as const) {
        if (!(Number.isInteger(spec[key]) && spec[key] >= 0)) {
          throw bad(`${key} must be a whole number >= 0, got ${spec[key]}`);
        }
      }
      for (const key of ['minSpreadFraction', 'minDeviation'] as const) {
        if (!(Number.isFinite(spec[key]) && spec[key] >= 0)) {
          throw bad(`${key} must be >= 0, got ${spec[key]}`);
        }
      }
      return spec;
    }
    default:
      throw bad(`unknown detector ${JSON.stringify((spec as { kind: unknown }).kind)}`);
  }
}

/**
 * Judges `value` against its window aggregate, which already includes the value itself
 * (semantics.md §3); the learning detectors (`ewma`, `adaptive`) judge it against what its
 * sensor has `learned` from earlier readings instead, and ignore the window.
 */
export function evaluate(
  spec: DetectorSpec,
  window: Aggregate,
  value: number,
  learned?: LearnedState,
): Verdict {
  if (isLearning(spec)) return learningStep(spec, learned, value).verdict;
  const { count } = window;
  const mean = window.sum / count;
  const deviation = Math.abs(value - mean);
  switch (spec.kind) {
    case 'threshold': {
      const limit = spec.threshold;
      return {
        anomaly: deviation > limit,
        mean,
        count,
        deviation,
        limit,
        score: score(deviation, limit),
      };
    }
    case 'zscore': {
      const std = Math.sqrt(Math.max(0, window.sumSq / count - mean * mean));
      const limit = Math.max(spec.sigma * std, spec.minDeviation);
      const anomaly =
        count >= spec.minCount && deviation > spec.sigma * std && deviation > spec.minDeviation;
      return { anomaly, mean, count, deviation, limit, score: score(deviation, limit) };
    }
  }
}

/** d / (d + limit): 0 at the mean, 0.5 at the limit, towards 1 far past it. */
export function score(deviation: number, limit: number): number {
  if (limit <= 0) return deviation > 0 ? 1 : 0.5;
  return deviation / (deviation + limit);
}
