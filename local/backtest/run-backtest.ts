import { MemoryWindowStore } from '../../functions/adapters/memory-window-store.ts';
import { createWindowFlush } from '../../functions/batch/window-close/flush.ts';
import { MemoryOpenPartitions } from '../../functions/batch/window-close/memory-open-partitions.ts';
import type { DetectorSpec } from '../../functions/core/detectors.ts';
import { compileFeedback, type FeedbackRecord } from '../../functions/core/feedback.ts';
import { REJECT_REASONS } from '../../functions/core/parse-reading.ts';
import { readingAlertId } from '../../functions/core/readings/parse-record.ts';
import type { AlertDecision, RawRecord } from '../../functions/core/types.ts';
import type { BatchObserver, Evaluation, Rejection } from '../../functions/ports.ts';
import {
  createBatchProcessor,
  type DetectionSettings,
  PageCache,
} from '../../functions/process-batch.ts';
import {
  type InputOptions,
  type InputRecord,
  LineReader,
  type ResolvedFormat,
} from './input-format.ts';

/** The topic and partition a recorded file is replayed as: one ordered stream. */
export const BACKTEST_TOPIC = 'backtest';

export interface BacktestConfig {
  readonly detection: DetectionSettings;
  readonly input: InputOptions;
  /** Records per call of the use case, as the event source mapping's batch size. */
  readonly batchSize: number;
  /**
   * Verdicts on alerts (docs/feedback.md), replayed at their times: each applies from the
   * first record at or after its recordedAtMs until its expiresAtMs, in the records' time.
   * @default none
   */
  readonly feedback?: readonly FeedbackRecord[];
  /** Awaited after each batch's rows: lets a writer catch up (stream backpressure). */
  readonly afterBatch?: () => Promise<void>;
  /**
   * Window-close evaluation: each (window, reading) decision, in the order the windows close
   * (by end, then sensor id; each window's in arrival order): the seed job's printing order.
   */
  readonly onWindowDecision?: (decision: AlertDecision) => void;
}

/** One judged reading: a row of the --output CSV. */
export interface BacktestRow {
  readonly lineNumber: number;
  readonly eventTimeMs: number;
  readonly sensorId: string;
  readonly value: number;
  /** The reading's sliding window (itself included), whatever the detector. */
  readonly windowMean: number;
  readonly windowCount: number;
  /** |value − baseline|, where the baseline is the window mean or, for ewma, the learned mean. */
  readonly deviation: number;
  readonly score: number;
  readonly anomaly: boolean;
  /** The pattern that fired, when the detector names one (robust: spike, level shift, …). */
  readonly test?: string;
  /** Whether the anomaly would have been sent to SNS (false inside the sensor's cooldown). */
  readonly notified: boolean;
  readonly detector: DetectorSpec['kind'];
  readonly baseline: number;
  readonly limit: number;
}

export interface SensorSummary {
  readonly sensorId: string;
  readonly detector: DetectorSpec;
  readings: number;
  anomalies: number;
  notifications: number;
  /** |value − window mean| of every reading: to suggest a threshold. */
  readonly windowDeviations: number[];
}

export interface RejectedLine {
  readonly lineNumber: number;
  readonly reason: string;
  readonly detail: string;
}

export interface BacktestSummary {
  readonly format: ResolvedFormat | null;
  /** What the reader decided about the input (delimiter, columns, time unit). */
  readonly notes: readonly string[];
  /** The header's columns, when the input had one. */
  readonly columnsSeen: readonly string[] | null;
  /** Earliest and latest event time of the valid readings; null without any. */
  readonly span: { readonly firstMs: number; readonly lastMs: number } | null;
  readonly records: number;
  readonly readings: number;
  readonly anomalies: number;
  /** Window-close evaluation: readings that came after all their windows had closed. */
  readonly lateReadings: number;
  readonly notifications: number;
  readonly rejected: number;
  readonly rejectedByReason: Readonly<Record<string, number>>;
  /** The first rejected lines, for the report. */
  readonly rejectedExamples: readonly RejectedLine[];
  readonly sensors: ReadonlyMap<string, SensorSummary>;
}

const REJECTED_EXAMPLES = 10;

/**
 * Replays recorded lines through the deployed use case (createBatchProcessor) with an
 * in-memory store, in batches of `batchSize`, and hands every judged reading to `onRow` in
 * input order. The replay law (test/unit/process-batch.test.ts) makes the result independent
 * of the batch size.
 */
