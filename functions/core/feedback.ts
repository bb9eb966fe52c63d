import type { DetectorSpec, Verdict } from './detectors.ts';
import { MAX_SENSOR_ID_BYTES } from './parse-reading.ts';

/**
 * Feedback on alerts (docs/feedback.md): an operator's verdict on one alert ("not an
 * anomaly") or on one reading that should have been one ("missed"), and what the sensor's
 * detector makes of the verdicts.
 *
 * The adjustment is a post-filter on the detector's decision, never a change to what it
 * learns: every detector's verdict carries a score on one scale (0.5 at the detector's limit
 * for threshold, zscore and ewma; its `scoreThreshold` for adaptive and robust), and feedback
 * moves the score a reading of that sensor needs, within [MIN_LOWER, MAX_RAISE] times the
 * detector's own, in odds (s / (1 − s)). For the window detectors odds are deviation / limit,
 * so the cap of 2 is "twice the configured threshold". Because learned state is untouched,
 * deleting every verdict gives back exactly the decisions the detector made without them.
 */
export const FEEDBACK_VERDICTS = ['not-anomaly', 'missed'] as const;
export type FeedbackVerdict = (typeof FEEDBACK_VERDICTS)[number];

export const FEEDBACK_BOUNDS = {
  /** A not-anomaly at score s asks for odds this factor above s's ("just above s"). */
  margin: 1.05,
  /** The odds a reading needs never rise above this multiple of the detector's own. */
  maxRaise: 2,
  /** … nor fall below this fraction of them. */
  minLower: 0.5,
  /** A verdict that gives no score moves the sensor's odds by this factor. */
  step: 1.25,
  /** A verdict applies this long after it was recorded, unless it says otherwise. */
  defaultLifetimeMs: 30 * 86_400_000,
  maxLifetimeMs: 365 * 86_400_000,
  /** Ids are Kafka coordinates (`<topic>-<partition>-<offset>[.i][~epoch]`): 249-char topics. */
  maxAlertIdBytes: 512,
  maxNoteChars: 500,
  maxByChars: 200,
} as const;

/** One verdict as stored: the alert it is about and what the detector saw then. */
export interface FeedbackRecord {
  readonly alertId: string;
  readonly sensorId: string;
  readonly verdict: FeedbackVerdict;
  /** The alert's (or the missed reading's) score in [0, 1]; absent: the verdict moves one step. */
  readonly score?: number;
  readonly value?: number;
  readonly deviation?: number;
  readonly limit?: number;
  readonly detector?: string;
  /**
   * The pattern of the alert, when its detector names one (`spike`, `level shift`, … of the
   * robust detector): the verdict then applies to that pattern on that sensor only.
   */
  readonly test?: string;
  readonly eventTimeMs?: number;
  readonly recordedAtMs: number;
  /** The verdict stops applying here (and the table's TTL removes it). */
  readonly expiresAtMs: number;
  readonly by: string;
  readonly note?: string;
}

/** A sensor's live verdicts, oldest first: what a batch looks up per sensor. */
export interface SensorFeedback {
  readonly verdicts: readonly FeedbackRecord[];
  /** Factor per detector spec (the same spec object for a batch's sensors) and pattern. */
  readonly factors: Map<DetectorSpec, Map<string, number>>;
}

export type FeedbackResolver = (sensorId: string) => SensorFeedback | undefined;

export const NO_FEEDBACK: FeedbackResolver = () => undefined;

/**
 * The verdicts that apply at `nowMs`, by sensor. Order is by recording time then alert id, so
 * the fold below is the same whatever order the store returned them in.
 */
export function compileFeedback(
  records: readonly FeedbackRecord[],
  nowMs: number,
): FeedbackResolver {
  const bySensor = new Map<string, FeedbackRecord[]>();
  for (const r of records) {
    if (r.expiresAtMs <= nowMs || r.recordedAtMs > nowMs) continue;
    let list = bySensor.get(r.sensorId);
    if (list === undefined) {
      list = [];
      bySensor.set(r.sensorId, list);
    }
    list.push(r);
  }
  if (bySensor.size === 0) return NO_FEEDBACK;
  const compiled = new Map<string, SensorFeedback>();
  for (const [sensorId, list] of bySensor) {
    list.sort(
      (a, b) =>
        a.recordedAtMs - b.recordedAtMs ||
        (a.alertId < b.alertId ? -1 : a.alertId > b.alertId ? 1 : 0),
    );
    compiled.set(sensorId, { verdicts: list, factors: new Map() });
  }
  return (sensorId) => compiled.get(sensorId);
}

