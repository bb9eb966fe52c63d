/**
 * The `adaptive` detector, for sensors whose normal range nobody knows. Each sensor learns,
 * from its own past readings only (the reading being judged is never part of its baseline):
 *
 * - a robust level and spread: exponentially weighted, readings more than 3σ out clipped
 *   before they are learned;
 * - a recent envelope: the running maximum and minimum of its readings, each decaying back
 *   towards the level with a short half-life;
 * - a long-term envelope: the same with a long half-life, for the "new extreme" rule (a value
 *   beyond everything the sensor has shown in a long while, by a margin of that range);
 * - the anomaly likelihood of its breakouts out of the recent envelope
 *   (functions/core/likelihood.ts), so a sensor whose noise often pokes out needs a larger
 *   breakout for the same score.
 *
 * score = max(new-extreme score, log-likelihood of the breakout), in [0, 1], the same scale for
 * every sensor. The envelopes move to a reading as soon as it is learned, so a level shift or
 * a burst breaks out once, at its start, and the readings after it are inside the new
 * envelope: one event, one anomaly. After an anomaly the sensor is not flagged again for
 * `refractoryReadings` and its score is halved meanwhile.
 *
 * Pure: the same (params, prior state, value) give the same bits, so a retried batch
 * re-applies exactly the same transition (semantics.md §6). The state is a plain object of 11
 * numbers (about 300 bytes as JSON).
 */
import {
  likelihoodStepInPlace,
  likelihoodStepWith,
  logLikelihood,
  type WorkingLikelihood,
} from './likelihood.ts';

export interface AdaptiveDetector {
  readonly kind: 'adaptive';
  /** Half-life, in readings, of the learned level and spread. */
  readonly halfLifeReadings: number;
  /** Half-life, in readings, of the recent envelope's decay back to the level. */
  readonly envelopeHalfLifeReadings: number;
  /** Half-life, in readings, of the long-term envelope (the "new extreme" memory). */
  readonly extremeHalfLifeReadings: number;
  /** A breakout beyond the recent envelope of this many learned σ is a raw anomaly of 0.5. */
  readonly sigma: number;
  /** A value beyond the long-term envelope by this fraction of its width scores 0.5. */
  readonly extremeMargin: number;
  /**
   * Until this many readings are learned the margin is widened by √(this / readings): among n
   * readings a new maximum comes once in n + 1, so a young range is often exceeded.
   */
  readonly extremeMaturityReadings: number;
  /** Anomaly iff the score exceeds this (in (0, 1)). */
  readonly scoreThreshold: number;
  /** Readings learned before anything is flagged (the score is 0 until then). */
  readonly warmupReadings: number;
  /** After an anomaly, readings that are not flagged (their score is halved). */
  readonly refractoryReadings: number;
  /** The learned σ is never taken below this fraction of the long-term envelope's width. */
  readonly minSpreadFraction: number;
  /** An absolute floor for σ, in the sensor's units (for flat sensors near 0). */
  readonly minDeviation: number;
}

export const ADAPTIVE_DEFAULTS = {
  halfLifeReadings: 100,
  envelopeHalfLifeReadings: 20,
  extremeHalfLifeReadings: 5000,
  sigma: 2,
  extremeMargin: 0.1,
  extremeMaturityReadings: 1000,
  scoreThreshold: 0.7,
  warmupReadings: 30,
  refractoryReadings: 50,
  minSpreadFraction: 0.002,
  minDeviation: 0,
} as const;

/**
 * The anomaly likelihood's settings: the breakouts' distribution over a half-life of 1000
 * readings; their recent mean with a half-life of half a reading (weight 0.75 on the newest):
 * Numenta averages the last 10 raw scores, which would halve an isolated spike's score here.
 */
export const ADAPTIVE_LIKELIHOOD = {
  longHalfLifeReadings: 1000,
  shortHalfLifeReadings: 0.5,
  minVariance: 0.0003,
} as const;

/** Per-sensor aggregates, never raw readings: 11 numbers. */
export interface AdaptiveState {
  readonly count: number;
  readonly mean: number;
  readonly variance: number;
  readonly recentLow: number;
  readonly recentHigh: number;
  readonly low: number;
  readonly high: number;
  /** The breakouts' long-term mean and variance and their recent mean (the likelihood). */
  readonly rawMean: number;
  readonly rawVariance: number;
  readonly rawRecent: number;
  /** Readings since the last anomaly (NEVER before the first). */
  readonly sinceAnomaly: number;
}

export interface AdaptiveJudgement {
  readonly anomaly: boolean;
  /** The learned level the reading is compared with (the reading itself when nothing is learned). */
  readonly mean: number;
  /** Readings learned before this one. */
  readonly count: number;
  /** |value − learned level|. */
  readonly deviation: number;
  /** |value − level| at which a reading breaks out of the recent envelope by `sigma` σ. */
  readonly limit: number;
  readonly score: number;
}

export const ADAPTIVE_NEVER = 1e9;
const HUBER_SIGMA = 3;
const FLUSH_TO_ZERO_BELOW = 1e-125;

