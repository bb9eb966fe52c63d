/**
 * What each documented setting means, for the tables of docs/configuration.md that
 * scripts/doc-tables.ts generates. Names and defaults come from the schemas the code validates
 * with (functions/config.ts, infra/config.ts); only the meanings are written here. A setting
 * the code knows but this file does not describe fails test/unit/doc-tables.test.ts.
 */

import { DETECTOR_SETTINGS, type DetectorSetting } from '../functions/core/detector-settings.ts';

export interface SettingDoc {
  readonly meaning: string;
  /** For a setting whose schema has no default: what happens when it is not set. */
  readonly defaultText?: string;
}

/** Detector parameters, from the one list (functions/core/detector-parameters.ts). */
const KIND_LABEL: Readonly<Record<string, string>> = {
  threshold: 'Threshold detector',
  zscore: 'Z-score detector',
  ewma: 'EWMA detector',
  adaptive: 'Adaptive detector',
  robust: 'Robust detector',
};
/** `escape`: for a table that prints the meaning as it is (the env table escapes it itself). */
const detectorDocs = (name: (s: DetectorSetting) => string, escapePipes: boolean) =>
  Object.fromEntries(
    DETECTOR_SETTINGS.map((s) => {
      const meaning = `${KIND_LABEL[s.kind] ?? s.kind}: ${s.meaning}`;
      return [name(s), { meaning: escapePipes ? meaning.replace(/\|/g, '\\|') : meaning }];
    }),
  );

/** The detector function's environment variables (functions/config.ts `ENV`). */
export const ENV_DOCS: Readonly<Record<string, SettingDoc>> = {
  TABLE_NAME: { meaning: 'The DynamoDB table.' },
  ALERT_TOPIC_ARN: { meaning: 'The SNS topic for notifications.' },
  SLIDE_SECONDS: { meaning: 'Bucket length and window step.' },
  WINDOW_SECONDS: { meaning: 'Window length, a whole multiple of the slide.' },
  DETECTOR: {
    meaning:
      'Default detector: `threshold`, `zscore`, `ewma`, `adaptive` or `robust` (the recommended one; docs/detectors.md). `limits` is for rules files.',
  },
  ...detectorDocs((d) => d.env, false),
  DETECTOR_RULES: {
    meaning:
      'Per-sensor rules as JSON, a rules file in either form: `[{"match": "boiler_*", "detector": {"kind": "zscore", "sigma": 4}}]` or `{"default": {...}, "rules": [...]}`; its `default` replaces `DETECTOR`.',
  },
  ALERT_COOLDOWN_SECONDS: {
    meaning:
      'At most one notification per sensor per this much event time, unless a reading is clearly worse (docs/alerting.md).',
  },
  FRESHNESS_SECONDS: {
    meaning:
      'Anomalies of readings older than this (processing time) go to the email digest only, never paged (docs/alerting.md); `0`: never stale. A rules file may set it per rule.',
  },
  EPISODE_END_READINGS: {
    meaning: 'Normal readings in a row that end a sensor episode (docs/alerting.md).',
  },
  DIGEST_PERIOD_SECONDS: {
    meaning:
      'At most one email digest per this many seconds per stack, sent by the digest function after the period closes (docs/alerting.md); `0`: a digest per published batch.',
  },
  RETENTION_MARGIN_SECONDS: {
    meaning: 'Buckets live window + this long after their last write.',
  },
  DYNAMODB_WRITE_CONCURRENCY: { meaning: 'Parallel DynamoDB writes per batch.' },
  EVALUATION: {
    meaning:
      'When the window detectors judge: `arrival` (each reading once, as it arrives) or `window-close` (each window once when it closes, every reading against the whole window: the Flink job, [semantics.md](semantics.md) §3).',
  },
  ALLOWED_LATENESS_MS: {
    meaning:
      "Window-close: a window closes when its partition's event time passes its end plus this; later readings are counted late.",
  },
  FLINK_FORMAT: {
    meaning:
      "Window-close: the seed job's arithmetic and line format, `python` (values as 4-byte floats, as the PyFlink job) or `java` (doubles).",
  },
};

