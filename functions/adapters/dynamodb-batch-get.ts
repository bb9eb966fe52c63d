import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { chunk, forEachWithLimit } from './concurrency.ts';
import { StoreUnavailableError } from './store-errors.ts';

type Item = Record<string, AttributeValue>;

/** BatchGetItem takes at most 100 keys per call. */
const BATCH_GET_MAX_KEYS = 100;
/** Rounds of UnprocessedKeys retried (with backoff) before the read counts as failed. */
const UNPROCESSED_RETRIES = 8;

/**
 * Strongly consistent reads of `keys` in BatchGetItem calls of up to 100 keys, `concurrency`
 * at a time, retrying UnprocessedKeys with exponential backoff; the items found, in no order.
 * Any failure is a StoreUnavailableError (the batch is retried whole).
 */
export async function batchGetItems(
  client: DynamoDBClient,
  tableName: string,
  keys: readonly Item[],
  concurrency: number,
): Promise<Item[]> {
  const found: Item[] = [];
  await forEachWithLimit(chunk(keys, BATCH_GET_MAX_KEYS), concurrency, async (keysChunk) => {
    let pending: Item[] = keysChunk;
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt > UNPROCESSED_RETRIES) {
        throw new StoreUnavailableError(`BatchGetItem left ${pending.length} keys unprocessed`);
      }
      if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
      let response: BatchGetItemCommandOutput;
      try {
        response = await client.send(
          new BatchGetItemCommand({
            RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } },
          }),
        );
      } catch (error) {
        throw new StoreUnavailableError(`BatchGetItem failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
      found.push(...(response.Responses?.[tableName] ?? []));
      pending = response.UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  });
  return found;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
