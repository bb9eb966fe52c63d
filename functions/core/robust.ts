/**
 * The `robust` detector: one detector for sensors nobody has looked at, of any scale, rate and
 * length. Every memory is in readings, every statistic in units of the sensor's own robust
 * spread, so a 0.001-scale sensor read every second and a 10,000-scale one read every hour are
 * judged alike. Each sensor learns, from its own past readings only:
 *
 * - a level and a spread: an exponentially weighted mean, Huber-clipped, and an exponentially
 *   weighted mean absolute deviation (× √(π/2), σ for Gaussian noise), floored at the sensor's
 *   resolution (its smallest step between readings), so a quantised sensor has a scale;
 * - the tail of its own standardised readings: a tracked 99th percentile of |z|, so a sensor
 *   whose normal noise is bursty needs a larger excursion to alarm (spikes and dips);
 * - a smoothed level (an EWMA control chart) and a slow baseline with the chart's own learned
 *   spread around it: level shifts and slow drifts (the level against what was learned);
 * - a short-term spread against the learned one: variance changes;
 * - how often it repeats a value, and its current run of repeats: a flat line on a sensor that
 *   was not flat before;
 * - a long-term envelope (running min and max decaying back to the level): new extremes.
 *
 * Each test gives its evidence e (1 at its alarm limit); the score is x / (1 + x) with
 * x = log2(1 + e) of the strongest: 0.5 at the limit, strictly increasing in the evidence, in
 * [0, 1) and never 1 in floating point, so one threshold serves a fleet and a sweep can trade
 * precision for recall. An alert opens an episode: the sensor alerts once, the score is damped and the
 * level learns the new regime unclipped, until every test has been quiet for
 * `refractoryReadings`. Rule controls (absolute limits, direction, minimum deviation, M of N
 * persistence) act inside the same step, so the whole decision is one pure state transition.
 *
 * Pure: the same (spec, prior state, value) give the same bits (robustStep copies the state and
 * runs robustStepInPlace). The state is 20 numbers (about 450 bytes as JSON).
 */
import {
  ALERT_TESTS,
  type EngineeringLimits,
  GAUSSIAN_Q99,
  ROBUST_NEVER,
  type RobustDetector,
  type RobustDirection,
  type RobustJudgement,
  type RobustState,
  robustInitial,
  robustWorking,
  type WorkingRobustJudgement,
  type WorkingRobustState,
} from './robust-state.ts';

/** √(π/2): the mean absolute deviation of Gaussian noise times this is its σ. */
const MAD_TO_SIGMA = 1.2533141373155003;
const TAIL_P = 0.99;
/**
 * The spike limit grows with the square of the tail's excess over Gaussian: a 99th percentile
 * says little about the 99.99th, and heavier tails (Student-t, bursts) stretch further out.
 */
const TAIL_POWER = 2;
const TAIL_STEP = 0.05;
/** The chance of a repeat assumed for a sensor that never repeats (ln 100 ≈ 4.6 nats each). */
const MIN_REPEAT_RATE = 0.01;
const HUBER = 3;
/** A drift alarm whose reading is this many σ from the level is a level shift. */
const STEP_Z = 2.5;
const FLUSH_TO_ZERO_BELOW = 1e-125;
const MAX_WINDOW = 30;

const alphaOf = (halfLife: number) => 1 - 2 ** (-1 / halfLife);

interface Weights {
  readonly level: number;
  readonly baseline: number;
  readonly smooth: number;
  readonly extreme: number;
  /** σ of the smoothed level for independent noise, per σ of the readings: √(λ / (2 − λ)). */
  readonly chart: number;
  /** Nats of a flat line of `flatReadings` repeats on a sensor that never repeats. */
  readonly flatNats: number;
  readonly mask: number;
}
const WEIGHTS = new WeakMap<RobustDetector, Weights>();
/** The last spec's weights at hand: a batch steps many readings of one spec in a row. */
let lastSpec: RobustDetector | undefined;
let lastWeights: Weights | undefined;
function weights(spec: RobustDetector): Weights {
  if (spec === lastSpec && lastWeights !== undefined) return lastWeights;
  let w = WEIGHTS.get(spec);
  if (w === undefined) {
    const smooth = alphaOf(spec.smoothingHalfLifeReadings);
    w = {
      level: alphaOf(spec.halfLifeReadings),
      baseline: alphaOf(spec.baselineHalfLifeReadings),
      smooth,
      extreme: alphaOf(spec.extremeHalfLifeReadings),
      chart: Math.sqrt(smooth / (2 - smooth)),
      flatNats: spec.flatReadings * -Math.log(MIN_REPEAT_RATE),
      mask: 2 ** Math.min(MAX_WINDOW, spec.persistenceWindow) - 1,
    };
    WEIGHTS.set(spec, w);
  }
  lastSpec = spec;
  lastWeights = w;
  return w;
}

