import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { DynamoDbOpenPartitions } from '../adapters/dynamodb/open-partitions.ts';
import { DynamoDbFeedbackStore } from '../adapters/dynamodb-feedback-store.ts';
import { DynamoDbRulesStore } from '../adapters/dynamodb-rules-store.ts';
import { DynamoDbSilenceStore } from '../adapters/dynamodb-silence-store.ts';
import { DynamoDbWindowStore } from '../adapters/dynamodb-window-store.ts';
import { SnsAlertPublisher } from '../adapters/sns-alert-publisher.ts';
import type { BatchParse } from '../batch/group.ts';
import type { DetectorConfig, ReadingFields } from '../config.ts';
import { anomalyJson, anomalyLine } from '../core/alert-text.ts';
import { episodeEndJson, episodeEndLine } from '../core/alerting/digest-text.ts';
import type { FieldMapping } from '../core/readings/field-mapping.ts';
import { type KafkaEvent, recordsFromEvent } from '../kafka-event.ts';
import { LiveFeedback } from '../live-feedback.ts';
import { LiveRules, type RulesSnapshot, snapshotSilence } from '../live-rules.ts';
import type { AnomalySink, BatchObserver, BatchReport } from '../ports.ts';
import { createBatchProcessor, PageCache } from '../process-batch.ts';
import type { SchemaRegistryDecoder } from '../schema-registry/schema-decoder.ts';
import { LastSeenRecorder } from '../silence/last-seen-recorder.ts';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../telemetry-names.ts';

export interface HandlerDeps {
  readonly config: DetectorConfig;
  readonly dynamodb: DynamoDBClient;
  readonly sns: SNSClient;
  /** Processing time in ms. @default Date.now */
  readonly clock?: () => number;
  /** Told about every decision besides the log and metrics (the local pipeline prints them). */
  readonly observer?: BatchObserver;
  /** @default a Logger for SERVICE_NAME */
  readonly logger?: Logger;
  /** @default Metrics in METRICS_NAMESPACE for SERVICE_NAME */
  readonly metrics?: Metrics;
  /**
   * Send one email digest per batch besides the per-sensor alerts (kind=digest, see
   * SnsAlertPublisher). @default false: the Lambda entry turns it on; the local pipeline and
   * the tests have no email subscribers and count per-sensor alerts.
   */
  readonly emailDigest?: boolean;
  /** X-Ray tracing of the handler (Powertools Tracer). @default - none */
  readonly tracer?: Tracer;
  /** Where every anomaly goes besides SNS (Kafka topic, EventBridge), from the outbox. */
  readonly sinks?: readonly AnomalySink[];
  /**
   * Judge with the rules document stored in the table, read at most once per `refreshMs`
   * (docs/rules.md), the config's rules until there is one. @default off: the Lambda entry
   * and `npm start` turn it on; the tests that count DynamoDB requests leave it off.
   */
  readonly liveRules?: LiveRulesSettings;
  /**
   * Follow the operators' verdicts on alerts stored in the table (docs/feedback.md), read at
   * most once per `refreshMs`. @default off: the Lambda entry and `npm start` turn it on
   */
  readonly liveFeedback?: { readonly refreshMs?: number };
  /**
   * Decodes schema-registry values (Avro, Protobuf, JSON Schema) in the function: the schemas
   * a batch names are fetched before it is judged, and a registry that cannot answer fails
   * the batch (retried). @default none: records are text (CSV, JSON)
   */
  readonly decoder?: SchemaRegistryDecoder;
  /** Where the sensor id, value and timestamp are in a record (READING_FIELDS). @default the JSON names */
  readonly readingFields?: FieldMapping;
}

export interface LiveRulesSettings {
  /** @default RULES_REFRESH_MS (30 s) */
  readonly refreshMs?: number;
  /** Told when a different set of rules is in use (the local console prints it). */
  readonly changed?: (now: RulesSnapshot, before: RulesSnapshot) => void;
  /** Told when the stored document is invalid, once per version. */
  readonly invalid?: (problem: string, version: number) => void;
}

interface Tally {
  rejected: number;
  anomalies: number;
  sent: number;
  heldBack: number;
  stale: number;
  escalated: number;
  episodesEnded: number;
  readonly byReason: Map<string, number>;
}

function newTally(): Tally {
  return {
    rejected: 0,
    anomalies: 0,
    sent: 0,
    heldBack: 0,
    stale: 0,
    escalated: 0,
    episodesEnded: 0,
    byReason: new Map(),
  };
}

