import {
  Annotations,
  Aws,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { TABLE_SCHEMA } from '../functions/adapters/dynamodb-table.ts';
import {
  CONTEXT_DEFAULTS,
  type DeployConfig,
  defaultConsumerGroupId,
  KAFKA_MAX_TIMEOUT_SECONDS,
  type KafkaSourceConfig,
  MSK_SCRAM_SECRET_PREFIX,
  type MskAuth,
  PROVISIONED_DEFAULTS,
  type ProvisionedModeConfig,
  parseDeployConfig,
  type SelfManagedAuth,
  type StartingPositionName,
  type VpcNetworkConfig,
} from './config.ts';
import { AlertTopics } from './constructs/alert-topics.ts';
import { AnomalySinks, type AnomalySinksProps } from './constructs/anomaly-sinks.ts';
import { DetectorFunction } from './constructs/detector-function.ts';
import { KafkaTrigger } from './constructs/kafka-trigger.ts';
import { Observability } from './constructs/observability.ts';
import { Repartition } from './constructs/repartition.ts';
import { SilenceCheck } from './constructs/silence-check.ts';

/** A prop of SensorAnomalyDetector or KafkaSource that cannot work, with the bad value. */
export class SensorAnomalyDetectorError extends Error {
  override readonly name = 'SensorAnomalyDetectorError';
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
   * Consumer group of the first topic; further topics use `<consumerGroupId>-<topic>`.
   * @default - `<stack name>-anomaly-detector`, so two stacks never share a group
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
  static msk(props: MskKafkaSourceProps): KafkaSource {
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
    return new KafkaSource((stackName) => ({
      kind: 'msk',
      clusterArn: props.clusterArn,
      auth,
      ...common(props, stackName),
    }));
  }

  static selfManaged(props: SelfManagedKafkaSourceProps): KafkaSource {
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
    return new KafkaSource((stackName) => ({
      kind: 'self-managed',
      bootstrapServers: props.bootstrapServers,
      auth,
      ...(props.rootCaSecretArn === undefined ? {} : { rootCaSecretArn: props.rootCaSecretArn }),
      ...(props.vpc === undefined ? {} : { vpc: props.vpc }),
      ...common(props, stackName),
    }));
  }

  /** @internal The validated deploy config (the CDK-context layer builds it directly). */
  static fromConfig(config: KafkaSourceConfig): KafkaSource {
    return new KafkaSource(() => config);
  }

  private constructor(private readonly build: (stackName: string) => KafkaSourceConfig) {}

  /** @internal */
  _config(stackName: string): KafkaSourceConfig {
    return this.build(stackName);
  }
}

function common(
  props: KafkaSourceCommonProps & { secretArn?: string; secretKmsKeyArn?: string },
  stackName: string,
) {
  if (props.topics.length === 0)
    throw new SensorAnomalyDetectorError('KafkaSource: topics is empty');
  const startingPosition = props.startingPosition ?? CONTEXT_DEFAULTS.startingPosition;
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
    consumerGroupId: props.consumerGroupId ?? defaultConsumerGroupId(stackName),
    batchSize: props.batchSize ?? CONTEXT_DEFAULTS.batchSize,
    batchingWindowSeconds: props.batchingWindowSeconds ?? CONTEXT_DEFAULTS.batchingWindowSeconds,
    startingPosition,
    ...(props.startingPositionTimestampSeconds === undefined
      ? {}
      : { startingPositionTimestampSeconds: props.startingPositionTimestampSeconds }),
    ...(provisioned === undefined ? {} : { provisioned }),
    ...(props.secretArn === undefined ? {} : { secretArn: props.secretArn }),
    ...(props.secretKmsKeyArn === undefined ? {} : { secretKmsKeyArn: props.secretKmsKeyArn }),
  };
}

/** The detection keys of the CDK context, usable as construct props. */
export type DetectionSettings = Partial<
  Record<
    | 'slideSeconds'
    | 'windowSeconds'
    | 'detector'
    | 'threshold'
    | 'zscoreSigma'
    | 'zscoreMinCount'
    | 'zscoreMinDeviation'
    | 'ewmaHalfLifeReadings'
    | 'ewmaSigma'
    | 'ewmaWarmupReadings'
    | 'ewmaMinRelativeDeviation'
    | 'ewmaMinDeviation'
    | 'ewmaLevelShiftReadings'
    | 'detectorRulesFile'
    | 'alertCooldownSeconds'
    | 'retentionMarginSeconds'
    | 'dynamodbWriteConcurrency',
    string | number
  >
>;