/** σ for judging: the learned spread, floored at the resolution and a relative epsilon. */
export function robustSpread(s: RobustState): number {
  return Math.max(
    MAD_TO_SIGMA * s.spread,
    s.resolution,
    1e-9 * Math.max(1e-300, Math.abs(s.level)),
    1e-300,
  );
}

/** Judges `value` against what was learned before it, then learns it. */
export function robustStep(
  spec: RobustDetector,
  prior: RobustState | undefined,
  value: number,
): { state: RobustState; judgement: RobustJudgement } {
  const state = prior === undefined ? robustInitial() : robustWorking(prior);
  const out: WorkingRobustJudgement = {
    anomaly: false,
    mean: 0,
    count: 0,
    deviation: 0,
    limit: 0,
    score: 0,
  };
  robustStepInPlace(spec, state, value, out);
  return { state, judgement: out };
}

/** Which side a test points to: +1 above what was expected, −1 below, 0 either. */
function allowed(direction: RobustDirection | undefined, side: number): boolean {
  if (direction === undefined || direction === 'both' || side === 0) return true;
  return direction === 'up' ? side > 0 : side < 0;
}

/**
 * robustStep on a state the caller owns: writes the judgement into `out` and learns `value`
 * into `s`, allocating nothing (the handler's per-reading loop).
 */
