import { resolve } from 'node:path';
import { z } from 'zod';
import {
  configFromEnv,
  DEFAULT_DETECTION,
  ENV,
  ENV_DETECTOR_KINDS,
  ConfigError as FunctionConfigError,
  settingSchema,
} from '../functions/config.ts';
import { DETECTOR_SETTINGS } from '../functions/core/detector-parameters.ts';
import { ADAPTIVE_DEFAULTS, EWMA_DEFAULTS, ZSCORE_DEFAULTS } from '../functions/core/detectors.ts';
import { loadRulesFile } from '../functions/rules-file.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../functions/telemetry-names.ts';

/**
 * The deploy configuration, read from CDK context (`cdk.json` and `-c key=value`).
 * Every key is flat and camelCase so it can be given on the command line; values from the
 * command line arrive as strings and are coerced here.
 */

export class DeployConfigError extends Error {
  override readonly name = 'DeployConfigError';
}

/**
 * The robust detector's context keys, props and variables come from the one list of detector
 * parameters (functions/core/detector-parameters.ts): `robustSigma` → `ROBUST_SIGMA`.
 */
const ROBUST_SETTINGS = DETECTOR_SETTINGS.filter((s) => s.kind === 'robust');
type RobustKey = `robust${string}`;

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
  batchSize: 10_000,
  batchingWindowSeconds: 3,
  // LATEST could miss records: "if you specify LATEST as the starting position for the stream,
  // the event source mapping could miss events during a create or update. To ensure that no
  // events are missed, specify either TRIM_HORIZON or AT_TIMESTAMP." (Lambda developer guide,
  // "Apache Kafka polling and stream starting positions in Lambda",
  // https://docs.aws.amazon.com/lambda/latest/dg/kafka-starting-positions.html). Replays are
  // safe here (exactly-once state), so a first deploy reads the retained backlog instead.
  startingPosition: 'TRIM_HORIZON',
  memorySizeMb: 1024,
  timeoutSeconds: 60,
  logRetentionDays: 30,
  slideSeconds: DEFAULT_DETECTION.slideMs / 1000,
  windowSeconds: DEFAULT_DETECTION.windowMs / 1000,
  detector: DEFAULT_DETECTION.defaultDetector.kind,
  threshold: DEFAULT_DETECTION.defaultDetector.threshold,
  zscoreSigma: ZSCORE_DEFAULTS.sigma,
  zscoreMinCount: ZSCORE_DEFAULTS.minCount,
  zscoreMinDeviation: ZSCORE_DEFAULTS.minDeviation,
  ewmaHalfLifeReadings: EWMA_DEFAULTS.halfLifeReadings,
  ewmaSigma: EWMA_DEFAULTS.sigma,
  ewmaWarmupReadings: EWMA_DEFAULTS.warmupReadings,
  ewmaMinRelativeDeviation: EWMA_DEFAULTS.minRelativeDeviation,
  ewmaMinDeviation: EWMA_DEFAULTS.minDeviation,
  ewmaLevelShiftReadings: EWMA_DEFAULTS.levelShiftReadings,
  adaptiveHalfLifeReadings: ADAPTIVE_DEFAULTS.halfLifeReadings,
  adaptiveEnvelopeHalfLifeReadings: ADAPTIVE_DEFAULTS.envelopeHalfLifeReadings,
  adaptiveExtremeHalfLifeReadings: ADAPTIVE_DEFAULTS.extremeHalfLifeReadings,
  adaptiveSigma: ADAPTIVE_DEFAULTS.sigma,
  adaptiveExtremeMargin: ADAPTIVE_DEFAULTS.extremeMargin,
  adaptiveExtremeMaturityReadings: ADAPTIVE_DEFAULTS.extremeMaturityReadings,
  adaptiveScoreThreshold: ADAPTIVE_DEFAULTS.scoreThreshold,
  adaptiveWarmupReadings: ADAPTIVE_DEFAULTS.warmupReadings,
  adaptiveRefractoryReadings: ADAPTIVE_DEFAULTS.refractoryReadings,
  adaptiveMinSpreadFraction: ADAPTIVE_DEFAULTS.minSpreadFraction,
  adaptiveMinDeviation: ADAPTIVE_DEFAULTS.minDeviation,
  ...(Object.fromEntries(ROBUST_SETTINGS.map((s) => [s.key, s.default])) as Record<
    RobustKey,
    number | string
  >),
  alertCooldownSeconds: DEFAULT_DETECTION.alertCooldownMs / 1000,
  retentionMarginSeconds: DEFAULT_DETECTION.retentionMarginSeconds,
  dynamodbWriteConcurrency: DEFAULT_DETECTION.writeConcurrency,
  removalPolicy: 'retain',
  alertEmails: [],
  alertSmsNumbers: [],
  smsCriticalOnly: true,
  opsEmails: [],
  alarmOffsetLagRecords: 10_000,
  alarmRejectedPercent: 5,
  alarmNoRecordsMinutes: 15,
  createSqsEndpoint: false,
  eventSourceMapping: true,
  tracing: false,
} as const;

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

