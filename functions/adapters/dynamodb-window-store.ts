import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
  type PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { AdaptiveState } from '../core/adaptive.ts';
import type { EwmaState } from '../core/ewma.ts';
import type {
  BucketKey,
  BucketWrite,
  JournalAlert,
  JournalWrite,
  LoadRequest,
  PartitionJournal,
  PartitionKey,
  SensorStateWrite,
  Snapshot,
  StoredBucket,
  StoredSensorState,
  Watermarks,
  WindowStore,
} from '../ports.ts';
import { bucketId, partitionId } from '../ports.ts';
import { chunk, forEachWithLimit } from './concurrency.ts';
import { TABLE_SCHEMA } from './dynamodb-table.ts';
import { StoreConflictError, StoreUnavailableError } from './store-errors.ts';

type Item = Record<string, AttributeValue>;

export interface DynamoDbWindowStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Parallel requests per batch. @default 16 */
  readonly concurrency?: number;
}

/** BatchGetItem takes at most 100 keys (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html). */
const BATCH_GET_MAX_KEYS = 100;
const UNPROCESSED_RETRIES = 8;
/**
 * Journals above this size go to page items: an item holds at most 400 KB. Pages are cut by
 * characters, and a character takes at most 4 bytes in UTF-8: 90,000 characters ≤ 360 KB.
 */
const JOURNAL_INLINE_BYTES = 300_000;
const JOURNAL_PAGE_CHARS = 90_000;
const JOURNAL_PAGE_LIFE_SECONDS = 7 * 24 * 3600;

const { partitionKey: PK, sortKey: SK, ttlAttribute: TTL } = TABLE_SCHEMA;