/** Logs each decision as CloudWatch expects it and counts it for the batch's metrics. */
function telemetryObserver(
  logger: Logger,
  tally: Tally,
  extra: BatchObserver | undefined,
): BatchObserver {
  return {
    rejected(rejection) {
      tally.rejected += 1;
      tally.byReason.set(rejection.reason, (tally.byReason.get(rejection.reason) ?? 0) + 1);
      logger.warn('record rejected', {
        topic: rejection.source.topic,
        partition: rejection.source.partition,
        offset: rejection.source.offset,
        reason: rejection.reason,
        detail: rejection.detail,
        rawValue: rejection.rawPreview,
      });
      extra?.rejected(rejection);
    },
    anomaly(decision) {
      tally.anomalies += 1;
      if (decision.stale === true) tally.stale += 1;
      else if (!decision.notify) tally.heldBack += 1;
      if (decision.escalated === true) tally.escalated += 1;
      // The message is the Flink job's line; the fields make it queryable in Logs Insights.
      logger.warn(anomalyLine(decision.anomaly), {
        ...anomalyJson(decision.anomaly, decision.heldBackBefore),
        notified: decision.notify,
        ...(decision.stale === true ? { stale: true } : {}),
        ...(decision.escalated === true ? { escalated: true } : {}),
        ...(decision.episodeId === undefined ? {} : { episodeId: decision.episodeId }),
        ...(decision.group === undefined ? {} : { groupAlert: decision.group }),
      });
      extra?.anomaly(decision);
    },
    episodeEnded(end) {
      tally.episodesEnded += 1;
      logger.info(episodeEndLine(end), episodeEndJson(end));
      extra?.episodeEnded?.(end);
    },
    published(alerts) {
      tally.sent += alerts.length;
      extra?.published(alerts);
    },
    late(reading) {
      // Counted in the batch report (lateReadings); never judged, never silently dropped.
      logger.warn('reading late for every window (window-close evaluation)', {
        sensorId: reading.sensorId,
        value: reading.value,
        eventTime: new Date(reading.eventTimeMs).toISOString(),
        topic: reading.source.topic,
        partition: reading.source.partition,
        offset: reading.source.offset,
      });
      extra?.late?.(reading);
    },
    // Passed on only when wanted: the use case collects evaluations just for such an observer.
    ...(extra?.evaluated === undefined ? {} : { evaluated: extra.evaluated.bind(extra) }),
  };
}

export type DetectorHandler = (event: KafkaEvent, context?: Context) => Promise<BatchReport>;

/**
 * Builds the Lambda handler from injected clients, config and clock: the Lambda entry,
 * the local pipeline and the tests all call this. Middleware first, handler last.
 */