/** The default consumer group: one per stack, so two stacks never split a topic's partitions. */
export function defaultConsumerGroupId(stackName: string): string {
  return `${stackName}-anomaly-detector`;
}

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
  readonly subnetIds: readonly string[];
  readonly securityGroupId: string;
}

export interface AnomalySinksConfig {
  /** The anomalies topic, on the cluster of the mapping, with its auth and secret. */
  readonly kafka?: {
    readonly topic: string;
    readonly bootstrapServers: readonly string[];
    /** The brokers' VPC, which the function joins to reach them. @default - not in a VPC */
    readonly vpc?: VpcNetworkConfig;
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
  readonly function: {
    readonly memorySizeMb: number;
    readonly timeoutSeconds: number;
    readonly logRetentionDays: number;
  };
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
const num = (min: number) => z.coerce.number().finite().min(min);
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
const CONSUMER_GROUP = /^[A-Za-z0-9\-/*:_+=.@]{1,200}$/;
const E164 = /^\+[1-9]\d{1,14}$/;
/** CloudWatch Logs accepts only these retention periods. */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

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
    .regex(CONSUMER_GROUP, 'must be 1-200 of [A-Za-z0-9-/*:_+=.@]')
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
  slideSeconds: int(1, 86_400),
  windowSeconds: int(1, 86_400),
  detector: z.enum(ENV_DETECTOR_KINDS),
  threshold: num(0),
  zscoreSigma: z.coerce.number().finite().positive(),
  zscoreMinCount: int(1, 1_000_000),
  zscoreMinDeviation: num(0),
  ewmaHalfLifeReadings: z.coerce.number().finite().positive(),
  ewmaSigma: z.coerce.number().finite().positive(),
  ewmaWarmupReadings: int(1, 1_000_000),
  ewmaMinRelativeDeviation: num(0),
  ewmaMinDeviation: num(0),
  ewmaLevelShiftReadings: int(1, 1_000_000),
  adaptiveHalfLifeReadings: z.coerce.number().finite().positive(),
  adaptiveEnvelopeHalfLifeReadings: z.coerce.number().finite().positive(),
  adaptiveExtremeHalfLifeReadings: z.coerce.number().finite().positive(),
  adaptiveSigma: z.coerce.number().finite().positive(),
  adaptiveExtremeMargin: z.coerce.number().finite().positive(),
  adaptiveExtremeMaturityReadings: z.coerce.number().finite().positive(),
  adaptiveScoreThreshold: z.coerce.number().finite().gt(0).lt(1),
  adaptiveWarmupReadings: int(0, 1_000_000),
  adaptiveRefractoryReadings: int(0, 1_000_000),
  adaptiveMinSpreadFraction: num(0),
  adaptiveMinDeviation: num(0),
  ...(Object.fromEntries(ROBUST_SETTINGS.map((s) => [s.key, settingSchema(s, true)])) as Record<
    RobustKey,
    z.ZodType<number | string>
  >),
  detectorRulesFile: text.optional(),
  alertCooldownSeconds: num(0),
  retentionMarginSeconds: num(0),
  dynamodbWriteConcurrency: int(1, 256),
  removalPolicy: z.enum(['retain', 'destroy']),
  alertEmails: list(z.email('must be email addresses')),
  alertSmsNumbers: list(z.string().regex(E164, 'must be E.164 phone numbers, e.g. +14155550100')),
  smsCriticalOnly: bool,
  opsEmails: list(z.email('must be email addresses')),
  alarmOffsetLagRecords: int(1, Number.MAX_SAFE_INTEGER),
  alarmRejectedPercent: z.coerce.number().finite().gt(0).max(100),
  alarmNoRecordsMinutes: int(0, 1440),
  createSqsEndpoint: bool,
  eventSourceMapping: bool,
  tracing: bool,
  anomaliesTopic: z.string().regex(TOPIC, 'must be a Kafka topic name').optional(),
  anomaliesBootstrapServers: list(z.string().regex(BROKER, 'must be host:port')).optional(),
  anomaliesEventBus: z
    .string()
    .regex(
      /^(arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/)?[A-Za-z0-9._\-/]{1,256}$/,
      'must be an event bus name or ARN',
    )
    .optional(),
  silenceCheckMinutes: int(0, 1440).optional(),
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
      `${key}: ${first === undefined ? 'is not valid' : plainIssue(key, first)} (got ${show(raw[key])})`,
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
  const detectorEnvironment = detectionEnvironment(
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
    function: {
      memorySizeMb: c.memorySizeMb,
      timeoutSeconds: c.timeoutSeconds,
      logRetentionDays: c.logRetentionDays,
    },
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

/** Keys whose value carries a unit in its name: a unit in the value is a common mistake. */
const UNIT_SUFFIX =
  /(Mb|Seconds|Days|Minutes|Percent|Records|Readings|Pollers|Attempts|Concurrency|Size)$/;

/** Extra words for a key whose limit has a reason the user should read. */
const LIMIT_REASONS: Partial<Record<ContextKey, string>> = {
  timeoutSeconds: `: Kafka event source mappings only support functions with a timeout of at most 14 minutes (${KAFKA_MAX_TIMEOUT_SECONDS} s)`,
  batchSize: ': the limit of a Kafka event source mapping',
  batchingWindowSeconds: ': the limit of a Kafka event source mapping',
  alarmNoRecordsMinutes:
    ' (one day, the longest a CloudWatch alarm can look back); 0 turns the alarm off',
};

/** A zod issue as a sentence a user can act on, e.g. "must be true or false". */
export function plainIssue(key: ContextKey, issue: z.core.$ZodIssue): string {
  const reason = LIMIT_REASONS[key] ?? '';
  switch (issue.code) {
    case 'invalid_union': {
      const expectsBoolean = issue.errors.some((branch) =>
        branch.some((i) => i.code === 'invalid_type' && i.expected === 'boolean'),
      );
      return expectsBoolean
        ? 'must be true or false'
        : 'must be a comma-separated list (or a JSON array in cdk.json)';
    }
    case 'invalid_type': {
      const unit = UNIT_SUFFIX.test(key) ? ', without a unit' : '';
      if (issue.expected === 'number') return `must be a number${unit}`;
      if (issue.expected === 'int') return `must be a whole number${unit}`;
      return `must be a ${issue.expected}`;
    }
    case 'too_small':
      if (issue.origin === 'array') return `must list at least ${issue.minimum} value`;
      if (issue.origin === 'string') return 'must not be empty';
      return `must be ${issue.inclusive ? 'at least' : 'greater than'} ${issue.minimum}${reason}`;
    case 'too_big':
      return `must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}${reason}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    default:
      // Our own messages (regex, email, refine) are already sentences.
      return issue.message;
  }
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
  return {
    ...eventBus,
    kafka: { topic: c.anomaliesTopic, bootstrapServers, ...(vpc === undefined ? {} : { vpc }) },
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
  if (!c.createSqsEndpoint) return undefined;
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

/** Lambda's limit on the total size of a function's environment variables. */
const ENVIRONMENT_LIMIT_BYTES = 4096;

function detectionEnvironment(
  c: Parsed,
  problems: string[],
  cwd: string,
  invalid: ReadonlySet<string>,
): Record<string, string> {
  if (
    !invalid.has('windowSeconds') &&
    !invalid.has('slideSeconds') &&
    c.windowSeconds % c.slideSeconds !== 0
  ) {
    problems.push(
      `windowSeconds: must be a whole multiple of slideSeconds (${c.slideSeconds}) (got ${c.windowSeconds})`,
    );
  }
  const rules =
    c.detectorRulesFile === undefined ? '[]' : readRulesFile(c.detectorRulesFile, cwd, problems);
  const env: Record<string, string> = {
    [ENV.slideSeconds]: String(c.slideSeconds),
    [ENV.windowSeconds]: String(c.windowSeconds),
    [ENV.detector]: c.detector,
    [ENV.threshold]: String(c.threshold),
    [ENV.zscoreSigma]: String(c.zscoreSigma),
    [ENV.zscoreMinCount]: String(c.zscoreMinCount),
    [ENV.zscoreMinDeviation]: String(c.zscoreMinDeviation),
    [ENV.ewmaHalfLifeReadings]: String(c.ewmaHalfLifeReadings),
    [ENV.ewmaSigma]: String(c.ewmaSigma),
    [ENV.ewmaWarmupReadings]: String(c.ewmaWarmupReadings),
    [ENV.ewmaMinRelativeDeviation]: String(c.ewmaMinRelativeDeviation),
    [ENV.ewmaMinDeviation]: String(c.ewmaMinDeviation),
    [ENV.ewmaLevelShiftReadings]: String(c.ewmaLevelShiftReadings),
    [ENV.adaptiveHalfLifeReadings]: String(c.adaptiveHalfLifeReadings),
    [ENV.adaptiveEnvelopeHalfLifeReadings]: String(c.adaptiveEnvelopeHalfLifeReadings),
    [ENV.adaptiveExtremeHalfLifeReadings]: String(c.adaptiveExtremeHalfLifeReadings),
    [ENV.adaptiveSigma]: String(c.adaptiveSigma),
    [ENV.adaptiveExtremeMargin]: String(c.adaptiveExtremeMargin),
    [ENV.adaptiveExtremeMaturityReadings]: String(c.adaptiveExtremeMaturityReadings),
    [ENV.adaptiveScoreThreshold]: String(c.adaptiveScoreThreshold),
    [ENV.adaptiveWarmupReadings]: String(c.adaptiveWarmupReadings),
    [ENV.adaptiveRefractoryReadings]: String(c.adaptiveRefractoryReadings),
    [ENV.adaptiveMinSpreadFraction]: String(c.adaptiveMinSpreadFraction),
    [ENV.adaptiveMinDeviation]: String(c.adaptiveMinDeviation),
    // Only for the robust detector: its 16 variables would take 500 of the 4 KB otherwise.
    ...(c.detector === 'robust'
      ? Object.fromEntries(
          ROBUST_SETTINGS.map((s) => [s.env, String((c as Record<string, unknown>)[s.key])]),
        )
      : {}),
    [ENV.detectorRules]: rules ?? '[]',
    [ENV.alertCooldownSeconds]: String(c.alertCooldownSeconds),
    [ENV.retentionMarginSeconds]: String(c.retentionMarginSeconds),
    [ENV.writeConcurrency]: String(c.dynamodbWriteConcurrency),
  };
  if (problems.length > 0) return env;

  // The function validates the same variables at cold start; checking here turns a broken
  // deploy into a synth error. The table name and topic ARN stand in for the names
  // CloudFormation generates from the stack name, at their longest.
  const probe = {
    ...env,
    [ENV.tableName]: 'x'.repeat(c.stackName.length + 40),
    [ENV.topicArn]: `arn:aws-us-gov:sns:xx-xxxx-1:000000000000:${'x'.repeat(c.stackName.length + 50)}`,
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  };
  try {
    configFromEnv(probe);
  } catch (error) {
    if (!(error instanceof FunctionConfigError)) throw error;
    problems.push(`detection settings rejected by the function: ${error.message}`);
  }
  const size = Object.entries(probe).reduce(
    (sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v),
    0,
  );
  if (size > ENVIRONMENT_LIMIT_BYTES) {
    problems.push(
      `detectorRulesFile: the rules make the function environment about ${size} bytes; Lambda allows ${ENVIRONMENT_LIMIT_BYTES} in total`,
    );
  }
  return env;
}

function readRulesFile(path: string, cwd: string, problems: string[]): string | undefined {
  try {
    // The function's own loader: the same formats and checks as the backtest and the local
    // pipeline, and minified JSON, since the whole environment must fit in 4 KB.
    return loadRulesFile(resolve(cwd, path)).json;
  } catch (error) {
    if (!(error instanceof FunctionConfigError)) throw error;
    problems.push(`detectorRulesFile: ${error.message.replaceAll(resolve(cwd, path), path)}`);
    return undefined;
  }
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
