import { SensorAnomalyDetectorError } from './errors.ts';

/**
 * Where the readings come from, as typed props: `KafkaSource.msk({...})` or
 * `KafkaSource.selfManaged({...})`, with the Kafka rules in one place (the CDK-context layer
 * builds its source through these same checks).
 */

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

/** Where the readings come from: `KafkaSource.msk({...})` or `KafkaSource.selfManaged({...})`. */
export class KafkaSource {
  /** Which of the two, for checks that differ between them. */
  get kind(): KafkaSourceKind {
    return this.build('').kind;
  }

  static msk(props: MskKafkaSourceProps): KafkaSource {
    common(props, 'checked-now'); // throws on a bad prop here, not when the construct uses it
    const auth = props.auth ?? 'iam';
    if (auth === 'sasl-scram-512') {
      if (props.secretArn === undefined || props.secretKmsKeyArn === undefined) {
        throw new SensorAnomalyDetectorError(
          'KafkaSource.msk: auth sasl-scram-512 needs secretArn and secretKmsKeyArn (MSK cannot use a secret encrypted with the default AWS managed key)',
        );
      }
      const name = props.secretArn.split(':secret:')[1]?.slice(0, -7) ?? '';
      if (!name.startsWith(MSK_SCRAM_SECRET_PREFIX)) {
        throw new SensorAnomalyDetectorError(
          `KafkaSource.msk: the SCRAM secret's name must begin with ${MSK_SCRAM_SECRET_PREFIX} (got "${name}")`,
        );
      }
    } else if (props.secretArn !== undefined) {
      throw new SensorAnomalyDetectorError(
        `KafkaSource.msk: secretArn is only used with auth sasl-scram-512 (auth is ${auth})`,
      );
    }
    return new KafkaSource((groupId) => ({
      kind: 'msk',
      clusterArn: props.clusterArn,
      auth,
      ...common(props, groupId),
    }));
  }

  static selfManaged(props: SelfManagedKafkaSourceProps): KafkaSource {
    common(props, 'checked-now'); // throws on a bad prop here, not when the construct uses it
    const auth = props.auth ?? 'sasl-scram-512';
    if (auth === 'none' && props.vpc === undefined) {
      throw new SensorAnomalyDetectorError(
        'KafkaSource.selfManaged: auth none needs vpc (Lambda reaches unauthenticated brokers only inside a VPC)',
      );
    }
    if (auth === 'mtls' && props.secretArn === undefined) {
      throw new SensorAnomalyDetectorError(
        'KafkaSource.selfManaged: auth mtls needs secretArn (the client certificate)',
      );
    }
    if (props.bootstrapServers.length === 0) {
      throw new SensorAnomalyDetectorError('KafkaSource.selfManaged: bootstrapServers is empty');
    }
    return new KafkaSource((groupId) => ({
      kind: 'self-managed',
      bootstrapServers: props.bootstrapServers,
      auth,
      ...(props.rootCaSecretArn === undefined ? {} : { rootCaSecretArn: props.rootCaSecretArn }),
      ...(props.vpc === undefined ? {} : { vpc: props.vpc }),
      ...common(props, groupId),
    }));
  }

  /** @internal The validated deploy config (the CDK-context layer builds it directly). */
  static fromConfig(config: KafkaSourceConfig): KafkaSource {
    return new KafkaSource(() => config);
  }

  private constructor(private readonly build: (defaultGroupId: string) => KafkaSourceConfig) {}

  /** @internal The source, with the construct's default consumer group unless props set one. */
  _config(defaultGroupId: string): KafkaSourceConfig {
    return this.build(defaultGroupId);
  }
}

function common(
  props: KafkaSourceCommonProps & { secretArn?: string; secretKmsKeyArn?: string },
  defaultGroupId: string,
) {
  if (props.topics.length === 0)
    throw new SensorAnomalyDetectorError('KafkaSource: topics is empty');
  const limits = [
    ['batchSize', props.batchSize, 1, 10_000],
    ['batchingWindowSeconds', props.batchingWindowSeconds, 0, 300],
  ] as const;
  for (const [key, value, min, max] of limits)
    if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max))
      throw new SensorAnomalyDetectorError(
        `KafkaSource: ${key} must be a whole number from ${min} to ${max}: the limit of a Kafka event source mapping (got ${value})`,
      );
  if (props.consumerGroupId !== undefined && !CONSUMER_GROUP_PATTERN.test(props.consumerGroupId))
    throw new SensorAnomalyDetectorError(
      `KafkaSource: consumerGroupId must be 1-200 of [A-Za-z0-9-/*:_+=.@] (got "${props.consumerGroupId}")`,
    );
  const startingPosition = props.startingPosition ?? KAFKA_DEFAULTS.startingPosition;
  if (
    (startingPosition === 'AT_TIMESTAMP') !==
    (props.startingPositionTimestampSeconds !== undefined)
  ) {
    throw new SensorAnomalyDetectorError(
      'KafkaSource: startingPositionTimestampSeconds goes with startingPosition AT_TIMESTAMP, and only with it',
    );
  }
  const p = props.provisionedPollers;
  const provisioned: ProvisionedModeConfig | undefined =
    p === undefined
      ? undefined
      : {
          ...(p.minPollers === undefined ? {} : { minPollers: p.minPollers }),
          ...(p.maxPollers === undefined ? {} : { maxPollers: p.maxPollers }),
          ...(p.pollerGroupName === undefined ? {} : { pollerGroupName: p.pollerGroupName }),
          retryAttempts: p.retryAttempts ?? PROVISIONED_DEFAULTS.retryAttempts,
          ...(p.maxRecordAgeSeconds === undefined
            ? {}
            : { maxRecordAgeSeconds: p.maxRecordAgeSeconds }),
          bisectBatchOnError: p.bisectBatchOnError ?? PROVISIONED_DEFAULTS.bisectBatchOnError,
          reportBatchItemFailures:
            p.reportBatchItemFailures ?? PROVISIONED_DEFAULTS.reportBatchItemFailures,
        };
  return {
    topics: props.topics,
    consumerGroupId: props.consumerGroupId ?? defaultGroupId,
    batchSize: props.batchSize ?? KAFKA_DEFAULTS.batchSize,
    batchingWindowSeconds: props.batchingWindowSeconds ?? KAFKA_DEFAULTS.batchingWindowSeconds,
    startingPosition,
    ...(props.startingPositionTimestampSeconds === undefined
      ? {}
      : { startingPositionTimestampSeconds: props.startingPositionTimestampSeconds }),
    ...(provisioned === undefined ? {} : { provisioned }),
    ...(props.secretArn === undefined ? {} : { secretArn: props.secretArn }),
    ...(props.secretKmsKeyArn === undefined ? {} : { secretKmsKeyArn: props.secretKmsKeyArn }),
  };
}
