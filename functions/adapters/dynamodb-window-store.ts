import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { Aggregate } from '../core/types.ts';
import type {
  BucketShard,
  BucketShardKey,
  BucketShardWrite,
  ClaimRequest,
  HomeClaim,
  Inflight,
  JournalAlert,
  JournalWrite,
  LoadRequest,
  Marks,
  PartitionJournal,
  SensorEntry,
  Snapshot,
  StateShard,
  StateShardKey,
  StateShardWrite,
  WindowStore,
} from '../ports.ts';
import { bucketShardId, stateShardId } from '../ports.ts';
import { forEachWithLimit } from './concurrency.ts';
import { batchGetItems } from './dynamodb-batch-get.ts';
import { TABLE_SCHEMA } from './dynamodb-table.ts';
import { StoreConflictError, StoreUnavailableError } from './store-errors.ts';

type Item = Record<string, AttributeValue>;

export interface DynamoDbWindowStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Parallel requests per batch. @default 16 */
  readonly concurrency?: number;
}

const { partitionKey: PK, sortKey: SK, ttlAttribute: TTL } = TABLE_SCHEMA;

/**
 * WindowStore on one DynamoDB table (layout in dynamodb-table.ts and docs/state.md). Reads
 * are strongly consistent BatchGetItem calls of up to 100 keys; every write is one PutItem
 * conditional on the version that was read (or on the item being absent or expired), so a
 * lost race surfaces as StoreConflictError.
 */
export class DynamoDbWindowStore implements WindowStore {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly concurrency: number;

  constructor(options: DynamoDbWindowStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.concurrency = options.concurrency ?? 16;
  }

  async load(request: LoadRequest): Promise<Snapshot> {
    const keys: Item[] = [
      ...request.journals.map(journalKey),
      ...request.states.map(stateKey),
      ...request.buckets.map(bucketKey),
      ...request.homes.map(homeKey),
    ];
    const journals = new Map<string, PartitionJournal>();
    const buckets = new Map<string, BucketShard>();
    const states = new Map<string, StateShard>();
    const homes = new Map<string, HomeClaim>();
    if (keys.length === 0) return { journals, buckets, states, homes };
    for (const item of await this.batchGet(keys)) {
      const pk = item[PK]?.S ?? '';
      const sk = item[SK]?.S ?? '';
      if (sk === 'journal') {
        const pid = pk.slice('journal#'.length);
        journals.set(pid, readJournal(item, pid));
      } else if (sk === 'home')
        homes.set(pk.slice('home#'.length), {
          home: item.h?.S ?? '',
          expiresAtEpochSeconds: Number(item[TTL]?.N ?? 0),
        });
      else if (sk === 'bucket') {
        const key = parseBucketPk(pk);
        buckets.set(bucketShardId(key), readBucket(item));
      } else if (sk === 'state') {
        const key = parseStatePk(pk);
        states.set(stateShardId(key), readState(item));
      }
    }
    return { journals, buckets, states, homes };
  }

  async saveJournals(writes: readonly JournalWrite[]): Promise<void> {
    await forEachWithLimit(writes, this.concurrency, (w) =>
      this.put(
        {
          ...journalKey(w.pid),
          v: num(w.item.version),
          e: num(w.item.epoch),
          o: num(w.item.decidedThroughOffset),
          // -Infinity (nothing decided yet) has no DynamoDB number form.
          ...(Number.isFinite(w.item.maxTimestampMs) ? { t: num(w.item.maxTimestampMs) } : {}),
          ...(Number.isFinite(w.item.newestBucketMs) ? { b: num(w.item.newestBucketMs) } : {}),
          ...(w.item.gaps.length === 0
            ? {}
            : {
                g: { S: JSON.stringify(w.item.gaps.map((g) => [g.from, g.to, g.decidedThrough])) },
              }),
          a: { S: JSON.stringify(w.item.alerts.map(compactAlert)) },
          ...(w.item.inflight === undefined
            ? {}
            : { f: { S: encodeInflight(w.item.inflight, w.pid) } }),
        },
        w.expectedVersion,
        null,
      ),
    );
  }

