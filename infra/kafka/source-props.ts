import type {
  MskAuth,
  SelfManagedAuth,
  StartingPositionName,
  VpcNetworkConfig,
} from './source-config.ts';

// The typed props of KafkaSource.msk and KafkaSource.selfManaged.

export interface ProvisionedPollersProps {
  /** @default 1 (Lambda's default) */
  readonly minPollers?: number;
  /** @default 200 (Lambda's default) */
  readonly maxPollers?: number;
  /** @default - dedicated pollers for this mapping */
  readonly pollerGroupName?: string;
  /** @default 10 */
  readonly retryAttempts?: number;
  /** @default - records never age out */
  readonly maxRecordAgeSeconds?: number;
  /** @default false */
  readonly bisectBatchOnError?: boolean;
  /** @default false */
  readonly reportBatchItemFailures?: boolean;
}

export interface KafkaSourceCommonProps {
  /** Topics to read, one event source mapping each. */
  readonly topics: readonly string[];
  /**
   * Consumer group of the first topic; further topics use `<consumerGroupId>-<topic>`. It
   * "must be unique among all your Kafka event sources. After creating a Kafka event source
   * mapping with the consumer group ID specified, you cannot update this value" (Lambda
   * developer guide, "Customizable consumer group ID",
   * https://docs.aws.amazon.com/lambda/latest/dg/kafka-consumer-group-id.html).
   * @default - `<stack name>-anomaly-detector`; a further detector in the same stack:
   * `<stack name>-<its construct path>`, so no two detectors share a group
   */
  readonly consumerGroupId?: string;
  /**
   * Largest batch per invocation: large batches pack many readings per DynamoDB write.
   * @default 10000
   */
  readonly batchSize?: number;
  /**
   * Longest wait to fill a batch; with the 5 s slide this keeps an alert's p99 under 6 s
   * (docs/bench.md).
   * @default 3
   */
  readonly batchingWindowSeconds?: number;
  /**
   * Where a new consumer group starts. LATEST can miss records while the mapping is created
   * or updated (Lambda developer guide, "Apache Kafka polling and stream starting positions").
   * @default 'TRIM_HORIZON'
   */
  readonly startingPosition?: StartingPositionName;
  /** Epoch seconds; only with startingPosition AT_TIMESTAMP. @default - none */
  readonly startingPositionTimestampSeconds?: number;
  /** @default - on-demand pollers */
  readonly provisionedPollers?: ProvisionedPollersProps;
}

export interface MskKafkaSourceProps extends KafkaSourceCommonProps {
  /** The cluster ARN; the stack must be deployed to its region. */
  readonly clusterArn: string;
  /** @default 'iam' */
  readonly auth?: MskAuth;
  /** SASL/SCRAM secret (complete ARN, name starting AmazonMSK_). @default - none (IAM) */
  readonly secretArn?: string;
  /** The customer managed key of that secret; required with SASL/SCRAM. @default - none */
  readonly secretKmsKeyArn?: string;
}

export interface SelfManagedKafkaSourceProps extends KafkaSourceCommonProps {
  /** `host:port` of the brokers. */
  readonly bootstrapServers: readonly string[];
  /** @default 'sasl-scram-512' */
  readonly auth?: SelfManagedAuth;
  /** @default - SASL/SCRAM: a secret is created (output KafkaCredentialsSecretArn) */
  readonly secretArn?: string;
  /** @default - the secret uses the AWS managed key */
  readonly secretKmsKeyArn?: string;
  /** Secret with the brokers' private root CA. @default - a public CA */
  readonly rootCaSecretArn?: string;
  /** The brokers' network, when they are inside a VPC. @default - brokers on the internet */
  readonly vpc?: VpcNetworkConfig;
}
