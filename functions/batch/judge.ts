import {
  EPISODE_END_READINGS,
  type EpisodeEnd,
  type EpisodeState,
  episodeEnd,
  episodeOnNormal,
} from '../core/alerting/episodes.ts';
import type { FreshnessResolver } from '../core/alerting/freshness.ts';
import {
  DEFAULT_FRESHNESS_MS,
  INITIAL_NOTIFICATION,
  type NotificationState,
} from '../core/alerting/notification-policy.ts';
import type { DetectorResolver } from '../core/detector-rules.ts';
import {
  type LearnedState as DetectorLearnedState,
  type DetectorSpec,
  evaluate,
  isLearning,
  type LearningDetector,
  learningStep,
  learningStepInPlace,
  type Verdict,
  type WorkingLearnedState,
  type WorkingVerdict,
  workingLearnedState,
} from '../core/detectors.ts';
import {
  adjustVerdict,
  type FeedbackResolver,
  factorFor,
  type SensorFeedback,
} from '../core/feedback.ts';
import type { RecordParse, RecordRejection } from '../core/readings/parse-record.ts';
import {
  type Aggregate,
  type AlertDecision,
  EMPTY_AGGREGATE,
  type RawRecord,
  type Reading,
} from '../core/types.ts';
import { bucketStartMs, type WindowSpec } from '../core/windows.ts';
import type { Evaluation, Rejection } from '../ports.ts';
import type { Admitter } from './admit.ts';
import { cooldownDecision, decide, partitionPrefix, readingId } from './decide-alert.ts';

export { cooldownDecision };

import type { WorkingState } from './working-state.ts';

const RAW_PREVIEW_BYTES = 200;

export interface JudgeSettings extends WindowSpec {
  readonly alertCooldownMs: number;
  /** Normal readings in a row that end an episode. @default EPISODE_END_READINGS */
  readonly episodeEndReadings?: number;
}

export interface JudgeInput {
  readonly settings: JudgeSettings;
  readonly resolveDetector: DetectorResolver;
  /** Operators' verdicts on earlier alerts, by sensor (docs/feedback.md). @default none */
  readonly feedback?: FeedbackResolver;
  /** Each sensor's freshness limit (docs/alerting.md). @default 5 minutes for every sensor */
  readonly freshnessOf?: FreshnessResolver;
  readonly nowMs: number;
  /** Collect every evaluation (the backtest and the live view want them). */
  readonly evaluations: boolean;
  /** Stop after the record whose anomaly (or episode end) makes the outbox this large. */
  readonly outboxFull: (alerts: readonly AlertDecision[], ends: readonly EpisodeEnd[]) => boolean;
  /**
   * Whether a record of `readings` readings, every one an anomaly at its largest, still fits
   * the outbox: a record is judged whole, so a record of several readings that might not fit
   * waits for the next commit.
   */
  readonly outboxRoomFor: (
    alerts: readonly AlertDecision[],
    ends: readonly EpisodeEnd[],
    readings: number,
  ) => boolean;
  /**
   * Whether a reading is inside a maintenance window (docs/alerting-groups.md): judged by
   * judgeMuted, it changes no state and notifies nothing. @default none is
   */
  readonly muted?: (sensorId: string, eventTimeMs: number) => boolean;
  /** Window-close evaluation (window-close/closing.ts): where a window detector's readings go. */
  readonly windowClose?: WindowCloseHook;
}

/**
 * Window-close evaluation's part in judging: a reading of a sensor whose detector judges
 * windows is held until its windows close; closing them appends their decisions to the
 * outbox, and stops when the outbox reaches its budget (`drain` then says true).
 */
export interface WindowCloseHook {
  takes(spec: DetectorSpec): boolean;
  offer(reading: Reading, alerts: AlertDecision[]): void;
  /** Closes what is due; true when it stopped at the outbox's budget with more to close. */
  drain(alerts: AlertDecision[]): boolean;
}

export interface JudgeResult {
  /** Records consumed (judged or found decided), from the first. */
  readonly consumed: number;
  readonly alerts: AlertDecision[];
  /** Episodes that ended in this piece (semantics: docs/alerting.md). */
  readonly episodeEnds: EpisodeEnd[];
  readonly rejections: Rejection[];
  readonly evaluations: Evaluation[];
  readonly readings: number;
  readonly redelivered: number;
  readonly duplicates: number;
  /** Anomalies inside maintenance windows: counted, not notified, not in the outbox. */
  readonly muted: number;
}

/** One sensor as the loop sees it: its detector, resolved once per topic, and its state. */
export interface Cursor {
  index: number;
  topic: string;
  spec: DetectorSpec;
  learning: LearningDetector | null;
  work: WorkingLearnedState | null;
  cooldown: NotificationState;
  episode: EpisodeState | undefined;
  freshnessMs: number;
  touched: boolean;
  feedback: SensorFeedback | undefined;
}