  async saveBuckets(writes: readonly BucketShardWrite[], nowEpochSeconds: number): Promise<void> {
    await forEachWithLimit(writes, this.concurrency, (w) =>
      this.put(
        {
          ...bucketKey(w.key),
          v: num(w.item.version),
          n: num(w.item.shards),
          m: marksMap(w.item.marks),
          d: { B: encodeAggregates(w.item.sensors) },
          [TTL]: num(w.item.expiresAtEpochSeconds),
        },
        w.expectedVersion,
        nowEpochSeconds,
      ),
    );
  }

  async saveStates(writes: readonly StateShardWrite[], nowEpochSeconds: number): Promise<void> {
    await forEachWithLimit(writes, this.concurrency, (w) =>
      this.put(
        {
          ...stateKey(w.key),
          v: num(w.item.version),
          n: num(w.item.shards),
          m: marksMap(w.item.marks),
          d: { S: encodeSensors(w.item.sensors) },
          [TTL]: num(w.item.expiresAtEpochSeconds),
        },
        w.expectedVersion,
        nowEpochSeconds,
      ),
    );
  }

  async claimHomes(
    claims: readonly ClaimRequest[],
    nowEpochSeconds: number,
  ): Promise<ReadonlyMap<string, string>> {
    const homes = new Map<string, string>();
    await forEachWithLimit(claims, this.concurrency, async (c) => {
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: { ...homeKey(c.sensorId), h: { S: c.home }, [TTL]: num(c.expiresAtEpochSeconds) },
            ConditionExpression: 'attribute_not_exists(#pk) OR #h = :h OR #ttl <= :now',
            ExpressionAttributeNames: { '#pk': PK, '#h': 'h', '#ttl': TTL },
            ExpressionAttributeValues: { ':h': { S: c.home }, ':now': num(nowEpochSeconds) },
          }),
        );
        homes.set(c.sensorId, c.home);
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) {
          throw new StoreUnavailableError(`PutItem failed: ${(error as Error).message}`, {
            cause: error,
          });
        }
        // Another partition holds a live claim: read whose.
        try {
          const found = await this.client.send(
            new GetItemCommand({
              TableName: this.tableName,
              Key: homeKey(c.sensorId),
              ConsistentRead: true,
            }),
          );
          homes.set(c.sensorId, found.Item?.h?.S ?? c.home);
        } catch (readError) {
          throw new StoreUnavailableError(`GetItem failed: ${(readError as Error).message}`, {
            cause: readError,
          });
        }
      }
    });
    return homes;
  }

  /**
   * `expectedVersion` null: the item must be absent, or (with `nowEpochSeconds`) expired:
   * DynamoDB deletes expired items up to days late, and an expired item is dead state.
   */
  private async put(
    item: Item,
    expectedVersion: number | null,
    nowEpochSeconds: number | null,
  ): Promise<void> {
    const condition: Pick<
      PutItemCommandInput,
      'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    > =
      expectedVersion !== null
        ? {
            ConditionExpression: '#v = :v',
            ExpressionAttributeNames: { '#v': 'v' },
            ExpressionAttributeValues: { ':v': num(expectedVersion) },
          }
        : nowEpochSeconds === null
          ? {
              ConditionExpression: 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: { '#pk': PK },
            }
          : {
              ConditionExpression: 'attribute_not_exists(#pk) OR #ttl <= :now',
              ExpressionAttributeNames: { '#pk': PK, '#ttl': TTL },
              ExpressionAttributeValues: { ':now': num(nowEpochSeconds) },
            };
    try {
      await this.client.send(
        new PutItemCommand({ TableName: this.tableName, Item: item, ...condition }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new StoreConflictError(`${item[PK]?.S} ${item[SK]?.S} changed since it was read`, {
          cause: error,
        });
      }
      throw new StoreUnavailableError(`PutItem failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  private batchGet(keys: readonly Item[]): Promise<Item[]> {
    return batchGetItems(this.client, this.tableName, keys, this.concurrency);
  }
}

function num(value: number): AttributeValue {
  return { N: String(value) };
}

/*
 * Every item has a partition key of its own, so no partition key of the table carries more
 * than one item's traffic (DynamoDB's per-partition limits apply per key range):
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html
 */
function journalKey(pid: string): Item {
  return { [PK]: { S: `journal#${pid}` }, [SK]: { S: 'journal' } };
}

function bucketKey(key: BucketShardKey): Item {
  return {
    [PK]: { S: `bucket#${key.bucketStartMs}#${key.shard}#${key.pid}` },
    [SK]: { S: 'bucket' },
  };
}

function stateKey(key: StateShardKey): Item {
  return { [PK]: { S: `state#${key.shard}#${key.pid}` }, [SK]: { S: 'state' } };
}

function homeKey(sensorId: string): Item {
  return { [PK]: { S: `home#${sensorId}` }, [SK]: { S: 'home' } };
}

export function parseBucketPk(pk: string): BucketShardKey {
  const [, start, shard, ...pid] = pk.split('#');
  return { pid: pid.join('#'), bucketStartMs: Number(start), shard: Number(shard) };
}

export function parseStatePk(pk: string): StateShardKey {
  const [, shard, ...pid] = pk.split('#');
  return { pid: pid.join('#'), shard: Number(shard) };
}

function marksMap(marks: Marks): AttributeValue {
  return { M: Object.fromEntries(Object.entries(marks).map(([w, offset]) => [w, num(offset)])) };
}

function readMarks(item: Item): Record<string, number> {
  return Object.fromEntries(Object.entries(item.m?.M ?? {}).map(([w, v]) => [w, Number(v.N)]));
}

function readBucket(item: Item): BucketShard {
  return {
    version: Number(item.v?.N ?? 0),
    shards: Number(item.n?.N ?? 1),
    marks: readMarks(item),
    sensors: decodeAggregates(item.d?.B ?? new Uint8Array()),
    expiresAtEpochSeconds: Number(item[TTL]?.N ?? 0),
  };
}

function readState(item: Item): StateShard {
  return {
    version: Number(item.v?.N ?? 0),
    shards: Number(item.n?.N ?? 1),
    marks: readMarks(item),
    sensors: decodeSensors(item.d?.S ?? '[]'),
    expiresAtEpochSeconds: Number(item[TTL]?.N ?? 0),
  };
}

function readJournal(item: Item, pid: string): PartitionJournal {
  return {
    ...(item.f?.S === undefined ? {} : { inflight: decodeInflight(item.f.S, pid) }),
    version: Number(item.v?.N ?? 0),
    epoch: Number(item.e?.N ?? 0),
    decidedThroughOffset: Number(item.o?.N ?? -1),
    maxTimestampMs: item.t?.N === undefined ? Number.NEGATIVE_INFINITY : Number(item.t.N),
    newestBucketMs: item.b?.N === undefined ? Number.NEGATIVE_INFINITY : Number(item.b.N),
    gaps: (JSON.parse(item.g?.S ?? '[]') as [number, number, number][]).map(
      ([from, to, decidedThrough]) => ({ from, to, decidedThrough }),
    ),
    alerts: (JSON.parse(item.a?.S ?? '[]') as unknown[]).map(expandAlert),
  };
}

/**
 * A journal's announced shard writes as compact JSON: [writer ('' for the journal's own
 * partition, the keyed case), untilMs, [[bucketStartMs | null, shard, version], ...]].
 */
function encodeInflight(inflight: Inflight, pid: string): string {
  return JSON.stringify([
    inflight.by === pid ? '' : inflight.by,
    inflight.untilMs,
    inflight.targets.map((t) => [t.bucketStartMs, t.shard, t.version]),
  ]);
}

function decodeInflight(text: string, pid: string): Inflight {
  const [by, untilMs, targets] = JSON.parse(text) as [
    string,
    number,
    [number | null, number, number][],
  ];
  return {
    by: by === '' ? pid : by,
    untilMs,
    targets: targets.map(([bucketStartMs, shard, version]) => ({ bucketStartMs, shard, version })),
  };
}

/**
 * A bucket shard's aggregates as binary: per sensor a 2-byte id length, the id in UTF-8, the
 * count (4 bytes) and sum and sum of squares (8-byte doubles, so exact). About 22 bytes plus
 * the id, against 50–60 as JSON text: the item size is what a write costs.
 */
export function encodeAggregates(sensors: ReadonlyMap<string, Aggregate>): Uint8Array {
  let size = 0;
  const ids: Buffer[] = [];
  for (const id of sensors.keys()) {
    const b = Buffer.from(id, 'utf8');
    ids.push(b);
    size += 22 + b.length;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  let i = 0;
  for (const a of sensors.values()) {
    const id = ids[i] as Buffer;
    i += 1;
    out.writeUInt16LE(id.length, at);
    id.copy(out, at + 2);
    at += 2 + id.length;
    out.writeUInt32LE(a.count, at);
    out.writeDoubleLE(a.sum, at + 4);
    out.writeDoubleLE(a.sumSq, at + 12);
    at += 20;
  }
  return out;
}

export function decodeAggregates(bytes: Uint8Array): Map<string, Aggregate> {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const result = new Map<string, Aggregate>();
  let at = 0;
  while (at + 2 <= b.length) {
    const length = b.readUInt16LE(at);
    const id = b.toString('utf8', at + 2, at + 2 + length);
    at += 2 + length;
    result.set(id, {
      count: b.readUInt32LE(at),
      sum: b.readDoubleLE(at + 4),
      sumSq: b.readDoubleLE(at + 12),
    });
    at += 20;
  }
  return result;
}

/**
 * A state shard's sensors as JSON tuples [id, lastNotified | null, heldBack, expires,
 * learned kind?, learned state?]. JSON numbers round-trip doubles exactly.
 */
export function encodeSensors(sensors: ReadonlyMap<string, SensorEntry>): string {
  const rows: unknown[] = [];
  for (const [id, e] of sensors) {
    const row: unknown[] = [
      id,
      e.cooldown.lastNotifiedEventTimeMs,
      e.cooldown.heldBack,
      e.expiresAtEpochSeconds,
    ];
    if (e.learned !== undefined) row.push(e.learned.kind, e.learned.state);
    rows.push(row);
  }
  return JSON.stringify(rows);
}

export function decodeSensors(text: string): Map<string, SensorEntry> {
  const result = new Map<string, SensorEntry>();
  for (const row of JSON.parse(text) as unknown[][]) {
    const [id, last, heldBack, expires, kind, state] = row as [
      string,
      number | null,
      number,
      number,
      string | undefined,
      unknown,
    ];
    result.set(id, {
      cooldown: { lastNotifiedEventTimeMs: last, heldBack },
      ...(kind === undefined ? {} : { learned: { kind, state } }),
      expiresAtEpochSeconds: expires,
    });
  }
  return result;
}

/** Journal alerts as compact tuples: a batch may hold thousands. */
function compactAlert(a: JournalAlert): unknown[] {
  const x = a.anomaly;
  return [
    x.sensorId,
    x.value,
    x.mean,
    x.count,
    x.deviation,
    x.limit,
    x.detector,
    x.eventTimeMs,
    x.severity,
    x.source.topic,
    x.source.partition,
    x.source.offset,
    a.notify ? 1 : 0,
    a.heldBackBefore,
    a.published ? 1 : 0,
    x.sigma ?? null,
    a.epoch,
    a.cooldownAtMs,
    x.alertId,
  ];
}

function expandAlert(raw: unknown): JournalAlert {
  const [
    sensorId,
    value,
    mean,
    count,
    deviation,
    limit,
    detector,
    eventTimeMs,
    severity,
    topic,
    partition,
    offset,
    notify,
    heldBackBefore,
    published,
    sigma,
    epoch,
    cooldownAtMs,
    alertId,
  ] = raw as [
    string,
    number,
    number,
    number,
    number,
    number,
    string,
    number,
    'warning' | 'critical',
    string,
    number,
    number,
    number,
    number,
    number,
    number | null,
    number,
    number,
    string,
  ];
  return {
    anomaly: {
      alertId,
      sensorId,
      value,
      mean,
      count,
      deviation,
      limit,
      detector,
      eventTimeMs,
      severity,
      ...(sigma === null || sigma === undefined ? {} : { sigma }),
      source: { topic, partition, offset },
    },
    notify: notify === 1,
    heldBackBefore,
    published: published === 1,
    epoch,
    cooldownAtMs,
  };
}
