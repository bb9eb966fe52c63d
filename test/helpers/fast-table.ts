import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { createTableInput } from '../../functions/adapters/dynamodb-table.ts';
import { DEFAULT_DETECTION, type DetectorConfig } from '../../functions/config.ts';
import { TOPIC_ARN } from './local-aws.ts';

let tables = 0;

/**
 * A fresh detector table on dynalite, polled every 5 ms until ACTIVE. The SDK's waiter
 * (`ensureTable`) sleeps at least 1 s whenever dynalite is a moment late, which dominates
 * property tests that create a table per case.
 */
export async function fastFreshConfig(
  client: DynamoDBClient,
  overrides: Partial<DetectorConfig> = {},
): Promise<DetectorConfig> {
  tables += 1;
  const tableName = `reliability-${process.pid}-${tables}`;
  await client.send(new CreateTableCommand(createTableInput(tableName)));
  for (let i = 0; ; i += 1) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') break;
    if (i > 2000) throw new Error(`table ${tableName} not ACTIVE after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { ...DEFAULT_DETECTION, tableName, topicArn: TOPIC_ARN, ...overrides };
}
