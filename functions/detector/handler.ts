import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { configFromEnv } from '../config.ts';
import { createHandler } from './create-handler.ts';

export { createHandler } from './create-handler.ts';

/**
 * Lambda entry for Kafka event source mappings (MSK and self-managed). Config is read and
 * validated once, at cold start: a bad variable fails the init with its name in the error.
 */
export const handler = createHandler({
  config: configFromEnv(process.env),
  dynamodb: new DynamoDBClient({}),
  sns: new SNSClient({}),
});
