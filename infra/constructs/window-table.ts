import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { TABLE_SCHEMA } from '../../functions/adapters/dynamodb-table.ts';

/** Provisioned capacity's auto scaling target, unless the props give one. */
export const TARGET_UTILIZATION_PERCENT = 70;

/**
 * Provisioned capacity with auto scaling for the window table, instead of on-demand: cheaper
 * for a steady load (docs/bench.md), throttled above `maxWriteCapacity`.
 */
export interface TableCapacityProps {
  readonly minReadCapacity: number;
  readonly maxReadCapacity: number;
  readonly minWriteCapacity: number;
  readonly maxWriteCapacity: number;
  /** Auto scaling keeps consumed capacity near this share of provisioned. @default 70 */
  readonly targetUtilizationPercent?: number;
}

/** The window table: on-demand, or provisioned with auto scaling; TTL, PITR, deletion protection. */
export function createWindowTable(
  scope: Construct,
  capacity: TableCapacityProps | undefined,
  deletionProtection: boolean | undefined,
  removalPolicy: RemovalPolicy,
): Table {
  const table = new Table(scope, 'WindowTable', {
    partitionKey: { name: TABLE_SCHEMA.partitionKey, type: AttributeType.STRING },
    sortKey: { name: TABLE_SCHEMA.sortKey, type: AttributeType.STRING },
    timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    // "When deletion protection is enabled for a table, it can't be deleted by any user or
    // process" (Amazon DynamoDB developer guide, "Using deletion protection to protect your
    // table", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithTables.Basics.html#WorkingWithTables.Basics.DeletionProtection):
    // on, unless the stack is meant to delete its table.
    deletionProtection: deletionProtection ?? removalPolicy !== RemovalPolicy.DESTROY,
    removalPolicy,
    ...(capacity === undefined
      ? { billingMode: BillingMode.PAY_PER_REQUEST }
      : {
          billingMode: BillingMode.PROVISIONED,
          readCapacity: capacity.minReadCapacity,
          writeCapacity: capacity.minWriteCapacity,
        }),
  });
  if (capacity !== undefined) {
    const targetUtilizationPercent =
      capacity.targetUtilizationPercent ?? TARGET_UTILIZATION_PERCENT;
    table
      .autoScaleReadCapacity({
        minCapacity: capacity.minReadCapacity,
        maxCapacity: capacity.maxReadCapacity,
      })
      .scaleOnUtilization({ targetUtilizationPercent });
    table
      .autoScaleWriteCapacity({
        minCapacity: capacity.minWriteCapacity,
        maxCapacity: capacity.maxWriteCapacity,
      })
      .scaleOnUtilization({ targetUtilizationPercent });
  }
  return table;
}