export async function runBacktest(
  lines: AsyncIterable<string> | Iterable<string>,
  config: BacktestConfig,
  onRow: (row: BacktestRow) => void = () => {},
): Promise<BacktestSummary> {
  const reader = new LineReader(config.input);
  const collector = new Collector(onRow, config.onWindowDecision);
  const store = new MemoryWindowStore();
  const openPartitions = new MemoryOpenPartitions();
  const deps = {
    store,
    publisher: { publish: async () => {} },
    observer: collector,
    // Processing time only sets TTLs: a fixed clock keeps every bucket alive for the whole
    // replay, as a backlog being processed keeps its buckets (semantics.md §5).
    nowMs: () => 0,
    // A recording is replayed as if live: each reading was news when it arrived. Against the
    // machine's clock every recorded reading is old, and the freshness limit
    // (docs/alerting.md) would mark every anomaly stale; so no anomaly is stale here, and
    // `notified` means what it means live: sent unless the cooldown held it back.
    freshnessOf: () => Number.POSITIVE_INFINITY,
    openPartitions,
  };
  const cache = new PageCache();
  const verdicts = config.feedback ?? [];
  // The processor of the verdicts in force at `timeMs`: the same store and cache throughout,
  // as a warm Lambda container judges batch after batch with the verdicts it last read.
  const processorAt = (timeMs: number) =>
    createBatchProcessor(config.detection, {
      ...deps,
      cache,
      ...(verdicts.length === 0 ? {} : { feedback: compileFeedback(verdicts, timeMs) }),
    });
  let process = processorAt(Number.NEGATIVE_INFINITY);
  // When the verdicts in force change: a batch never spans one of these times.
  const changes = [...new Set(verdicts.flatMap((v) => [v.recordedAtMs, v.expiresAtMs]))].sort(
    (a, b) => a - b,
  );
  let nextChange = 0;

  let batch: RawRecord[] = [];
  let records = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await process(batch);
    collector.flushRows();
    batch = [];
    await config.afterBatch?.();
  };
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber += 1;
    const read = reader.read(line, lineNumber);
    if (read === null) continue;
    if ('problem' in read) {
      // Not a record the use case could judge: counted like a rejected one, in line order.
      await flush();
      collector.reject({
        lineNumber: read.lineNumber,
        reason: REJECT_REASONS.malformed,
        detail: read.problem,
      });
      continue;
    }
    for (const record of read) {
      if (nextChange < changes.length && record.timestampMs >= (changes[nextChange] as number)) {
        await flush();
        while (nextChange < changes.length && (changes[nextChange] as number) <= record.timestampMs)
          nextChange += 1;
        process = processorAt(record.timestampMs);
      }
      batch.push(toRawRecord(record, records));
      collector.lineOfOffset.set(records, record.lineNumber);
      records += 1;
      if (batch.length >= config.batchSize) await flush();
    }
  }
  await flush();
  // The end of the recording closes every window still open (window-close evaluation), as
  // Flink's final watermark does at the end of a bounded input.
  if (config.detection.evaluation === 'window-close')
    await createWindowFlush(config.detection, deps)({ final: true });

  return {
    format: reader.resolvedFormat,
    notes: reader.notes(),
    columnsSeen: reader.columnsSeen,
    span: collector.span,
    records,
    readings: collector.readings,
    anomalies: collector.anomalies,
    lateReadings: collector.lateReadings,
    notifications: collector.notifications,
    rejected: collector.rejectedCount,
    rejectedByReason: collector.rejectedByReason,
    rejectedExamples: collector.rejectedExamples,
    sensors: collector.sensors,
  };
}

/**
 * The records a file's lines become, with offsets as the backtest assigns them: for feeding
 * the same stream to another driver (the Lambda handler) and comparing.
 */
export function linesToRecords(
  lines: Iterable<string>,
  input: InputOptions,
): { records: RawRecord[]; lineNumbers: number[] } {
  const reader = new LineReader(input);
  const records: RawRecord[] = [];
  const lineNumbers: number[] = [];
  let lineNumber = 0;
  for (const line of lines) {
    lineNumber += 1;
    const read = reader.read(line, lineNumber);
    if (read === null || 'problem' in read) continue;
    for (const record of read) {
      records.push(toRawRecord(record, records.length));
      lineNumbers.push(record.lineNumber);
    }
  }
  return { records, lineNumbers };
}

const encoder = new TextEncoder();

function toRawRecord(input: InputRecord, offset: number): RawRecord {
  return {
    topic: BACKTEST_TOPIC,
    partition: 0,
    offset,
    timestampMs: input.timestampMs,
    key: input.key === null ? null : encoder.encode(input.key),
    value: encoder.encode(input.value),
  };
}

