import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { OpenPartitions } from '../../batch/window-close/partition-windows.ts';
import { TABLE_SCHEMA } from '../dynamodb-table.ts';
import { StoreUnavailableError } from '../store-errors.ts';

const { partitionKey: PK, sortKey: SK } = TABLE_SCHEMA;
/** The one item listing partitions with window-close state (docs/state.md, "Open windows"). */
export const OPEN_PARTITIONS_KEY = {
  [PK]: { S: 'windowclose#partitions' },
  [SK]: { S: 'registry' },
};

/** Writers that add at the same moment: each retries after the one that got there first. */
const MAX_ATTEMPTS = 16;

/**
 * The list of partitions with open windows, for the scheduled flush: one item holding a
 * string set and a version. A batch adds its partition (once per container) by a PutItem
 * conditional on the version it read, as the silence registry does, so the function needs no
 * request beyond the ones it sends already (GetItem, PutItem); two partitions adding at once
 * settle it by retrying. Partitions are never removed (the flush skips a root with nothing
 * open); a partition id is at most ~280 bytes, so the 400 KB item lists over 1,400 partitions.
 */
export class DynamoDbOpenPartitions implements OpenPartitions {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async add(pid: string): Promise<void> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const { version, pids } = await this.read();
      if (pids.includes(pid)) return;
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: {
              ...OPEN_PARTITIONS_KEY,
              v: { N: String(version + 1) },
              p: { SS: [...pids, pid] },
            },
            ...(version === 0
              ? {
                  ConditionExpression: 'attribute_not_exists(#pk)',
                  ExpressionAttributeNames: { '#pk': PK },
                }
              : {
                  ConditionExpression: '#v = :v',
                  ExpressionAttributeNames: { '#v': 'v' },
                  ExpressionAttributeValues: { ':v': { N: String(version) } },
                }),
          }),
        );
        return;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) continue;
        throw new StoreUnavailableError(`PutItem failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
    throw new StoreUnavailableError(
      `the open-partition list changed ${MAX_ATTEMPTS} times while ${pid} was added`,
    );
  }

  async list(): Promise<readonly string[]> {
    return [...(await this.read()).pids].sort();
  }

  private async read(): Promise<{ version: number; pids: string[] }> {
    try {
      const out = await this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: OPEN_PARTITIONS_KEY,
          ConsistentRead: true,
        }),
      );
      return { version: Number(out.Item?.v?.N ?? 0), pids: [...(out.Item?.p?.SS ?? [])] };
    } catch (error) {
      throw new StoreUnavailableError(`GetItem failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}
