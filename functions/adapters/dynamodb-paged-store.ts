import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { Page, PagedMap, PagedStore, PageExpectation } from '../silence/pages.ts';
import { batchGetItems } from './dynamodb-batch-get.ts';
import type { PageCodec } from './dynamodb-silence-codec.ts';
import { TABLE_SCHEMA } from './dynamodb-table.ts';
import { StoreConflictError, StoreUnavailableError } from './store-errors.ts';

type Item = Record<string, AttributeValue>;
const { partitionKey: PK, sortKey: SK, ttlAttribute: TTL } = TABLE_SCHEMA;
const PAGE_SK_PREFIX = 'page#';

/**
 * A paged map (functions/silence/pages.ts) in the detector's table: one partition key per
 * map, `<prefix><key>`; the head at sort key `headSk` (`v` its version, `g` the JSON list of
 * page bits), each page at `page#<bits>` (`v`, `d` the codec's encoding, and the TTL
 * attribute, so the page a split leaves behind expires). A map that never split keeps its
 * one page in the head (`d`, no `g`): one item, as the earlier one-item layout, which is
 * read the same way. Reads are strongly consistent; every write is a PutItem conditional on
 * the version read.
 */
export class DynamoDbPagedStore<V> implements PagedStore<V> {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly layout: { prefix: string; headSk: string; codec: PageCodec<V> },
  ) {}

  fits(entries: ReadonlyMap<string, V>): boolean {
    return this.layout.codec.fits(entries);
  }

  async load(keys: readonly string[]): Promise<Map<string, PagedMap<V>>> {
    const heads = await this.batchGet(keys.map((k) => this.itemKey(k, this.layout.headSk)));
    const listed = new Map<string, string[]>();
    // A head without a page list holds the root page itself (`d`): a map that never split.
    const legacy = new Map<string, Map<string, V>>();
    for (const head of heads) {
      const key = (head[PK]?.S ?? '').slice(this.layout.prefix.length);
      if (head.g === undefined) {
        legacy.set(key, this.layout.codec.decode(head.d));
      } else listed.set(key, JSON.parse(head.g.S ?? '[]') as string[]);
    }
    const pageItems = await this.batchGet(
      [...listed].flatMap(([key, bits]) => bits.map((b) => this.itemKey(key, PAGE_SK_PREFIX + b))),
    );
    const found = new Map<string, Item>();
    for (const item of pageItems) found.set(`${item[PK]?.S}\u0000${item[SK]?.S}`, item);
    const result = new Map<string, PagedMap<V>>();
    for (const head of heads) {
      const key = (head[PK]?.S ?? '').slice(this.layout.prefix.length);
      const version = Number(head.v?.N ?? 0);
      const inline = legacy.get(key);
      if (inline !== undefined) {
        result.set(key, {
          version,
          inline: true,
          pages: new Map([['', { version, entries: inline }]]),
        });
        continue;
      }
      const pages = new Map<string, Page<V>>();
      for (const bits of listed.get(key) ?? []) {
        const item = found.get(`${this.layout.prefix}${key}\u0000${PAGE_SK_PREFIX}${bits}`);
        // A listed page that expired (nothing rewrote it past its TTL) is empty.
        pages.set(
          bits,
          item === undefined
            ? { version: null, entries: new Map() }
            : { version: Number(item.v?.N ?? 0), entries: this.layout.codec.decode(item.d) },
        );
      }
      result.set(key, { version, pages });
    }
    return result;
  }

  async headVersion(key: string): Promise<number | null> {
    try {
      const out = await this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: this.itemKey(key, this.layout.headSk),
          ConsistentRead: true,
          ProjectionExpression: '#v',
          ExpressionAttributeNames: { '#v': 'v' },
        }),
      );
      return out.Item === undefined ? null : Number(out.Item.v?.N ?? 0);
    } catch (error) {
      throw new StoreUnavailableError(`GetItem failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async savePage(key: string, bits: string, page: Page<V>, expected: PageExpectation) {
    const expiresAt = Math.floor(Date.now() / 1000) + this.layout.codec.ttlSeconds;
    await this.put(
      {
        ...this.itemKey(key, PAGE_SK_PREFIX + bits),
        v: { N: String(page.version ?? 0) },
        d: this.layout.codec.encode(page.entries),
        [TTL]: { N: String(expiresAt) },
      },
      expected,
    );
  }

  async saveHead(
    key: string,
    bits: readonly string[],
    version: number,
    expected: number | null,
    inline?: ReadonlyMap<string, V>,
  ) {
    await this.put(
      {
        ...this.itemKey(key, this.layout.headSk),
        v: { N: String(version) },
        ...(inline === undefined
          ? { g: { S: JSON.stringify(bits) } }
          : { d: this.layout.codec.encode(inline) }),
      },
      expected,
    );
  }

  private itemKey(key: string, sk: string): Item {
    return { [PK]: { S: `${this.layout.prefix}${key}` }, [SK]: { S: sk } };
  }

  private async put(item: Item, expected: PageExpectation): Promise<void> {
    await putConditional(this.client, this.tableName, item, expected);
  }

  private batchGet(keys: readonly Item[]): Promise<Item[]> {
    return batchGetItems(this.client, this.tableName, keys, 8);
  }
}

/** PutItem conditional on the item's `v` (null: absent; 'any': no condition). */
export async function putConditional(
  client: DynamoDBClient,
  tableName: string,
  item: Item,
  expected: PageExpectation,
): Promise<void> {
  const condition: Partial<PutItemCommandInput> =
    expected === 'any'
      ? {}
      : expected === null
        ? {
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
          }
        : {
            ConditionExpression: '#v = :v',
            ExpressionAttributeNames: { '#v': 'v' },
            ExpressionAttributeValues: { ':v': { N: String(expected) } },
          };
  try {
    await client.send(new PutItemCommand({ TableName: tableName, Item: item, ...condition }));
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException)
      throw new StoreConflictError(`${item[PK]?.S} ${item[SK]?.S} changed since it was read`, {
        cause: error,
      });
    throw new StoreUnavailableError(`PutItem failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