const alphaOf = (halfLife: number) => 1 - 2 ** (-1 / halfLife);
const LIKELIHOOD_LONG_ALPHA = alphaOf(ADAPTIVE_LIKELIHOOD.longHalfLifeReadings);
const LIKELIHOOD_SHORT_ALPHA = alphaOf(ADAPTIVE_LIKELIHOOD.shortHalfLifeReadings);

/** The spec's three weights, computed once per spec object (pow is the step's dearest call). */
const ALPHAS = new WeakMap<AdaptiveDetector, { level: number; recent: number; extreme: number }>();
function alphas(spec: AdaptiveDetector) {
  let a = ALPHAS.get(spec);
  if (a === undefined) {
    a = {
      level: alphaOf(spec.halfLifeReadings),
      recent: alphaOf(spec.envelopeHalfLifeReadings),
      extreme: alphaOf(spec.extremeHalfLifeReadings),
    };
    ALPHAS.set(spec, a);
  }
  return a;
}

/** σ for judging: the learned one, floored so that a flat sensor still has a scale. */
export function adaptiveSpread(spec: AdaptiveDetector, s: AdaptiveState): number {
  return Math.max(
    Math.sqrt(s.variance),
    spec.minSpreadFraction * (s.high - s.low),
    spec.minDeviation,
    1e-9 * Math.max(1, Math.abs(s.mean)),
  );
}

function initial(value: number): AdaptiveState {
  return {
    count: 1,
    mean: value,
    variance: 0,
    recentLow: value,
    recentHigh: value,
    low: value,
    high: value,
    rawMean: 0,
    rawVariance: 0,
    rawRecent: 0,
    sinceAnomaly: ADAPTIVE_NEVER,
  };
}

/** Judges `value` against what was learned before it, then learns it. */
export function adaptiveStep(
  spec: AdaptiveDetector,
  prior: AdaptiveState | undefined,
  value: number,
): { state: AdaptiveState; judgement: AdaptiveJudgement } {
  if (prior === undefined || prior.count === 0) {
    const state = initial(value);
    const limit = spec.sigma * adaptiveSpread(spec, state);
    return {
      state,
      judgement: { anomaly: false, mean: value, count: 0, deviation: 0, limit, score: 0 },
    };
  }
  const s = prior;
  const sd = adaptiveSpread(spec, s);

  // New extreme: beyond the long-term envelope, in fractions of its width.
  const width = Math.max(s.high - s.low, sd);
  const beyondExtreme = Math.max(value - s.high, s.low - value, 0) / width;
  const margin =
    spec.extremeMargin * Math.max(1, Math.sqrt(spec.extremeMaturityReadings / s.count));
  const extremeScore = beyondExtreme / (beyondExtreme + margin);

  // Breakout of the recent envelope, in σ, as a raw anomaly in [0, 1), and its likelihood.
  const beyondRecent = Math.max(value - s.recentHigh, s.recentLow - value, 0) / sd;
  const raw = beyondRecent / (beyondRecent + spec.sigma);
  const lk = likelihoodStepWith(
    LIKELIHOOD_LONG_ALPHA,
    LIKELIHOOD_SHORT_ALPHA,
    ADAPTIVE_LIKELIHOOD.minVariance,
    { count: s.count - 1, mean: s.rawMean, variance: s.rawVariance, recent: s.rawRecent },
    raw,
  );

  let score = Math.max(extremeScore, logLikelihood(lk.likelihood));
  const warm = s.count >= spec.warmupReadings;
  const quiet = s.sinceAnomaly >= spec.refractoryReadings;

  if (!warm) score = 0;
  else if (!quiet) score *= 0.5;
  const anomaly = warm && quiet && score > spec.scoreThreshold;

  // Learn the level and spread (clipped once warm), then the envelopes around the new level.
  const w = alphas(spec);
  const alpha = Math.max(w.level, 1 / (s.count + 1));
  const residual = value - s.mean;
  const clip = HUBER_SIGMA * sd;
  const learned = warm ? Math.max(-clip, Math.min(clip, residual)) : residual;
  const mean = s.mean + alpha * learned;
  const variance = (1 - alpha) * (s.variance + alpha * learned * learned);
  const er = w.recent;
  const el = w.extreme;
  const state: AdaptiveState = {
    count: s.count + 1,
    mean: flush(mean),
    variance: flush(variance),
    recentLow: flush(Math.min(value, s.recentLow + er * (mean - s.recentLow))),
    recentHigh: flush(Math.max(value, s.recentHigh - er * (s.recentHigh - mean))),
    low: flush(Math.min(value, s.low + el * (mean - s.low))),
    high: flush(Math.max(value, s.high - el * (s.high - mean))),
    rawMean: lk.state.mean,
    rawVariance: lk.state.variance,
    rawRecent: lk.state.recent,
    sinceAnomaly: anomaly ? 0 : Math.min(ADAPTIVE_NEVER, s.sinceAnomaly + 1),
  };
  const limit = Math.max(s.recentHigh - s.mean, s.mean - s.recentLow, 0) + spec.sigma * sd;
  return {
    state,
    judgement: {
      anomaly,
      mean: s.mean,
      count: s.count,
      deviation: Math.abs(residual),
      limit,
      score,
    },
  };
}

