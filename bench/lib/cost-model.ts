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
