import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  PAGE_SK,
  ROOT_SK,
  readPageItem,
  readRootItem,
} from '../../functions/adapters/dynamodb/partition-store.ts';
import { type MaterializedState, materialize } from '../../functions/batch/inspect.ts';
import { type Page, type PartitionRoot, pageId } from '../../functions/batch/state.ts';

/**
 * Every partition's current state in a table, sensor by sensor (a consistent Scan): for
 * tools and tests that check the table from outside (the soak run, the laws on dynalite).
 * Not part of the function (it never scans).
 * Pages past their TTL count as absent, as the use case reads them.
 */
export async function scanTableState(
  client: DynamoDBClient,
  tableName: string,
  nowEpochSeconds = 0,
): Promise<MaterializedState> {
  const roots = new Map<string, PartitionRoot>();
  const pages = new Map<string, Page>();
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await client.send(
      new ScanCommand({
        TableName: tableName,
        ConsistentRead: true,
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      }),
    );
    for (const item of out.Items ?? []) {
      if (item.sk?.S === ROOT_SK) {
        const { pid, root } = readRootItem(item);
        roots.set(pid, root);
      } else if (item.sk?.S === PAGE_SK) {
        const p = readPageItem(item);
        if (p.expiresAtEpochSeconds > nowEpochSeconds) pages.set(pageId(p.key), p.page);
      }
    }
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return materialize(roots, (key) => pages.get(pageId(key)));
}