export function robustStepInPlace(
  spec: RobustDetector,
  s: WorkingRobustState,
  value: number,
  out: WorkingRobustJudgement,
): void {
  const w = weights(spec);
  if (s.count === 0) {
    s.count = 1;
    s.level = value;
    s.spread = 0;
    s.tail = GAUSSIAN_Q99;
    s.smooth = value;
    s.baseline = value;
    s.baselineSpread = 0;
    s.shortSpread = 0;
    s.low = value;
    s.high = value;
    s.previous = value;
    s.resolution = 0;
    s.repeatRate = 0;
    s.repeatRun = 0;
    s.flags = 0;
    s.episode = 0;
    s.quiet = ROBUST_NEVER;
    s.sinceAnomaly = ROBUST_NEVER;
    s.home = value;
    s.test = -1;
    const limit = limitTest(spec, value);
    out.anomaly = limit > 0;
    out.mean = value;
    out.count = 0;
    out.deviation = 0;
    out.limit = 0;
    out.score = evidenceScore(limit);
    out.test = limit > 0 ? 'limit' : undefined;
    out.expected = value;
    out.expectedLow = value;
    out.expectedHigh = value;
    if (limit > 0) {
      s.episode = 1;
      s.quiet = 0;
      s.sinceAnomaly = 0;
      s.test = 7;
    }
    return;
  }
  const sd = robustSpread(s);
  const residual = value - s.level;
  const z = residual / sd;
  const absZ = Math.abs(z);
  const warm = s.count >= spec.warmupReadings;
  const minDev = Math.abs(residual) >= spec.minDeviation;

  // Spikes and dips: |z| against k, widened when the sensor's own tail is heavier than Gaussian.
  const spikeLimit = spec.sigma * Math.max(1, s.tail / GAUSSIAN_Q99) ** TAIL_POWER;
  let evidence = 0;
  let test = -1;
  if (minDev && allowed(spec.direction, Math.sign(z))) {
    evidence = absZ / spikeLimit;
    test = z > 0 ? 0 : 1;
  }

  // Level shifts and drifts: the smoothed level against the slow baseline, in the chart's own
  // learned spread (never below what independent noise would give).
  const smooth = s.smooth + w.smooth * (value - s.smooth);
  const chartSd = Math.max(MAD_TO_SIGMA * s.baselineSpread, w.chart * sd);
  const drift = (smooth - s.baseline) / chartSd;
  const driftEvidence = Math.abs(drift) / spec.driftSigma;
  if (
    driftEvidence > evidence &&
    Math.abs(smooth - s.baseline) >= spec.minDeviation &&
    allowed(spec.direction, Math.sign(drift))
  ) {
    evidence = driftEvidence;
    // A step leaves the reading itself far from the learned level; a drift drags the level
    // along, so the reading stays near it while the smoothed level leaves the baseline.
    test = absZ > STEP_Z ? 2 : 3;
  }

  // Variance: the short-term spread against the learned one.
  const shortSpread = s.shortSpread + w.smooth * (Math.abs(residual) - s.shortSpread);
  const varianceEvidence = (MAD_TO_SIGMA * shortSpread) / sd / spec.varianceRatio;
  if (varianceEvidence > evidence && allowed(spec.direction, 0)) {
    evidence = varianceEvidence;
    test = 4;
  }

  // Flat line: a run of repeats, in nats of how unlikely repeats were for this sensor.
  const repeat = value === s.previous;
  const repeatRun = repeat ? s.repeatRun + 1 : 0;
  const flatEvidence =
    repeatRun === 0
      ? 0
      : (repeatRun * -Math.log(Math.max(s.repeatRate, MIN_REPEAT_RATE))) / w.flatNats;
  if (flatEvidence > evidence) {
    evidence = flatEvidence;
    test = 5;
  }

  // New extreme: beyond the long-term envelope by a fraction of its width.
  const width = Math.max(s.high - s.low, sd);
  const beyond = Math.max(value - s.high, s.low - value, 0) / width;
  const margin = spec.extremeMargin * Math.max(1, Math.sqrt(1000 / s.count));
  const extremeEvidence = beyond / margin;
  if (extremeEvidence > evidence && minDev && allowed(spec.direction, Math.sign(residual))) {
    evidence = extremeEvidence;
    test = 6;
  }
  // A spike that is also beyond the long-term range is named a spike: the plainer word.
  if (test === 6 && absZ >= spikeLimit) test = z > 0 ? 0 : 1;
  if (!warm) {
    evidence = 0;
    test = -1;
  }

  // Absolute limits: always judged, warm or not.
  const limitEvidence = limitTest(spec, value);
  if (limitEvidence > 0) {
    evidence = Math.max(evidence, limitEvidence);
    test = 7;
  }

  let score = evidenceScore(evidence);
  const raw = score > spec.scoreThreshold ? 1 : 0;
  const flags = ((s.flags * 2) & w.mask) + raw;
  const persistent = popcount(flags) >= spec.persistenceReadings;
  const open = s.episode === 1;
  // Back towards where the sensor was before its last alert: the end of that event, not a new
  // one (a valve closed again, a load gone); it opens a quiet episode to relearn the old level.
  const recovery =
    raw === 1 &&
    !open &&
    test !== 7 &&
    s.sinceAnomaly <= spec.baselineHalfLifeReadings &&
    Math.abs(s.baseline - s.home) > spec.driftSigma * chartSd &&
    Math.abs(value - s.home) < Math.abs(value - s.baseline) &&
    Math.abs(smooth - s.home) < Math.abs(s.smooth - s.home);
  // A limit breach alerts even inside an episode another test opened: crossing an
  // engineering limit is news of its own. Once per limit episode, like every test.
  const anomaly = raw === 1 && persistent && (open ? test === 7 && s.test !== 7 : !recovery);
  // Inside an episode the score is damped, so a threshold sweep sees its start, not its length.
  if (open || recovery) score *= 0.5;

  out.anomaly = anomaly;
  out.mean = s.level;
  out.count = s.count;
  out.deviation = Math.abs(residual);
  out.limit = spikeLimit * sd;
  out.score = score;
  const fired = anomaly ? test : open ? s.test : -1;
  out.test = fired >= 0 ? ALERT_TESTS[fired] : undefined;
  const expected = fired === 2 || fired === 3 ? s.baseline : s.level;
  out.expected = expected;
  out.expectedLow = s.level - spikeLimit * sd;
  out.expectedHigh = s.level + spikeLimit * sd;

  // Learn. The level and spread: clipped, except in an episode (learn the new regime quickly).
  const a = Math.max(w.level, 1 / (s.count + 1));
  const clip = HUBER * sd;
  const learned = warm && !open && !anomaly ? Math.max(-clip, Math.min(clip, residual)) : residual;
  const level = s.level + a * learned;
  const spread = s.spread + a * (Math.min(Math.abs(residual), open ? Infinity : 4 * sd) - s.spread);
  // The tail: a stochastic 99th-percentile tracker of |z|, in steps of 5 %.
  const tail = warm
    ? s.tail * (absZ > s.tail ? 1 + TAIL_STEP * TAIL_P : 1 - TAIL_STEP * (1 - TAIL_P))
    : s.tail;
  const b = Math.max(w.baseline, 1 / (s.count + 1));
  const bl = open || anomaly || recovery ? Math.max(b, w.level) : b;
  const chartResidual = smooth - s.baseline;
  const chartClip = spec.driftSigma * chartSd;
  const baseline =
    s.baseline +
    bl *
      (open || anomaly ? chartResidual : Math.max(-chartClip, Math.min(chartClip, chartResidual)));
  const baselineSpread =
    s.baselineSpread + b * (Math.min(Math.abs(chartResidual), chartClip) - s.baselineSpread);
  const step = Math.abs(value - s.previous);
  const e = w.extreme;
  const priorBaseline = s.baseline;

  s.count += 1;
  s.level = flush(level);
  s.spread = flush(spread);
  s.tail = Math.max(0.5, Math.min(1e6, tail));
  s.smooth = smooth;
  s.baseline = flush(baseline);
  s.baselineSpread = flush(baselineSpread);
  s.shortSpread = flush(shortSpread);
  s.low = Math.min(value, s.low + e * (level - s.low));
  s.high = Math.max(value, s.high - e * (s.high - level));
  s.previous = value;
  s.resolution = step > 0 && (s.resolution === 0 || step < s.resolution) ? step : s.resolution;
  s.repeatRate = flush(s.repeatRate + b * ((repeat ? 1 : 0) - s.repeatRate));
  s.repeatRun = repeatRun;
  s.flags = flags;
  const loud = evidence >= 0.5;
  if (anomaly) {
    s.episode = 1;
    s.quiet = 0;
    s.sinceAnomaly = 0;
    s.home = priorBaseline;
    s.test = test;
  } else if (recovery) {
    s.episode = 1;
    s.quiet = 0;
    s.sinceAnomaly = Math.min(ROBUST_NEVER, s.sinceAnomaly + 1);
    s.test = -1;
  } else {
    s.sinceAnomaly = Math.min(ROBUST_NEVER, s.sinceAnomaly + 1);
    s.quiet = loud ? 0 : Math.min(ROBUST_NEVER, s.quiet + 1);
    if (open && s.quiet >= spec.refractoryReadings) {
      s.episode = 0;
      s.test = -1;
    }
  }
}

