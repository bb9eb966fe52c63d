import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Page, PageKey, PageWrite, PartitionRoot, PartitionStore } from '../../batch/state.ts';
import { pageId } from '../../batch/state.ts';
import { forEachWithLimit } from '../concurrency.ts';
import { batchGetItems } from '../dynamodb-batch-get.ts';
import { TABLE_SCHEMA } from '../dynamodb-table.ts';
import { StoreConflictError, StoreUnavailableError } from '../store-errors.ts';
import {
  DIGEST_PK_PREFIX,
  decodePage,
  decodeRoot,
  digestPk,
  digestSk,
  type EncodedPage,
  encodePage,
  encodeRoot,
  LIMITS,
  pagePk,
  parseDigestKey,
  parsePagePk,
} from './codecs.ts';
import { decodeOpenWindowsRoot, encodeOpenWindowsRoot } from './open-codec.ts';

type Item = Record<string, AttributeValue>;

export interface DynamoDbPartitionStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Parallel requests per batch. @default 16 */
  readonly concurrency?: number;
}

const { partitionKey: PK, sortKey: SK, ttlAttribute: TTL } = TABLE_SCHEMA;
export const ROOT_SK = 'root';
export const PAGE_SK = 'page';

export function rootKey(pid: string): Item {
  return { [PK]: { S: `root#${pid}` }, [SK]: { S: ROOT_SK } };
}

export function pageKey(key: PageKey): Item {
  if (key.kind === 'digest')
    return { [PK]: { S: digestPk(key.scope) }, [SK]: { S: digestSk(key.pid, key.gen) } };
  return { [PK]: { S: pagePk(key) }, [SK]: { S: PAGE_SK } };
}

/** A root item as the store holds it (no TTL: a partition's root lives as long as the table). */
export function rootItem(pid: string, root: PartitionRoot): Item {
  const e = encodeRoot(root);
  return {
    ...rootKey(pid),
    v: { N: String(root.version) },
    c: { S: root.commitId },
    h: { S: e.header },
    t: { S: e.table },
    o: { S: e.outbox },
    ...(root.openWindows === undefined
      ? {}
      : { w: { S: encodeOpenWindowsRoot(root.openWindows) } }),
  };
}

export function readRootItem(item: Item): { pid: string; root: PartitionRoot } {
  const pid = (item[PK]?.S ?? '').slice('root#'.length);
  const root = decodeRoot(Number(item.v?.N ?? 0), item.c?.S ?? '', {
    header: item.h?.S ?? '[0,-1,null,[],[]]',
    table: item.t?.S ?? '{"n":0,"d":[],"s":[],"b":[]}',
    outbox: item.o?.S ?? '[]',
  });
  const w = item.w?.S;
  return { pid, root: w === undefined ? root : { ...root, openWindows: decodeOpenWindowsRoot(w) } };
}

export function pageItem(w: PageWrite): Item {
  const body = encodePage(w.page);
  return {
    ...pageKey(w.key),
    ...('text' in body ? { d: { S: body.text } } : { b: { B: body.bytes } }),
    [TTL]: { N: String(w.expiresAtEpochSeconds) },
  };
}

export function readPageItem(item: Item): {
  key: PageKey;
  page: Page;
  expiresAtEpochSeconds: number;
} {
  const pk = item[PK]?.S ?? '';
  const key = pk.startsWith(DIGEST_PK_PREFIX)
    ? parseDigestKey(pk, item[SK]?.S ?? '')
    : parsePagePk(pk);
  const body: EncodedPage =
    item.b?.B !== undefined ? { bytes: item.b.B } : { text: item.d?.S ?? '' };
  return {
    key,
    page: decodePage(key.kind, body),
    expiresAtEpochSeconds: Number(item[TTL]?.N ?? 0),
  };
}

/**
 * PartitionStore on one DynamoDB table (docs/state.md). Roots and pages are read strongly
 * consistently with BatchGetItem (a page just committed by another container must be seen);
 * pages are put unconditionally under new keys; the root is one PutItem conditional on the
 * version read.
 */
export class DynamoDbPartitionStore implements PartitionStore {
  readonly limits = LIMITS;
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly concurrency: number;

  constructor(options: DynamoDbPartitionStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.concurrency = options.concurrency ?? 16;
  }

  async readRoots(pids: readonly string[]): Promise<ReadonlyMap<string, PartitionRoot>> {
    const roots = new Map<string, PartitionRoot>();
    if (pids.length === 0) return roots;
    const items = await batchGetItems(
      this.client,
      this.tableName,
      pids.map(rootKey),
      this.concurrency,
    );
    for (const item of items) {
      const { pid, root } = readRootItem(item);
      roots.set(pid, root);
    }
    return roots;
  }

  async readPages(
    keys: readonly PageKey[],
    nowEpochSeconds: number,
  ): Promise<ReadonlyMap<string, Page>> {
    const pages = new Map<string, Page>();
    if (keys.length === 0) return pages;
    const items = await batchGetItems(
      this.client,
      this.tableName,
      keys.map(pageKey),
      this.concurrency,
    );
    for (const item of items) {
      const p = readPageItem(item);
      // DynamoDB deletes expired items lazily (up to days later): an expired page is absent.
      if (p.expiresAtEpochSeconds > nowEpochSeconds) pages.set(pageId(p.key), p.page);
    }
    return pages;
  }

  async putPages(writes: readonly PageWrite[]): Promise<void> {
    await forEachWithLimit(writes, this.concurrency, async (w) => {
      try {
        await this.client.send(
          new PutItemCommand({ TableName: this.tableName, Item: pageItem(w) }),
        );
      } catch (error) {
        throw new StoreUnavailableError(`PutItem failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
    });
  }

  async commitRoot(
    pid: string,
    root: PartitionRoot,
    expectedVersion: number | null,
  ): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: rootItem(pid, root),
          ...(expectedVersion === null
            ? {
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': PK },
              }
            : {
                ConditionExpression: '#v = :v',
                ExpressionAttributeNames: { '#v': 'v' },
                ExpressionAttributeValues: { ':v': { N: String(expectedVersion) } },
              }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        throw new StoreConflictError(`root#${pid}: expected version ${expectedVersion ?? 'none'}`);
      throw new StoreUnavailableError(`PutItem failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}
