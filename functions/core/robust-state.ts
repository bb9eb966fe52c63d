/**
 * The robust detector's settings and learned state (robust.ts is its step): the spec, the
 * 20 numbers a sensor keeps, and a state with nothing learned.
 */

export type RobustDirection = 'both' | 'up' | 'down';

/** What made a reading anomalous (the alert's `test`). */
export const ALERT_TESTS = [
  'spike',
  'dip',
  'level shift',
  'drift',
  'variance',
  'flat line',
  'new extreme',
  'limit',
] as const;
export type AlertTest = (typeof ALERT_TESTS)[number];

/** Absolute engineering limits in the sensor's units: a reading above high or below low. */
export interface EngineeringLimits {
  readonly high?: number;
  readonly low?: number;
}

export interface RobustDetector {
  readonly kind: 'robust';
  readonly halfLifeReadings: number;
  readonly baselineHalfLifeReadings: number;
  readonly smoothingHalfLifeReadings: number;
  readonly extremeHalfLifeReadings: number;
  readonly sigma: number;
  readonly driftSigma: number;
  readonly varianceRatio: number;
  readonly flatReadings: number;
  readonly extremeMargin: number;
  readonly scoreThreshold: number;
  readonly warmupReadings: number;
  readonly refractoryReadings: number;
  readonly minDeviation: number;
  readonly persistenceReadings: number;
  readonly persistenceWindow: number;
  readonly direction?: RobustDirection;
  readonly limits?: EngineeringLimits;
}

/**
 * Chosen on SKAB and the generated corpus (docs/detectors.md, bench/results/evaluation.md);
 * every one is in readings or in the sensor's own spread, never in seconds or units.
 */
export const ROBUST_DEFAULTS = {
  halfLifeReadings: 50,
  baselineHalfLifeReadings: 1000,
  smoothingHalfLifeReadings: 20,
  extremeHalfLifeReadings: 5000,
  sigma: 5,
  driftSigma: 5,
  varianceRatio: 4,
  flatReadings: 10,
  extremeMargin: 0.3,
  scoreThreshold: 0.5,
  warmupReadings: 30,
  refractoryReadings: 20,
  minDeviation: 0,
  persistenceReadings: 1,
  persistenceWindow: 1,
  direction: 'both',
} as const satisfies Omit<RobustDetector, 'kind' | 'limits'>;

/** The state, 20 numbers. `count` 0 means nothing learned. */
export interface RobustState {
  readonly count: number;
  readonly level: number;
  readonly spread: number;
  readonly tail: number;
  readonly smooth: number;
  readonly baseline: number;
  readonly baselineSpread: number;
  readonly shortSpread: number;
  readonly low: number;
  readonly high: number;
  readonly previous: number;
  readonly resolution: number;
  readonly repeatRate: number;
  readonly repeatRun: number;
  /** Raw flags of the last readings, newest in bit 0 (M of N persistence). */
  readonly flags: number;
  /** 1 while an episode is open (an alert was raised and the tests have not all gone quiet). */
  readonly episode: number;
  /** Readings since the evidence was last above half its limit. */
  readonly quiet: number;
  readonly sinceAnomaly: number;
  /** The baseline before the last alert: a return to it is a recovery, not a new anomaly. */
  readonly home: number;
  /** Which test fired the open episode (index into ALERT_TESTS, −1 none). */
  readonly test: number;
}

export type WorkingRobustState = { -readonly [K in keyof RobustState]: RobustState[K] };

/** What the step writes: the verdict fields and the explanation. */
export interface RobustJudgement {
  readonly anomaly: boolean;
  readonly mean: number;
  readonly count: number;
  readonly deviation: number;
  readonly limit: number;
  readonly score: number;
  readonly test?: AlertTest;
  readonly expected?: number;
  readonly expectedLow?: number;
  readonly expectedHigh?: number;
}
export type WorkingRobustJudgement = { -readonly [K in keyof RobustJudgement]: RobustJudgement[K] };

export const ROBUST_NEVER = 1e9;
/** The 99th percentile of |z| for Gaussian noise: the tail the spike limit is calibrated to. */
export const GAUSSIAN_Q99 = 2.5758293035489;

/** A state with nothing learned. */
export function robustInitial(): WorkingRobustState {
  return {
    count: 0,
    level: 0,
    spread: 0,
    tail: GAUSSIAN_Q99,
    smooth: 0,
    baseline: 0,
    baselineSpread: 0,
    shortSpread: 0,
    low: 0,
    high: 0,
    previous: 0,
    resolution: 0,
    repeatRate: 0,
    repeatRun: 0,
    flags: 0,
    episode: 0,
    quiet: ROBUST_NEVER,
    sinceAnomaly: ROBUST_NEVER,
    home: 0,
    test: -1,
  };
}

/** A working copy of `s`, keys in the order robustInitial has them. */
export function robustWorking(s: RobustState): WorkingRobustState {
  return {
    count: s.count,
    level: s.level,
    spread: s.spread,
    tail: s.tail,
    smooth: s.smooth,
    baseline: s.baseline,
    baselineSpread: s.baselineSpread,
    shortSpread: s.shortSpread,
    low: s.low,
    high: s.high,
    previous: s.previous,
    resolution: s.resolution,
    repeatRate: s.repeatRate,
    repeatRun: s.repeatRun,
    flags: s.flags,
    episode: s.episode,
    quiet: s.quiet,
    sinceAnomaly: s.sinceAnomaly,
    home: s.home,
    test: s.test,
  };
}
