import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { OpenPartitions } from '../../batch/window-close/partition-windows.ts';
import { TABLE_SCHEMA } from '../dynamodb-table.ts';
import { StoreUnavailableError } from '../store-errors.ts';

const { partitionKey: PK, sortKey: SK } = TABLE_SCHEMA;
/** The one item listing partitions with window-close state (docs/state.md, "Open windows"). */
export const OPEN_PARTITIONS_KEY = {
  [PK]: { S: 'windowclose#partitions' },
  [SK]: { S: 'registry' },
};

/**
 * The list of partitions with open windows, for the scheduled flush: one item holding a string
 * set. A batch adds its partition with `ADD`, which is commutative ("ADD … If the existing
 * attribute is a set … the value is added to the existing set", UpdateItem, DynamoDB API
 * Reference), so batches of any partitions add concurrently without a condition or a conflict.
 * Partitions are never removed (the flush skips a root with nothing open); a partition id is
 * at most ~280 bytes, so the 400 KB item lists over 1,400 partitions.
 */
export class DynamoDbOpenPartitions implements OpenPartitions {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async add(pid: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: OPEN_PARTITIONS_KEY,
          UpdateExpression: 'ADD #p :p',
          ExpressionAttributeNames: { '#p': 'p' },
          ExpressionAttributeValues: { ':p': { SS: [pid] } },
        }),
      );
    } catch (error) {
      throw new StoreUnavailableError(`UpdateItem failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async list(): Promise<readonly string[]> {
    try {
      const out = await this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: OPEN_PARTITIONS_KEY,
          ConsistentRead: true,
        }),
      );
      return [...(out.Item?.p?.SS ?? [])].sort();
    } catch (error) {
      throw new StoreUnavailableError(`GetItem failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}