/**
 * WindowStore on one DynamoDB table (layout in dynamodb-table.ts). Reads are strongly
 * consistent BatchGetItem calls of up to 100 keys; every write is one PutItem conditional
 * on the version that was read, so a lost race surfaces as StoreConflictError.
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
      ...request.partitions.map(journalKey),
      ...request.sensorIds.map(sensorStateKey),
      ...request.buckets.map(bucketKey),
    ];
    const items = await this.batchGet(keys);
    const buckets = new Map<string, StoredBucket>();
    const sensors = new Map<string, StoredSensorState>();
    const journalItems: Item[] = [];
    for (const item of items) {
      const sk = item[SK]?.S ?? '';
      if (sk.startsWith('bucket#')) {
        const key = {
          sensorId: sensorFromPk(item),
          bucketStartMs: Number(sk.slice('bucket#'.length)),
        };
        buckets.set(bucketId(key), readBucket(item));
      } else if (sk === 'state') {
        sensors.set(sensorFromPk(item), readSensorState(item));
      } else if (sk === 'journal') {
        journalItems.push(item);
      }
    }
    const journals = new Map<string, PartitionJournal>();
    for (const item of journalItems) {
      const pid = (item[PK]?.S ?? '').slice('partition#'.length);
      journals.set(pid, await this.readJournal(item));
    }
    return { buckets, sensors, journals };
  }

  async saveJournals(writes: readonly JournalWrite[]): Promise<void> {
    await forEachWithLimit(writes, this.concurrency, async (w) => {
      const alertsJson = JSON.stringify(w.item.alerts.map(compactAlert));
      const item: Item = {
        ...journalKey(w.partition),
        decidedThroughOffset: num(w.item.decidedThroughOffset),
        version: num(w.item.version),
      };
      if (Buffer.byteLength(alertsJson) <= JOURNAL_INLINE_BYTES) {
        item.alerts = { S: alertsJson };
      } else {
        // Pages first: the journal item that names them is the commit point.
        const pages = chunkString(alertsJson, JOURNAL_PAGE_CHARS);
        const expires = Math.floor(Date.now() / 1000) + JOURNAL_PAGE_LIFE_SECONDS;
        for (const [i, page] of pages.entries()) {
          await this.put(
            {
              ...journalPageKey(w.partition, w.item.version, i),
              alerts: { S: page },
              [TTL]: num(expires),
            },
            null,
          );
        }
        item.pages = num(pages.length);
      }
      await this.put(item, w.expectedVersion);
    });
  }

  async saveBuckets(writes: readonly BucketWrite[]): Promise<void> {
    await forEachWithLimit(writes, this.concurrency, (w) =>
      this.put(
        {
          ...bucketKey(w.key),
          count: num(w.item.aggregate.count),
          sum: num(w.item.aggregate.sum),
          sumSq: num(w.item.aggregate.sumSq),
          watermarks: watermarkMap(w.item.watermarks),
          version: num(w.item.version),
          [TTL]: num(w.item.expiresAtEpochSeconds),
        },
        w.expectedVersion,
      ),
    );
  }

  async saveSensorStates(writes: readonly SensorStateWrite[]): Promise<void> {
    await forEachWithLimit(writes, this.concurrency, (w) => {
      const last = w.item.cooldown.lastNotifiedEventTimeMs;
      return this.put(
        {
          ...sensorStateKey(w.sensorId),
          lastNotifiedEventTimeMs: last === null ? { NULL: true } : num(last),
          heldBack: num(w.item.cooldown.heldBack),
          ...(w.item.ewma === undefined ? {} : { ewma: ewmaMap(w.item.ewma) }),
          ...(w.item.adaptive === undefined ? {} : { adaptive: numberMap(w.item.adaptive) }),
          watermarks: watermarkMap(w.item.watermarks),
          version: num(w.item.version),
          [TTL]: num(w.item.expiresAtEpochSeconds),
        },
        w.expectedVersion,
      );
    });
  }

  private async put(item: Item, expectedVersion: number | null): Promise<void> {
    const condition: Pick<
      PutItemCommandInput,
      'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    > =
      expectedVersion === null
        ? {
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
          }
        : {
            ConditionExpression: '#version = :version',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: { ':version': num(expectedVersion) },
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

  private async batchGet(keys: readonly Item[]): Promise<Item[]> {
    const found: Item[] = [];
    await forEachWithLimit(chunk(keys, BATCH_GET_MAX_KEYS), this.concurrency, async (keysChunk) => {
      let pending: Item[] = keysChunk;
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt > UNPROCESSED_RETRIES) {
          throw new StoreUnavailableError(`BatchGetItem left ${pending.length} keys unprocessed`);
        }
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
        let response: BatchGetItemCommandOutput;
        try {
          response = await this.client.send(
            new BatchGetItemCommand({
              RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } },
            }),
          );
        } catch (error) {
          throw new StoreUnavailableError(`BatchGetItem failed: ${(error as Error).message}`, {
            cause: error,
          });
        }
        found.push(...(response.Responses?.[this.tableName] ?? []));
        pending = response.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    });
    return found;
  }

  private async readJournal(item: Item): Promise<PartitionJournal> {
    let alertsJson = item.alerts?.S;
    const pages = Number(item.pages?.N ?? 0);
    if (alertsJson === undefined && pages > 0) {
      const pid = (item[PK]?.S ?? '').slice('partition#'.length);
      const version = Number(item.version?.N);
      const keys = Array.from({ length: pages }, (_, i) => ({
        [PK]: { S: `partition#${pid}` },
        [SK]: { S: `journal#${version}#${i}` },
      }));
      const pageItems = await this.batchGet(keys);
      const bySk = new Map(pageItems.map((p) => [p[SK]?.S, p.alerts?.S ?? '']));
      alertsJson = keys.map((k) => bySk.get(k[SK]?.S) ?? '').join('');
    }
    return {
      decidedThroughOffset: Number(item.decidedThroughOffset?.N ?? -1),
      version: Number(item.version?.N ?? 0),
      alerts: alertsJson ? (JSON.parse(alertsJson) as unknown[]).map(expandAlert) : [],
    };
  }
}

function num(value: number): AttributeValue {
  return { N: String(value) };
}

function bucketKey(key: BucketKey): Item {
  return { [PK]: { S: `sensor#${key.sensorId}` }, [SK]: { S: `bucket#${key.bucketStartMs}` } };
}

function sensorStateKey(sensorId: string): Item {
  return { [PK]: { S: `sensor#${sensorId}` }, [SK]: { S: 'state' } };
}

function journalKey(partition: PartitionKey): Item {
  return { [PK]: { S: `partition#${partitionId(partition)}` }, [SK]: { S: 'journal' } };
}

function journalPageKey(partition: PartitionKey, version: number, page: number): Item {
  return {
    [PK]: { S: `partition#${partitionId(partition)}` },
    [SK]: { S: `journal#${version}#${page}` },
  };
}

function sensorFromPk(item: Item): string {
  return (item[PK]?.S ?? '').slice('sensor#'.length);
}

function watermarkMap(watermarks: Watermarks): AttributeValue {
  return {
    M: Object.fromEntries(Object.entries(watermarks).map(([pid, offset]) => [pid, num(offset)])),
  };
}

function readWatermarks(item: Item): Record<string, number> {
  return Object.fromEntries(
    Object.entries(item.watermarks?.M ?? {}).map(([pid, v]) => [pid, Number(v.N)]),
  );
}

function readBucket(item: Item): StoredBucket {
  return {
    aggregate: {
      count: Number(item.count?.N ?? 0),
      sum: Number(item.sum?.N ?? 0),
      sumSq: Number(item.sumSq?.N ?? 0),
    },
    watermarks: readWatermarks(item),
    version: Number(item.version?.N ?? 0),
    expiresAtEpochSeconds: Number(item[TTL]?.N ?? 0),
  };
}

function readSensorState(item: Item): StoredSensorState {
  const last = item.lastNotifiedEventTimeMs;
  return {
    cooldown: {
      lastNotifiedEventTimeMs: last?.N === undefined ? null : Number(last.N),
      heldBack: Number(item.heldBack?.N ?? 0),
    },
    ...(item.ewma?.M === undefined ? {} : { ewma: readEwma(item.ewma.M) }),
    ...(item.adaptive?.M === undefined ? {} : { adaptive: readAdaptive(item.adaptive.M) }),
    watermarks: readWatermarks(item),
    version: Number(item.version?.N ?? 0),
    expiresAtEpochSeconds: Number(item[TTL]?.N ?? 0),
  };
}

const EWMA_FIELDS = [
  'count',
  'mean',
  'variance',
  'run',
  'runMean',
  'runM2',
  'varianceBeforeRun',
] as const;

/**
 * The learned state as a map of numbers. DynamoDB keeps 38 significant digits and String()
 * gives the shortest text that reads back as the same double, so the state round-trips exactly.
 */
