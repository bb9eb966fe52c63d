import {
  ADAPTIVE_NEVER,
  type AdaptiveDetector,
  type AdaptiveState,
  adaptiveStep,
  adaptiveStepInPlace,
  type WorkingAdaptiveState,
} from './adaptive.ts';
import { checkDetectorSetting, DETECTOR_SETTINGS } from './detector-settings.ts';
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
import { evidenceScore, limitsEvidence, robustStep, robustStepInPlace } from './robust.ts';
import {
  type AlertTest,
  type EngineeringLimits,
  type RobustDetector,
  type RobustDirection,
  type RobustState,
  robustInitial,
  robustWorking,
  type WorkingRobustState,
} from './robust-state.ts';
import type { Aggregate } from './types.ts';

export type { AdaptiveDetector, AdaptiveState } from './adaptive.ts';
export { ADAPTIVE_DEFAULTS, adaptiveStep } from './adaptive.ts';
export type { EwmaDetector, EwmaState } from './ewma.ts';
export { EWMA_DEFAULTS, EWMA_INITIAL, ewmaStep } from './ewma.ts';
export { robustStep } from './robust.ts';
export type {
  AlertTest,
  EngineeringLimits,
  RobustDetector,
  RobustDirection,
  RobustState,
} from './robust-state.ts';
export { ALERT_TESTS, ROBUST_DEFAULTS } from './robust-state.ts';

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

/**
 * Absolute engineering limits as a detector of their own: anomaly iff the value is above
 * `high` or below `low` (either may be left out). Needs no history and learns nothing.
 */
export interface LimitsDetector {
  readonly kind: 'limits';
  readonly high?: number;
  readonly low?: number;
  /** No k·σ: present only so code that reads `sigma` off any non-threshold detector compiles. */
  readonly sigma?: undefined;
}

/**
 * Rule controls any detector takes beside its own parameters: absolute `limits` (a guard: a
 * reading beyond them is an anomaly whatever the detector says) and the `direction` that may
 * alert (`up`: spikes and rises only, `down`: dips and falls only).
 */
export interface DetectorGuards {
  readonly limits?: EngineeringLimits;
  readonly direction?: RobustDirection;
}

export type DetectorSpec =
  | (ThresholdDetector & DetectorGuards)
  | (ZScoreDetector & DetectorGuards)
  | (EwmaDetector & DetectorGuards)
  | (AdaptiveDetector & DetectorGuards)
  | RobustDetector
  | (LimitsDetector & DetectorGuards);
export type DetectorKind = DetectorSpec['kind'];

export const DEFAULT_DETECTOR: ThresholdDetector = { kind: 'threshold', threshold: 50 };
/**
 * sigma 2.5, not the textbook 3: the window includes the reading, and one value among n is at
 * most √(n − 1) population standard deviations from their mean, which is exactly 3 for the
 * 10 readings of a default window at 1 Hz, so 3 could never fire there (docs/detectors.md).
 */
export const ZSCORE_DEFAULTS = { sigma: 2.5, minCount: 5, minDeviation: 0 } as const;

export const DETECTOR_KINDS = [
  'threshold',
  'zscore',
  'ewma',
  'adaptive',
  'robust',
  'limits',
] as const;

/** Detectors that learn per-sensor state from every reading (kept in the sensor's state item). */
export type LearningDetector =
  | (EwmaDetector & DetectorGuards)
  | (AdaptiveDetector & DetectorGuards)
  | RobustDetector;
/** What a learning detector knows of one sensor: a plain object of numbers. */
export type LearnedState = EwmaState | AdaptiveState | RobustState;

export function isLearning(spec: DetectorSpec): spec is LearningDetector {
  return spec.kind === 'ewma' || spec.kind === 'adaptive' || spec.kind === 'robust';
}

const isRobustState = (s: LearnedState | undefined): s is RobustState =>
  s !== undefined && 'baselineSpread' in s;
const isAdaptiveState = (s: LearnedState | undefined): s is AdaptiveState =>
  s !== undefined && 'recentHigh' in s;
const isEwmaState = (s: LearnedState | undefined): s is EwmaState =>
  s !== undefined && 'runMean' in s;

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
  if (spec.kind === 'robust') {
    const { state, judgement } = robustStep(spec, isRobustState(prior) ? prior : undefined, value);
    return { verdict: judgement, state };
  }
  if (spec.kind === 'adaptive') {
    const p = isAdaptiveState(prior) ? prior : undefined;
    const { state, judgement } = adaptiveStep(spec, p, value);
    return { verdict: guarded(spec, value, { ...judgement }), state };
  }
  const p = isEwmaState(prior) ? prior : EWMA_INITIAL;
  const j = ewmaJudge(spec, p, value);
  // Nothing learned yet: the reading is its own baseline, neither near nor past a limit.
  const verdict = { ...j, score: j.count === 0 ? 0 : score(j.deviation, j.limit) };
  return { verdict: guarded(spec, value, verdict), state: ewmaStep(spec, p, value) };
}

