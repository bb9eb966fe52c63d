import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import { DEFAULT_DETECTION, type DetectorConfig, validateConfig } from '../../functions/config.ts';
import type { SilenceAlert } from '../../functions/core/silence.ts';
import { createHandler, type DetectorHandler } from '../../functions/detector/create-handler.ts';
import {
  createSilenceHandler,
  type SilenceHandler,
} from '../../functions/detector/create-silence-handler.ts';
import {
  createWindowFlushHandler,
  type WindowFlushHandler,
} from '../../functions/detector/create-window-flush-handler.ts';
import type { LiveRulesSettings } from '../../functions/detector/live-readers.ts';
import type { AnomalySink, BatchObserver } from '../../functions/ports.ts';
import type { SilenceSink } from '../../functions/silence/ports.ts';
import {
  SERVICE_NAME,
  SILENCE_SERVICE_NAME,
  WINDOW_FLUSH_SERVICE_NAME,
} from '../../functions/telemetry-names.ts';
import { localTelemetry } from './local-telemetry.ts';

export const LOCAL_TABLE_NAME = 'sensor-anomaly-windows-local';
export const LOCAL_TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:sensor-anomalies';

/** The Lambda's config with the detection defaults of semantics.md, for local runs. */
export function localDetectorConfig(overrides: Partial<DetectorConfig> = {}): DetectorConfig {
  return validateConfig({
    ...DEFAULT_DETECTION,
    tableName: LOCAL_TABLE_NAME,
    topicArn: LOCAL_TOPIC_ARN,
    ...overrides,
  });
}

export interface LocalDetectorOptions {
  readonly config: DetectorConfig;
  readonly dynamodb: DynamoDBClient;
  readonly sns: SNSClient;
  readonly observer?: BatchObserver;
  /**
   * Print the function's structured JSON logs and EMF metrics as CloudWatch would get
   * them. Off by default: the local console shows the readable lines instead.
   */
  readonly lambdaLogs?: boolean;
  /** Where every anomaly goes besides SNS (the anomalies topic). @default none */
  readonly sinks?: readonly AnomalySink[];
  /** Judge with the rules document in the table, as the Lambda does (docs/rules.md). @default off */
  readonly liveRules?: LiveRulesSettings;
}

/** The very handler Lambda runs (createHandler), with local clients and quiet telemetry. */
export function createLocalDetector(options: LocalDetectorOptions): DetectorHandler {
  const { logger, metrics } = localTelemetry(SERVICE_NAME, options.lambdaLogs);
  return createHandler({
    config: options.config,
    dynamodb: options.dynamodb,
    sns: options.sns,
    logger,
    metrics,
    ...(options.observer === undefined ? {} : { observer: options.observer }),
    ...(options.sinks === undefined ? {} : { sinks: options.sinks }),
    ...(options.liveRules === undefined
      ? {}
      : {
          liveRules: options.liveRules,
          // Verdicts on alerts (docs/feedback.md) follow on the rules' cadence.
          liveFeedback:
            options.liveRules.refreshMs === undefined
              ? {}
              : { refreshMs: options.liveRules.refreshMs },
        }),
  });
}

/** The very silence check the schedule invokes in AWS (createSilenceHandler), with local clients. */
export function createLocalSilenceCheck(options: {
  readonly config: DetectorConfig;
  readonly dynamodb: DynamoDBClient;
  readonly sns: SNSClient;
  readonly sinks?: readonly SilenceSink[];
  readonly onAlert?: (alert: SilenceAlert) => void;
  readonly lambdaLogs?: boolean;
  /** Limits from the rules document in the table, as the deployed check takes them. */
  readonly liveRules?: LiveRulesSettings;
  /**
   * The longest a local batch may hold readings it has not recorded. @default 1000: the local
   * poller's batches take milliseconds.
   */
  readonly maxBatchMs?: number;
}): SilenceHandler {
  const { logger, metrics } = localTelemetry(SILENCE_SERVICE_NAME, options.lambdaLogs);
  return createSilenceHandler({
    config: options.config,
    dynamodb: options.dynamodb,
    sns: options.sns,
    logger,
    metrics,
    ...(options.sinks === undefined ? {} : { sinks: options.sinks }),
    ...(options.onAlert === undefined ? {} : { onAlert: options.onAlert }),
    ...(options.liveRules === undefined ? {} : { liveRules: options.liveRules }),
    maxBatchMs: options.maxBatchMs ?? LOCAL_MAX_BATCH_MS,
  });
}

/** The silence check's margin for a batch in flight, locally (docs/silence.md, "Races"). */
export const LOCAL_MAX_BATCH_MS = 1000;

/** The very window flush the schedule invokes in AWS (createWindowFlushHandler), locally. */
export function createLocalWindowFlush(options: {
  readonly config: DetectorConfig;
  readonly dynamodb: DynamoDBClient;
  readonly sns: SNSClient;
  readonly sinks?: readonly AnomalySink[];
  readonly observer?: BatchObserver;
  readonly lambdaLogs?: boolean;
  readonly liveRules?: LiveRulesSettings;
}): WindowFlushHandler {
  const { logger, metrics } = localTelemetry(WINDOW_FLUSH_SERVICE_NAME, options.lambdaLogs);
  return createWindowFlushHandler({
    config: options.config,
    dynamodb: options.dynamodb,
    sns: options.sns,
    logger,
    metrics,
    ...(options.sinks === undefined ? {} : { sinks: options.sinks }),
    ...(options.observer === undefined ? {} : { observer: options.observer }),
    ...(options.liveRules === undefined ? {} : { liveRules: options.liveRules }),
  });
}