/**
 * The function environment for detection settings, validated exactly as the CDK context
 * is (a bad value throws a DeployConfigError naming the key).
 */
export function detectionEnvironment(settings: DetectionSettings = {}): Record<string, string> {
  return { ...parseDeployConfig({ ...settings }).detectorEnvironment };
}

export interface SensorAnomalyDetectorProps {
  /**
   * The Kafka trigger.
   * @default - no event source mapping: attach your own trigger to `detectorFunction`
   * (LocalStack's free edition, for instance, has no Kafka triggers)
   */
  readonly kafkaSource?: KafkaSource;
  /** @default - the defaults of `detectionEnvironment()` (threshold detector, 50) */
  readonly detection?: DetectionSettings;
  /** @default 1024 */
  readonly memorySizeMb?: number;
  /** At most 840 (14 minutes, the limit for Kafka mappings). @default 60 */
  readonly timeoutSeconds?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Table, log group, dead-letter queue and a created secret. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** Email addresses for anomaly digests (one email per batch). @default - none */
  readonly alertEmails?: readonly string[];
  /** E.164 numbers for per-sensor SMS alerts. @default - none */
  readonly alertSmsNumbers?: readonly string[];
  /** @default true */
  readonly smsCriticalOnly?: boolean;
  /** Email addresses for the operations alarms. @default - none */
  readonly opsEmails?: readonly string[];
  /** @default 10000 */
  readonly alarmOffsetLagRecords?: number;
  /** @default 5 */
  readonly alarmRejectedPercent?: number;
  /** No records for this many minutes raises an alarm; 0 for none. @default 15 */
  readonly alarmNoRecordsMinutes?: number;
  /**
   * Create an SQS interface endpoint in this network for the dead-letter queue.
   * @default - none: pollers in a VPC need one to deliver failed batches
   */
  readonly sqsEndpoint?: VpcNetworkConfig;
  /** X-Ray active tracing and the Powertools Tracer. @default false */
  readonly tracing?: boolean;
  /**
   * Every anomaly as a JSON record to this topic on the mapping's cluster, with its auth
   * (docs/sinks.md). `bootstrapServers` defaults to the self-managed source's; MSK needs
   * them (and `vpc`, the cluster's network, which the function joins).
   * @default - no anomalies topic
   */
  readonly anomaliesTopic?: {
    readonly topic: string;
    readonly bootstrapServers?: readonly string[];
    readonly vpc?: VpcNetworkConfig;
  };
  /** Every anomaly as an event on this EventBridge bus (name or ARN). @default - none */
  readonly anomaliesEventBus?: string;
  /**
   * Minutes between silent-sensor checks (docs/silence.md); 0: no check is deployed. The check
   * is deployed whatever the deployed rules say, since a rules document stored in the table
   * (docs/rules.md) may set silenceSeconds at any time.
   * @default 1
   */
  readonly silenceCheckMinutes?: number;
  /** @default - the stack name */
  readonly dashboardName?: string;
  /**
   * The source topics are unkeyed: a repartition step re-produces them keyed by sensor to
   * `<topic>.by-sensor` (created beforehand, with a fixed partition count), which the detector
   * reads instead (docs/repartition.md). `bootstrapServers` defaults to the self-managed
   * source's; MSK needs them (and `vpc`). @default - the detector reads the source topics
   */
  readonly repartition?: {
    readonly bootstrapServers?: readonly string[];
    readonly vpc?: VpcNetworkConfig;
  };
  /** @internal Detection environment already validated by the CDK-context layer. */
  readonly _detectorEnvironment?: Readonly<Record<string, string>>;
}

/**
 * Kafka sensor readings → detector Lambda → DynamoDB windows, SNS alerts (per-sensor alerts
 * for SMS and machines, one digest per batch for email), CloudWatch alarms and dashboard.
 */
export class SensorAnomalyDetector extends Construct {
  readonly table: Table;
  readonly detector: DetectorFunction;
  readonly topics: AlertTopics;
  readonly deadLetterQueue: Queue;
  readonly trigger?: KafkaTrigger;
  readonly observability: Observability;
  /** The validated Kafka source (consumer groups, topics, auth), when there is a mapping. */
  readonly kafkaSource?: KafkaSourceConfig;
  /** The scheduled silent-sensor check, when the rules watch any sensor (docs/silence.md). */
  readonly silenceCheck?: SilenceCheck;
  /** The repartition step, with `repartition` (docs/repartition.md). */
  readonly repartition?: Repartition;

