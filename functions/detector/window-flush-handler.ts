import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SNSClient } from '@aws-sdk/client-sns';
import { configFromEnv } from '../config.ts';
import { sinkSettingsFromEnv } from '../sinks-config.ts';
import { createWindowFlushHandler } from './create-window-flush-handler.ts';
import { sinksFromSettings } from './sinks.ts';

/**
 * Lambda entry of the scheduled window flush (window-close evaluation, docs/state.md "Open
 * windows"), invoked by an EventBridge schedule. It reads the detector's own variables (table,
 * topic, windows, lateness, rules, sinks), validated once at cold start, and the rules
 * document stored in the table (docs/rules.md).
 */
export const handler = createWindowFlushHandler({
  config: configFromEnv(process.env),
  dynamodb: new DynamoDBClient({}),
  sns: new SNSClient({}),
  liveRules: {},
  sinks: sinksFromSettings(sinkSettingsFromEnv(process.env), () => new EventBridgeClient({})),
});
