import { createHash } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { KafkaEvent } from '../kafka-event.ts';

/**
 * What a handler knows of where it runs besides its records: the Kafka cluster of an event,
 * and the Lambda context stood in for callers outside Lambda.
 */

/**
 * The Kafka cluster of an event, as a short stable id: the MSK cluster's ARN
 * (`eventSourceArn`) or, for a self-managed cluster, its `bootstrapServers`. It is part of
 * every partition's id, so the same topic on another cluster is judged afresh.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html (event shape)
 */
export function streamIdOf(event: KafkaEvent): string {
  const e = event as { eventSourceArn?: unknown; bootstrapServers?: unknown };
  const source =
    typeof e.eventSourceArn === 'string' && e.eventSourceArn !== ''
      ? e.eventSourceArn
      : typeof e.bootstrapServers === 'string'
        ? e.bootstrapServers
        : '';
  if (source === '') return '';
  return createHash('sha256').update(source).digest('base64url').slice(0, 10);
}

/** Context for callers outside Lambda (local pipeline, tests). */
export const LOCAL_CONTEXT: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'anomaly-detector-local',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:anomaly-detector-local',
  memoryLimitInMB: '1024',
  awsRequestId: 'local',
  logGroupName: 'local',
  logStreamName: 'local',
  getRemainingTimeInMillis: () => 900_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
};
