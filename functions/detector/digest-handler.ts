import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { configFromEnv } from '../config.ts';
import { DEFAULT_DETECTOR_TIMEOUT_SECONDS, DETECTOR_TIMEOUT_ENV } from '../silence/ports.ts';
import { createDigestHandler } from './create-digest-handler.ts';

/**
 * Lambda entry of the scheduled email digest (docs/alerting.md), invoked by EventBridge
 * Scheduler. It reads the detector's own variables (table, topic, DIGEST_PERIOD_SECONDS).
 */
export const handler = createDigestHandler({
  config: configFromEnv(process.env),
  dynamodb: new DynamoDBClient({}),
  sns: new SNSClient({}),
  maxBatchMs:
    Number(process.env[DETECTOR_TIMEOUT_ENV] ?? DEFAULT_DETECTOR_TIMEOUT_SECONDS) * 1000 ||
    DEFAULT_DETECTOR_TIMEOUT_SECONDS * 1000,
});
