import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The one table's layout, shared by the DynamoDB adapter, the CDK stack and the local
 * pipeline so they cannot drift apart.
 *
 * | item            | pk                      | sk                         |
 * |-----------------|-------------------------|----------------------------|
 * | window bucket   | `sensor#<sensorId>`     | `bucket#<bucketStartMs>`   |
 * | sensor state    | `sensor#<sensorId>`     | `state`                    |
 * | partition journal | `partition#<topic>#<n>` | `journal`                |
 * | journal page    | `partition#<topic>#<n>` | `journal#<version>#<page>` |
 */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** DynamoDB TTL attribute, epoch seconds. */
  ttlAttribute: 'expiresAtEpochSeconds',
} as const;

export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: TABLE_SCHEMA.partitionKey, AttributeType: 'S' },
      { AttributeName: TABLE_SCHEMA.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
    ],
  };
}
