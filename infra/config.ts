import { resolve } from 'node:path';
import { z } from 'zod';
import {
  DETECTION_DEFAULTS,
  DETECTION_KEYS,
  type DetectionKey,
  type DetectionSettings,
  detectionEnvironment,
  parameterSchema,
} from './detection.ts';
import {
  CONSUMER_GROUP_PATTERN,
  consumerGroupIds,
  defaultConsumerGroupId,
  KAFKA_DEFAULTS,
  KAFKA_MAX_TIMEOUT_SECONDS,
  type KafkaSourceConfig,
  MSK_SCRAM_SECRET_PREFIX,
  type MskAuth,
  PROVISIONED_DEFAULTS,
  type ProvisionedModeConfig,
  type SelfManagedAuth,
  type VpcNetworkConfig,
} from './kafka-source.ts';
import { DETECTOR_DEFAULTS, type VpcAwsAccess } from './sensor-anomaly-detector.ts';
import { describeIssue } from './zod-issues.ts';

export {
  consumerGroupIds,
  defaultConsumerGroupId,
  KAFKA_MAX_TIMEOUT_SECONDS,
  type KafkaSourceConfig,
  MSK_SCRAM_SECRET_PREFIX,
  PROVISIONED_DEFAULTS,
  type VpcNetworkConfig,
};

/**
 * The deploy configuration, read from CDK context (`cdk.json` and `-c key=value`).
 * Every key is flat and camelCase so it can be given on the command line; values from the
 * command line arrive as strings and are coerced here.
 */

export class DeployConfigError extends Error {
  override readonly name = 'DeployConfigError';
}

/**
 * Defaults of the keys that have one whatever else is set; `cdk.json` repeats them (a test
 * keeps the two equal). Keys whose default depends on another key (kafkaAuth, the
 * provisioned-mode error handling) are defaulted in `parseDeployConfig`.
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
  createSqsEndpoint: false,
  eventSourceMapping: true,
  tracing: false,
} as const;

export interface AnomalySinksConfig {
  /** The anomalies topic, on the cluster of the mapping, with its auth and secret. */
  readonly kafka?: {
    readonly topic: string;
    readonly bootstrapServers: readonly string[];
    /** The brokers' VPC, which the function joins to reach them. @default - not in a VPC */
    readonly vpc?: VpcNetworkConfig;
    /** How that VPC reaches AWS APIs (the construct requires it with a VPC). */
    readonly vpcAwsAccess?: VpcAwsAccess;
  };
  /** Name or ARN of the EventBridge bus. */
  readonly eventBus?: string;
}

export interface DeployConfig {
  readonly stackName: string;
  readonly kafka: KafkaSourceConfig;
  /** false: no event source mapping (LocalStack, or a trigger attached by the user). */
  readonly eventSourceMapping: boolean;
  /** Where to create an SQS interface endpoint for the dead-letter queue. @default - none */
  readonly sqsEndpoint?: VpcNetworkConfig;
  /** X-Ray active tracing and the Powertools Tracer. */
  readonly tracing: boolean;
  /** Where every anomaly goes besides SNS and the log (docs/sinks.md). @default - nowhere */
  readonly anomalySinks: AnomalySinksConfig;
  /** Minutes between silence checks (docs/silence.md); 0: no check. @default 1 */
  readonly silenceCheckMinutes?: number;
  /** Minutes between window flushes with evaluation=window-close. @default 1 */
  readonly windowFlushMinutes?: number;
  readonly function: {
    readonly memorySizeMb: number;
    readonly timeoutSeconds: number;
    readonly logRetentionDays: number;
  };
  /** The detection keys, as the construct's `detection` prop. */
  readonly detection: DetectionSettings;
  /** The function's detection settings as environment variables (names from ENV). */
  readonly detectorEnvironment: Readonly<Record<string, string>>;
  readonly removalPolicy: 'retain' | 'destroy';
  readonly alerts: {
    readonly emails: readonly string[];
    readonly smsNumbers: readonly string[];
    readonly smsCriticalOnly: boolean;
    readonly opsEmails: readonly string[];
  };
  readonly alarms: {
    readonly offsetLagRecords: number;
    readonly rejectedPercent: number;
    /** 0: no alarm on missing records. */
    readonly noRecordsMinutes: number;
  };
}

