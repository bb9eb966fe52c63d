import {
  Aws,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { TABLE_SCHEMA } from '../../functions/adapters/dynamodb-table.ts';
import type { DeployConfig } from '../config.ts';
import { AlertTopics } from '../constructs/alert-topics.ts';
import { DetectorFunction } from '../constructs/detector-function.ts';
import { KafkaTrigger } from '../constructs/kafka-trigger.ts';
import { Observability } from '../constructs/observability.ts';

export interface AnomalyDetectorStackProps extends StackProps {
  readonly config: DeployConfig;
}

/**
 * Everything one deployment needs: Kafka trigger → detector function → DynamoDB windows,
 * SNS alerts, CloudWatch alarms and dashboard.
 */
export class AnomalyDetectorStack extends Stack {
  readonly table: Table;
  readonly detector: DetectorFunction;
  readonly topics: AlertTopics;
  readonly deadLetterQueue: Queue;
  readonly trigger: KafkaTrigger;
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: AnomalyDetectorStackProps) {
    super(scope, id, {
      description: 'Serverless real-time anomaly detection for Kafka sensor streams',
      ...props,
    });
    const { config } = props;
    const removalPolicy =
      config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    // Window buckets, sensor state and partition journals; the layout is the adapter's.
    this.table = new Table(this, 'WindowTable', {
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });

    this.topics = new AlertTopics(this, 'Topics', {
      alertEmails: config.alerts.emails,
      alertSmsNumbers: config.alerts.smsNumbers,
      smsCriticalOnly: config.alerts.smsCriticalOnly,
      opsEmails: config.alerts.opsEmails,
    });

    this.detector = new DetectorFunction(this, 'Detector', {
      table: this.table,
      alertTopic: this.topics.alertTopic,
      alertTopicKey: this.topics.key,
      detectorEnvironment: config.detectorEnvironment,
      memorySizeMb: config.function.memorySizeMb,
      timeoutSeconds: config.function.timeoutSeconds,
      logRetention: config.function.logRetentionDays as RetentionDays,
      removalPolicy,
    });

    // Receives the mapping's record of a batch it gave up on (topic, partitions, offsets),
    // not the records: replay from Kafka using those offsets.
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the on-failure destination of the Kafka event source mapping; nothing consumes it automatically.',
    });

    this.trigger = new KafkaTrigger(this, 'Kafka', {
      function: this.detector.function,
      source: config.kafka,
      deadLetterQueue: this.deadLetterQueue,
      removalPolicy,
    });

    this.observability = new Observability(this, 'Observability', {
      function: this.detector.function,
      logGroup: this.detector.logGroup,
      deadLetterQueue: this.deadLetterQueue,
      opsTopic: this.topics.opsTopic,
      offsetLagThresholdRecords: config.alarms.offsetLagRecords,
      rejectedThresholdPercent: config.alarms.rejectedPercent,
      dashboardName: config.stackName,
    });

    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output('FunctionName', this.detector.function.functionName, 'Detector Lambda function');
    output(
      'LogGroupName',
      this.detector.logGroup.logGroupName,
      'Detector logs (anomalies, rejections)',
    );
    output('TableName', this.table.tableName, 'DynamoDB table of window buckets');
    output('AlertTopicArn', this.topics.alertTopic.topicArn, 'SNS topic of anomaly alerts');
    output('OpsTopicArn', this.topics.opsTopic.topicArn, 'SNS topic of operations alarms');
    output(
      'DeadLetterQueueUrl',
      this.deadLetterQueue.queueUrl,
      'Batches the Kafka mapping gave up on',
    );
    output(
      'DashboardUrl',
      `https://console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${config.stackName}`,
      'CloudWatch dashboard',
    );
    if (this.trigger.createdSecret !== undefined) {
      output(
        'KafkaCredentialsSecretArn',
        this.trigger.createdSecret.secretArn,
        'Put the Kafka SASL/SCRAM username and password into this secret',
      );
    }
  }
}
