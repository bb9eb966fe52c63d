import { StoreConflictError } from '../adapters/store-errors.ts';
import type { DetectorConfig } from '../config.ts';
import { compileFreshness, type FreshnessResolver } from '../core/alerting/freshness.ts';
import { type AlertingPolicy, compileAlerting } from '../core/alerting/policy.ts';
import { compileRules, type DetectorResolver } from '../core/detector-rules.ts';
import type { FeedbackResolver } from '../core/feedback.ts';
import type { RawRecord } from '../core/types.ts';
import {
  type AlertPublisher,
  type AnomalySink,
  type BatchObserver,
  type BatchReport,
  NO_OBSERVER,
} from '../ports.ts';
import type { LastSeenRecorder } from '../silence/last-seen-recorder.ts';
import { type BatchParse, groupByPartition, heardFrom } from './group.ts';
import { PageCache } from './page-cache.ts';
import { addInto, emptyReport } from './report.ts';
import { type RunContext, runPartition } from './run-partition.ts';
import type { PartitionRoot, PartitionStore } from './state.ts';
import type { WindowCloseSettings } from './window-close/closing.ts';
import type { OpenPartitions } from './window-close/partition-windows.ts';

/** The detection settings the use case needs: the deployment-free part of DetectorConfig. */
export type DetectionSettings = Pick<
  DetectorConfig,
  | 'slideMs'
  | 'windowMs'
  | 'defaultDetector'
  | 'rules'
  | 'alertCooldownMs'
  | 'freshnessSeconds'
  | 'episodeEndReadings'
  | 'digestPeriodSeconds'
  | 'retentionMarginSeconds'
  | 'readingFields'
  | 'alerting'
> &
  WindowCloseSettings;

export interface ProcessBatchDeps {
  readonly store: PartitionStore;
  readonly publisher: AlertPublisher;
  /** Where every decided anomaly goes besides SNS, from the same outbox. @default none */
  readonly sinks?: readonly AnomalySink[];
  readonly observer?: BatchObserver;
  /** Processing time in ms; drives TTLs and expiry, never detection. */
  readonly nowMs: () => number;
  /** The Kafka cluster the records come from (streamIdOf the event). @default '' */
  readonly stream?: string;
  /** What a warm container keeps between invocations. @default one per processor */
  readonly cache?: PageCache;
  /**
   * The detector of each (topic, sensor), e.g. from the rules stored in the table
   * (functions/live-rules.ts). @default compiled from settings.defaultDetector and .rules
   */
  readonly resolveDetector?: DetectorResolver;
  /**
   * Operators' verdicts on earlier alerts, by sensor, e.g. read from the table
   * (functions/live-feedback.ts, docs/feedback.md). @default none
   */
  readonly feedback?: FeedbackResolver;
  /**
   * Each sensor's freshness limit, e.g. from the stored rules (docs/alerting.md).
   * @default compiled from settings.rules and .freshnessSeconds
   */
  readonly freshnessOf?: FreshnessResolver;
  /** Records when watched sensors were last heard from (docs/silence.md). @default none */
  readonly lastSeen?: Pick<LastSeenRecorder, 'record'>;
  /**
   * How a record becomes readings: a schema-registry decoder (its schemas fetched before the
   * batch) and where the sensor id, value and timestamp are (docs/input-formats.md).
   * @default text records with the JSON names
   */
  readonly parse?: BatchParse;
  /**
   * Alert groups and maintenance windows, e.g. of the rules stored in the table
   * (docs/alerting-groups.md). @default compiled from settings.alerting
   */
  readonly alerting?: AlertingPolicy;
  /**
   * Window-close evaluation: where partitions with open windows are listed, for the scheduled
   * flush (window-close/flush.ts). @default none (windows close with the partition's readings)
   */
  readonly openPartitions?: OpenPartitions;
}

/** Conflicts answered inside one invocation (read the root again, judge again). */
const MAX_ATTEMPTS = 4;

/**
 * The use case shared by the Lambda handler, the local pipeline and the backtest
 * (docs/state.md, "A batch, step by step"): group the records by partition; per partition,
 * deliver what its root's outbox still holds, admit the records not yet decided, load the
 * pages they need, judge, commit (new pages and one conditional root write), tell, deliver;
 * then record whom each partition heard from. Every partition is its own unit: the only
 * writer of its root and pages is the batch of that partition.
 */
export function createBatchProcessor(settings: DetectionSettings, deps: ProcessBatchDeps) {
  const resolveDetector =
    deps.resolveDetector ?? compileRules(settings.defaultDetector, settings.rules);
  const freshnessOf =
    deps.freshnessOf ??
    compileFreshness(settings.defaultDetector, settings.rules, settings.freshnessSeconds);
  const observer = deps.observer ?? NO_OBSERVER;
  const cache = deps.cache ?? new PageCache();
  const stream = deps.stream ?? '';
  const alerting = deps.alerting ?? compileAlerting(settings.alerting ?? {});

  return async function processBatch(records: readonly RawRecord[]): Promise<BatchReport> {
    const nowMs = deps.nowMs();
    // The caller's (the handler: rules, registry, READING_FIELDS), else the rules file's.
    const parse = deps.parse ?? {
      ...(settings.readingFields?.fields === undefined
        ? {}
        : { fields: settings.readingFields.fields }),
      ...(settings.readingFields?.byTopic === undefined
        ? {}
        : { fieldsByTopic: settings.readingFields.byTopic }),
    };
    const groups = groupByPartition(records, stream, parse);
    const total = emptyReport(records.length);
    const ctx: RunContext = {
      store: deps.store,
      publisher: deps.publisher,
      sinks: deps.sinks ?? [],
      observer,
      cache,
      resolveDetector,
      ...(deps.feedback === undefined ? {} : { feedback: deps.feedback }),
      freshnessOf,
      settings: { ...settings, digestPeriodMs: (settings.digestPeriodSeconds ?? 0) * 1000 },
      nowMs,
      alerting,
      ...(deps.openPartitions === undefined ? {} : { openPartitions: deps.openPartitions }),
    };
    // Every root of the payload in one strongly consistent read.
    const roots = new Map<string, PartitionRoot>(
      groups.length === 0 ? [] : await deps.store.readRoots(groups.map((g) => g.pid)),
    );
    for (const group of groups) {
      for (let attempt = 1; ; attempt += 1) {
        const part = emptyReport(0);
        try {
          await runPartition(ctx, group, roots.get(group.pid) ?? null, part);
          addInto(total, part);
          break;
        } catch (error) {
          // Another invocation of this partition (a zombie, a duplicate) committed first.
          if (!(error instanceof StoreConflictError) || attempt >= MAX_ATTEMPTS) throw error;
          const now = (await deps.store.readRoots([group.pid])).get(group.pid);
          if (now === undefined) roots.delete(group.pid);
          else roots.set(group.pid, now);
        }
      }
    }
    // Silent sensors (docs/silence.md): after the batch, whom each partition heard from.
    if (deps.lastSeen !== undefined) await deps.lastSeen.record(heardFrom(groups), nowMs);
    return total;
  };
}