// ---- value schemas ---------------------------------------------------------------------

const text = z.string().trim().min(1);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
/** A list as a JSON array (cdk.json) or comma-separated text (`-c key=a,b`). */
const list = <T extends z.ZodType<string, string>>(item: T) =>
  z
    .union([z.array(z.string()), z.string()])
    .transform((v) =>
      (typeof v === 'string' ? v.split(',') : v).map((s) => s.trim()).filter((s) => s !== ''),
    )
    .pipe(z.array(item));

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/;
const secretArn = z
  .string()
  .regex(SECRET_ARN, 'must be the complete secret ARN, ending in the 6-character suffix');
const MSK_CLUSTER_ARN = /^arn:aws[a-z-]*:kafka:([a-z0-9-]+):(\d{12}):cluster\/([^/]+)\/([^/]+)$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
const BROKER = /^[A-Za-z0-9.-]+:\d{1,5}$/;
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const E164 = /^\+[1-9]\d{1,14}$/;
/** CloudWatch Logs accepts only these retention periods. */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/** The detection keys' schemas: the function's own (detection.ts), one per key. */
function detectionSchemas() {
  return Object.fromEntries(DETECTION_KEYS.map((key) => [key, parameterSchema(key)])) as {
    [K in DetectionKey]: z.ZodType<NonNullable<DetectionSettings[K]>, unknown>;
  };
}

const schema = z.strictObject({
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'must be a CloudFormation stack name'),
  kafkaSource: z.enum(['self-managed', 'msk']),
  mskClusterArn: z.string().regex(MSK_CLUSTER_ARN, 'must be an MSK cluster ARN').optional(),
  bootstrapServers: list(z.string().regex(BROKER, 'must be host:port')).pipe(
    z.array(z.string()).min(1),
  ),
  kafkaAuth: z.enum(['iam', 'sasl-scram-512', 'sasl-scram-256', 'mtls', 'none']).optional(),
  kafkaSecretArn: secretArn.optional(),
  kafkaSecretKmsKeyArn: z.string().regex(KMS_KEY_ARN, 'must be a KMS key ARN').optional(),
  rootCaSecretArn: secretArn.optional(),
  vpcId: z
    .string()
    .regex(/^vpc-[0-9a-f]+$/, 'must be a VPC id (vpc-...)')
    .optional(),
  subnetIds: list(
    z.string().regex(/^subnet-[0-9a-f]+$/, 'must be subnet ids (subnet-...)'),
  ).optional(),
  securityGroupId: z
    .string()
    .regex(/^sg-[0-9a-f]+$/, 'must be a security group id (sg-...)')
    .optional(),
  topics: list(z.string().regex(TOPIC, 'must be Kafka topic names')).pipe(
    z.array(z.string()).min(1),
  ),
  consumerGroupId: z
    .string()
    .regex(CONSUMER_GROUP_PATTERN, 'must be 1-200 of [A-Za-z0-9-/*:_+=.@]')
    .optional(),
  batchSize: int(1, 10_000),
  batchingWindowSeconds: int(0, 300),
  startingPosition: z.enum(['LATEST', 'TRIM_HORIZON', 'AT_TIMESTAMP']),
  startingPositionTimestamp: int(0, 4_102_444_800).optional(),
  provisionedMinPollers: int(1, 200).optional(),
  provisionedMaxPollers: int(1, 2000).optional(),
  pollerGroupName: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be 1-128 of [A-Za-z0-9_-]')
    .optional(),
  retryAttempts: int(-1, 10_000).optional(),
  maxRecordAgeSeconds: int(60, 604_800).optional(),
  bisectBatchOnError: bool.optional(),
  reportBatchItemFailures: bool.optional(),
  memorySizeMb: int(128, 10_240),
  timeoutSeconds: int(1, KAFKA_MAX_TIMEOUT_SECONDS),
  logRetentionDays: z.coerce
    .number()
    .refine((d) => (RETENTION_DAYS as readonly number[]).includes(d), {
      message: `must be one of ${RETENTION_DAYS.join(', ')}`,
    }),
  ...detectionSchemas(),
  detectorRulesFile: text.optional(),
  removalPolicy: z.enum(['retain', 'destroy']),
  alertEmails: list(z.email('must be email addresses')),
  alertSmsNumbers: list(z.string().regex(E164, 'must be E.164 phone numbers, e.g. +14155550100')),
  smsCriticalOnly: bool,
  opsEmails: list(z.email('must be email addresses')),
  alarmOffsetLagRecords: int(1, Number.MAX_SAFE_INTEGER),
  alarmRejectedPercent: z.coerce.number().finite().gt(0).max(100),
  alarmNoRecordsMinutes: int(0, 1440),
  createSqsEndpoint: bool,
  sqsEndpointSubnetIds: list(
    z.string().regex(/^subnet-[0-9a-f]+$/, 'must be subnet ids (subnet-...)'),
  ).optional(),
  eventSourceMapping: bool,
  tracing: bool,
  anomaliesTopic: z.string().regex(TOPIC, 'must be a Kafka topic name').optional(),
  anomaliesBootstrapServers: list(z.string().regex(BROKER, 'must be host:port')).optional(),
  anomaliesVpcAwsAccess: z.enum(['vpc-endpoints', 'nat-gateway']).optional(),
  anomaliesEventBus: z
    .string()
    .regex(
      /^(arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/)?[A-Za-z0-9._\-/]{1,256}$/,
      'must be an event bus name or ARN',
    )
    .optional(),
  silenceCheckMinutes: int(0, 1440).optional(),
  windowFlushMinutes: int(1, 1440).optional(),
});

