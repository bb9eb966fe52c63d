import { LambdaClient } from '@aws-sdk/client-lambda';
import { startKafkaPoller } from './kafka-poller.ts';
import { createLambdaInvoker } from './lambda-invoker.ts';

/**
 * `tsx local/poller/lambda-poller-main.ts`: reads Kafka and invokes the deployed detector
 * through Lambda's API (LocalStack's by default), standing in for the Kafka event source
 * mapping that LocalStack's free edition does not run. Used by scripts/localstack-run.sh.
 *
 * Environment: FUNCTION_NAME (required), KAFKA_BROKERS (localhost:9092), TOPICS
 * (sensor-data), GROUP_ID (anomaly-detector-localstack), LAMBDA_ENDPOINT
 * (http://localhost:4566; empty for AWS), BATCH_SIZE (100), BATCHING_WINDOW_MS (500),
 * FROM_BEGINNING (true).
 */
const env = process.env;
const functionName = env.FUNCTION_NAME;
if (functionName === undefined || functionName === '') {
  console.error('FUNCTION_NAME is not set: the deployed function (stack output FunctionName).');
  process.exit(1);
}
const endpoint = env.LAMBDA_ENDPOINT ?? 'http://localhost:4566';
const client = new LambdaClient({
  region: env.AWS_REGION ?? 'us-east-1',
  ...(endpoint === ''
    ? {}
    : { endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
});
const brokers = (env.KAFKA_BROKERS ?? 'localhost:9092').split(',');
const poller = await startKafkaPoller({
  brokers,
  topics: (env.TOPICS ?? 'sensor-data').split(','),
  groupId: env.GROUP_ID ?? 'anomaly-detector-localstack',
  fromBeginning: (env.FROM_BEGINNING ?? 'true') === 'true',
  source: { kind: 'self-managed', bootstrapServers: brokers.join(',') },
  invoke: createLambdaInvoker({ client, functionName }),
  batching: {
    batchSize: Number(env.BATCH_SIZE ?? 100),
    batchingWindowMs: Number(env.BATCHING_WINDOW_MS ?? 500),
  },
  hooks: {
    invoked: ({ records, durationMs, result }) =>
      console.log(
        `invoked ${functionName}: ${records} records in ${durationMs} ms`,
        JSON.stringify(result),
      ),
    failed: ({ records, error, retryInMs }) =>
      console.error(
        `${records} records failed, retry in ${retryInMs} ms: ${(error as Error).message}`,
      ),
  },
});
await poller.ready;
console.log(
  `polling ${brokers.join(',')} → Lambda ${functionName} at ${endpoint || 'AWS'} (Ctrl-C stops)`,
);
const stop = async () => {
  await poller.stop();
  client.destroy();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
