import {
  type AdaptiveDetector,
  type AdaptiveState,
  adaptiveStep,
} from '../../functions/core/adaptive.ts';
import { parseReading } from '../../functions/core/parse-reading.ts';
import { robustStep } from '../../functions/core/robust.ts';
import type { RobustDetector, RobustState } from '../../functions/core/robust-state.ts';
import type { RawRecord } from '../../functions/core/types.ts';

/**
 * A plain, deliberately naive implementation of semantics.md, written apart from the
 * use case: readings one at a time, a map of buckets, the formulas as the document states
 * them. Tests compare the real pipeline against it.
 */
export interface ReferenceConfig {
  readonly slideMs: number;
  readonly windowMs: number;
  readonly detector:
    | { kind: 'threshold'; threshold: number }
    | { kind: 'zscore'; sigma: number; minCount: number; minDeviation: number }
    | {
        kind: 'ewma';
        halfLifeReadings: number;
        sigma: number;
        warmupReadings: number;
        minRelativeDeviation: number;
        minDeviation: number;
        levelShiftReadings: number;
      }
    | AdaptiveDetector
    | RobustDetector;
  readonly alertCooldownMs: number;
  /** Exact sensor id → its own detector, overriding `detector`. */
  readonly perSensor?: Readonly<Record<string, ReferenceConfig['detector']>>;
  /**
   * Processing time, and the freshness limit in seconds (0: never stale), by exact sensor id
   * else for all (docs/alerting.md). @default never stale
   */
  readonly nowMs?: number;
  readonly freshnessSeconds?: number;
  readonly freshnessBySensor?: Readonly<Record<string, number>>;
  /** Normal readings in a row that end a sensor's episode (docs/alerting.md). @default 10 */
  readonly episodeEndReadings?: number;
}

/** A critical episode that ended after one of its alerts was notified: sent as resolved. */
export interface ReferenceResolved {
  readonly sensorId: string;
  /** The id of the reading that completed the normal run. */
  readonly endId: string;
  readonly anomalies: number;
  readonly peak: 'warning' | 'critical';
}

export interface ReferenceAnomaly {
  readonly alertId: string;
  readonly sensorId: string;
  readonly value: number;
  readonly mean: number;
  readonly count: number;
  readonly severity: 'warning' | 'critical';
}

export interface ReferenceResult {
  readonly anomalies: ReferenceAnomaly[];
  /** alertId → held-back count carried by that notification. */
  readonly notifications: Map<string, number>;
  /** Notified inside the cooldown: clearly worse than the sensor's last notification. */
  readonly escalated: Set<string>;
  /** Older than the freshness limit: in the digest only. */
  readonly stale: Set<string>;
  /** episodeId (its first anomaly's alert id) → the resolved notification it must get. */
  readonly resolved: Map<string, ReferenceResolved>;
  /** Per sensor: anomalies held back since its last notification, at the end. */
  readonly heldBack: Map<string, number>;
  /** `sensorId|bucketStartMs` → aggregates. */
  readonly buckets: Map<string, { count: number; sum: number; sumSq: number }>;
  readonly rejected: number;
  /** For the ewma detector: each sensor's learned state after the stream. */
  readonly learned: Map<string, LearnedSensor>;
  /**
   * For the adaptive and robust detectors: each sensor's state after the stream. Its transition is the
   * core's pure step (its math is tested on its own, test/unit/adaptive-detector.test.ts);
   * here it is applied once per reading in stream order, as an uninterrupted run would.
   */
  readonly adaptive: Map<string, AdaptiveState | RobustState>;
}

/** The ewma detector's state as docs/detectors.md describes it, kept apart from functions/core. */
export interface LearnedSensor {
  n: number;
  mean: number;
  variance: number;
  /** Consecutive out-of-band readings, in arrival order, with their side. */
  outliers: number[];
  side: number;
  /** The variance when the current run of outliers began. */
  varianceBeforeRun: number;
}