export type ContextKey = keyof typeof schema.shape;
export const CONTEXT_KEYS = Object.keys(schema.shape) as ContextKey[];

// ---- parsing -----------------------------------------------------------------------------

export interface ParseOptions {
  /** Directory that relative file paths (detectorRulesFile) are resolved from. @default process.cwd() */
  readonly cwd?: string;
}

/**
 * Validates CDK context into a deploy config. Context keys that are not ours (CDK's own,
 * feature flags: they contain ':', '@' or '/') are ignored; an unknown camelCase key is an
 * error, since it is most likely a typo. The error lists every problem with its key.
 */
export function parseDeployConfig(
  context: Readonly<Record<string, unknown>>,
  options: ParseOptions = {},
): DeployConfig {
  const problems: string[] = [];
  const raw: Record<string, unknown> = { ...CONTEXT_DEFAULTS };
  for (const [key, value] of Object.entries(context)) {
    if (!/^[a-z][A-Za-z0-9]*$/.test(key)) continue;
    if (!(CONTEXT_KEYS as string[]).includes(key)) {
      problems.push(`${key}: unknown context key${suggest(key)} (got ${show(value)})`);
      continue;
    }
    // An empty value (`-c key=`) means "not set": back to the default, if there is one.
    if (value === '' || value === null || value === undefined) {
      raw[key] = (CONTEXT_DEFAULTS as Record<string, unknown>)[key];
    } else {
      raw[key] = value;
    }
  }
  // Each key on its own, so that one bad or unknown key never hides the problems of others;
  // a bad key's default (if any) stands in for it in the checks across keys.
  const invalid = new Set<string>();
  const values: Record<string, unknown> = {};
  for (const key of CONTEXT_KEYS) {
    const result = schema.shape[key].safeParse(raw[key]);
    if (result.success) {
      values[key] = result.data;
      continue;
    }
    invalid.add(key);
    const first = result.error.issues[0];
    problems.push(
      `${key}: ${first === undefined ? 'is not valid' : describeIssue(key, first)} (got ${show(raw[key])})`,
    );
    const fallback = (CONTEXT_DEFAULTS as Record<string, unknown>)[key];
    values[key] = fallback === undefined ? undefined : schema.shape[key].parse(fallback);
  }
  const c = values as Parsed;
  for (const key of LIST_KEYS) {
    const values = c[key];
    if (values !== undefined && new Set(values).size !== values.length) {
      problems.push(`${key}: must not repeat a value (got ${show(values)})`);
    }
  }
  const kafka = kafkaConfig(c, problems, invalid);
  const sqsEndpoint = sqsEndpointConfig(c, kafka, problems, invalid);
  const anomalySinks = anomalySinksConfig(c, kafka, problems);
  const { detection, environment: detectorEnvironment } = detectionSettings(
    c,
    problems,
    options.cwd ?? process.cwd(),
    invalid,
  );
  if (problems.length > 0 || kafka === undefined) throw configError(problems);

  return {
    stackName: c.stackName,
    kafka,
    eventSourceMapping: c.eventSourceMapping,
    ...(sqsEndpoint === undefined ? {} : { sqsEndpoint }),
    tracing: c.tracing,
    anomalySinks,
    ...(c.silenceCheckMinutes === undefined ? {} : { silenceCheckMinutes: c.silenceCheckMinutes }),
    ...(c.windowFlushMinutes === undefined ? {} : { windowFlushMinutes: c.windowFlushMinutes }),
    function: {
      memorySizeMb: c.memorySizeMb,
      timeoutSeconds: c.timeoutSeconds,
      logRetentionDays: c.logRetentionDays,
    },
    detection,
    detectorEnvironment,
    removalPolicy: c.removalPolicy,
    alerts: {
      emails: c.alertEmails,
      smsNumbers: c.alertSmsNumbers,
      smsCriticalOnly: c.smsCriticalOnly,
      opsEmails: c.opsEmails,
    },
    alarms: {
      offsetLagRecords: c.alarmOffsetLagRecords,
      rejectedPercent: c.alarmRejectedPercent,
      noRecordsMinutes: c.alarmNoRecordsMinutes,
    },
  };
}

