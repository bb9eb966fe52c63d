import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SNSClient } from '@aws-sdk/client-sns';
import { configFromEnv } from '../config.ts';
import { DEFAULT_DETECTOR_TIMEOUT_SECONDS, DETECTOR_TIMEOUT_ENV } from '../silence/ports.ts';
import { sinkSettingsFromEnv } from '../sinks-config.ts';
import { createSilenceHandler } from './create-silence-handler.ts';
import { sinksFromSettings } from './sinks.ts';

/**
 * Lambda entry of the scheduled silence check (docs/silence.md), invoked by EventBridge
 * Scheduler. It reads the detector's own variables (table, topic, rules, sinks), validated
 * once at cold start, and the rules document stored in the table (docs/rules.md).
 */
export const handler = createSilenceHandler({
  config: configFromEnv(process.env),
  dynamodb: new DynamoDBClient({}),
  sns: new SNSClient({}),
  emailDigest: true,
  // The construct passes the detector's timeout: a batch may run that long before it records.
  maxBatchMs:
    Number(process.env[DETECTOR_TIMEOUT_ENV] ?? DEFAULT_DETECTOR_TIMEOUT_SECONDS) * 1000 ||
    DEFAULT_DETECTOR_TIMEOUT_SECONDS * 1000,
  // The rules document in the table gives each sensor its limit, as it does its detector.
  liveRules: {},
  sinks: sinksFromSettings(sinkSettingsFromEnv(process.env), () => new EventBridgeClient({})),
});
