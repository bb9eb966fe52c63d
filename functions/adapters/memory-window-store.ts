import type { Aggregate } from '../core/types.ts';
import {
  type BucketShard,
  type BucketShardWrite,
  bucketShardId,
  type ClaimRequest,
  type ConditionalWrite,
  type HomeClaim,
  type JournalWrite,
  type LoadRequest,
  type PartitionJournal,
  type SensorEntry,
  type Snapshot,
  type StateShard,
  type StateShardWrite,
  stateShardId,
  type WindowStore,
} from '../ports.ts';
import { StoreConflictError } from './store-errors.ts';

/**
 * WindowStore in process memory, with the same conditional-write rules as the DynamoDB
 * adapter. Serves the backtest, the embedded local mode and pure tests. Items never expire
 * here (like dynalite): expiry is judged by the use case and by the write conditions.
 */
export class MemoryWindowStore implements WindowStore {
  readonly buckets = new Map<string, BucketShard>();
  readonly states = new Map<string, StateShard>();
  readonly journals = new Map<string, PartitionJournal>();
  readonly homes = new Map<string, HomeClaim>();
  /** Request counts, shaped like DynamoDB's (100 keys per read), for comparisons. */
  readonly requests = { reads: 0, bucketWrites: 0, stateWrites: 0, journalWrites: 0, claims: 0 };

  /** Every sensor's bucket aggregates, keyed `<sensorId>\u0000<bucketStartMs>`, for tests and tools. */
  aggregates(): Map<string, Aggregate> {
    const result = new Map<string, Aggregate>();
    for (const [id, shard] of this.buckets) {
      const start = id.split('\u0000')[2];
      for (const [sensorId, a] of shard.sensors) result.set(`${sensorId}\u0000${start}`, a);
    }
    return result;
  }

  /** Every sensor's cooldown and learned state, whatever its home. */
  sensorStates(): Map<string, SensorEntry> {
    const result = new Map<string, SensorEntry>();
    for (const shard of this.states.values())
      for (const [sensorId, e] of shard.sensors) result.set(sensorId, e);
    return result;
  }

  async load(request: LoadRequest): Promise<Snapshot> {
    const keys =
      request.buckets.length +
      request.states.length +
      request.journals.length +
      request.homes.length;
    this.requests.reads += Math.ceil(keys / 100);
    return {
      buckets: pick(this.buckets, request.buckets.map(bucketShardId)),
      states: pick(this.states, request.states.map(stateShardId)),
      journals: pick(this.journals, request.journals),
      homes: pick(this.homes, request.homes),
    };
  }

  async saveJournals(writes: readonly JournalWrite[]): Promise<void> {
    for (const w of writes) {
      this.requests.journalWrites += 1;
      // Journals never expire.
      put(this.journals, w.pid, w, structuredClone, Number.NEGATIVE_INFINITY);
    }
  }

  async saveBuckets(writes: readonly BucketShardWrite[], nowEpochSeconds: number): Promise<void> {
    for (const w of writes) {
      this.requests.bucketWrites += 1;
      put(this.buckets, bucketShardId(w.key), w, copyShard, nowEpochSeconds);
    }
  }

  async saveStates(writes: readonly StateShardWrite[], nowEpochSeconds: number): Promise<void> {
    for (const w of writes) {
      this.requests.stateWrites += 1;
      put(this.states, stateShardId(w.key), w, copyShard, nowEpochSeconds);
    }
  }

  async claimHomes(
    claims: readonly ClaimRequest[],
    nowEpochSeconds: number,
  ): Promise<ReadonlyMap<string, string>> {
    const homes = new Map<string, string>();
    for (const c of claims) {
      this.requests.claims += 1;
      const current = this.homes.get(c.sensorId);
      if (
        current === undefined ||
        current.home === c.home ||
        current.expiresAtEpochSeconds <= nowEpochSeconds
      ) {
        this.homes.set(c.sensorId, {
          home: c.home,
          expiresAtEpochSeconds: c.expiresAtEpochSeconds,
        });
        homes.set(c.sensorId, c.home);
      } else {
        homes.set(c.sensorId, current.home);
      }
    }
    return homes;
  }
}

function pick<T>(from: ReadonlyMap<string, T>, ids: readonly string[]): Map<string, T> {
  const result = new Map<string, T>();
  for (const id of ids) {
    const item = from.get(id);
    if (item !== undefined) result.set(id, item);
  }
  return result;
}

/** The store keeps copies, so a caller that goes on changing what it wrote cannot change the store. */
function copyShard<T extends BucketShard | StateShard>(item: T): T {
  const sensors = new Map();
  for (const [id, e] of item.sensors) sensors.set(id, structuredCloneIfNested(e));
  return { ...item, marks: { ...item.marks }, sensors };
}

function structuredCloneIfNested<E>(entry: E): E {
  const e = entry as { cooldown?: unknown; learned?: unknown };
  if (e.cooldown === undefined) return { ...entry };
  return copyData(entry);
}

/**
 * A deep copy of plain data (objects and arrays of numbers, strings, booleans, null), as
 * structuredClone gives it but at a fraction of its cost per call (a sensor entry is a few
 * small objects, and a batch writes thousands); anything else goes to structuredClone.
 */
function copyData<T>(x: T): T {
  if (typeof x !== 'object' || x === null) return x;
  if (Array.isArray(x)) return x.map(copyData) as T;
  if (Object.getPrototypeOf(x) !== Object.prototype) return structuredClone(x);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(x)) out[k] = copyData((x as Record<string, unknown>)[k]);
  return out as T;
}

function put<T extends { version: number; expiresAtEpochSeconds?: number }>(
  into: Map<string, T>,
  id: string,
  write: ConditionalWrite<T>,
  copy: (item: T) => T,
  nowEpochSeconds: number,
): void {
  const current = into.get(id);
  const holds =
    write.expectedVersion === null
      ? current === undefined || (current.expiresAtEpochSeconds ?? Infinity) <= nowEpochSeconds
      : current?.version === write.expectedVersion;
  if (!holds) {
    throw new StoreConflictError(
      `${id}: expected version ${write.expectedVersion}, found ${current?.version ?? 'none'}`,
    );
  }
  into.set(id, copy(write.item));
}