export function createHandler(deps: HandlerDeps): DetectorHandler {
  const logger = deps.logger ?? new Logger({ serviceName: SERVICE_NAME });
  const metrics =
    deps.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
  const clock = deps.clock ?? Date.now;
  const store = new DynamoDbWindowStore({
    client: deps.dynamodb,
    tableName: deps.config.tableName,
    concurrency: deps.config.writeConcurrency,
  });
  const publisher = new SnsAlertPublisher({
    client: deps.sns,
    topicArn: deps.config.topicArn,
    // With digests by time (DIGEST_PERIOD_SECONDS), email gets the digest function's one
    // message per period, never one per batch.
    digest: (deps.emailDigest ?? false) && (deps.config.digestPeriodSeconds ?? 0) === 0,
  });
  // Lambda reuses a container for many invocations: its cache of pages (immutable) lets a
  // warm one read only the roots.
  const cache = new PageCache();
  const live =
    deps.liveRules === undefined
      ? null
      : liveRules({ ...deps, liveRules: deps.liveRules }, logger, metrics, clock);
  const lastSeen = lastSeenRecorder(deps, live !== null);
  const feedback = deps.liveFeedback === undefined ? null : liveFeedback(deps, logger, clock);
  // Window-close evaluation lists its partitions for the scheduled flush (window-flush-handler).
  const openPartitions =
    deps.config.evaluation === 'window-close'
      ? new DynamoDbOpenPartitions(deps.dynamodb, deps.config.tableName)
      : undefined;

  const handle = async (event: KafkaEvent, _context: Context): Promise<BatchReport> => {
    const startedMs = clock();
    const records = recordsFromEvent(event);
    // Per invocation, so concurrent calls (the local poller's partitions) keep their own counts.
    const tally = newTally();
    try {
      // Fetching is asynchronous and judging is not: the batch's unknown schemas first.
      await deps.decoder?.prepare(records);
      // One snapshot of the rules for the whole batch, read from the table at most once per
      // period (an empty batch judges nothing: no read).
      const rules = live === null || records.length === 0 ? null : await live.snapshot();
      const verdicts = feedback === null || records.length === 0 ? null : await feedback.resolver();
      const processBatch = createBatchProcessor(deps.config, {
        store,
        publisher,
        ...(deps.sinks === undefined ? {} : { sinks: deps.sinks }),
        observer: telemetryObserver(logger, tally, deps.observer),
        nowMs: clock,
        stream: streamIdOf(event),
        cache,
        ...(openPartitions === undefined ? {} : { openPartitions }),
        parse: batchParse(deps, rules?.readingFields ?? deps.config.readingFields),
        ...(rules === null
          ? {}
          : {
              resolveDetector: rules.resolve,
              freshnessOf: rules.freshnessOf,
              alerting: rules.alerting,
            }),
        ...(verdicts === null ? {} : { feedback: verdicts }),
        // The batch's sensors are recorded under the limits of the rules it was judged with.
        ...(lastSeen === undefined
          ? {}
          : {
              lastSeen: {
                record: (partitions, nowMs) =>
                  lastSeen.record(partitions, nowMs, rules?.silence ?? lastSeen.deployed),
              },
            }),
      });
      const report = await processBatch(records);
      logger.info('batch processed', { ...report });
      metrics.addMetric(METRIC.recordsRedelivered, MetricUnit.Count, report.redelivered);
      // Alerting (docs/alerting-groups.md): only when the rules use it, so a stack without
      // groups or windows publishes no more metrics than before.
      if (report.notificationsMuted > 0)
        metrics.addMetric(METRIC.notificationsMuted, MetricUnit.Count, report.notificationsMuted);
      if (report.notificationsGrouped > 0)
        metrics.addMetric(
          METRIC.notificationsGrouped,
          MetricUnit.Count,
          report.notificationsGrouped,
        );
      if (report.groupAlerts > 0)
        metrics.addMetric(METRIC.groupAlerts, MetricUnit.Count, report.groupAlerts);
      return report;
    } finally {
      // Counted from decisions as they are made, so a failed batch still reports what it
      // decided; logMetrics flushes them on success and on error.
      metrics.addMetric(METRIC.recordsReceived, MetricUnit.Count, records.length);
      metrics.addMetric(METRIC.recordsRejected, MetricUnit.Count, tally.rejected);
      metrics.addMetric(METRIC.anomalies, MetricUnit.Count, tally.anomalies);
      metrics.addMetric(METRIC.notificationsSent, MetricUnit.Count, tally.sent);
      metrics.addMetric(METRIC.notificationsHeldBack, MetricUnit.Count, tally.heldBack);
      metrics.addMetric(METRIC.notificationsStale, MetricUnit.Count, tally.stale);
      metrics.addMetric(METRIC.notificationsEscalated, MetricUnit.Count, tally.escalated);
      metrics.addMetric(METRIC.episodesEnded, MetricUnit.Count, tally.episodesEnded);
      metrics.addMetric(METRIC.batchDurationMs, MetricUnit.Milliseconds, clock() - startedMs);
      for (const [reason, count] of tally.byReason) {
        const single = metrics.singleMetric();
        single.addDimension('reason', reason);
        single.addMetric(METRIC.recordsRejectedByReason, MetricUnit.Count, count);
      }
    }
  };

  const wrapped = middy(handle)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
  // Responses are batch reports (small); errors are recorded on the segment.
  if (deps.tracer !== undefined) wrapped.use(captureLambdaHandler(deps.tracer));

  return (event, context) => wrapped(event, context ?? LOCAL_CONTEXT);
}

/**
 * The rules document reader of a container, its events logged and counted: the detector's
 * and the silence check's.
 */