/** An adaptive state a batch owns and steps in place (count 0: nothing learned yet). */
export type WorkingAdaptiveState = { -readonly [K in keyof AdaptiveState]: AdaptiveState[K] };
/** A judgement written in place. */
export type WorkingAdaptiveJudgement = {
  -readonly [K in keyof AdaptiveJudgement]: AdaptiveJudgement[K];
};

/** The likelihood's working state, filled from and read back into the adaptive state. */
const SCRATCH_LIKELIHOOD: WorkingLikelihood = { count: 0, mean: 0, variance: 0, recent: 0 };

/**
 * adaptiveStep on a state the caller owns, for the handler's per-reading loop: judges `value`
 * against `s`, writes the judgement into `out` and learns the value into `s`. The same
 * operations in the same order as adaptiveStep, so the same bits (test/unit/adaptive-detector
 * checks it); nothing is allocated.
 */
export function adaptiveStepInPlace(
  spec: AdaptiveDetector,
  s: WorkingAdaptiveState,
  value: number,
  out: WorkingAdaptiveJudgement,
): void {
  if (s.count === 0) {
    s.count = 1;
    s.mean = value;
    s.variance = 0;
    s.recentLow = value;
    s.recentHigh = value;
    s.low = value;
    s.high = value;
    s.rawMean = 0;
    s.rawVariance = 0;
    s.rawRecent = 0;
    s.sinceAnomaly = ADAPTIVE_NEVER;
    out.anomaly = false;
    out.mean = value;
    out.count = 0;
    out.deviation = 0;
    out.limit = spec.sigma * adaptiveSpread(spec, s);
    out.score = 0;
    return;
  }
  const sd = adaptiveSpread(spec, s);

  const width = Math.max(s.high - s.low, sd);
  const beyondExtreme = Math.max(value - s.high, s.low - value, 0) / width;
  const margin =
    spec.extremeMargin * Math.max(1, Math.sqrt(spec.extremeMaturityReadings / s.count));
  const extremeScore = beyondExtreme / (beyondExtreme + margin);

  const beyondRecent = Math.max(value - s.recentHigh, s.recentLow - value, 0) / sd;
  const raw = beyondRecent / (beyondRecent + spec.sigma);
  const lk = SCRATCH_LIKELIHOOD;
  lk.count = s.count - 1;
  lk.mean = s.rawMean;
  lk.variance = s.rawVariance;
  lk.recent = s.rawRecent;
  const likelihood = likelihoodStepInPlace(
    LIKELIHOOD_LONG_ALPHA,
    LIKELIHOOD_SHORT_ALPHA,
    ADAPTIVE_LIKELIHOOD.minVariance,
    lk,
    raw,
  );

  let score = Math.max(extremeScore, logLikelihood(likelihood));
  const warm = s.count >= spec.warmupReadings;
  const quiet = s.sinceAnomaly >= spec.refractoryReadings;

  if (!warm) score = 0;
  else if (!quiet) score *= 0.5;
  const anomaly = warm && quiet && score > spec.scoreThreshold;

  const w = alphas(spec);
  const alpha = Math.max(w.level, 1 / (s.count + 1));
  const residual = value - s.mean;
  const clip = HUBER_SIGMA * sd;
  const learned = warm ? Math.max(-clip, Math.min(clip, residual)) : residual;
  const mean = s.mean + alpha * learned;
  const variance = (1 - alpha) * (s.variance + alpha * learned * learned);
  const er = w.recent;
  const el = w.extreme;
  // The judgement reads the state before the reading: taken before the state moves.
  out.anomaly = anomaly;
  out.mean = s.mean;
  out.count = s.count;
  out.deviation = Math.abs(residual);
  out.limit = Math.max(s.recentHigh - s.mean, s.mean - s.recentLow, 0) + spec.sigma * sd;
  out.score = score;
  s.count += 1;
  s.mean = flush(mean);
  s.variance = flush(variance);
  s.recentLow = flush(Math.min(value, s.recentLow + er * (mean - s.recentLow)));
  s.recentHigh = flush(Math.max(value, s.recentHigh - er * (s.recentHigh - mean)));
  s.low = flush(Math.min(value, s.low + el * (mean - s.low)));
  s.high = flush(Math.max(value, s.high - el * (s.high - mean)));
  s.rawMean = lk.mean;
  s.rawVariance = lk.variance;
  s.rawRecent = lk.recent;
  s.sinceAnomaly = anomaly ? 0 : Math.min(ADAPTIVE_NEVER, s.sinceAnomaly + 1);
}

/** DynamoDB numbers cannot be smaller than 1e-130; a decaying variance would underflow to it. */
function flush(x: number): number {
  return Math.abs(x) < FLUSH_TO_ZERO_BELOW ? 0 : x;
}
