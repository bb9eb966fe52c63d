import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { DynamoDbDigestStore } from '../adapters/dynamodb-digest-store.ts';
import { DynamoDbWindowStore } from '../adapters/dynamodb-window-store.ts';
import { SnsAlertPublisher } from '../adapters/sns-alert-publisher.ts';
import type { DetectorConfig } from '../config.ts';
import type { Digest } from '../core/alerting/digest.ts';
import { catchingUpLine } from '../core/alerting/digest-text.ts';
import { type SendDigestsResult, sendDigests } from '../digest/send-digests.ts';
import { DEFAULT_DETECTOR_TIMEOUT_SECONDS } from '../silence/ports.ts';
import { DIGEST_SERVICE_NAME, METRIC, METRICS_NAMESPACE } from '../telemetry-names.ts';
import { LOCAL_CONTEXT } from './invocation.ts';

export interface DigestHandlerDeps {
  /** The detector's config: its table, topic and digestPeriodSeconds. */
  readonly config: DetectorConfig;
  readonly dynamodb: DynamoDBClient;
  readonly sns: SNSClient;
  /** @default Date.now */
  readonly clock?: () => number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  /** The detector function's timeout: a period's digest waits this long (plus the margin). */
  readonly maxBatchMs?: number;
  /** Added to maxBatchMs: a clock skew and an invocation's start. @default 60000 */
  readonly marginMs?: number;
  /** Told about every digest sent (the local pipeline prints them). */
  readonly onDigest?: (digest: Digest) => void;
}

/** `DIGEST → 12 anomalies (3 critical) 10:00–10:15 UTC; while catching up: …`. */
export function digestLine(d: Digest): string {
  const span = `${new Date(d.periodStartMs).toISOString().slice(11, 19)}–${new Date(d.periodStartMs + d.periodMs).toISOString().slice(11, 19)} UTC`;
  const up = catchingUpLine(d);
  return `DIGEST → ${d.counts.alerts} anomalies (${d.counts.critical} critical) ${span}: ${d.counts.notified} notified, ${d.counts.heldBack} held back${up === null ? '' : `; ${up}`}${d.counts.resolved > 0 ? `; ${d.counts.resolved} episodes ended` : ''}`;
}

/**
 * The scheduled digest function (docs/alerting.md): sends each closed period's one email
 * digest. Shared by the Lambda entry, the local pipeline and the tests.
 */
export function createDigestHandler(deps: DigestHandlerDeps) {
  const logger = deps.logger ?? new Logger({ serviceName: DIGEST_SERVICE_NAME });
  const metrics =
    deps.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName: DIGEST_SERVICE_NAME });
  const clock = deps.clock ?? Date.now;
  const periodMs = (deps.config.digestPeriodSeconds ?? 0) * 1000;
  const publisher = new SnsAlertPublisher({ client: deps.sns, topicArn: deps.config.topicArn });
  const run = async (): Promise<SendDigestsResult> => {
    if (periodMs <= 0) return { sent: [], periods: 0, untraceable: 0 };
    const result = await sendDigests(
      {
        digests: new DynamoDbDigestStore(deps.dynamodb, deps.config.tableName),
        partitions: new DynamoDbWindowStore({
          client: deps.dynamodb,
          tableName: deps.config.tableName,
        }),
        publisher,
        periodMs,
        graceMs:
          (deps.maxBatchMs ?? DEFAULT_DETECTOR_TIMEOUT_SECONDS * 1000) + (deps.marginMs ?? 60_000),
      },
      clock(),
    );
    for (const d of result.sent) {
      logger.info(digestLine(d), {
        periodStart: new Date(d.periodStartMs).toISOString(),
        ...d.counts,
        staleSensors: d.staleSensors,
      });
      deps.onDigest?.(d);
    }
    if (result.untraceable > 0)
      logger.warn('digest contributions of partitions whose root no longer names the period', {
        partitions: result.untraceable,
      });
    metrics.addMetric(METRIC.digestsSent, MetricUnit.Count, result.sent.length);
    return result;
  };
  const wrapped = middy(async (_event: unknown, _context: Context) => run())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
  return (event: unknown = {}, context?: Context) => wrapped(event, context ?? LOCAL_CONTEXT);
}
