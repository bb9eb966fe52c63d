import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * The mapping's on-failure destination: it receives the record of a batch the mapping gave up
 * on (topic, partition, offsets), not the records: replay from Kafka using those offsets
 * (docs/operations.md).
 */
export function createDeadLetterQueue(scope: Construct, removalPolicy: RemovalPolicy): Queue {
  const queue = new Queue(scope, 'DeadLetterQueue', {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy,
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      'This queue is itself the on-failure destination of the Kafka event source mapping; nothing consumes it automatically.',
  });
  return queue;
}