export function liveRules(
  deps: Pick<HandlerDeps, 'config' | 'dynamodb'> & { readonly liveRules: LiveRulesSettings },
  logger: Logger,
  metrics: Metrics,
  clock: () => number,
) {
  const settings = deps.liveRules;
  const describe = (r: RulesSnapshot) => ({
    source: r.source,
    version: r.version,
    rules: r.rules.length,
    defaultDetector: r.defaultDetector.kind,
    ...(r.updatedBy === undefined ? {} : { updatedBy: r.updatedBy, updatedAt: r.updatedAt }),
  });
  return new LiveRules({
    store: new DynamoDbRulesStore({ client: deps.dynamodb, tableName: deps.config.tableName }),
    deployed: {
      defaultDetector: deps.config.defaultDetector,
      rules: deps.config.rules,
      ...(deps.config.silenceSeconds === undefined
        ? {}
        : { silenceSeconds: deps.config.silenceSeconds }),
      ...(deps.config.readingFields === undefined
        ? {}
        : { readingFields: deps.config.readingFields }),
      ...(deps.config.freshnessSeconds === undefined
        ? {}
        : { freshnessSeconds: deps.config.freshnessSeconds }),
      ...(deps.config.alerting === undefined ? {} : { alerting: deps.config.alerting }),
    },
    clock,
    ...(settings.refreshMs === undefined ? {} : { refreshMs: settings.refreshMs }),
    events: {
      changed(now, before) {
        logger.info('rules changed', { ...describe(now), previousVersion: before.version });
        settings.changed?.(now, before);
      },
      invalid(problem, stored, kept, firstTime) {
        // Counted on every check while the document stays invalid (the alarm stays in ALARM),
        // logged once per version.
        metrics.addMetric(METRIC.rulesDocumentInvalid, MetricUnit.Count, 1);
        if (!firstTime) return;
        logger.error('rules document invalid: keeping the rules in use', {
          problem,
          invalidVersion: stored.version,
          invalidUpdatedBy: stored.updatedBy,
          invalidUpdatedAt: stored.updatedAt,
          kept: describe(kept),
        });
        settings.invalid?.(problem, stored.version);
      },
      readFailed(error, kept) {
        logger.warn('rules document not read: keeping the rules in use', {
          error: (error as Error).message,
          kept: describe(kept),
        });
      },
    },
  });
}

/** The verdicts reader of a container, its changes and failures logged. */
function liveFeedback(deps: HandlerDeps, logger: Logger, clock: () => number): LiveFeedback {
  return new LiveFeedback({
    store: new DynamoDbFeedbackStore({ client: deps.dynamodb, tableName: deps.config.tableName }),
    clock,
    ...(deps.liveFeedback?.refreshMs === undefined
      ? {}
      : { refreshMs: deps.liveFeedback.refreshMs }),
    events: {
      changed: (verdicts, before) => logger.info('feedback changed', { verdicts, before }),
      readFailed: (error) =>
        logger.warn('feedback not read: keeping the verdicts in use', {
          error: (error as Error).message,
        }),
      skipped: (invalid, truncated) =>
        logger.warn('feedback items skipped', { invalid, truncated }),
    },
  });
}

/**
 * Silent sensors (docs/silence.md): with live rules always a recorder, as a stored document
 * can set silenceSeconds at any time (it writes nothing while no limit applies); with the
 * deployed rules only, one when they set a limit.
 */
function lastSeenRecorder(deps: HandlerDeps, live: boolean) {
  const { config } = deps;
  const deployed = snapshotSilence(config.defaultDetector, config.rules, config.silenceSeconds);
  if (!live && deployed.limits.length === 0) return undefined;
  const recorder = new LastSeenRecorder({
    store: new DynamoDbSilenceStore(deps.dynamodb, config.tableName),
    ...deployed,
  });
  return { deployed, record: recorder.record.bind(recorder) };
}

/**
 * The Kafka cluster of an event, as a short stable id: the MSK cluster's ARN
 * (`eventSourceArn`) or, for a self-managed cluster, its `bootstrapServers`. It is part of
 * every partition's id, so the same topic on another cluster is judged afresh.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html (event shape)
 */
export function streamIdOf(event: KafkaEvent): string {
  const e = event as { eventSourceArn?: unknown; bootstrapServers?: unknown };
  const source =
    typeof e.eventSourceArn === 'string' && e.eventSourceArn !== ''
      ? e.eventSourceArn
      : typeof e.bootstrapServers === 'string'
        ? e.bootstrapServers
        : '';
  if (source === '') return '';
  return createHash('sha256').update(source).digest('base64url').slice(0, 10);
}

/** Context for callers outside Lambda (local pipeline, tests). */
export const LOCAL_CONTEXT: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'anomaly-detector-local',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:anomaly-detector-local',
  memoryLimitInMB: '1024',
  awsRequestId: 'local',
  logGroupName: 'local',
  logStreamName: 'local',
  getRemainingTimeInMillis: () => 900_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
};

/**
 * How this batch reads its records: the rules' field mappings (the stored document, or the
 * deployed rules file) before the function's own (READING_FIELDS), and the registry decoder.
 */
function batchParse(
  deps: Pick<HandlerDeps, 'decoder' | 'readingFields'>,
  rules: ReadingFields | undefined,
): BatchParse {
  const fields = rules?.fields ?? deps.readingFields;
  return {
    ...(deps.decoder === undefined ? {} : { decoder: deps.decoder }),
    ...(fields === undefined ? {} : { fields }),
    ...(rules?.byTopic === undefined ? {} : { fieldsByTopic: rules.byTopic }),
  };
}
