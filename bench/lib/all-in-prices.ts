/**
 * Prices (us-east-1) of everything a deployed stack bills besides DynamoDB requests and Lambda,
 * with their sources; docs/bench.md quotes them. Change them here and the next
 * `npm run bench -- --only fleet` uses them.
 */
export const ALL_IN_PRICES = {
  /** CloudWatch Logs: standard ingestion $0.50/GB, storage $0.03/GB-month (https://aws.amazon.com/cloudwatch/pricing/). */
  logsIngestionGbUsd: 0.5,
  logsStorageGbMonthUsd: 0.03,
  /** Lambda's own lines per invocation (START, END, REPORT): about 350 bytes (assumed). */
  lambdaPlatformLogBytesPerInvocation: 350,
  /** Custom metrics $0.30/metric-month (first 10,000), standard alarms $0.10/alarm-month, dashboards $3/month (CloudWatch pricing). */
  customMetricMonthUsd: 0.3,
  alarmMonthUsd: 0.1,
  dashboardMonthUsd: 3,
  /** The stack's alarms and dashboards (test/infra/construct.test.ts counts 9 alarms). */
  alarms: 9,
  dashboards: 1,
  /** KMS: $1/key-month, $0.03 per 10,000 requests (https://aws.amazon.com/kms/pricing/); one request per SNS publish (upper bound: SNS may reuse data keys). */
  kmsKeyMonthUsd: 1,
  kmsRequestUsd: 0.03 / 10_000,
  /** SNS: $0.50 per million publishes (https://aws.amazon.com/sns/pricing/); email deliveries $2 per 100,000. */
  snsPublishUsd: 0.5 / 1e6,
  snsEmailDeliveryUsd: 2 / 1e5,
  /** DynamoDB standard table class: storage $0.25/GB-month, continuous backups (PITR) $0.20/GB-month (https://aws.amazon.com/dynamodb/pricing/on-demand/). */
  dynamodbStorageGbMonthUsd: 0.25,
  dynamodbPitrGbMonthUsd: 0.2,
  /** DynamoDB deletes expired items "within a few days" of their TTL: counted as two days of extra storage. */
  ttlDeletionLagSeconds: 2 * 86_400,
  /** Provisioned capacity (https://aws.amazon.com/dynamodb/pricing/provisioned/): $0.00065 per WCU-hour, $0.00013 per RCU-hour; auto scaling at a 70% target. */
  wcuHourUsd: 0.00065,
  rcuHourUsd: 0.00013,
  autoScalingTargetUtilization: 0.7,
  /**
   * Kafka bytes of the repartition step's keyed topic, priced as MSK Serverless data in
   * ($0.10/GB) and out ($0.05/GB) (https://aws.amazon.com/msk/pricing/); a provisioned
   * cluster bills brokers and storage instead, so this is the per-byte view.
   */
  kafkaInGbUsd: 0.1,
  kafkaOutGbUsd: 0.05,
  /** Repartition step: one produce round trip per batch (acks=all, assumed). */
  repartitionProduceRoundTripMs: 10,
  /** Headers of a repartitioned record: names and decimal values of source-topic/-partition/-offset, plus record overhead (about). */
  repartitionHeaderBytes: 70,
} as const;