/**
 * Walks one partition's records in offset order (semantics.md §3–4): each admitted reading
 * is added to its bucket, then judged by its sensor's detector against the working state;
 * an anomaly goes through the sensor's cooldown into the outbox. Stops early when the outbox
 * reaches its budget, so each commit's outbox fits its item.
 */
export function judgeRecords(
  work: WorkingState,
  records: readonly RawRecord[],
  parsed: readonly RecordParse[],
  admitter: Admitter,
  input: JudgeInput,
): JudgeResult {
  const { settings } = input;
  const k = settings.windowMs / settings.slideMs;
  const cursors = new Map<string, Cursor>();
  const scratch: WorkingVerdict = {
    anomaly: false,
    mean: 0,
    count: 0,
    deviation: 0,
    limit: 0,
    score: 0,
  };
  const result = {
    consumed: 0,
    alerts: [] as AlertDecision[],
    episodeEnds: [] as EpisodeEnd[],
    rejections: [] as Rejection[],
    evaluations: [] as Evaluation[],
    readings: 0,
    redelivered: 0,
    duplicates: 0,
    muted: 0,
  };

  const cursorOf = (reading: Reading): Cursor => {
    const topic = reading.source.topic;
    let c = cursors.get(reading.sensorId);
    if (c === undefined) {
      const spec = input.resolveDetector(reading.sensorId, topic);
      const index = work.index(reading.sensorId);
      const stored = work.sensorState(index);
      c = {
        index,
        topic,
        spec,
        learning: isLearning(spec) ? spec : null,
        work: null,
        cooldown: stored?.cooldown ?? INITIAL_NOTIFICATION,
        episode: stored?.episode,
        freshnessMs: input.freshnessOf?.(reading.sensorId, topic) ?? DEFAULT_FRESHNESS_MS,
        touched: false,
        feedback: input.feedback?.(reading.sensorId),
      };
      cursors.set(reading.sensorId, c);
    } else if (c.topic !== topic) {
      // Rules may match on the topic: one id on two topics is one sensor judged by each rule.
      const spec = input.resolveDetector(reading.sensorId, topic);
      c.topic = topic;
      c.freshnessMs = input.freshnessOf?.(reading.sensorId, topic) ?? DEFAULT_FRESHNESS_MS;
      if (spec !== c.spec) {
        if (c.learning !== null && c.work !== null) keepLearned(work, c);
        c.spec = spec;
        c.learning = isLearning(spec) ? spec : null;
        c.work = null;
      }
    }
    return c;
  };

  const windowOf = (reading: Reading, index: number): Aggregate => {
    let count = 0;
    let sum = 0;
    let sumSq = 0;
    const last = bucketStartMs(reading.eventTimeMs, settings);
    // Oldest first, as combine() adds them: bit-identical sums however the stream was cut.
    for (let i = k - 1; i >= 0; i -= 1) {
      const a = work.aggregate(last - i * settings.slideMs, index);
      if (a === undefined) continue;
      count += a.count;
      sum += a.sum;
      sumSq += a.sumSq;
    }
    return { count, sum, sumSq };
  };

  // Windows that were due when the last commit stopped at its budget close first.
  if (input.windowClose?.drain(result.alerts) === true) return result;
  for (let i = 0; i < records.length; i += 1) {
    const record = records[i] as RawRecord;
    const p = parsed[i] as RecordParse;
    if (
      p.ok &&
      p.readings.length > 1 &&
      result.alerts.length + result.episodeEnds.length > 0 &&
      !input.outboxRoomFor(result.alerts, result.episodeEnds, p.readings.length)
    )
      break;
    const admission = admitter.next(record);
    result.consumed = i + 1;
    if (admission === 'redelivered') {
      result.redelivered += 1;
      continue;
    }
    if (admission === 'duplicate') {
      result.duplicates += 1;
      continue;
    }
    if (!p.ok) {
      result.rejections.push(toRejection(record, p.rejection));
      continue;
    }
    for (const reading of p.readings) judgeReading(reading);
    if (input.outboxFull(result.alerts, result.episodeEnds)) break;
  }
  for (const c of cursors.values()) if (c.touched) keepLearned(work, c);
  return result;

  function judgeReading(reading: Reading): void {
    result.readings += 1;
    if (input.muted?.(reading.sensorId, reading.eventTimeMs) === true) {
      const e = judgeMuted(work, reading, cursors.get(reading.sensorId), input, windowOf);
      if (e.verdict.anomaly) result.muted += 1;
      if (input.evaluations) result.evaluations.push(e);
      return;
    }
    const c = cursorOf(reading);
    const start = bucketStartMs(reading.eventTimeMs, settings);
    work.addReading(start, c.index, reading.value, c.spec.kind === 'zscore');
    if (input.windowClose?.takes(c.spec)) {
      // Judged when its windows close (told as anomalies then); its row says it is held.
      if (input.evaluations) {
        const held = windowOf(reading, c.index);
        const mean = held.sum / held.count;
        result.evaluations.push({
          reading,
          detector: c.spec,
          window: held,
          verdict: {
            anomaly: false,
            mean,
            count: held.count,
            deviation: Math.abs(reading.value - mean),
            limit: 0,
            score: 0,
          },
        });
      }
      input.windowClose.offer(reading, result.alerts);
      return;
    }

    let verdict: Verdict;
    let window: Aggregate | null = null;
    if (c.learning !== null) {
      if (c.work === null) {
        const stored = work.sensorState(c.index)?.learned;
        c.work = workingLearnedState(
          c.learning,
          stored !== undefined && stored.kind === c.learning.kind
            ? (stored.state as DetectorLearnedState)
            : undefined,
        );
      }
      // The explanation fields are set by the detectors that explain; clear the last reading's.
      scratch.test = undefined;
      scratch.expected = undefined;
      scratch.expectedLow = undefined;
      scratch.expectedHigh = undefined;
      learningStepInPlace(c.learning, c.work, reading.value, scratch);
      c.touched = true;
      verdict = input.evaluations || scratch.anomaly ? { ...scratch } : scratch;
      if (input.evaluations) window = windowOf(reading, c.index);
    } else {
      window = windowOf(reading, c.index);
      verdict = evaluate(c.spec, window, reading.value);
    }
    // Feedback filters the decision; what the detector learned stays as it was.
    if (c.feedback !== undefined)
      verdict = adjustVerdict(c.spec, factorFor(c.feedback, c.spec, verdict.test), verdict);
    if (input.evaluations)
      result.evaluations.push({
        reading,
        detector: c.spec,
        window: window as Aggregate,
        verdict,
      });
    if (!verdict.anomaly) {
      if (c.episode === undefined) return;
      // Back to normal: one more reading of the run that ends the sensor's episode.
      const step = episodeOnNormal(c.episode, settings.episodeEndReadings ?? EPISODE_END_READINGS);
      if (step.ended)
        result.episodeEnds.push(
          episodeEnd(
            c.episode,
            partitionPrefix(reading),
            reading.sensorId,
            reading.eventTimeMs,
            readingId(reading, admitter.epoch),
          ),
        );
      c.episode = step.open;
      c.touched = true;
      return;
    }
    result.alerts.push(decide(c, reading, verdict, admitter.epoch, input));
    c.touched = true;
  }
}

