import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ENV } from '../config.ts';
import { createFeedbackApi } from './feedback-api.ts';

/**
 * Lambda entry of the feedback API (a function URL with AuthType AWS_IAM, docs/feedback.md).
 * The table's name is read once, at cold start: without it the init fails with its name.
 */
const tableName = process.env[ENV.tableName];
if (tableName === undefined || tableName === '')
  throw new Error(`${ENV.tableName}: the detector's table name is not set`);

export const handler = createFeedbackApi({ dynamodb: new DynamoDBClient({}), tableName });