/** Gathers the use case's reports into rows and per-sensor counts. */
class Collector implements BatchObserver {
  readonly lineOfOffset = new Map<number, number>();
  readonly sensors = new Map<string, SensorSummary>();
  readonly rejectedByReason: Record<string, number> = {};
  readonly rejectedExamples: RejectedLine[] = [];
  readings = 0;
  anomalies = 0;
  notifications = 0;
  rejectedCount = 0;
  span: { firstMs: number; lastMs: number } | null = null;
  private pending: Evaluation[] = [];
  /** Alert ids of notified anomalies: a record may hold several readings (`<offset>.<i>`). */
  private readonly notified = new Set<string>();

  lateReadings = 0;

  constructor(
    private readonly onRow: (row: BacktestRow) => void,
    private readonly onWindowDecision?: (decision: AlertDecision) => void,
  ) {}

  /** Window-close decisions of sensors whose first row is not written yet. */
  private readonly earlyCounts = new Map<string, { anomalies: number; notifications: number }>();

  private early(sensorId: string) {
    let counts = this.earlyCounts.get(sensorId);
    if (counts === undefined) {
      counts = { anomalies: 0, notifications: 0 };
      this.earlyCounts.set(sensorId, counts);
    }
    return counts;
  }

  late(): void {
    this.lateReadings += 1;
  }

  reject(line: RejectedLine): void {
    this.rejectedCount += 1;
    this.rejectedByReason[line.reason] = (this.rejectedByReason[line.reason] ?? 0) + 1;
    if (this.rejectedExamples.length < REJECTED_EXAMPLES) this.rejectedExamples.push(line);
  }

  // As a BatchObserver: a backtest batch never fails, so each record is reported once.
  rejected(rejection: Rejection): void {
    const offset = rejection.source.offset;
    this.reject({
      lineNumber: this.lineOfOffset.get(offset) ?? 0,
      reason: rejection.reason,
      detail: rejection.detail,
    });
    this.lineOfOffset.delete(offset);
  }

  evaluated(evaluation: Evaluation): void {
    this.pending.push(evaluation);
  }

  anomaly(decision: AlertDecision): void {
    const a = decision.anomaly;
    if (a.windowEndMs !== undefined) {
      // A window-close decision: its reading's row was written when it arrived.
      // Before its sensor's first row (the same batch): counted when the row is.
      const sensor = this.sensors.get(a.sensorId) ?? this.early(a.sensorId);
      sensor.anomalies += 1;
      this.anomalies += 1;
      if (decision.notify) {
        sensor.notifications += 1;
        this.notifications += 1;
      }
      this.onWindowDecision?.(decision);
      return;
    }
    // A backtest is one pass (epoch 0), so an alert id is the reading's own.
    if (decision.notify) this.notified.add(a.alertId);
  }

  published(): void {}

  /** Rows of the batch just processed, in offset order (= input order: one partition). */
  flushRows(): void {
    const done: number[] = [];
    for (const { reading, detector, window, verdict } of this.pending) {
      const offset = reading.source.offset;
      const notified = this.notified.delete(readingAlertId(reading));
      let sensor = this.sensors.get(reading.sensorId);
      if (sensor === undefined) {
        sensor = {
          sensorId: reading.sensorId,
          detector,
          readings: 0,
          anomalies: this.earlyCounts.get(reading.sensorId)?.anomalies ?? 0,
          notifications: this.earlyCounts.get(reading.sensorId)?.notifications ?? 0,
          windowDeviations: [],
        };
        this.earlyCounts.delete(reading.sensorId);
        this.sensors.set(reading.sensorId, sensor);
      }
      const windowMean = window.sum / window.count;
      const t = reading.eventTimeMs;
      if (this.span === null) this.span = { firstMs: t, lastMs: t };
      else {
        if (t < this.span.firstMs) this.span.firstMs = t;
        if (t > this.span.lastMs) this.span.lastMs = t;
      }
      sensor.readings += 1;
      sensor.windowDeviations.push(Math.abs(reading.value - windowMean));
      this.readings += 1;
      if (verdict.anomaly) {
        sensor.anomalies += 1;
        this.anomalies += 1;
      }
      if (notified) {
        sensor.notifications += 1;
        this.notifications += 1;
      }
      this.onRow({
        lineNumber: this.lineOfOffset.get(offset) ?? 0,
        eventTimeMs: reading.eventTimeMs,
        sensorId: reading.sensorId,
        value: reading.value,
        windowMean,
        windowCount: window.count,
        deviation: verdict.deviation,
        score: verdict.score,
        anomaly: verdict.anomaly,
        notified,
        detector: detector.kind,
        baseline: verdict.mean,
        limit: verdict.limit,
        ...(verdict.test === undefined ? {} : { test: verdict.test }),
      });
      done.push(offset);
    }
    // After the whole batch: a record's readings all share its offset (and line).
    for (const offset of done) this.lineOfOffset.delete(offset);
    this.pending = [];
  }
}