/** Evidence of a limit breach: 1 at the limit, plus the excess in units of the band. */
function limitTest(spec: RobustDetector, value: number): number {
  return limitsEvidence(spec.limits, value);
}

/**
 * 0 within the limits; beyond one, 1 plus the excess in tenths of the band (high − low, or the
 * limit's own magnitude when only one is set), so a larger breach scores higher.
 */
export function limitsEvidence(limits: EngineeringLimits | undefined, value: number): number {
  if (limits === undefined) return 0;
  const { high, low } = limits;
  const band =
    high !== undefined && low !== undefined ? high - low : Math.abs(high ?? low ?? 0) || 1;
  const unit = 0.1 * (band > 0 ? band : 1);
  if (high !== undefined && value > high) return 1 + (value - high) / unit;
  if (low !== undefined && value < low) return 1 + (low - value) / unit;
  return 0;
}

/**
 * The score of evidence e (1 at a test's limit): x / (1 + x) with x = log2(1 + e). 0 for no
 * evidence, 0.5 at the limit, strictly increasing, and never 1: a finite double's x is below
 * 1025, so the score stays below 0.99903 however large the evidence (e / (1 + e) would round
 * to exactly 1 from e ≈ 9e15, and a threshold sweep could not tell those readings apart).
 */
export function evidenceScore(e: number): number {
  const x = Math.log2(1 + e);
  return x / (1 + x);
}

function popcount(x: number): number {
  let n = 0;
  let v = x;
  while (v > 0) {
    n += v & 1;
    v >>>= 1;
  }
  return n;
}

function flush(x: number): number {
  return Math.abs(x) < FLUSH_TO_ZERO_BELOW ? 0 : x;
}