export const odds = (score: number): number =>
  score >= 1 ? Number.POSITIVE_INFINITY : score <= 0 ? 0 : score / (1 - score);

/**
 * The odds at which `spec` calls a reading an anomaly; null: feedback does not move it (an
 * engineering limit is a fact about the plant, not a pattern to unlearn).
 */
export function baseOdds(spec: DetectorSpec): number | null {
  switch (spec.kind) {
    case 'limits':
      return null;
    case 'adaptive':
    case 'robust':
      return odds(spec.scoreThreshold);
    default:
      return 1;
  }
}

/**
 * The factor on `base` odds that `verdicts` (oldest first) give: each not-anomaly raises it to
 * just above its alert's odds, each missed lowers it to just below its reading's, the later
 * verdict winning where two disagree; always within [minLower, maxRaise].
 */
export function feedbackFactor(verdicts: readonly FeedbackRecord[], base: number): number {
  const b = FEEDBACK_BOUNDS;
  let f = 1;
  for (const v of verdicts) {
    const known = v.score !== undefined && Number.isFinite(v.score) && base > 0;
    if (v.verdict === 'not-anomaly') {
      const target = known ? (odds(v.score as number) * b.margin) / base : f * b.step;
      f = Math.min(b.maxRaise, Math.max(f, target));
    } else {
      const target = known ? odds(v.score as number) / b.margin / base : f / b.step;
      f = Math.max(b.minLower, Math.min(f, target));
    }
  }
  return f;
}

/**
 * The factor of one sensor under one detector for readings of one pattern (`test`, '' for
 * none): its verdicts without a pattern and those on that pattern. Computed once per batch.
 */
export function factorFor(sensor: SensorFeedback, spec: DetectorSpec, test = ''): number {
  let byTest = sensor.factors.get(spec);
  if (byTest === undefined) {
    byTest = new Map();
    sensor.factors.set(spec, byTest);
  }
  let f = byTest.get(test);
  if (f === undefined) {
    const base = baseOdds(spec);
    f =
      base === null
        ? 1
        : feedbackFactor(
            sensor.verdicts.filter((v) => v.test === undefined || v.test === test),
            base,
          );
    byTest.set(test, f);
  }
  return f;
}

/**
 * The detector's verdict with the sensor's feedback applied: with a raised factor, an anomaly
 * whose odds do not pass base × factor is not one; with a lowered factor, a reading that
 * passes base × factor is one. A reading beyond engineering limits stays an anomaly, and a
 * detector still warming up is not overruled (warm). Returns `verdict` itself when nothing changes.
 */
export function adjustVerdict<V extends Verdict>(
  spec: DetectorSpec,
  factor: number,
  verdict: V,
): V {
  if (factor === 1 || verdict.test === 'limit') return verdict;
  const base = baseOdds(spec);
  if (base === null) return verdict;
  const boundary = base * factor;
  const o = odds(verdict.score);
  if (verdict.anomaly) {
    return factor > 1 && o <= boundary ? { ...verdict, anomaly: false } : verdict;
  }
  if (factor >= 1 || verdict.score <= 0 || o <= boundary || !warm(spec, verdict)) return verdict;
  return { ...verdict, anomaly: true };
}

/**
 * Whether the detector had seen enough of the sensor to alert at all (its minCount or
 * warmupReadings): a missed verdict lowers the score needed, never the history needed.
 */
export function warm(spec: DetectorSpec, verdict: Verdict): boolean {
  switch (spec.kind) {
    case 'zscore':
      return verdict.count >= spec.minCount;
    case 'ewma':
    case 'adaptive':
    case 'robust':
      return verdict.count >= spec.warmupReadings;
    default:
      return true;
  }
}

/** What a CLI or the API hands in: the verdict and what is known of the alert. */
export interface FeedbackInput {
  readonly alertId?: unknown;
  readonly verdict?: unknown;
  readonly sensorId?: unknown;
  readonly score?: unknown;
  readonly value?: unknown;
  readonly deviation?: unknown;
  readonly limit?: unknown;
  readonly detector?: unknown;
  readonly test?: unknown;
  readonly eventTimeMs?: unknown;
  readonly note?: unknown;
  readonly expiresInDays?: unknown;
  /** The alert as delivered (its SNS JSON or log line's fields): fills what is not given. */
  readonly alert?: unknown;
}

/** A verdict that cannot be recorded; its message is one line saying what to fix. */
export class FeedbackInputError extends Error {
  override readonly name = 'FeedbackInputError';
}

