import { parseReading } from '../../functions/core/parse-reading.ts';
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
    | { kind: 'zscore'; sigma: number; minCount: number; minDeviation: number };
  readonly alertCooldownMs: number;
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
  /** `sensorId|bucketStartMs` → aggregates. */
  readonly buckets: Map<string, { count: number; sum: number; sumSq: number }>;
  readonly rejected: number;
}

export function runReferenceModel(
  records: readonly RawRecord[],
  config: ReferenceConfig,
): ReferenceResult {
  const S = config.slideMs;
  const k = config.windowMs / S;
  const buckets = new Map<string, { count: number; sum: number; sumSq: number }>();
  const cooldown = new Map<string, { last: number | null; held: number }>();
  const anomalies: ReferenceAnomaly[] = [];
  const notifications = new Map<string, number>();
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
    const mean = sum / count;
    const deviation = Math.abs(value - mean);
    let anomaly: boolean;
    let limit: number;
    if (config.detector.kind === 'threshold') {
      limit = config.detector.threshold;
      anomaly = deviation > limit;
    } else {
      const std = Math.sqrt(Math.max(0, sumSq / count - mean * mean));
      const d = config.detector;
      limit = Math.max(d.sigma * std, d.minDeviation);
      anomaly = count >= d.minCount && deviation > d.sigma * std && deviation > d.minDeviation;
    }
    if (!anomaly) continue;
    anomalies.push({
      alertId: id,
      sensorId,
      value,
      mean,
      count,
      severity: deviation >= 2 * limit ? 'critical' : 'warning',
    });
    const state = cooldown.get(sensorId) ?? { last: null, held: 0 };
    if (state.last === null || eventTimeMs - state.last >= config.alertCooldownMs) {
      notifications.set(id, state.held);
      cooldown.set(sensorId, { last: eventTimeMs, held: 0 });
    } else {
      cooldown.set(sensorId, { last: state.last, held: state.held + 1 });
    }
  }
  return { anomalies, notifications, buckets, rejected };
}
