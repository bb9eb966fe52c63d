import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { DynamoDbSilenceStore } from '../adapters/dynamodb-silence-store.ts';
import { SnsAlertPublisher } from '../adapters/sns-alert-publisher.ts';
import type { DetectorConfig } from '../config.ts';
import { compileAlerting } from '../core/alerting/policy.ts';
import { type SilenceAlert, silenceJson, silenceLine } from '../core/silence.ts';
import { snapshotSilence } from '../live-rules.ts';
import { checkSilence, type SilenceCheckReport } from '../silence/check-silence.ts';
import { DEFAULT_DETECTOR_TIMEOUT_SECONDS, type SilenceSink } from '../silence/ports.ts';
import { METRIC, METRICS_NAMESPACE, SILENCE_SERVICE_NAME } from '../telemetry-names.ts';
import { LOCAL_CONTEXT } from './invocation.ts';
import { type LiveRulesSettings, liveRules } from './live-readers.ts';

export interface SilenceHandlerDeps {
  /** The detector's config: the same rules file gives each sensor its silenceSeconds. */
  readonly config: DetectorConfig;
  readonly dynamodb: DynamoDBClient;
  readonly sns: SNSClient;
  readonly sinks?: readonly SilenceSink[];
  /** @default Date.now */
  readonly clock?: () => number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  /** Told about every alert besides the log (the local pipeline prints them). */
  readonly onAlert?: (alert: SilenceAlert) => void;
  /**
   * The longest a detector batch may run (its Lambda timeout): the check waits this long past
   * a limit, as a batch may have heard a sensor it has not recorded yet (docs/silence.md,
   * "Races"). @default DEFAULT_DETECTOR_TIMEOUT_SECONDS
   */
  readonly maxBatchMs?: number;
  /** One email digest per check besides the per-sensor alerts. @default false */
  readonly emailDigest?: boolean;
  /**
   * Take each sensor's limit from the rules document stored in the table, read at most once
   * per `refreshMs` with the detector's precedence and invalid-document behaviour (keep the
   * last valid rules); the config's rules until there is one. @default off: the Lambda entry
   * and `npm start` turn it on.
   */
  readonly liveRules?: LiveRulesSettings;
}

export type SilenceHandler = (event?: unknown, context?: Context) => Promise<SilenceCheckReport>;

/**
 * The scheduled silence check (docs/silence.md): the Lambda entry, `npm start`'s timer and
 * the tests build it here. Each alert is logged as one JSON line whose message is
 * `SILENT <sensor>: …` or `RECOVERED <sensor>: …`.
 */
export function createSilenceHandler(deps: SilenceHandlerDeps): SilenceHandler {
  const logger = deps.logger ?? new Logger({ serviceName: SILENCE_SERVICE_NAME });
  const metrics =
    deps.metrics ??
    new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SILENCE_SERVICE_NAME });
  const { config } = deps;
  const store = new DynamoDbSilenceStore(deps.dynamodb, config.tableName);
  const publisher = new SnsAlertPublisher({
    client: deps.sns,
    topicArn: config.topicArn,
    digest: deps.emailDigest ?? false,
  });
  const clock = deps.clock ?? Date.now;
  const deployed = snapshotSilence(config.defaultDetector, config.rules, config.silenceSeconds);
  const deployedAlerting = compileAlerting(config.alerting ?? {});
  const live =
    deps.liveRules === undefined
      ? null
      : liveRules({ ...deps, liveRules: deps.liveRules }, logger, metrics, clock);
  const handle = async (): Promise<SilenceCheckReport> => {
    const rules = live === null ? null : await live.snapshot();
    const silence = rules === null ? deployed : rules.silence;
    const alerting = rules === null ? deployedAlerting : rules.alerting;
    const report = await checkSilence({
      store,
      publisher,
      ...(deps.sinks === undefined ? {} : { sinks: deps.sinks }),
      silenceOf: silence.silenceOf,
      ...(alerting.grouping ? { groupOf: alerting.groupOf } : {}),
      ...(alerting.maintenance ? { muted: alerting.muted } : {}),
      slackMs: silence.granularityMs,
      maxBatchMs: deps.maxBatchMs ?? DEFAULT_DETECTOR_TIMEOUT_SECONDS * 1000,
      nowMs: clock,
      onAlert: (alert) => {
        logger.warn(silenceLine(alert), silenceJson(alert));
        deps.onAlert?.(alert);
      },
    });
    logger.info('silence check', { ...report });
    if (report.deferred > 0) {
      logger.warn('silence outbox full: alerts deferred to a later check', {
        deferred: report.deferred,
        undelivered: report.undelivered,
      });
    }
    metrics.addMetric(METRIC.silenceAlerts, MetricUnit.Count, report.alerts);
    metrics.addMetric(METRIC.silentSensors, MetricUnit.Count, report.silentSensors);
    if ((report.inhibited ?? 0) > 0)
      metrics.addMetric(METRIC.silenceAlertsInhibited, MetricUnit.Count, report.inhibited ?? 0);
    if ((report.muted ?? 0) > 0)
      metrics.addMetric(METRIC.notificationsMuted, MetricUnit.Count, report.muted ?? 0);
    return report;
  };
  const wrapped = middy(handle)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
  return (event, context) => wrapped(event ?? {}, context ?? LOCAL_CONTEXT);
}
