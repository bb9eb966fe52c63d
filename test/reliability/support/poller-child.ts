/**
 * A local pipeline in its own process, for tests that kill it with SIGKILL mid-batch:
 * the Kafka poller (consumer group) driving the detector handler, DynamoDB and SNS at the
 * given endpoints. Prints one JSON line per event on stdout (pipes are synchronous on
 * Linux, so a line printed before the kill is not lost):
 * `{"type":"ready"}`, `{"type":"invoked","records":n}`, `{"type":"rejected","partition":p,"offset":o}`.
 *
 * Usage: node --import tsx poller-child.ts '<json options>'
 */
import { localDynamoDbClient, localSnsClient } from '../../../local/embedded/clients.ts';
import {
  createLocalDetector,
  localDetectorConfig,
} from '../../../local/pipeline/local-detector.ts';
import { startKafkaPoller } from '../../../local/poller/kafka-poller.ts';
import { LOCAL_MSK_CLUSTER_ARN } from '../../../local/poller/lambda-event.ts';

interface ChildOptions {
  readonly brokers: string[];
  readonly topic: string;
  readonly groupId: string;
  readonly tableName: string;
  readonly topicArn: string;
  readonly alertCooldownMs: number;
  readonly dynamodbEndpoint: string;
  readonly snsEndpoint: string;
  readonly batchSize: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
const say = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

const handler = createLocalDetector({
  config: localDetectorConfig({
    tableName: options.tableName,
    topicArn: options.topicArn,
    alertCooldownMs: options.alertCooldownMs,
  }),
  dynamodb: localDynamoDbClient(options.dynamodbEndpoint, { maxAttempts: 1 }),
  sns: localSnsClient(options.snsEndpoint, { maxAttempts: 1 }),
  observer: {
    rejected: (r) =>
      say({ type: 'rejected', partition: r.source.partition, offset: r.source.offset }),
    anomaly() {},
    published() {},
  },
});

const poller = await startKafkaPoller({
  brokers: options.brokers,
  topics: [options.topic],
  groupId: options.groupId,
  source: {
    kind: 'msk',
    clusterArn: LOCAL_MSK_CLUSTER_ARN,
    bootstrapServers: options.brokers.join(','),
  },
  invoke: (event) => handler(event),
  batching: { batchSize: options.batchSize, batchingWindowMs: 50 },
  retry: { initialBackoffMs: 50, maxBackoffMs: 300 },
  sessionTimeoutMs: 3000,
  heartbeatIntervalMs: 300,
  maxWaitTimeMs: 100,
  hooks: { invoked: ({ records }) => say({ type: 'invoked', records }) },
});
await poller.ready;
say({ type: 'ready' });
// Runs until killed; a parent that dies takes this process down with it.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
