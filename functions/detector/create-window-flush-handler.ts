import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { DynamoDbOpenPartitions } from '../adapters/dynamodb/open-partitions.ts';
import { DynamoDbWindowStore } from '../adapters/dynamodb-window-store.ts';
import { SnsAlertPublisher } from '../adapters/sns-alert-publisher.ts';
import { createWindowFlush, type WindowFlushReport } from '../batch/window-close/flush.ts';
import type { DetectorConfig } from '../config.ts';
import { anomalyJson, anomalyLine } from '../core/alert-text.ts';
import type { AnomalySink, BatchObserver } from '../ports.ts';
import { PageCache } from '../process-batch.ts';
import { METRIC, METRICS_NAMESPACE, WINDOW_FLUSH_SERVICE_NAME } from '../telemetry-names.ts';
import { LOCAL_CONTEXT } from './invocation.ts';
import { type LiveRulesSettings, liveRules } from './live-readers.ts';

export interface WindowFlushHandlerDeps {
  /** The detector's config: the same windows, lateness, detectors and table. */
  readonly config: DetectorConfig;
  readonly dynamodb: DynamoDBClient;
  readonly sns: SNSClient;
  readonly sinks?: readonly AnomalySink[];
  /** @default Date.now */
  readonly clock?: () => number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  /** Told about every decision besides the log (the local pipeline prints them). */
  readonly observer?: BatchObserver;
  /** The rules document stored in the table decides each sensor's detector. @default off */
  readonly liveRules?: LiveRulesSettings;
}

export type WindowFlushHandler = (event?: unknown, context?: Context) => Promise<WindowFlushReport>;

/**
 * The scheduled flush of window-close evaluation (docs/state.md, "Open windows"): closes the
 * windows of partitions gone quiet, their decisions logged as the seed's lines and delivered
 * as a batch's are. The Lambda entry, `npm start`'s timer and the tests build it here.
 */
export function createWindowFlushHandler(deps: WindowFlushHandlerDeps): WindowFlushHandler {
  const logger = deps.logger ?? new Logger({ serviceName: WINDOW_FLUSH_SERVICE_NAME });
  const metrics =
    deps.metrics ??
    new Metrics({ namespace: METRICS_NAMESPACE, serviceName: WINDOW_FLUSH_SERVICE_NAME });
  const { config } = deps;
  const clock = deps.clock ?? Date.now;
  const store = new DynamoDbWindowStore({
    client: deps.dynamodb,
    tableName: config.tableName,
    concurrency: config.writeConcurrency,
  });
  const publisher = new SnsAlertPublisher({ client: deps.sns, topicArn: config.topicArn });
  const openPartitions = new DynamoDbOpenPartitions(deps.dynamodb, config.tableName);
  const cache = new PageCache();
  const live =
    deps.liveRules === undefined
      ? null
      : liveRules({ ...deps, liveRules: deps.liveRules }, logger, metrics, clock);
  let anomalies = 0;
  const observer: BatchObserver = {
    rejected: () => {},
    anomaly(decision) {
      anomalies += 1;
      logger.warn(anomalyLine(decision.anomaly), {
        ...anomalyJson(decision.anomaly, decision.heldBackBefore),
        notified: decision.notify,
      });
      deps.observer?.anomaly(decision);
    },
    published(alerts) {
      deps.observer?.published(alerts);
    },
  };
  const handle = async (): Promise<WindowFlushReport> => {
    anomalies = 0;
    const rules = live === null ? null : await live.snapshot();
    const flush = createWindowFlush(config, {
      store,
      publisher,
      ...(deps.sinks === undefined ? {} : { sinks: deps.sinks }),
      observer,
      openPartitions,
      nowMs: clock,
      cache,
      ...(rules === null ? {} : { resolveDetector: rules.resolve, alerting: rules.alerting }),
    });
    const report = await flush();
    logger.info('window flush', { ...report });
    metrics.addMetric(METRIC.anomalies, MetricUnit.Count, anomalies);
    return report;
  };
  const wrapped = middy(handle)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
  return (event, context) => wrapped(event ?? {}, context ?? LOCAL_CONTEXT);
}
