import type { RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { FieldMapping } from '../../functions/core/readings/field-mapping.ts';
import type { SchemaRegistryProps } from '../constructs/schema-registry-access.ts';
import { TARGET_UTILIZATION_PERCENT, type TableCapacityProps } from '../constructs/window-table.ts';
import type { DetectionSettings } from '../detection.ts';
import type { KafkaSource, VpcNetworkConfig } from '../kafka-source.ts';

// The construct's props: the one model of the detector's configuration. The construct checks
// them (check-detector-props.ts); the CDK-context layer (infra/context/) only maps keys onto
// them.

/** The values of the optional props that have one whatever else is set. */
export const DETECTOR_DEFAULTS = {
  memorySizeMb: 1024,
  timeoutSeconds: 60,
  logRetentionDays: 30,
  alarmOffsetLagRecords: 10_000,
  alarmRejectedPercent: 5,
  alarmNoRecordsMinutes: 15,
  /** A new account's monthly SMS spend limit (SNS text messaging preferences). */
  smsMonthlySpendLimitUsd: 1,
  silenceCheckMinutes: 1,
  /** Provisioned capacity's auto scaling target. */
  targetUtilizationPercent: TARGET_UTILIZATION_PERCENT,
} as const;

/**
 * How functions in the detector's VPC reach DynamoDB, SNS, Secrets Manager and EventBridge:
 * `create-endpoints`: the construct creates the VPC endpoints they need (infra/constructs/
 * aws-endpoints.ts); `vpc-endpoints`: the VPC has them already; `nat-gateway`: the subnets
 * route to a NAT gateway.
 */
export type VpcAwsAccess = 'create-endpoints' | 'vpc-endpoints' | 'nat-gateway';

/**
 * The one VPC the detector's functions join when something they reach is only inside it: the
 * anomalies topic's brokers, a schema registry `inNetwork`, the repartition step's brokers.
 * Every such function gets this VpcConfig, whichever feature asked for it.
 */
export interface DetectorNetworkProps extends VpcNetworkConfig {
  /**
   * How the functions in the VPC reach AWS APIs: a function in a VPC has no internet access of
   * its own. Interface endpoints cost by the hour in each zone, and a VPC may have them
   * already (a second endpoint with private DNS for the same service conflicts), so the
   * construct creates none unless told to.
   * @default - none: synth fails, naming the endpoints the functions need
   */
  readonly awsAccess?: VpcAwsAccess;
  /**
   * The route tables of `subnetIds`, for the DynamoDB gateway endpoint (a route in each).
   * Required with `awsAccess: 'create-endpoints'`. @default - none
   */
  readonly routeTableIds?: readonly string[];
  /**
   * The subnets of the interface endpoints the construct creates, at most one per
   * Availability Zone. @default - the first of `subnetIds`
   */
  readonly endpointSubnetIds?: readonly string[];
}

export interface AnomaliesTopicProps {
  readonly topic: string;
  /** @default - the self-managed source's brokers (MSK: required) */
  readonly bootstrapServers?: readonly string[];
}

export interface SensorAnomalyDetectorProps {
  /**
   * The Kafka trigger.
   * @default - no event source mapping: attach your own trigger to `function`
   * (LocalStack's free edition, for instance, has no Kafka triggers)
   */
  readonly kafkaSource?: KafkaSource;
  /** @default - the function's defaults (the threshold detector, 50) */
  readonly detection?: DetectionSettings;
  /** @default 1024 */
  readonly memorySizeMb?: number;
  /** At most 840 (14 minutes, the limit for Kafka mappings). @default 60 */
  readonly timeoutSeconds?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Table, log groups, dead-letter queue and a created secret. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * A window table of your own, with the layout of functions/adapters/dynamodb-table.ts
   * (string `pk` and `sk`, TTL on `expiresAtEpochSeconds`). @default - a table is created
   */
  readonly table?: ITable;
  /** Provisioned capacity for the created table. @default - on-demand */
  readonly tableCapacity?: TableCapacityProps;
  /** DeletionProtectionEnabled on the created table. @default - true, unless removalPolicy is DESTROY */
  readonly tableDeletionProtection?: boolean;
  /**
   * An alert topic of your own (it receives what the created one would). @default - a topic
   * encrypted with the stack's key is created
   */
  readonly alertTopic?: ITopic;
  /** The customer managed key of `alertTopic`, if it has one. @default - none */
  readonly alertTopicKey?: IKey;
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
   * The account's monthly SMS spend limit in USD: an alarm fires at 80% of it, as SNS stops
   * sending SMS within minutes of the limit (docs/alerting.md). @default 1
   */
  readonly smsMonthlySpendLimitUsd?: number;
  /**
   * Create an SQS interface endpoint for the dead-letter queue: `subnetIds` are the endpoint's
   * subnets, at most one per Availability Zone. @default - none: pollers in a VPC need one to
   * deliver failed batches
   */
  readonly sqsEndpoint?: VpcNetworkConfig;
  /** X-Ray active tracing and the Powertools Tracer. @default false */
  readonly tracing?: boolean;
  /** Every anomaly as a JSON record to this topic on the mapping's cluster (docs/sinks.md). @default - none */
  readonly anomaliesTopic?: AnomaliesTopicProps;
  /** Every anomaly as an event on this EventBridge bus (name or ARN). @default - none */
  readonly anomaliesEventBus?: string;
  /**
   * Minutes between silent-sensor checks (docs/silence.md); 0: no check is deployed. The check
   * is deployed whatever the deployed rules say, since a rules document stored in the table
   * (docs/rules.md) may set silenceSeconds at any time.
   * @default 1
   */
  readonly silenceCheckMinutes?: number;
  /**
   * Values encoded with a schema registry (Avro, Protobuf, JSON Schema), decoded in the
   * function (docs/input-formats.md). @default - records are text (CSV, JSON)
   */
  readonly schemaRegistry?: SchemaRegistryProps;
  /** Where the sensor id, value and timestamp are in a record. @default the JSON names */
  readonly readingFields?: FieldMapping;
  /** Reserved concurrency of the silence check (1: one at a time). @default - none */
  readonly silenceCheckReservedConcurrency?: number;
  /**
   * Minutes between window flushes with `detection.evaluation: 'window-close'`: the flush
   * closes the windows of partitions gone quiet (docs/state.md, "Open windows"). @default 1
   */
  readonly windowFlushMinutes?: number;
  /** @default - the stack name; a further detector in the stack adds its construct path */
  readonly dashboardName?: string;
  /**
   * The source topics are unkeyed: a repartition step re-produces them keyed by sensor to
   * `<topic>.by-sensor` (created beforehand, with a fixed partition count), which the detector
   * reads instead (docs/repartition.md). `bootstrapServers` defaults to the self-managed
   * source's; MSK needs them (and `network`). @default - the detector reads the source topics
   */
  readonly repartition?: {
    readonly bootstrapServers?: readonly string[];
    /**
     * Key by the first this many `/`-separated parts of the sensor id, the alert group
     * (docs/alerting-groups.md). @default - the whole sensor id
     */
    readonly keyDepth?: number;
  };
  /**
   * The VPC the functions join to reach the brokers of the anomalies topic and the repartition
   * step, or a schema registry `inNetwork` (one VpcConfig for all of them).
   * @default - the self-managed source's `vpc`; none for MSK (required there by the anomalies
   * topic and the repartition step)
   */
  readonly network?: DetectorNetworkProps;
}
