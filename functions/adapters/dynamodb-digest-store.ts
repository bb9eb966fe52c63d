import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import type { DigestPage } from '../batch/state.ts';
import type { DigestItem, DigestStore } from '../digest/send-digests.ts';
import { digestPk } from './dynamodb/codecs.ts';
import { readPageItem } from './dynamodb/partition-store.ts';
import { DIGEST_KEYS, TABLE_SCHEMA } from './dynamodb-table.ts';
import { StoreUnavailableError } from './store-errors.ts';

const { partitionKey: PK, sortKey: SK } = TABLE_SCHEMA;
const CURSOR_KEY: Record<string, AttributeValue> = {
  [PK]: { S: DIGEST_KEYS.cursor },
  [SK]: { S: DIGEST_KEYS.cursor },
};

/**
 * The digest function's view of the table (docs/alerting.md): one strongly consistent Query
 * per period over `digest#<periodStartMs>` (every partition's contributions, committed or
 * not: the roots' heads tell), and its cursor, one item written conditionally on the value
 * read ("Conditional writes are helpful in cases where multiple users attempt to modify the
 * same item", DynamoDB Developer Guide, "Conditional writes").
 */
export class DynamoDbDigestStore implements DigestStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async queryPeriod(periodStartMs: number): Promise<readonly DigestItem[]> {
    const items: DigestItem[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.call('Query', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': PK },
            ExpressionAttributeValues: { ':pk': { S: digestPk(periodStartMs) } },
            ConsistentRead: true,
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const { key, page: body } = readPageItem(item);
        if (body.kind === 'digest')
          items.push({ pid: key.pid, gen: key.gen, page: body as DigestPage });
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  async readCursor(): Promise<number | null> {
    const got = await this.call('GetItem', () =>
      this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: CURSOR_KEY, ConsistentRead: true }),
      ),
    );
    const p = got.Item?.p?.N;
    return p === undefined ? null : Number(p);
  }

  async advanceCursor(from: number | null, to: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...CURSOR_KEY, p: { N: String(to) } },
          ...(from === null
            ? {
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': PK },
              }
            : {
                ConditionExpression: '#p = :from',
                ExpressionAttributeNames: { '#p': 'p' },
                ExpressionAttributeValues: { ':from': { N: String(from) } },
              }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        // A lost response of this very write looks the same: the cursor is where we put it.
        return (await this.readCursor()) === to;
      }
      throw new StoreUnavailableError(`PutItem failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  private async call<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (error) {
      throw new StoreUnavailableError(`${what} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}