type Parsed = z.infer<typeof schema>;

const LIST_KEYS = [
  'bootstrapServers',
  'topics',
  'subnetIds',
  'alertEmails',
  'alertSmsNumbers',
  'opsEmails',
  'anomaliesBootstrapServers',
  'sqsEndpointSubnetIds',
] as const satisfies readonly ContextKey[];

function kafkaConfig(
  c: Parsed,
  problems: string[],
  invalid: ReadonlySet<string>,
): KafkaSourceConfig | undefined {
  const before = problems.length;
  // A key that failed its own check is reported once, not again as missing or not allowed.
  const requireKey = (key: ContextKey, why: string) => {
    if (c[key] === undefined && !invalid.has(key))
      problems.push(`${key}: required ${why} (not set)`);
  };
  const forbidKey = (key: ContextKey, why: string) => {
    if (c[key] !== undefined && !invalid.has(key))
      problems.push(`${key}: not allowed ${why} (got ${show(c[key])})`);
  };

  if (c.startingPosition === 'AT_TIMESTAMP') {
    requireKey('startingPositionTimestamp', 'when startingPosition is AT_TIMESTAMP');
  } else {
    forbidKey('startingPositionTimestamp', `when startingPosition is ${c.startingPosition}`);
  }
  const consumerGroupId = c.consumerGroupId ?? defaultConsumerGroupId(c.stackName);
  for (const group of consumerGroupIds({ topics: c.topics, consumerGroupId })) {
    if (group.length > 200) problems.push(`consumerGroupId: "${group}" exceeds 200 characters`);
  }
  if (c.kafkaSecretKmsKeyArn !== undefined)
    requireKey('kafkaSecretArn', 'with kafkaSecretKmsKeyArn');

  const provisionedKeys = [
    'provisionedMinPollers',
    'provisionedMaxPollers',
    'pollerGroupName',
  ] as const;
  const provisionedOnly = [
    'retryAttempts',
    'maxRecordAgeSeconds',
    'bisectBatchOnError',
    'reportBatchItemFailures',
  ] as const;
  const isProvisioned = provisionedKeys.some((k) => c[k] !== undefined);
  if (!isProvisioned) {
    // Kafka mappings accept these error-handling controls in provisioned mode only.
    for (const key of provisionedOnly) {
      forbidKey(key, 'in on-demand mode; set provisionedMinPollers to use provisioned mode');
    }
  }
  const min = c.provisionedMinPollers;
  const max = c.provisionedMaxPollers;
  if (min !== undefined && max !== undefined && min > max) {
    problems.push(
      `provisionedMinPollers: must not exceed provisionedMaxPollers (${max}) (got ${min})`,
    );
  }
  const provisioned: ProvisionedModeConfig | undefined = isProvisioned
    ? {
        ...(min === undefined ? {} : { minPollers: min }),
        ...(max === undefined ? {} : { maxPollers: max }),
        ...(c.pollerGroupName === undefined ? {} : { pollerGroupName: c.pollerGroupName }),
        retryAttempts: c.retryAttempts ?? PROVISIONED_DEFAULTS.retryAttempts,
        ...(c.maxRecordAgeSeconds === undefined
          ? {}
          : { maxRecordAgeSeconds: c.maxRecordAgeSeconds }),
        bisectBatchOnError: c.bisectBatchOnError ?? PROVISIONED_DEFAULTS.bisectBatchOnError,
        reportBatchItemFailures:
          c.reportBatchItemFailures ?? PROVISIONED_DEFAULTS.reportBatchItemFailures,
      }
    : undefined;

  const common = {
    topics: c.topics,
    consumerGroupId,
    batchSize: c.batchSize,
    batchingWindowSeconds: c.batchingWindowSeconds,
    startingPosition: c.startingPosition,
    ...(c.startingPositionTimestamp === undefined
      ? {}
      : { startingPositionTimestampSeconds: c.startingPositionTimestamp }),
    ...(provisioned === undefined ? {} : { provisioned }),
    ...(c.kafkaSecretArn === undefined ? {} : { secretArn: c.kafkaSecretArn }),
    ...(c.kafkaSecretKmsKeyArn === undefined ? {} : { secretKmsKeyArn: c.kafkaSecretKmsKeyArn }),
  };

  if (c.kafkaSource === 'msk') {
    requireKey('mskClusterArn', 'when kafkaSource is msk');
    const forMsk = c.createSqsEndpoint
      ? ['rootCaSecretArn']
      : ['rootCaSecretArn', 'vpcId', 'subnetIds', 'securityGroupId'];
    for (const key of forMsk as ContextKey[]) {
      forbidKey(
        key,
        key === 'rootCaSecretArn'
          ? 'when kafkaSource is msk (self-managed brokers only)'
          : 'when kafkaSource is msk unless createSqsEndpoint=true (then: the cluster VPC)',
      );
    }
    const auth = c.kafkaAuth ?? 'iam';
    if (auth !== 'iam' && auth !== 'sasl-scram-512') {
      // Lambda supports IAM and SASL/SCRAM-512 for MSK; the CDK source has no mTLS option.
      problems.push(
        `kafkaAuth: must be iam or sasl-scram-512 when kafkaSource is msk (got "${auth}")`,
      );
    }
    if (auth === 'sasl-scram-512') {
      requireKey('kafkaSecretArn', 'when kafkaAuth is sasl-scram-512 on MSK');
      requireKey(
        'kafkaSecretKmsKeyArn',
        'when kafkaAuth is sasl-scram-512 on MSK: MSK cannot use a secret encrypted with the default AWS managed key, so give the customer managed key of the secret',
      );
      const name = c.kafkaSecretArn === undefined ? undefined : secretName(c.kafkaSecretArn);
      if (name !== undefined && !name.startsWith(MSK_SCRAM_SECRET_PREFIX)) {
        problems.push(
          `kafkaSecretArn: an MSK SCRAM secret's name must begin with ${MSK_SCRAM_SECRET_PREFIX} (got the name "${name}")`,
        );
      }
    }
    if (auth === 'iam' && c.kafkaSecretArn !== undefined && !invalid.has('kafkaSecretArn')) {
      problems.push(
        `kafkaSecretArn: only used with kafkaAuth=sasl-scram-512 on MSK, and kafkaAuth is ${c.kafkaAuth === undefined ? 'iam (the MSK default)' : 'iam'}: add -c kafkaAuth=sasl-scram-512 or remove kafkaSecretArn`,
      );
    }
    if (problems.length > before || c.mskClusterArn === undefined) return undefined;
    return { kind: 'msk', clusterArn: c.mskClusterArn, auth: auth as MskAuth, ...common };
  }

  if (c.mskClusterArn !== undefined && !invalid.has('mskClusterArn')) {
    problems.push(
      `mskClusterArn: only used with kafkaSource=msk, and kafkaSource is ${c.kafkaSource}: add -c kafkaSource=msk (or remove mskClusterArn)`,
    );
  }
  const auth = c.kafkaAuth ?? 'sasl-scram-512';
  if (auth === 'iam') {
    problems.push(
      'kafkaAuth: iam is for MSK only; use sasl-scram-512, sasl-scram-256, mtls or none',
    );
  }
  const vpcKeys = ['vpcId', 'subnetIds', 'securityGroupId'] as const;
  const vpcGiven = vpcKeys.filter((k) => c[k] !== undefined);
  if (vpcGiven.length > 0) {
    for (const key of vpcKeys) requireKey(key, `with ${vpcGiven.join(', ')} (brokers in a VPC)`);
    if (c.subnetIds !== undefined && c.subnetIds.length === 0) {
      problems.push('subnetIds: must list at least one subnet (got [])');
    }
  }
  if (auth === 'mtls') requireKey('kafkaSecretArn', 'when kafkaAuth is mtls (client certificate)');
  if (auth === 'none') {
    forbidKey('kafkaSecretArn', 'when kafkaAuth is none');
    // Lambda only reaches unauthenticated brokers through a VPC.
    if (vpcGiven.length === 0)
      problems.push('kafkaAuth: none requires vpcId, subnetIds and securityGroupId');
  }
  if (problems.length > before) return undefined;
  return {
    kind: 'self-managed',
    bootstrapServers: c.bootstrapServers,
    auth: auth as SelfManagedAuth,
    ...(c.rootCaSecretArn === undefined ? {} : { rootCaSecretArn: c.rootCaSecretArn }),
    ...(c.vpcId !== undefined && c.subnetIds !== undefined && c.securityGroupId !== undefined
      ? { vpc: { vpcId: c.vpcId, subnetIds: c.subnetIds, securityGroupId: c.securityGroupId } }
      : {}),
    ...common,
  };
}