  constructor(scope: Construct, id: string, props: SensorAnomalyDetectorProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const timeoutSeconds = props.timeoutSeconds ?? CONTEXT_DEFAULTS.timeoutSeconds;
    if (timeoutSeconds > KAFKA_MAX_TIMEOUT_SECONDS || timeoutSeconds < 1) {
      throw new SensorAnomalyDetectorError(
        `timeoutSeconds must be 1-${KAFKA_MAX_TIMEOUT_SECONDS}: Kafka event source mappings only support functions with a timeout of at most 14 minutes (got ${timeoutSeconds})`,
      );
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.table = new Table(this, 'WindowTable', {
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });

    this.topics = new AlertTopics(this, 'Topics', {
      alertEmails: props.alertEmails ?? [],
      alertSmsNumbers: props.alertSmsNumbers ?? [],
      smsCriticalOnly: props.smsCriticalOnly ?? true,
      opsEmails: props.opsEmails ?? [],
    });

    const detectorEnvironment = props._detectorEnvironment ?? detectionEnvironment(props.detection);
    this.detector = new DetectorFunction(this, 'Detector', {
      table: this.table,
      alertTopic: this.topics.alertTopic,
      alertTopicKey: this.topics.key,
      detectorEnvironment,
      memorySizeMb: props.memorySizeMb ?? CONTEXT_DEFAULTS.memorySizeMb,
      timeoutSeconds,
      logRetention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy,
      tracing: props.tracing ?? false,
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

    if (props.kafkaSource !== undefined) {
      const source = props.kafkaSource._config(stack.stackName);
      const brokers =
        props.repartition?.bootstrapServers ??
        (source.kind === 'self-managed' ? source.bootstrapServers : []);
      this.repartition =
        props.repartition === undefined
          ? undefined
          : new Repartition(this, 'Repartition', {
              source,
              bootstrapServers: brokers,
              ...(props.repartition.vpc === undefined ? {} : { vpc: props.repartition.vpc }),
              deadLetterQueue: this.deadLetterQueue,
              removalPolicy,
            });
      this.kafkaSource = this.repartition?.keyedSource ?? source;
      this.trigger = new KafkaTrigger(this, 'Kafka', {
        function: this.detector.function,
        source: this.kafkaSource,
        deadLetterQueue: this.deadLetterQueue,
        removalPolicy,
        ...(props.sqsEndpoint === undefined ? {} : { sqsEndpoint: props.sqsEndpoint }),
      });
      const inVpc = this.kafkaSource.kind === 'msk' || this.kafkaSource.vpc !== undefined;
      if (inVpc && props.sqsEndpoint === undefined) {
        Annotations.of(this).addWarningV2(
          'anomaly-detector:sqs-endpoint',
          'The Kafka pollers run in a VPC: they deliver failed batches to the dead-letter queue only through an SQS interface endpoint in that VPC. Create one with createSqsEndpoint=true (context) / sqsEndpoint (construct), unless the VPC already has one.',
        );
      }
    }

    let sinksProps: AnomalySinksProps | undefined;
    if (props.anomaliesTopic !== undefined || props.anomaliesEventBus !== undefined) {
      const t = props.anomaliesTopic;
      const source = this.kafkaSource;
      const brokers =
        t?.bootstrapServers ??
        (source?.kind === 'self-managed' ? source.bootstrapServers : undefined);
      if (t !== undefined && (source === undefined || brokers === undefined)) {
        throw new SensorAnomalyDetectorError(
          'anomaliesTopic needs kafkaSource (its cluster and auth) and, on MSK, bootstrapServers',
        );
      }
      const vpc = t?.vpc ?? (source?.kind === 'self-managed' ? source.vpc : undefined);
      sinksProps = {
        function: this.detector.function,
        ...(source === undefined ? {} : { source }),
        ...(t === undefined || brokers === undefined
          ? {}
          : {
              kafka: {
                topic: t.topic,
                bootstrapServers: brokers,
                ...(vpc === undefined ? {} : { vpc }),
              },
            }),
        ...(props.anomaliesEventBus === undefined ? {} : { eventBus: props.anomaliesEventBus }),
      };
      new AnomalySinks(this, 'AnomalySinks', sinksProps);
    }

    // Always, unless turned off: with no limit anywhere a check costs a few reads a minute
    // (docs/silence.md, cost), and the detector writes no last-seen record.
    const silenceMinutes = props.silenceCheckMinutes ?? 1;
    if (silenceMinutes > 0) {
      this.silenceCheck = new SilenceCheck(this, 'SilenceCheck', {
        table: this.table,
        alertTopic: this.topics.alertTopic,
        alertTopicKey: this.topics.key,
        detectorEnvironment,
        detectorTimeoutSeconds: timeoutSeconds,
        scheduleMinutes: silenceMinutes,
        logRetention: props.logRetention ?? RetentionDays.ONE_MONTH,
        removalPolicy,
        alarmAction: new SnsAction(this.topics.opsTopic),
      });
      // The same sinks as the anomalies, with the same grants (docs/silence.md).
      if (sinksProps !== undefined) {
        const checker = this.silenceCheck.function;
        new AnomalySinks(this, 'SilenceSinks', { ...sinksProps, function: checker });
        const secret = this.kafkaSource?.secretArn;
        if (
          sinksProps.kafka !== undefined &&
          secret !== undefined &&
          this.kafkaSource?.auth !== 'iam'
        ) {
          checker.addToRolePolicy(
            new PolicyStatement({
              actions: ['secretsmanager:GetSecretValue'],
              resources: [secret],
            }),
          );
          const key = this.kafkaSource?.secretKmsKeyArn;
          if (key !== undefined)
            checker.addToRolePolicy(
              new PolicyStatement({ actions: ['kms:Decrypt'], resources: [key] }),
            );
        }
      }
    }

    this.observability = new Observability(this, 'Observability', {
      function: this.detector.function,
      logGroup: this.detector.logGroup,
      deadLetterQueue: this.deadLetterQueue,
      opsTopic: this.topics.opsTopic,
      offsetLagThresholdRecords:
        props.alarmOffsetLagRecords ?? CONTEXT_DEFAULTS.alarmOffsetLagRecords,
      rejectedThresholdPercent: props.alarmRejectedPercent ?? CONTEXT_DEFAULTS.alarmRejectedPercent,
      noRecordsMinutes: props.alarmNoRecordsMinutes ?? CONTEXT_DEFAULTS.alarmNoRecordsMinutes,
      dashboardName: props.dashboardName ?? stack.stackName,
    });
  }

  /** The detector Lambda function (attach your own trigger here). */
  get detectorFunction() {
    return this.detector.function;
  }

  /** The stack outputs the CDK app shows after `cdk deploy`. */
  addOutputs(scope: Construct = Stack.of(this)): void {
    const output = (id: string, value: string, description: string) =>
      new CfnOutput(scope, id, { value, description });
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
      `https://console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${this.observability.dashboard.dashboardName}`,
      'CloudWatch dashboard',
    );
    if (this.trigger?.createdSecret !== undefined) {
      output(
        'KafkaCredentialsSecretArn',
        this.trigger.createdSecret.secretArn,
        'Put the Kafka SASL/SCRAM username and password into this secret',
      );
    }
  }
}

/** The construct's props from a validated deploy config (the `cdk.json` context layer). */
export function propsFromConfig(config: DeployConfig): SensorAnomalyDetectorProps {
  return {
    ...(config.eventSourceMapping ? { kafkaSource: KafkaSource.fromConfig(config.kafka) } : {}),
    memorySizeMb: config.function.memorySizeMb,
    timeoutSeconds: config.function.timeoutSeconds,
    logRetention: config.function.logRetentionDays as RetentionDays,
    removalPolicy:
      config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    alertEmails: config.alerts.emails,
    alertSmsNumbers: config.alerts.smsNumbers,
    smsCriticalOnly: config.alerts.smsCriticalOnly,
    opsEmails: config.alerts.opsEmails,
    alarmOffsetLagRecords: config.alarms.offsetLagRecords,
    alarmRejectedPercent: config.alarms.rejectedPercent,
    alarmNoRecordsMinutes: config.alarms.noRecordsMinutes,
    ...(config.sqsEndpoint === undefined ? {} : { sqsEndpoint: config.sqsEndpoint }),
    tracing: config.tracing,
    ...(config.anomalySinks.kafka === undefined
      ? {}
      : {
          anomaliesTopic: {
            topic: config.anomalySinks.kafka.topic,
            bootstrapServers: config.anomalySinks.kafka.bootstrapServers,
            ...(config.anomalySinks.kafka.vpc === undefined
              ? {}
              : { vpc: config.anomalySinks.kafka.vpc }),
          },
        }),
    ...(config.anomalySinks.eventBus === undefined
      ? {}
      : { anomaliesEventBus: config.anomalySinks.eventBus }),
    ...(config.silenceCheckMinutes === undefined
      ? {}
      : { silenceCheckMinutes: config.silenceCheckMinutes }),
    dashboardName: config.stackName,
    _detectorEnvironment: config.detectorEnvironment,
  };
}