/**
 * Validates a verdict and completes it from the alert it names: the score is the alert's
 * `score`, else deviation / (deviation + limit) as the window detectors compute it. Throws a
 * FeedbackInputError whose message is one line saying what to fix.
 */
export function feedbackRecord(input: FeedbackInput, by: string, nowMs: number): FeedbackRecord {
  const bad = (what: string) => new FeedbackInputError(what);
  const alert = input.alert;
  if (alert !== undefined && (alert === null || typeof alert !== 'object' || Array.isArray(alert)))
    throw bad('alert: the alert as delivered, a JSON object');
  const a = (alert ?? {}) as Record<string, unknown>;
  const text = (key: string, v: unknown, maxBytes: number): string | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v.length === 0) throw bad(`${key}: a non-empty string`);
    if (Buffer.byteLength(v, 'utf8') > maxBytes) throw bad(`${key}: at most ${maxBytes} bytes`);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
    if (/[\u0000-\u001f]/.test(v)) throw bad(`${key}: no control characters`);
    return v;
  };
  const num = (key: string, v: unknown): number | undefined => {
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n)) throw bad(`${key}: a finite number`);
    return n;
  };

  const alertId = text('alertId', input.alertId ?? a.alertId, FEEDBACK_BOUNDS.maxAlertIdBytes);
  if (alertId === undefined) throw bad('alertId: which alert (the "Alert id" of its message)');
  const verdict = input.verdict;
  if (!FEEDBACK_VERDICTS.includes(verdict as FeedbackVerdict))
    throw bad(`verdict: ${FEEDBACK_VERDICTS.join(' or ')} (got ${JSON.stringify(verdict)})`);
  const sensorId = text('sensorId', input.sensorId ?? a.sensorId, MAX_SENSOR_ID_BYTES);
  if (sensorId === undefined) throw bad('sensorId: the sensor of the alert (give --sensor)');

  const deviation = num('deviation', input.deviation ?? a.deviation);
  const limit = num('limit', input.limit ?? a.limit ?? a.threshold);
  let score = num('score', input.score ?? a.score);
  if (score !== undefined && (score < 0 || score > 1)) throw bad('score: between 0 and 1');
  if (score === undefined && deviation !== undefined && limit !== undefined && deviation >= 0) {
    score = limit > 0 ? deviation / (deviation + limit) : deviation > 0 ? 1 : 0.5;
  }
  const value = num('value', input.value ?? a.value);
  const detector = text('detector', input.detector ?? a.detector, 32);
  const test = text('test', input.test ?? a.test, 32);
  const eventTimeMs =
    num('eventTimeMs', input.eventTimeMs ?? a.eventTimeMs) ??
    (typeof a.eventTime === 'string' && Number.isFinite(Date.parse(a.eventTime))
      ? Date.parse(a.eventTime)
      : undefined);
  const note = input.note === undefined || input.note === null ? undefined : input.note;
  if (
    note !== undefined &&
    (typeof note !== 'string' || note.length > FEEDBACK_BOUNDS.maxNoteChars)
  )
    throw bad(`note: text of at most ${FEEDBACK_BOUNDS.maxNoteChars} characters`);
  const days = num('expiresInDays', input.expiresInDays);
  const lifetimeMs = days === undefined ? FEEDBACK_BOUNDS.defaultLifetimeMs : days * 86_400_000;
  if (lifetimeMs <= 0 || lifetimeMs > FEEDBACK_BOUNDS.maxLifetimeMs)
    throw bad(
      `expiresInDays: more than 0 and at most ${FEEDBACK_BOUNDS.maxLifetimeMs / 86_400_000}`,
    );
  if (by.length === 0 || by.length > FEEDBACK_BOUNDS.maxByChars)
    throw bad(`by: 1 to ${FEEDBACK_BOUNDS.maxByChars} characters`);

  return {
    alertId,
    sensorId,
    verdict: verdict as FeedbackVerdict,
    ...(score === undefined ? {} : { score }),
    ...(value === undefined ? {} : { value }),
    ...(deviation === undefined ? {} : { deviation }),
    ...(limit === undefined ? {} : { limit }),
    ...(detector === undefined ? {} : { detector }),
    // A limit breach is never taught away: a verdict on one is about the sensor as a whole.
    ...(test === undefined || test === 'limit' ? {} : { test }),
    ...(eventTimeMs === undefined ? {} : { eventTimeMs }),
    recordedAtMs: nowMs,
    expiresAtMs: nowMs + lifetimeMs,
    by,
    ...(note === undefined || note === '' ? {} : { note }),
  };
}