/**
 * The anomaly sinks. The topic is on the mapping's cluster with the mapping's auth; the
 * function joins the brokers' VPC when they are in one (self-managed with vpcId, MSK with
 * vpcId, subnetIds and securityGroupId of the cluster).
 */
function anomalySinksConfig(
  c: Parsed,
  kafka: KafkaSourceConfig | undefined,
  problems: string[],
): AnomalySinksConfig {
  const eventBus = c.anomaliesEventBus === undefined ? {} : { eventBus: c.anomaliesEventBus };
  if (c.anomaliesTopic === undefined) {
    if (c.anomaliesBootstrapServers !== undefined)
      problems.push('anomaliesBootstrapServers: only used with anomaliesTopic (not set)');
    if (c.anomaliesVpcAwsAccess !== undefined)
      problems.push('anomaliesVpcAwsAccess: only used with anomaliesTopic (not set)');
    return eventBus;
  }
  if (kafka === undefined) return eventBus;
  if (kafka.topics.includes(c.anomaliesTopic))
    problems.push(
      `anomaliesTopic: must not be one of the topics the function reads (got "${c.anomaliesTopic}")`,
    );
  let bootstrapServers: readonly string[] | undefined = c.anomaliesBootstrapServers;
  let vpc: VpcNetworkConfig | undefined;
  if (kafka.kind === 'self-managed') {
    bootstrapServers ??= kafka.bootstrapServers;
    vpc = kafka.vpc;
  } else {
    if (bootstrapServers === undefined)
      problems.push(
        `anomaliesBootstrapServers: required with anomaliesTopic on MSK: the cluster's brokers for ${kafka.auth} (aws kafka get-bootstrap-brokers) (not set)`,
      );
    if (c.vpcId === undefined || c.subnetIds === undefined || c.securityGroupId === undefined)
      problems.push(
        'anomaliesTopic: on MSK needs vpcId, subnetIds and securityGroupId of the cluster (the function joins its VPC to reach the brokers), with createSqsEndpoint=true',
      );
    else vpc = { vpcId: c.vpcId, subnetIds: c.subnetIds, securityGroupId: c.securityGroupId };
  }
  if (bootstrapServers === undefined) return eventBus;
  if (vpc === undefined && c.anomaliesVpcAwsAccess !== undefined)
    problems.push(
      `anomaliesVpcAwsAccess: only used when the function joins a VPC for anomaliesTopic (got "${c.anomaliesVpcAwsAccess}")`,
    );
  return {
    ...eventBus,
    kafka: {
      topic: c.anomaliesTopic,
      bootstrapServers,
      ...(vpc === undefined ? {} : { vpc }),
      ...(c.anomaliesVpcAwsAccess === undefined ? {} : { vpcAwsAccess: c.anomaliesVpcAwsAccess }),
    },
  };
}

