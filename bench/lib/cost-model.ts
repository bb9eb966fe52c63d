/**
 * Prices and the assumptions the cost figures rest on. Every number here is quoted in
 * docs/bench.md with its source; change them here and the next `npm run bench` uses them.
 */
export const PRICES = {
  region: 'us-east-1',
  /**
   * DynamoDB on-demand, standard table class, after the 2024-11-01 price cut:
   * https://aws.amazon.com/dynamodb/pricing/on-demand/ (units) and
   * https://aws.amazon.com/blogs/aws/amazon-dynamodb-on-demand-no-capacity-planning-and-pay-per-request-pricing/
   * (post updated 2025-01-31 for the reduced price).
   */
  dynamodbWriteRequestUnitPerMillionUsd: 0.625,
  dynamodbReadRequestUnitPerMillionUsd: 0.125,
  /** Lambda on Arm (Graviton), first pricing tier: https://aws.amazon.com/lambda/pricing/ */
  lambdaArmGbSecondUsd: 0.0000133334,
  lambdaRequestPerMillionUsd: 0.2,
} as const;

/**
 * What Lambda's bill depends on that this machine cannot measure: how long a DynamoDB or
 * SNS round trip takes inside AWS. Single-digit milliseconds is DynamoDB's stated latency;
 * these are deliberately on the slow side of that.
 */
export const LAMBDA_ASSUMPTIONS = {
  memoryMb: 1024,
  /** Lambda gives a full vCPU at 1,769 MB; below that, CPU time stretches in proportion. */
  fullVcpuMemoryMb: 1769,
  batchGetRoundTripMs: 8,
  putRoundTripMs: 6,
  updateRoundTripMs: 6,
  getRoundTripMs: 5,
  publishRoundTripMs: 20,
  /** DYNAMODB_WRITE_CONCURRENCY's default: writes of one phase go out 16 at a time. */
  writeConcurrency: 16,
  /** Billing granularity of Lambda duration. */
  billedMsGranularity: 1,
} as const;

export interface UnitsPerReading {
  readonly wru: number;
  readonly rru: number;
  /** GB-seconds of Lambda duration. */
  readonly gbSeconds: number;
  readonly invocations: number;
}

export interface CostPerMillion {
  readonly dynamodbWritesUsd: number;
  readonly dynamodbReadsUsd: number;
  readonly lambdaUsd: number;
  readonly totalUsd: number;
}

/** Dollars per million readings, from the units one reading costs. */
export function costPerMillionReadings(units: UnitsPerReading): CostPerMillion {
  const dynamodbWritesUsd = units.wru * PRICES.dynamodbWriteRequestUnitPerMillionUsd;
  const dynamodbReadsUsd = units.rru * PRICES.dynamodbReadRequestUnitPerMillionUsd;
  const lambdaUsd =
    units.gbSeconds * 1e6 * PRICES.lambdaArmGbSecondUsd +
    units.invocations * PRICES.lambdaRequestPerMillionUsd;
  return {
    dynamodbWritesUsd,
    dynamodbReadsUsd,
    lambdaUsd,
    totalUsd: dynamodbWritesUsd + dynamodbReadsUsd + lambdaUsd,
  };
}

/** Lambda duration of one batch: measured CPU time, stretched to the memory's CPU share, plus round trips. */
export function lambdaBatchSeconds(cpuMs: number, roundTripMs: number): number {
  const a = LAMBDA_ASSUMPTIONS;
  const cpuShare = Math.min(1, a.memoryMb / a.fullVcpuMemoryMb);
  return (cpuMs / cpuShare + roundTripMs) / 1000;
}

/** 730 hours, the month AWS prices use. */
export const SECONDS_PER_MONTH = 730 * 3600;

/**
 * Amazon Managed Service for Apache Flink, us-east-1: $0.11 per KPU-hour, one more KPU per
 * application for orchestration (https://docs.aws.amazon.com/managed-flink/latest/java/how-pricing.html),
 * a KPU being 1 vCPU and 4 GB (https://docs.aws.amazon.com/managed-flink/latest/java/how-resources.html).
 * AWS publishes no records-per-second figure per KPU; we assume 5,000 readings/s for a keyed
 * sliding-window job, the top of the range Alibaba Cloud documents for window functions on
 * its same-sized unit (1 core, 4 GiB: 1,000–5,000 records/s,
 * https://www.alibabacloud.com/help/en/realtime-compute-for-apache-flink/latest/billing-unit-and-billable-items),
 * so generous to Flink. Running storage ($0.10/GB-month, 50 GB per KPU) is left out.
 */
export const FLINK_ASSUMPTIONS = {
  kpuHourUsd: 0.11,
  orchestrationKpus: 1,
  readingsPerSecondPerKpu: 5000,
  minimumKpus: 2,
} as const;

export function flinkMonthlyUsd(readingsPerSecond: number): { kpus: number; usd: number } {
  const f = FLINK_ASSUMPTIONS;
  const kpus = Math.max(
    f.minimumKpus,
    Math.max(1, Math.ceil(readingsPerSecond / f.readingsPerSecondPerKpu)) + f.orchestrationKpus,
  );
  return { kpus, usd: kpus * f.kpuHourUsd * 730 };
}
