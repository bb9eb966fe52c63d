import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { SilenceAlert, SilentEntry } from '../core/silence.ts';
import type { CheckerShard, SeenItem, SilenceStore } from '../silence/ports.ts';
import { batchGetItems } from './dynamodb-batch-get.ts';
import { SILENCE_KEYS, TABLE_SCHEMA } from './dynamodb-table.ts';
import { StoreConflictError, StoreUnavailableError } from './store-errors.ts';

type Item = Record<string, AttributeValue>;
const { partitionKey: PK, sortKey: SK } = TABLE_SCHEMA;

/**
 * The silence items in the detector's table (docs/silence.md):
 *
 * | item                  | pk                          | sk         |
 * |-----------------------|-----------------------------|------------|
 * | last-seen record      | `seen#<pid>`                | `seen`     |
 * | partition registry    | `silence#partitions`        | `registry` |
 * | check state + outbox  | `silence#checker#<shard>`   | `checker`  |
 *
 * Reads are strongly consistent; every write is a PutItem conditional on the version read.
 * The checker's role may write only keys beginning `silence#checker#`.
 */
export { SILENCE_KEYS };

export class DynamoDbSilenceStore implements SilenceStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async loadSeen(pids: readonly string[]): Promise<Map<string, SeenItem>> {
    const result = new Map<string, SeenItem>();
    for (const item of await this.batchGet(pids.map(seenKey))) {
      const pk = item[PK]?.S ?? '';
      result.set(pk.slice(SILENCE_KEYS.seenPrefix.length), {
        version: Number(item.v?.N ?? 0),
        sensors: decodeSeen(item.d?.B ?? new Uint8Array()),
      });
    }
    return result;
  }

  async saveSeen(pid: string, item: SeenItem, expectedVersion: number | null): Promise<void> {
    await this.put(
      { ...seenKey(pid), v: num(item.version), d: { B: encodeSeen(item.sensors) } },
      expectedVersion,
    );
  }

  async loadPartitions(): Promise<{ version: number | null; pids: readonly string[] }> {
    const item = await this.get(partitionsKey());
    if (item === undefined) return { version: null, pids: [] };
    return { version: Number(item.v?.N ?? 0), pids: JSON.parse(item.p?.S ?? '[]') as string[] };
  }

  async savePartitions(pids: readonly string[], expectedVersion: number | null): Promise<void> {
    await this.put(
      { ...partitionsKey(), v: num((expectedVersion ?? 0) + 1), p: { S: JSON.stringify(pids) } },
      expectedVersion,
    );
  }

  async loadChecker(shards: number): Promise<Map<number, CheckerShard>> {
    const keys = Array.from({ length: shards }, (_, i) => checkerKey(i));
    const result = new Map<number, CheckerShard>();
    for (const item of await this.batchGet(keys)) {
      const shard = Number((item[PK]?.S ?? '').slice(SILENCE_KEYS.checkerPrefix.length));
      const rows = JSON.parse(item.s?.S ?? '[]') as [string, number, number, number][];
      result.set(shard, {
        version: Number(item.v?.N ?? 0),
        silent: new Map<string, SilentEntry>(
          rows.map(([id, lastSeenMs, silenceSeconds, declaredAtMs]) => [
            id,
            { lastSeenMs, silenceSeconds, declaredAtMs },
          ]),
        ),
        outbox: JSON.parse(item.o?.S ?? '[]') as SilenceAlert[],
      });
    }
    return result;
  }

  async saveChecker(shard: number, item: CheckerShard, expectedVersion: number | null) {
    const rows = [...item.silent].map(([id, e]) => [
      id,
      e.lastSeenMs,
      e.silenceSeconds,
      e.declaredAtMs,
    ]);
    await this.put(
      {
        ...checkerKey(shard),
        v: num(item.version),
        s: { S: JSON.stringify(rows) },
        o: { S: JSON.stringify(item.outbox) },
      },
      expectedVersion,
    );
  }

  private async put(item: Item, expectedVersion: number | null): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ...(expectedVersion === null
            ? {
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': PK },
              }
            : {
                ConditionExpression: '#v = :v',
                ExpressionAttributeNames: { '#v': 'v' },
                ExpressionAttributeValues: { ':v': num(expectedVersion) },
              }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        throw new StoreConflictError(`${item[PK]?.S} changed since it was read`, { cause: error });
      throw new StoreUnavailableError(`PutItem failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  private async get(key: Item): Promise<Item | undefined> {
    try {
      const out = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      return out.Item;
    } catch (error) {
      throw new StoreUnavailableError(`GetItem failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  private batchGet(keys: readonly Item[]): Promise<Item[]> {
    return batchGetItems(this.client, this.tableName, keys, 8);
  }
}

function num(value: number): AttributeValue {
  return { N: String(value) };
}

function seenKey(pid: string): Item {
  return { [PK]: { S: `${SILENCE_KEYS.seenPrefix}${pid}` }, [SK]: { S: 'seen' } };
}

function partitionsKey(): Item {
  return { [PK]: { S: SILENCE_KEYS.partitions }, [SK]: { S: 'registry' } };
}

function checkerKey(shard: number): Item {
  return { [PK]: { S: `${SILENCE_KEYS.checkerPrefix}${shard}` }, [SK]: { S: 'checker' } };
}

/**
 * A last-seen record as binary: per sensor a 2-byte id length, the id in UTF-8 and the time
 * in whole seconds (4 bytes, good until 2106): about 16 bytes for `sensor_123`.
 */
export function encodeSeen(sensors: ReadonlyMap<string, number>): Uint8Array {
  const ids = [...sensors.keys()].map((id) => Buffer.from(id, 'utf8'));
  const out = Buffer.allocUnsafe(ids.reduce((n, b) => n + 6 + b.length, 0));
  let at = 0;
  let i = 0;
  for (const ms of sensors.values()) {
    const id = ids[i] as Buffer;
    i += 1;
    out.writeUInt16LE(id.length, at);
    id.copy(out, at + 2);
    out.writeUInt32LE(Math.ceil(ms / 1000), at + 2 + id.length);
    at += 6 + id.length;
  }
  return out;
}

export function decodeSeen(bytes: Uint8Array): Map<string, number> {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const result = new Map<string, number>();
  let at = 0;
  while (at + 2 <= b.length) {
    const length = b.readUInt16LE(at);
    const id = b.toString('utf8', at + 2, at + 2 + length);
    result.set(id, b.readUInt32LE(at + 2 + length) * 1000);
    at += 6 + length;
  }
  return result;
}