/** `arn:...:secret:NAME-AbCdEf` → NAME */
function secretName(arn: string): string | undefined {
  const rest = arn.split(':secret:')[1];
  return rest === undefined ? undefined : rest.slice(0, -7);
}

/**
 * The network of the SQS interface endpoint, from the VPC keys: the brokers' VPC for
 * self-managed Kafka, the cluster's VPC for MSK.
 */
function sqsEndpointConfig(
  c: Parsed,
  kafka: KafkaSourceConfig | undefined,
  problems: string[],
  invalid: ReadonlySet<string>,
): VpcNetworkConfig | undefined {
  if (!c.createSqsEndpoint) {
    if (c.sqsEndpointSubnetIds !== undefined)
      problems.push('sqsEndpointSubnetIds: only used with createSqsEndpoint=true');
    return undefined;
  }
  const network = sqsNetwork(c, kafka, problems, invalid);
  if (network === undefined) return undefined;
  // An interface endpoint takes at most one subnet per Availability Zone, and subnets given by
  // id carry no zone: the first subnet alone is always valid (the pollers of every zone reach
  // it); sqsEndpointSubnetIds spreads it over several zones, one subnet each.
  const chosen = c.sqsEndpointSubnetIds ?? network.subnetIds.slice(0, 1);
  const foreign = chosen.filter((id) => !network.subnetIds.includes(id));
  if (foreign.length > 0)
    problems.push(
      `sqsEndpointSubnetIds: must be among subnetIds (${network.subnetIds.join(',')}) (got ${foreign.join(',')})`,
    );
  return { ...network, subnetIds: chosen };
}