export function runReferenceModel(
  records: readonly RawRecord[],
  config: ReferenceConfig,
): ReferenceResult {
  const S = config.slideMs;
  const k = config.windowMs / S;
  const buckets = new Map<string, { count: number; sum: number; sumSq: number }>();
  // The last notification of each sensor: its event time, severity (1 warning, 2 critical),
  // deviation ÷ limit, and the escalations since the last one the cooldown let through.
  const cooldown = new Map<
    string,
    { last: number; held: number; rank: number; ratio: number; escalations: number }
  >();
  const held = new Map<string, number>();
  const escalated = new Set<string>();
  const stale = new Set<string>();
  // Each sensor's open episode, as docs/alerting.md states it (not the core's code).
  const episodes = new Map<
    string,
    { id: string; peak: number; anomalies: number; notified: boolean; normalRun: number }
  >();
  const resolved = new Map<string, ReferenceResolved>();
  const endAfter = config.episodeEndReadings ?? 10;
  const anomalies: ReferenceAnomaly[] = [];
  const notifications = new Map<string, number>();
  const learned = new Map<string, LearnedSensor>();
  const adaptive = new Map<string, AdaptiveState | RobustState>();
  const seen = new Set<string>();
  let rejected = 0;

  for (const record of records) {
    const id = `${record.topic}-${record.partition}-${record.offset}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const parsed = parseReading(record);
    if (!parsed.ok) {
      rejected += 1;
      continue;
    }
    const { sensorId, value, eventTimeMs } = parsed.reading;
    const b = Math.floor(eventTimeMs / S) * S;
    const own = buckets.get(`${sensorId}|${b}`) ?? { count: 0, sum: 0, sumSq: 0 };
    own.count += 1;
    own.sum += value;
    own.sumSq += value * value;
    buckets.set(`${sensorId}|${b}`, own);

    let count = 0;
    let sum = 0;
    let sumSq = 0;
    for (let i = k - 1; i >= 0; i -= 1) {
      const x = buckets.get(`${sensorId}|${b - i * S}`);
      if (x) {
        count += x.count;
        sum += x.sum;
        sumSq += x.sumSq;
      }
    }
    let mean = sum / count;
    let deviation = Math.abs(value - mean);
    let anomaly: boolean;
    let limit: number;
    const detector = config.perSensor?.[sensorId] ?? config.detector;
    if (detector.kind === 'adaptive' || detector.kind === 'robust') {
      const prior = adaptive.get(sensorId);
      const { state, judgement } =
        detector.kind === 'adaptive'
          ? adaptiveStep(detector, prior as AdaptiveState | undefined, value)
          : robustStep(detector, prior as RobustState | undefined, value);
      adaptive.set(sensorId, state);
      count = judgement.count;
      mean = judgement.mean;
      deviation = judgement.deviation;
      limit = judgement.limit;
      anomaly = judgement.anomaly;
    } else if (detector.kind === 'ewma') {
      // Judged against what was learned before the reading, then the reading is learned.
      const d = detector;
      const s = learned.get(sensorId) ?? {
        n: 0,
        mean: 0,
        variance: 0,
        outliers: [],
        side: 0,
        varianceBeforeRun: 0,
      };
      learned.set(sensorId, s);
      const band = Math.max(
        d.sigma * Math.sqrt(s.variance),
        d.minRelativeDeviation * Math.abs(s.mean),
        d.minDeviation,
      );
      const before = { n: s.n, mean: s.mean };
      learnEwma(s, value, band, d);
      count = before.n;
      mean = before.n === 0 ? value : before.mean;
      deviation = Math.abs(value - mean);
      limit = band;
      anomaly = before.n >= d.warmupReadings && deviation > band;
    } else if (detector.kind === 'threshold') {
      limit = detector.threshold;
      anomaly = deviation > limit;
    } else {
      const std = Math.sqrt(Math.max(0, sumSq / count - mean * mean));
      const d = detector;
      limit = Math.max(d.sigma * std, d.minDeviation);
      anomaly = count >= d.minCount && deviation > d.sigma * std && deviation > d.minDeviation;
    }
    if (!anomaly) {
      // Back to normal: the run that ends the sensor's open episode grows by one.
      const open = episodes.get(sensorId);
      if (open === undefined) continue;
      open.normalRun += 1;
      if (open.normalRun < endAfter) continue;
      episodes.delete(sensorId);
      if (open.peak === 2 && open.notified)
        resolved.set(open.id, {
          sensorId,
          endId: id,
          anomalies: open.anomalies,
          peak: 'critical',
        });
      continue;
    }
    const episode = episodes.get(sensorId) ?? {
      id,
      peak: 1,
      anomalies: 0,
      notified: false,
      normalRun: 0,
    };
    episodes.set(sensorId, episode);
    episode.anomalies += 1;
    episode.normalRun = 0;
    episode.peak = Math.max(episode.peak, deviation >= 2 * limit ? 2 : 1);
    anomalies.push({
      alertId: id,
      sensorId,
      value,
      mean,
      count,
      severity: deviation >= 2 * limit ? 'critical' : 'warning',
    });
    // Stale: older than the limit in processing time; the cooldown does not see it.
    const freshness = config.freshnessBySensor?.[sensorId] ?? config.freshnessSeconds ?? 0;
    if (freshness > 0 && (config.nowMs ?? 0) - eventTimeMs > freshness * 1000) {
      stale.add(id);
      continue;
    }
    const rank = deviation >= 2 * limit ? 2 : 1;
    const ratio = limit > 0 ? Math.min(1e9, deviation / limit) : 1e9;
    const state = cooldown.get(sensorId);
    const heldNow = held.get(sensorId) ?? 0;
    if (state === undefined || eventTimeMs - state.last >= config.alertCooldownMs) {
      notifications.set(id, heldNow);
      episode.notified = true;
      held.set(sensorId, 0);
      cooldown.set(sensorId, { last: eventTimeMs, held: 0, rank, ratio, escalations: 0 });
    } else if (
      state.escalations < 3 &&
      (rank > state.rank || (ratio >= 2 * state.ratio && ratio > state.ratio))
    ) {
      notifications.set(id, heldNow);
      episode.notified = true;
      escalated.add(id);
      held.set(sensorId, 0);
      cooldown.set(sensorId, {
        last: Math.max(state.last, eventTimeMs),
        held: 0,
        rank,
        ratio,
        escalations: state.escalations + 1,
      });
    } else {
      held.set(sensorId, heldNow + 1);
    }
  }
  return {
    anomalies,
    notifications,
    escalated,
    stale,
    resolved,
    heldBack: held,
    buckets,
    rejected,
    learned,
    adaptive,
  };
}

/** A learned sensor in the shape of the state item's `ewma` field. */
export function learnedAsState(s: LearnedSensor) {
  let runMean = 0;
  let runM2 = 0;
  s.outliers.forEach((v, i) => {
    const delta = v - runMean;
    runMean = flushTiny(runMean + delta / (i + 1));
    runM2 = flushTiny(runM2 + delta * (v - runMean));
  });
  return {
    count: s.n,
    mean: s.mean,
    variance: s.variance,
    run: s.side * s.outliers.length,
    runMean,
    runM2,
    varianceBeforeRun: s.outliers.length === 0 ? 0 : s.varianceBeforeRun,
  };
}

const TINY = 1e-125;
const flushTiny = (x: number) => (Math.abs(x) < TINY ? 0 : x);

function learnEwma(
  s: LearnedSensor,
  value: number,
  band: number,
  d: Extract<ReferenceConfig['detector'], { kind: 'ewma' }>,
): void {
  const weight = Math.max(1 - 2 ** (-1 / d.halfLifeReadings), 1 / (s.n + 1));
  const r = value - s.mean;
  // Robust (clipped) learning from the 10th reading, or from the end of warm-up if sooner.
  const out = s.n >= Math.min(d.warmupReadings, 10) && Math.abs(r) > band;
  const x = out ? (r > 0 ? band : -band) : r;
  const varianceBefore = s.variance;
  s.mean = flushTiny(s.mean + weight * x);
  s.variance = flushTiny((1 - weight) * (s.variance + weight * x * x));
  s.n += 1;
  if (!out) {
    s.outliers = [];
    s.side = 0;
    return;
  }
  const side = r > 0 ? 1 : -1;
  if (side !== s.side) {
    s.outliers = [];
    s.varianceBeforeRun = varianceBefore;
  }
  s.side = side;
  s.outliers.push(value);
  if (s.outliers.length >= d.levelShiftReadings) {
    // Welford over the run, in arrival order, as the state item keeps it.
    let m = 0;
    let m2 = 0;
    s.outliers.forEach((v, i) => {
      const delta = v - m;
      m = flushTiny(m + delta / (i + 1));
      m2 = flushTiny(m2 + delta * (v - m));
    });
    s.mean = m;
    s.variance = Math.max(s.varianceBeforeRun, m2 / s.outliers.length);
    s.outliers = [];
    s.side = 0;
    s.varianceBeforeRun = 0;
  }
}