/** The CDK app's context keys (infra/config.ts `CONTEXT_KEYS`). */
export const CONTEXT_KEY_DOCS: Readonly<Record<string, SettingDoc>> = {
  stackName: {
    meaning: 'CloudFormation stack name and dashboard name; use another to deploy a second copy.',
  },
  kafkaSource: { meaning: '`self-managed` brokers or `msk`.' },
  bootstrapServers: {
    meaning:
      'Self-managed brokers, `host:port,...` (the default is a placeholder: set it before deploying). Ignored for MSK.',
  },
  mskClusterArn: {
    meaning: 'MSK cluster ARN; required when `kafkaSource=msk`.',
    defaultText: '(none)',
  },
  kafkaAuth: {
    meaning:
      'MSK: `iam` or `sasl-scram-512`. Self-managed: `sasl-scram-512`, `sasl-scram-256`, `mtls`, or `none` (VPC only).',
    defaultText: '`iam` (MSK), `sasl-scram-512` (self-managed)',
  },
  kafkaSecretArn: {
    meaning:
      'Complete ARN of the credentials secret (SCRAM user or client certificate). Required for MSK SCRAM and mTLS; a self-managed SCRAM stack creates one when absent.',
    defaultText: '(none)',
  },
  kafkaSecretKmsKeyArn: {
    meaning:
      'Customer managed KMS key of that secret; required for MSK SCRAM. The function may decrypt through Secrets Manager only.',
    defaultText: '(none)',
  },
  rootCaSecretArn: {
    meaning: "Self-managed only: secret with the brokers' private root CA.",
    defaultText: '(none)',
  },
  vpcId: {
    meaning:
      "Self-managed: VPC of the brokers; needs `subnetIds` and `securityGroupId`. MSK: the cluster's VPC, only with `createSqsEndpoint=true`.",
    defaultText: '(none)',
  },
  subnetIds: {
    meaning: 'Subnets the pollers connect from (and where the SQS endpoint goes).',
    defaultText: '(none)',
  },
  securityGroupId: {
    meaning: 'Security group the pollers use; the SQS endpoint admits it on 443.',
    defaultText: '(none)',
  },
  topics: { meaning: 'Topics to read; one mapping each.' },
  consumerGroupId: {
    meaning:
      "Consumer group of the first topic; further topics use `<consumerGroupId>-<topic>` (Lambda wants a group id unique per mapping). The default differs per stack, so a second copy under another `stackName` reads every partition itself instead of splitting them with the first. Fixed once created; set it to take over an existing group's offsets.",
    defaultText: '`<stackName>-anomaly-detector`',
  },
  batchSize: { meaning: 'Largest batch per invocation (1–10000).' },
  batchingWindowSeconds: { meaning: 'Longest wait to fill a batch (0–300).' },
  startingPosition: {
    meaning:
      'Where a new consumer group starts: `TRIM_HORIZON` (oldest retained record), `LATEST` or `AT_TIMESTAMP`; ignored when the group already has committed offsets. The default is `TRIM_HORIZON` because with `LATEST` "the event source mapping could miss events during a create or update" ([Lambda docs](https://docs.aws.amazon.com/lambda/latest/dg/kafka-starting-positions.html)); replays are safe here. A first deploy therefore works through the retained backlog (email stays at one digest per batch); choose `LATEST` only if the backlog does not matter.',
  },
  startingPositionTimestamp: {
    meaning: 'Epoch seconds; required with `AT_TIMESTAMP`.',
    defaultText: '(none)',
  },
  provisionedMinPollers: {
    meaning:
      "Setting any provisioned key switches the mappings to provisioned mode (Lambda's defaults: 1 to 200 pollers).",
    defaultText: '(none)',
  },
  provisionedMaxPollers: { meaning: 'Upper bound of provisioned pollers.', defaultText: '(none)' },
  pollerGroupName: {
    meaning: 'Share provisioned pollers between mappings with the same group name.',
    defaultText: '(none)',
  },
  retryAttempts: {
    meaning:
      'Retries of a failed batch before it goes to the dead-letter queue (-1 to 10000; -1 with a destination means 10). Provisioned mode only.',
  },
  maxRecordAgeSeconds: {
    meaning:
      'Send records older than this to the dead-letter queue instead (60–604800). Provisioned mode only.',
    defaultText: '(none: never)',
  },
  bisectBatchOnError: {
    meaning: 'Split a failed batch in two and retry the halves. Provisioned mode only.',
  },
  reportBatchItemFailures: { meaning: 'Partial batch responses. Provisioned mode only.' },
  memorySizeMb: { meaning: 'Function memory (CPU scales with it).' },
  timeoutSeconds: {
    meaning:
      'Function timeout, at most 840: Kafka mappings "only support functions with maximum timeout limits of 14 minutes" ([Lambda docs](https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html)).',
  },
  logRetentionDays: {
    meaning:
      'Log group retention; a value CloudWatch Logs offers (1, 3, 5, 7, 14, 30, 60, 90, ...).',
  },
  slideSeconds: { meaning: 'Window slide S.' },
  windowSeconds: { meaning: 'Window length W, a whole multiple of S.' },
  detector: {
    meaning:
      'Default detector: `threshold`, `zscore`, `ewma`, `adaptive` or `robust` (the recommended one for sensors whose normal range nobody knows; docs/detectors.md). `limits` is for rules files.',
  },
  ...detectorDocs((d) => d.key, true),
  detectorRulesFile: {
    meaning:
      'JSON file of per-sensor rules, relative to where `cdk` runs: an array `[{"match": "boiler_*", "detector": {"kind": "zscore", "sigma": 4}}]` or `{"default": {...}, "rules": [...]}`; validated at synth and passed minified in `DETECTOR_RULES` (the whole environment must fit in 4 KB). Example: `infra/examples/detector-rules.json`.',
    defaultText: '(none)',
  },
  alertCooldownSeconds: {
    meaning:
      'At most one notification per sensor per this much event time, unless a reading is clearly worse (docs/alerting.md).',
  },
  freshnessSeconds: {
    meaning:
      'Anomalies of readings older than this (processing time: a backlog from `TRIM_HORIZON`, a replay) go to the email digest only, never paged (docs/alerting.md); `0`: never stale. A rules file may set it per rule.',
  },
  episodeEndReadings: {
    meaning: 'Normal readings in a row that end a sensor episode (docs/alerting.md).',
  },
  digestPeriodSeconds: {
    meaning:
      'At most one email digest per this many seconds per stack: a scheduled digest function sends it after the period closes (docs/alerting.md); `0`: a digest per published batch, no schedule.',
  },
  retentionMarginSeconds: {
    meaning: 'A window bucket expires W plus this long after its last write.',
  },
  dynamodbWriteConcurrency: { meaning: 'Parallel DynamoDB writes per batch.' },
  evaluation: {
    meaning:
      '`arrival` or `window-close`: judge each window when it closes, as the Flink job did ([semantics.md](semantics.md) §3); deploys the window flush.',
  },
  allowedLatenessMs: {
    meaning:
      "Window-close: a window closes when its partition's event time passes its end plus this.",
  },
  flinkFormat: {
    meaning: "Window-close: `python` (the PyFlink job's 4-byte floats) or `java` (doubles).",
  },
  removalPolicy: {
    meaning:
      '`retain` keeps the table, the log group, the dead-letter queue and a created secret when the stack is deleted; `destroy` deletes them.',
  },
  alertEmails: {
    meaning:
      'Email addresses for anomaly digests: one email per batch listing its anomalies (filter `kind=digest`), never one per sensor.',
  },
  alertSmsNumbers: {
    meaning:
      'E.164 phone numbers (`+14155550100`) for per-sensor anomaly alerts by SMS (filter `kind=alert`).',
  },
  smsCriticalOnly: {
    meaning: 'SMS only for `critical` anomalies (deviation at least twice the limit).',
  },
  opsEmails: { meaning: 'Email addresses for the operations alarms.' },
  alarmOffsetLagRecords: {
    meaning: 'Offset lag (records) that, held for 15 minutes, raises the lag alarm.',
  },
  alarmRejectedPercent: {
    meaning:
      'Share of rejected records (%) that, in 2 of 3 five-minute periods, raises the rejection alarm.',
  },
  alarmNoRecordsMinutes: {
    meaning:
      'No record received for this many minutes (1–1440) raises `NoRecords`, with missing data as breaching: a mapping that cannot connect invokes nothing, which no other alarm sees. `0` turns it off (topics that are quiet on purpose).',
  },
  smsMonthlySpendLimitUsd: {
    meaning:
      "The account's monthly SMS spend limit in USD (SNS text messaging preferences): the `SmsSpend` alarm fires at 80% of it, since SNS stops sending SMS within minutes of the limit (docs/alerting.md).",
  },
  createSqsEndpoint: {
    meaning:
      'Create an SQS interface endpoint (private DNS) in `vpcId`, so pollers inside a VPC can deliver failed batches to the dead-letter queue. Leave `false` if the VPC already has one (a second one with private DNS fails).',
  },
  sqsEndpointSubnetIds: {
    meaning:
      'Subnets of the SQS endpoint, among `subnetIds`, **at most one per Availability Zone** (an interface endpoint takes one subnet per zone; subnets given by id carry no zone to pick by).',
    defaultText: 'the first of `subnetIds`',
  },
  eventSourceMapping: {
    meaning:
      "`false` leaves the Kafka event source mapping out (LocalStack's free edition; or you attach your own trigger to the function).",
  },
  tracing: {
    meaning:
      'X-Ray active tracing and the Powertools Tracer on the function (see [operations.md](operations.md#tracing)).',
  },
  anomaliesTopic: {
    meaning:
      "Produce every anomaly as one JSON record (keyed by sensor id, `alertId` header) to this topic on the mapping's cluster, with its auth ([sinks.md](sinks.md)).",
    defaultText: 'off',
  },
  anomaliesBootstrapServers: {
    meaning:
      "Brokers for the anomalies topic. Required on MSK (the brokers string for the cluster's auth, from `aws kafka get-bootstrap-brokers`).",
    defaultText: '`bootstrapServers` (self-managed)',
  },
  anomaliesVpcAwsAccess: {
    meaning:
      'How the functions reach AWS APIs once they join the VPC of `vpcId` for the anomalies topic: `create-endpoints` (the stack creates the DynamoDB gateway endpoint on `routeTableIds` and the SNS, Secrets Manager and, with `anomaliesEventBus`, EventBridge interface endpoints with private DNS), `vpc-endpoints` (the VPC has them) or `nat-gateway`. Required when the functions join a VPC: synth says exactly what to add.',
    defaultText: '(none)',
  },
  routeTableIds: {
    meaning:
      'The route tables of `subnetIds`, comma-separated (`rtb-...`): the routes of the DynamoDB gateway endpoint that `anomaliesVpcAwsAccess=create-endpoints` creates.',
    defaultText: '(none)',
  },
  anomaliesEventBus: {
    meaning:
      'Put every anomaly as an event (`Sensor anomaly`) on this EventBridge bus, name or ARN ([sinks.md](sinks.md)).',
    defaultText: 'off',
  },
  silenceCheckMinutes: {
    meaning:
      'Minutes between silent-sensor checks (EventBridge Scheduler, see [silence.md](silence.md)). Deployed whatever the deployed rules say, as a rules document stored in the table may set `silenceSeconds` later; with no limit anywhere it costs 3 reads a check, about $0.11 a month, plus $0.80 for its two alarms and two metrics. `0`: no check.',
    defaultText: '1',
  },
  windowFlushMinutes: {
    meaning:
      'With `evaluation=window-close`: minutes between window flushes (EventBridge Scheduler), which close the windows of partitions gone quiet ([state.md](state.md#open-windows-window-close-evaluation)).',
    defaultText: '1',
  },
};