/**
 * A reading inside a maintenance window: judged against the state as it stands (so its
 * anomaly can be counted), and nothing changes: no bucket, no learned state, no cooldown (the
 * loader may have given a new id its index, which holds no state). A learning detector takes
 * a pure step from a copy; a window detector sees its window with the reading in it, as an
 * admitted reading would.
 */
function judgeMuted(
  work: WorkingState,
  reading: Reading,
  c: Cursor | undefined,
  input: JudgeInput,
  windowOf: (reading: Reading, index: number) => Aggregate,
): Evaluation {
  const detector = input.resolveDetector(reading.sensorId, reading.source.topic);
  const index = work.indexOf.get(reading.sensorId);
  const before = index === undefined ? EMPTY_AGGREGATE : windowOf(reading, index);
  const v = reading.value;
  const window = { count: before.count + 1, sum: before.sum + v, sumSq: before.sumSq + v * v };
  if (!isLearning(detector)) {
    return { reading, detector, window, verdict: evaluate(detector, window, v), muted: true };
  }
  // The batch's own state of the sensor first (it may have learned since the pages were read).
  let prior: DetectorLearnedState | undefined;
  if (c !== undefined && c.spec === detector && c.work !== null) {
    prior = { ...c.work } as DetectorLearnedState;
  } else {
    const stored = index === undefined ? undefined : work.sensorState(index)?.learned;
    prior = stored?.kind === detector.kind ? (stored.state as DetectorLearnedState) : undefined;
  }
  const { verdict } = learningStep(detector, prior, v);
  return { reading, detector, window, verdict, muted: true };
}

/** Writes the cursor's cooldown and learned state back into the working state. */
function keepLearned(work: WorkingState, c: Cursor): void {
  const before = work.sensorState(c.index);
  const learned =
    c.learning !== null && c.work !== null
      ? { kind: c.learning.kind, state: { ...c.work } }
      : before?.learned;
  work.setSensorState(c.index, {
    cooldown: c.cooldown,
    ...(learned === undefined ? {} : { learned }),
    ...(c.episode === undefined ? {} : { episode: c.episode }),
  });
}

function toRejection(record: RawRecord, result: RecordRejection): Rejection {
  const bytes = record.value ?? new Uint8Array();
  return {
    source: { topic: record.topic, partition: record.partition, offset: record.offset },
    reason: result.reason,
    detail: result.detail,
    rawPreview: Buffer.from(bytes.subarray(0, RAW_PREVIEW_BYTES)).toString('utf8'),
  };
}
