// The Kafka source after its props are checked and defaulted: what the triggers build from.

/**
 * Kafka event source mappings "only support functions with maximum timeout limits of 14
 * minutes" (Lambda developer guide, "Using Lambda with Amazon MSK",
 * https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html; the same note is on the
 * self-managed Kafka page).
 */
export const KAFKA_MAX_TIMEOUT_SECONDS = 840;

/**
 * "Your secret name must begin with the prefix AmazonMSK_" and "A secret created with the
 * default AWS KMS key cannot be used with an Amazon MSK cluster." (Amazon MSK developer guide,
 * "Set up SASL/SCRAM authentication for an Amazon MSK cluster",
 * https://docs.aws.amazon.com/msk/latest/developerguide/msk-password-tutorial.html)
 */
export const MSK_SCRAM_SECRET_PREFIX = 'AmazonMSK_';

/**
 * The default consumer group: one per stack, so two stacks never split a topic's partitions.
 * A second detector in the same stack adds its construct path (sensor-anomaly-detector.ts).
 */
export function defaultConsumerGroupId(stackName: string, suffix = 'anomaly-detector'): string {
  return `${stackName}-${suffix}`;
}

/** The mapping settings a source has unless its props say otherwise. */
export const KAFKA_DEFAULTS = {
  batchSize: 10_000,
  batchingWindowSeconds: 3,
  // LATEST could miss records: "if you specify LATEST as the starting position for the stream,
  // the event source mapping could miss events during a create or update. To ensure that no
  // events are missed, specify either TRIM_HORIZON or AT_TIMESTAMP." (Lambda developer guide,
  // "Apache Kafka polling and stream starting positions in Lambda",
  // https://docs.aws.amazon.com/lambda/latest/dg/kafka-starting-positions.html). Replays are
  // safe here (exactly-once state), so a first deploy reads the retained backlog instead.
  startingPosition: 'TRIM_HORIZON',
} as const;

/** A consumer group id Lambda accepts: 1-200 of these characters. */
export const CONSUMER_GROUP_PATTERN = /^[A-Za-z0-9\-/*:_+=.@]{1,200}$/;

/** Applied to provisioned-mode mappings only; the API rejects them in on-demand mode. */
export const PROVISIONED_DEFAULTS = {
  retryAttempts: 10,
  bisectBatchOnError: false,
  reportBatchItemFailures: false,
} as const;

export type KafkaSourceKind = 'msk' | 'self-managed';
export type MskAuth = 'iam' | 'sasl-scram-512';
export type SelfManagedAuth = 'sasl-scram-512' | 'sasl-scram-256' | 'mtls' | 'none';
export type StartingPositionName = 'LATEST' | 'TRIM_HORIZON' | 'AT_TIMESTAMP';

export interface ProvisionedModeConfig {
  /** @default 1 (Lambda's default) */
  readonly minPollers?: number;
  /** @default 200 (Lambda's default) */
  readonly maxPollers?: number;
  /** @default - dedicated pollers for each mapping */
  readonly pollerGroupName?: string;
  readonly retryAttempts: number;
  /** @default - records never age out (-1) */
  readonly maxRecordAgeSeconds?: number;
  readonly bisectBatchOnError: boolean;
  readonly reportBatchItemFailures: boolean;
}

interface KafkaCommonConfig {
  readonly topics: readonly string[];
  readonly consumerGroupId: string;
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly startingPosition: StartingPositionName;
  /** Epoch seconds; set exactly when startingPosition is AT_TIMESTAMP. */
  readonly startingPositionTimestampSeconds?: number;
  /** @default - on-demand pollers */
  readonly provisioned?: ProvisionedModeConfig;
  /** Complete ARN of the Secrets Manager secret. @default - see kafkaAuth */
  readonly secretArn?: string;
  /** @default - the secret uses the AWS managed key */
  readonly secretKmsKeyArn?: string;
}

export interface MskSourceConfig extends KafkaCommonConfig {
  readonly kind: 'msk';
  readonly clusterArn: string;
  readonly auth: MskAuth;
}

export interface SelfManagedSourceConfig extends KafkaCommonConfig {
  readonly kind: 'self-managed';
  readonly bootstrapServers: readonly string[];
  readonly auth: SelfManagedAuth;
  /** @default - brokers use certificates from a public CA */
  readonly rootCaSecretArn?: string;
  /** @default - brokers are reached over the internet */
  readonly vpc?: VpcNetworkConfig;
}

export type KafkaSourceConfig = MskSourceConfig | SelfManagedSourceConfig;

export interface VpcNetworkConfig {
  readonly vpcId: string;
  /**
   * For an interface endpoint (`sqsEndpoint`), at most one per Availability Zone: "You can
   * select one subnet per Availability Zone" (AWS PrivateLink guide, "Access an AWS service
   * using an interface VPC endpoint",
   * https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html).
   */
  readonly subnetIds: readonly string[];
  readonly securityGroupId: string;
}

/**
 * The consumer group of each topic's mapping, in topic order. Lambda wants a group id unique
 * across Kafka mappings, so topics after the first get `<consumerGroupId>-<topic>`.
 */
export function consumerGroupIds(
  kafka: Readonly<{ topics: readonly string[]; consumerGroupId: string }>,
): string[] {
  return kafka.topics.map((topic, i) =>
    i === 0 ? kafka.consumerGroupId : `${kafka.consumerGroupId}-${topic}`,
  );
}
