import { type AttributeValue, type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { SilenceAlert, SilentEntry } from '../core/silence.ts';
import type { Outbox, SilenceStore } from '../silence/ports.ts';
import { batchGetItems } from './dynamodb-batch-get.ts';
import { DynamoDbPagedStore, putConditional } from './dynamodb-paged-store.ts';
import {
  decodeOutbox,
  decodeSilent,
  encodeOutbox,
  outboxFits,
  SEEN_CODEC,
  SILENT_CODEC,
} from './dynamodb-silence-codec.ts';
import { SILENCE_KEYS, TABLE_SCHEMA } from './dynamodb-table.ts';
import { StoreUnavailableError } from './store-errors.ts';

type Item = Record<string, AttributeValue>;
const { partitionKey: PK, sortKey: SK } = TABLE_SCHEMA;

/**
 * The silence items in the detector's table (docs/silence.md), each bounded in bytes by its
 * budget in dynamodb-silence-codec.ts:
 *
 * | item                            | pk                          | sk              |
 * |---------------------------------|-----------------------------|-----------------|
 * | last-seen head (page list)      | `seen#<pid>`                | `seen`          |
 * | last-seen page                  | `seen#<pid>`                | `page#<bits>`   |
 * | partition registry              | `silence#partitions`        | `registry`      |
 * | silent set head / page          | `silence#checker#silent`    | `head` / `page#<bits>` |
 * | outbox                          | `silence#checker#outbox`    | `outbox`        |
 * | check state, earlier layout     | `silence#checker#<0..7>`    | `checker`       |
 *
 * Reads are strongly consistent; every write is a PutItem conditional on the version read.
 * The checker's role may write only keys beginning `silence#checker#`.
 */
export { SILENCE_KEYS };

const OUTBOX_PK = `${SILENCE_KEYS.checkerPrefix}outbox`;
/** The earlier layout's check state: 8 shards by sensor hash. */
const LEGACY_CHECKER_SHARDS = 8;

export class DynamoDbSilenceStore implements SilenceStore {
  readonly seen: DynamoDbPagedStore<number>;
  readonly silent: DynamoDbPagedStore<SilentEntry>;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.seen = new DynamoDbPagedStore(client, tableName, {
      prefix: SILENCE_KEYS.seenPrefix,
      headSk: 'seen',
      codec: SEEN_CODEC,
    });
    this.silent = new DynamoDbPagedStore(client, tableName, {
      prefix: SILENCE_KEYS.checkerPrefix,
      headSk: 'head',
      codec: SILENT_CODEC,
    });
  }

  async loadPartitions(): Promise<{ version: number | null; pids: readonly string[] }> {
    const item = await this.get(key(SILENCE_KEYS.partitions, 'registry'));
    if (item === undefined) return { version: null, pids: [] };
    return { version: Number(item.v?.N ?? 0), pids: JSON.parse(item.p?.S ?? '[]') as string[] };
  }

  async savePartitions(pids: readonly string[], expectedVersion: number | null): Promise<void> {
    await putConditional(
      this.client,
      this.tableName,
      {
        ...key(SILENCE_KEYS.partitions, 'registry'),
        v: { N: String((expectedVersion ?? 0) + 1) },
        p: { S: JSON.stringify(pids) },
      },
      expectedVersion,
    );
  }

  async loadOutbox(): Promise<Outbox> {
    const item = await this.get(key(OUTBOX_PK, 'outbox'));
    if (item === undefined) return { version: null, alerts: [] };
    return { version: Number(item.v?.N ?? 0), alerts: decodeOutbox(item.o?.S ?? '[]') };
  }

  async saveOutbox(alerts: readonly SilenceAlert[], expectedVersion: number | null) {
    await putConditional(
      this.client,
      this.tableName,
      {
        ...key(OUTBOX_PK, 'outbox'),
        v: { N: String((expectedVersion ?? 0) + 1) },
        o: { S: encodeOutbox(alerts) },
      },
      expectedVersion,
    );
  }

  outboxFits(alerts: readonly SilenceAlert[]): boolean {
    return outboxFits(alerts);
  }

  async loadLegacyChecker() {
    const keys = Array.from({ length: LEGACY_CHECKER_SHARDS }, (_, i) =>
      key(`${SILENCE_KEYS.checkerPrefix}${i}`, 'checker'),
    );
    const silent = new Map<string, SilentEntry>();
    const outbox: SilenceAlert[] = [];
    for (const item of await batchGetItems(this.client, this.tableName, keys, 8)) {
      for (const [id, e] of decodeSilent(item.s?.S ?? '[]')) silent.set(id, e);
      outbox.push(...decodeOutbox(item.o?.S ?? '[]'));
    }
    return { silent, outbox };
  }

  private async get(itemKey: Item): Promise<Item | undefined> {
    try {
      const out = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: itemKey, ConsistentRead: true }),
      );
      return out.Item;
    } catch (error) {
      throw new StoreUnavailableError(`GetItem failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

function key(pk: string, sk: string): Item {
  return { [PK]: { S: pk }, [SK]: { S: sk } };
}
