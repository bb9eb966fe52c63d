/**
 * The adaptive detector: each sensor learns its own normal level and spread from its own
 * history, as an exponentially weighted mean and variance, and flags a reading that lies
 * more than `sigma` learned standard deviations from the learned mean (docs/detectors.md).
 *
 * Everything here is a pure function of (spec, prior state, value): the state transition
 * must give bit-identical results when a retried batch re-applies it (process-batch.ts).
 */

export interface EwmaDetector {
  readonly kind: 'ewma';
  /** After this many readings an observation's weight has halved. */
  readonly halfLifeReadings: number;
  /** The k of the k·σ band around the learned mean. */
  readonly sigma: number;
  /** Readings learned before the detector may flag anything. */
  readonly warmupReadings: number;
  /** The band is never narrower than this fraction of |learned mean| (quantisation, flat sensors). */
  readonly minRelativeDeviation: number;
  /** The band is never narrower than this, in the sensor's units. */
  readonly minDeviation: number;
  /** This many consecutive out-of-band readings on one side are a new level, not anomalies. */
  readonly levelShiftReadings: number;
}

export const EWMA_DEFAULTS = {
  halfLifeReadings: 50,
  sigma: 4,
  warmupReadings: 30,
  minRelativeDeviation: 0.01,
  minDeviation: 0,
  levelShiftReadings: 5,
} as const;

/**
 * Per-sensor aggregates (never raw readings), kept in the sensor's state item. `run` counts
 * consecutive out-of-band readings, signed by side (+ above, − below); `runMean` and `runM2`
 * are their mean and sum of squared deviations (Welford), and `varianceBeforeRun` the learned
 * variance when the run began: together they re-baseline on a level shift.
 */
export interface EwmaState {
  readonly count: number;
  readonly mean: number;
  readonly variance: number;
  readonly run: number;
  readonly runMean: number;
  readonly runM2: number;
  readonly varianceBeforeRun: number;
}

export const EWMA_INITIAL: EwmaState = {
  count: 0,
  mean: 0,
  variance: 0,
  run: 0,
  runMean: 0,
  runM2: 0,
  varianceBeforeRun: 0,
};

/**
 * Magnitudes below this are stored as 0: DynamoDB numbers cannot be smaller than 1e-130,
 * and a decaying variance of a flat sensor would otherwise underflow towards it.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html
 */
export const EWMA_FLUSH_TO_ZERO_BELOW = 1e-125;

/**
 * Learning turns robust (out-of-band readings clipped, runs counted) after this many readings,
 * or at the end of warm-up if that comes first: a spike early in warm-up would otherwise
 * inflate the learned spread for hundreds of readings.
 */
export const EWMA_ROBUST_AFTER_READINGS = 10;

export interface EwmaJudgement {
  readonly anomaly: boolean;
  /** The learned mean the reading is compared with (the reading itself when nothing is learned). */
  readonly mean: number;
  /** Readings learned before this one. */
  readonly count: number;
  readonly deviation: number;
  readonly limit: number;
}

/** Half-width of the normal band: max(k·σ, minRelativeDeviation·|mean|, minDeviation). */
export function ewmaLimit(spec: EwmaDetector, state: EwmaState): number {
  return Math.max(
    spec.sigma * Math.sqrt(state.variance),
    spec.minRelativeDeviation * Math.abs(state.mean),
    spec.minDeviation,
  );
}

/** Judges `value` against what the sensor has learned before it (the value is not yet in). */
export function ewmaJudge(spec: EwmaDetector, state: EwmaState, value: number): EwmaJudgement {
  if (state.count === 0) {
    const limit = ewmaLimit(spec, { ...state, mean: value });
    return { anomaly: false, mean: value, count: 0, deviation: 0, limit };
  }
  const deviation = Math.abs(value - state.mean);
  const limit = ewmaLimit(spec, state);
  const anomaly = state.count >= spec.warmupReadings && deviation > limit;
  return { anomaly, mean: state.mean, count: state.count, deviation, limit };
}

/** The EWMA weight of a new reading: 1 − 2^(−1/halfLife). */
export function ewmaAlpha(halfLifeReadings: number): number {
  return 1 - 2 ** (-1 / halfLifeReadings);
}

/**
 * Learns one reading. Until the EWMA weight takes over, the weight 1/(n+1) makes the state
 * the plain mean and population variance of the readings so far, so warm-up is fast and
 * unbiased. From the 10th reading (or the end of warm-up) an out-of-band reading is clipped to the band edge before it is
 * learned (a Huber update), so a spike barely moves the baseline while a real change in
 * spread still widens it; `levelShiftReadings` consecutive ones on one side re-baseline.
 */