function ewmaMap(state: EwmaState): AttributeValue {
  return { M: Object.fromEntries(EWMA_FIELDS.map((f) => [f, num(state[f])])) };
}

function readEwma(map: Record<string, AttributeValue>): EwmaState {
  const [count, mean, variance, run, runMean, runM2, varianceBeforeRun] = EWMA_FIELDS.map((f) =>
    Number(map[f]?.N ?? 0),
  );
  return {
    count: count ?? 0,
    mean: mean ?? 0,
    variance: variance ?? 0,
    run: run ?? 0,
    runMean: runMean ?? 0,
    runM2: runM2 ?? 0,
    varianceBeforeRun: varianceBeforeRun ?? 0,
  };
}

/** The `adaptive` detector's state: a map of its numbers, exact as for `ewma`. */
function numberMap(state: AdaptiveState): AttributeValue {
  return {
    M: Object.fromEntries(ADAPTIVE_FIELDS.map((f) => [f, num(state[f])])),
  };
}

function readAdaptive(map: Record<string, AttributeValue>): AdaptiveState {
  return Object.fromEntries(
    ADAPTIVE_FIELDS.map((f) => [f, Number(map[f]?.N ?? 0)]),
  ) as unknown as AdaptiveState;
}

const ADAPTIVE_FIELDS = [
  'count',
  'mean',
  'variance',
  'recentLow',
  'recentHigh',
  'low',
  'high',
  'rawMean',
  'rawVariance',
  'rawRecent',
  'sinceAnomaly',
] as const satisfies readonly (keyof AdaptiveState)[];

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
  ];
  return {
    anomaly: {
      alertId: `${topic}-${partition}-${offset}`,
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
  };
}

function chunkString(text: string, size: number): string[] {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