/**
 * The rule controls of a detector without them built in: a reading on the wrong side of the
 * baseline for `direction` is not an anomaly (score 0), a reading beyond `limits` is one.
 */
function guarded(spec: DetectorGuards, value: number, v: WorkingVerdict): WorkingVerdict {
  const { direction, limits } = spec;
  if (direction === 'up' ? value < v.mean : direction === 'down' ? value > v.mean : false) {
    v.anomaly = false;
    v.score = 0;
  }
  if (limits !== undefined) {
    const e = limitsEvidence(limits, value);
    if (e > 0) {
      v.anomaly = true;
      v.score = Math.max(v.score, evidenceScore(e));
      v.test = 'limit';
    }
  }
  return v;
}

/** A learning detector's state that one batch owns and steps in place. */
export type WorkingLearnedState = WorkingEwmaState | WorkingAdaptiveState | WorkingRobustState;
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
  if (spec.kind === 'robust') {
    return isRobustState(prior) && prior.count > 0 ? robustWorking(prior) : robustInitial();
  }
  if (spec.kind === 'adaptive') {
    const p = isAdaptiveState(prior) ? prior : undefined;
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
  const p = isEwmaState(prior) ? prior : EWMA_INITIAL;
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
  if (spec.kind === 'robust') {
    robustStepInPlace(spec, state as WorkingRobustState, value, out);
    return;
  }
  if (spec.kind === 'adaptive') {
    adaptiveStepInPlace(spec, state as WorkingAdaptiveState, value, out);
  } else {
    ewmaStepInPlace(spec, state as WorkingEwmaState, value, out);
    out.score = out.count === 0 ? 0 : score(out.deviation, out.limit);
  }
  if (spec.limits !== undefined || spec.direction !== undefined) guarded(spec, value, out);
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
  /** Which test fired (robust detector, limits): spike, dip, level shift, drift, … */
  readonly test?: AlertTest;
  /** What the detector expected: the level, or for a drift the baseline it left. */
  readonly expected?: number;
  /** The band of normal readings the reading was judged against (robust detector). */
  readonly expectedLow?: number;
  readonly expectedHigh?: number;
}

/**
 * Checks a spec built in code (rules files are checked by their schema first) against the one
 * list of parameters: every catalogued parameter present and in bounds, and the guards sane.
 */
export function validateDetector(spec: DetectorSpec, where: string): DetectorSpec {
  const bad = (what: string) => new CoreConfigError(`${where}: ${what}`);
  const kind = (spec as { kind: unknown }).kind;
  if (!(DETECTOR_KINDS as readonly unknown[]).includes(kind)) {
    throw bad(`unknown detector ${JSON.stringify(kind)}`);
  }
  const values = spec as unknown as Record<string, unknown>;
  for (const s of DETECTOR_SETTINGS) {
    if (s.kind !== kind) continue;
    const v = values[s.parameter];
    if (v === undefined && s.type === 'enum') continue;
    const checked = checkDetectorSetting(
      s,
      typeof v === 'number' || typeof v === 'string' ? v : String(v),
      s.parameter,
    );
    if ('error' in checked) throw bad(checked.error);
  }
  const limits = spec.kind === 'limits' ? spec : spec.limits;
  if (limits !== undefined) {
    for (const side of ['high', 'low'] as const) {
      const v = limits[side];
      if (v !== undefined && !Number.isFinite(v))
        throw bad(`limits.${side} must be a number, got ${v}`);
    }
    if (limits.high === undefined && limits.low === undefined)
      throw bad('limits: give high, low or both');
    if (limits.high !== undefined && limits.low !== undefined && limits.low > limits.high) {
      throw bad(`limits: low (${limits.low}) must not be above high (${limits.high})`);
    }
  }
  if (spec.direction !== undefined && !['both', 'up', 'down'].includes(spec.direction)) {
    throw bad(`direction must be both, up or down, got ${spec.direction}`);
  }
  return spec;
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
  if (spec.kind === 'limits') return limitsVerdict(spec, window.count, value);
  const v = windowVerdict(spec, window, value);
  return spec.limits !== undefined || spec.direction !== undefined
    ? guarded(spec, value, { ...v })
    : v;
}

/** The limits detector: anomaly iff beyond a limit; the nearest limit is what was expected. */
function limitsVerdict(spec: LimitsDetector, count: number, value: number): Verdict {
  const expected = Math.min(spec.high ?? value, Math.max(spec.low ?? value, value));
  const e = limitsEvidence(spec, value);
  return {
    anomaly: e > 0,
    mean: expected,
    count,
    deviation: Math.abs(value - expected),
    limit: 0,
    score: evidenceScore(e),
    ...(e > 0 ? { test: 'limit' as const } : {}),
    expected,
    ...(spec.low === undefined ? {} : { expectedLow: spec.low }),
    ...(spec.high === undefined ? {} : { expectedHigh: spec.high }),
  };
}

function windowVerdict(
  spec: ThresholdDetector | ZScoreDetector,
  window: Aggregate,
  value: number,
): Verdict {
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