function sqsNetwork(
  c: Parsed,
  kafka: KafkaSourceConfig | undefined,
  problems: string[],
  invalid: ReadonlySet<string>,
): VpcNetworkConfig | undefined {
  if (kafka?.kind === 'self-managed') {
    if (kafka.vpc === undefined && !invalid.has('vpcId')) {
      problems.push(
        'createSqsEndpoint: needs vpcId, subnetIds and securityGroupId (brokers reached over the internet need no endpoint)',
      );
    }
    return kafka.vpc;
  }
  const missing = (['vpcId', 'subnetIds', 'securityGroupId'] as const).filter(
    (k) => c[k] === undefined && !invalid.has(k),
  );
  for (const key of missing) {
    problems.push(
      `${key}: required when createSqsEndpoint=true on MSK (the cluster VPC) (not set)`,
    );
  }
  if (c.vpcId === undefined || c.subnetIds === undefined || c.securityGroupId === undefined)
    return undefined;
  return { vpcId: c.vpcId, subnetIds: c.subnetIds, securityGroupId: c.securityGroupId };
}

/**
 * The detection keys as construct props (a rules file resolved from `cwd`), checked by the
 * construct's own rules; a key that failed its own check is left to its default.
 */
function detectionSettings(
  c: Parsed,
  problems: string[],
  cwd: string,
  invalid: ReadonlySet<string>,
): { detection: DetectionSettings; environment: Record<string, string> } {
  const detection: Record<string, unknown> = {};
  for (const key of DETECTION_KEYS) if (!invalid.has(key)) detection[key] = c[key];
  if (c.detectorRulesFile !== undefined) detection.detectorRulesFile = c.detectorRulesFile;
  const checked = detectionEnvironment(detection, { cwd, stackName: c.stackName });
  problems.push(...checked.problems);
  if (c.detectorRulesFile !== undefined)
    detection.detectorRulesFile = resolve(cwd, c.detectorRulesFile);
  return { detection, environment: checked.environment };
}

function configError(problems: readonly string[]): DeployConfigError {
  return new DeployConfigError(
    `invalid deploy configuration (CDK context):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
  );
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function suggest(key: string): string {
  const lower = key.toLowerCase();
  const near = CONTEXT_KEYS.find((k) => {
    const l = k.toLowerCase();
    return l.startsWith(lower) || lower.startsWith(l) || editDistance(l, lower) <= 2;
  });
  return near === undefined ? '' : ` (did you mean ${near}?)`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
