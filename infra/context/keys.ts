import { DETECTION_DEFAULTS, DETECTION_KEYS, type DetectionKey } from '../detection.ts';
import { KAFKA_DEFAULTS } from '../kafka-source.ts';
import { DETECTOR_DEFAULTS } from '../props/detector-props.ts';

/**
 * The CDK context keys (`cdk.json`, `-c key=value`): flat and camelCase so that each can be
 * given on the command line. Each key has a kind, which says how its text becomes a value
 * (the only checking done here), and the construct prop it sets (`prop`, a dotted path).
 * Keys without a prop choose between props (kafkaSource, createSqsEndpoint,
 * eventSourceMapping) or name the stack.
 */
export type KeyKind = 'text' | 'number' | 'bool' | 'list' | 'detection';

interface KeySpec {
  readonly kind: KeyKind;
  /** The construct prop this key sets. @default - the key chooses, see to-props.ts */
  readonly prop?: string;
}

const source = (prop: string) => `kafkaSource.${prop}`;

const DETECTION_SPECS = Object.fromEntries(
  DETECTION_KEYS.map((key) => [key, { kind: 'detection', prop: `detection.${key}` }]),
) as { readonly [K in DetectionKey]: KeySpec };

/** Every key, in the order errors and the configuration reference list them. */
export const CONTEXT_KEY_SPECS = {
  stackName: { kind: 'text' },
  kafkaSource: { kind: 'text' },
  mskClusterArn: { kind: 'text', prop: source('clusterArn') },
  bootstrapServers: { kind: 'list', prop: source('bootstrapServers') },
  kafkaAuth: { kind: 'text', prop: source('auth') },
  kafkaSecretArn: { kind: 'text', prop: source('secretArn') },
  kafkaSecretKmsKeyArn: { kind: 'text', prop: source('secretKmsKeyArn') },
  rootCaSecretArn: { kind: 'text', prop: source('rootCaSecretArn') },
  vpcId: { kind: 'text', prop: source('vpc.vpcId') },
  subnetIds: { kind: 'list', prop: source('vpc.subnetIds') },
  securityGroupId: { kind: 'text', prop: source('vpc.securityGroupId') },
  topics: { kind: 'list', prop: source('topics') },
  consumerGroupId: { kind: 'text', prop: source('consumerGroupId') },
  batchSize: { kind: 'number', prop: source('batchSize') },
  batchingWindowSeconds: { kind: 'number', prop: source('batchingWindowSeconds') },
  startingPosition: { kind: 'text', prop: source('startingPosition') },
  startingPositionTimestamp: { kind: 'number', prop: source('startingPositionTimestampSeconds') },
  provisionedMinPollers: { kind: 'number', prop: source('provisionedPollers.minPollers') },
  provisionedMaxPollers: { kind: 'number', prop: source('provisionedPollers.maxPollers') },
  pollerGroupName: { kind: 'text', prop: source('provisionedPollers.pollerGroupName') },
  retryAttempts: { kind: 'number', prop: source('provisionedPollers.retryAttempts') },
  maxRecordAgeSeconds: { kind: 'number', prop: source('provisionedPollers.maxRecordAgeSeconds') },
  bisectBatchOnError: { kind: 'bool', prop: source('provisionedPollers.bisectBatchOnError') },
  reportBatchItemFailures: {
    kind: 'bool',
    prop: source('provisionedPollers.reportBatchItemFailures'),
  },
  memorySizeMb: { kind: 'number', prop: 'memorySizeMb' },
  timeoutSeconds: { kind: 'number', prop: 'timeoutSeconds' },
  logRetentionDays: { kind: 'number', prop: 'logRetention' },
  ...DETECTION_SPECS,
  detectorRulesFile: { kind: 'text', prop: 'detection.detectorRulesFile' },
  removalPolicy: { kind: 'text' },
  alertEmails: { kind: 'list', prop: 'alertEmails' },
  alertSmsNumbers: { kind: 'list', prop: 'alertSmsNumbers' },
  smsCriticalOnly: { kind: 'bool', prop: 'smsCriticalOnly' },
  opsEmails: { kind: 'list', prop: 'opsEmails' },
  alarmOffsetLagRecords: { kind: 'number', prop: 'alarmOffsetLagRecords' },
  alarmRejectedPercent: { kind: 'number', prop: 'alarmRejectedPercent' },
  alarmNoRecordsMinutes: { kind: 'number', prop: 'alarmNoRecordsMinutes' },
  smsMonthlySpendLimitUsd: { kind: 'number', prop: 'smsMonthlySpendLimitUsd' },
  createSqsEndpoint: { kind: 'bool' },
  sqsEndpointSubnetIds: { kind: 'list', prop: 'sqsEndpoint.subnetIds' },
  eventSourceMapping: { kind: 'bool' },
  tracing: { kind: 'bool', prop: 'tracing' },
  anomaliesTopic: { kind: 'text', prop: 'anomaliesTopic.topic' },
  anomaliesBootstrapServers: { kind: 'list', prop: 'anomaliesTopic.bootstrapServers' },
  anomaliesVpcAwsAccess: { kind: 'text', prop: 'network.awsAccess' },
  routeTableIds: { kind: 'list', prop: 'network.routeTableIds' },
  anomaliesEventBus: { kind: 'text', prop: 'anomaliesEventBus' },
  silenceCheckMinutes: { kind: 'number', prop: 'silenceCheckMinutes' },
  windowFlushMinutes: { kind: 'number', prop: 'windowFlushMinutes' },
} as const satisfies Record<string, KeySpec>;

export type ContextKey = keyof typeof CONTEXT_KEY_SPECS;
export const CONTEXT_KEYS = Object.keys(CONTEXT_KEY_SPECS) as ContextKey[];

/**
 * Defaults of the keys that have one whatever else is set; `cdk.json` repeats them (a test
 * keeps the two equal). The construct's own defaults, except the placeholder brokers and topic
 * (a stack from `cdk.json` alone synthesizes) and the stack name.
 */
export const CONTEXT_DEFAULTS = {
  stackName: 'SensorAnomalyDetector',
  kafkaSource: 'self-managed',
  bootstrapServers: ['kafka-1.example.com:9096'],
  topics: ['sensor-readings'],
  ...KAFKA_DEFAULTS,
  memorySizeMb: DETECTOR_DEFAULTS.memorySizeMb,
  timeoutSeconds: DETECTOR_DEFAULTS.timeoutSeconds,
  logRetentionDays: DETECTOR_DEFAULTS.logRetentionDays,
  ...DETECTION_DEFAULTS,
  removalPolicy: 'retain',
  alertEmails: [],
  alertSmsNumbers: [],
  smsCriticalOnly: true,
  opsEmails: [],
  alarmOffsetLagRecords: DETECTOR_DEFAULTS.alarmOffsetLagRecords,
  alarmRejectedPercent: DETECTOR_DEFAULTS.alarmRejectedPercent,
  alarmNoRecordsMinutes: DETECTOR_DEFAULTS.alarmNoRecordsMinutes,
  smsMonthlySpendLimitUsd: DETECTOR_DEFAULTS.smsMonthlySpendLimitUsd,
  createSqsEndpoint: false,
  eventSourceMapping: true,
  tracing: false,
} as const satisfies Partial<Record<ContextKey, unknown>>;
