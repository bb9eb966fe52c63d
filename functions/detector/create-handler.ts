import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { DynamoDbOpenPartitions } from '../adapters/dynamodb/open-partitions.ts';
import { DynamoDbWindowStore } from '../adapters/dynamodb-window-store.ts';
import { SnsAlertPublisher } from '../adapters/sns-alert-publisher.ts';
import type { BatchParse } from '../batch/group.ts';
import type { DetectorConfig, ReadingFields } from '../config.ts';
import type { FieldMapping } from '../core/readings/field-mapping.ts';
import { type KafkaEvent, recordsFromEvent } from '../kafka-event.ts';
import type { AnomalySink, BatchObserver, BatchReport } from '../ports.ts';
import { createBatchProcessor, PageCache } from '../process-batch.ts';
import type { SchemaRegistryDecoder } from '../schema-registry/schema-decoder.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../telemetry-names.ts';
import {
  addDecisionMetrics,
  addReportMetrics,
  newTally,
  telemetryObserver,
} from './batch-telemetry.ts';
import { LOCAL_CONTEXT, streamIdOf } from './invocation.ts';
import {
  type LiveRulesSettings,
  lastSeenRecorder,
  liveFeedback,
  liveRules,
} from './live-readers.ts';

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
      addReportMetrics(metrics, report);
      return report;
    } finally {
      // Whether the batch succeeded or not: a failed batch still reports what it decided.
      addDecisionMetrics(metrics, tally, records.length, clock() - startedMs);
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