export function ewmaStep(spec: EwmaDetector, state: EwmaState, value: number): EwmaState {
  const alpha = Math.max(ewmaAlpha(spec.halfLifeReadings), 1 / (state.count + 1));
  const residual = value - state.mean;
  const limit = ewmaLimit(spec, state);
  const robust = state.count >= Math.min(spec.warmupReadings, EWMA_ROBUST_AFTER_READINGS);
  const outside = robust && Math.abs(residual) > limit;
  const learned = outside ? Math.sign(residual) * limit : residual;
  let mean = state.mean + alpha * learned;
  let variance = (1 - alpha) * (state.variance + alpha * learned * learned);

  let run = 0;
  let runMean = 0;
  let runM2 = 0;
  let varianceBeforeRun = 0;
  if (outside) {
    const side = Math.sign(residual);
    const continues = Math.sign(state.run) === side;
    const n = continues ? Math.abs(state.run) + 1 : 1;
    const priorMean = continues ? state.runMean : 0;
    const priorM2 = continues ? state.runM2 : 0;
    const delta = value - priorMean;
    runMean = priorMean + delta / n;
    runM2 = priorM2 + delta * (value - runMean);
    run = side * n;
    varianceBeforeRun = continues ? state.varianceBeforeRun : state.variance;
    if (n >= spec.levelShiftReadings) {
      // A new level: its mean is the run's. The clipped run readings said nothing about the
      // spread at the new level, so take the spread from before the run, or the run's own
      // if that is wider.
      mean = runMean;
      variance = Math.max(varianceBeforeRun, runM2 / n);
      run = 0;
      runMean = 0;
      runM2 = 0;
      varianceBeforeRun = 0;
    }
  }
  return {
    count: state.count + 1,
    mean: flush(mean),
    variance: flush(variance),
    run,
    runMean: flush(runMean),
    runM2: flush(runM2),
    varianceBeforeRun,
  };
}

/** An ewma state a batch owns and steps in place. */
export type WorkingEwmaState = { -readonly [K in keyof EwmaState]: EwmaState[K] };
/** A judgement written in place. */
export type WorkingEwmaJudgement = { -readonly [K in keyof EwmaJudgement]: EwmaJudgement[K] };

/** The spec's weight 1 − 2^(−1/halfLife), computed once per spec object (pow is dear). */
const ALPHAS = new WeakMap<EwmaDetector, number>();
function alphaOf(spec: EwmaDetector): number {
  let a = ALPHAS.get(spec);
  if (a === undefined) {
    a = ewmaAlpha(spec.halfLifeReadings);
    ALPHAS.set(spec, a);
  }
  return a;
}

/**
 * ewmaJudge then ewmaStep on a state the caller owns, for the handler's per-reading loop:
 * writes the judgement into `out` and learns the value into `s`. The same operations in the
 * same order, so the same bits (test/unit/ewma.test.ts checks it); nothing is allocated.
 */
export function ewmaStepInPlace(
  spec: EwmaDetector,
  s: WorkingEwmaState,
  value: number,
  out: WorkingEwmaJudgement,
): void {
  const limit = ewmaLimit(spec, s);
  const residual = value - s.mean;
  if (s.count === 0) {
    out.anomaly = false;
    out.mean = value;
    out.count = 0;
    out.deviation = 0;
    out.limit = Math.max(
      spec.sigma * Math.sqrt(s.variance),
      spec.minRelativeDeviation * Math.abs(value),
      spec.minDeviation,
    );
  } else {
    const deviation = Math.abs(residual);
    out.anomaly = s.count >= spec.warmupReadings && deviation > limit;
    out.mean = s.mean;
    out.count = s.count;
    out.deviation = deviation;
    out.limit = limit;
  }
  const alpha = Math.max(alphaOf(spec), 1 / (s.count + 1));
  const robust = s.count >= Math.min(spec.warmupReadings, EWMA_ROBUST_AFTER_READINGS);
  const outside = robust && Math.abs(residual) > limit;
  const learned = outside ? Math.sign(residual) * limit : residual;
  let mean = s.mean + alpha * learned;
  let variance = (1 - alpha) * (s.variance + alpha * learned * learned);

  let run = 0;
  let runMean = 0;
  let runM2 = 0;
  let varianceBeforeRun = 0;
  if (outside) {
    const side = Math.sign(residual);
    const continues = Math.sign(s.run) === side;
    const n = continues ? Math.abs(s.run) + 1 : 1;
    const priorMean = continues ? s.runMean : 0;
    const priorM2 = continues ? s.runM2 : 0;
    const delta = value - priorMean;
    runMean = priorMean + delta / n;
    runM2 = priorM2 + delta * (value - runMean);
    run = side * n;
    varianceBeforeRun = continues ? s.varianceBeforeRun : s.variance;
    if (n >= spec.levelShiftReadings) {
      mean = runMean;
      variance = Math.max(varianceBeforeRun, runM2 / n);
      run = 0;
      runMean = 0;
      runM2 = 0;
      varianceBeforeRun = 0;
    }
  }
  s.count += 1;
  s.mean = flush(mean);
  s.variance = flush(variance);
  s.run = run;
  s.runMean = flush(runMean);
  s.runM2 = flush(runM2);
  s.varianceBeforeRun = varianceBeforeRun;
}

function flush(x: number): number {
  return Math.abs(x) < EWMA_FLUSH_TO_ZERO_BELOW ? 0 : x;
}
