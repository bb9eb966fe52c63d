import {
  type BucketWrite,
  bucketId,
  type ConditionalWrite,
  type JournalWrite,
  type LoadRequest,
  type PartitionJournal,
  partitionId,
  type SensorStateWrite,
  type Snapshot,
  type StoredBucket,
  type StoredSensorState,
  type WindowStore,
} from '../ports.ts';
import { StoreConflictError } from './store-errors.ts';

/**
 * WindowStore in process memory, with the same conditional-write rules as the DynamoDB
 * adapter. Serves the backtest, the embedded local mode and pure tests. Items never expire
 * here (like dynalite): expiry is judged by the use case.
 */
export class MemoryWindowStore implements WindowStore {
  readonly buckets = new Map<string, StoredBucket>();
  readonly sensors = new Map<string, StoredSensorState>();
  readonly journals = new Map<string, PartitionJournal>();
  /** Request counts, shaped like DynamoDB's (100 keys per read), for comparisons. */
  readonly requests = { reads: 0, bucketWrites: 0, sensorWrites: 0, journalWrites: 0 };

  async load(request: LoadRequest): Promise<Snapshot> {
    const keys = request.buckets.length + request.sensorIds.length + request.partitions.length;
    this.requests.reads += Math.ceil(keys / 100);
    return {
      buckets: pick(this.buckets, request.buckets.map(bucketId)),
      sensors: pick(this.sensors, request.sensorIds),
      journals: pick(this.journals, request.partitions.map(partitionId)),
    };
  }

  async saveJournals(writes: readonly JournalWrite[]): Promise<void> {
    for (const w of writes) {
      this.requests.journalWrites += 1;
      put(this.journals, partitionId(w.partition), w, structuredClone);
    }
  }

  async saveBuckets(writes: readonly BucketWrite[]): Promise<void> {
    for (const w of writes) {
      this.requests.bucketWrites += 1;
      put(this.buckets, bucketId(w.key), w, copyBucket);
    }
  }

  async saveSensorStates(writes: readonly SensorStateWrite[]): Promise<void> {
    for (const w of writes) {
      this.requests.sensorWrites += 1;
      put(this.sensors, w.sensorId, w, copySensorState);
    }
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

/**
 * The store keeps copies, so a caller that goes on changing what it wrote cannot change the
 * store. Buckets and sensor states are flat enough to copy by hand (structuredClone of
 * thousands of them was the top cost of an in-memory batch, npx tsx bench/profile.ts);
 * journals are few and nested.
 */
function copyBucket(item: StoredBucket): StoredBucket {
  return { ...item, aggregate: { ...item.aggregate }, watermarks: { ...item.watermarks } };
}

function copySensorState(item: StoredSensorState): StoredSensorState {
  return {
    ...item,
    cooldown: { ...item.cooldown },
    ...(item.ewma === undefined ? {} : { ewma: { ...item.ewma } }),
    ...(item.adaptive === undefined ? {} : { adaptive: { ...item.adaptive } }),
    watermarks: { ...item.watermarks },
  };
}

function put<T extends { version: number }>(
  into: Map<string, T>,
  id: string,
  write: ConditionalWrite<T>,
  copy: (item: T) => T,
): void {
  const current = into.get(id);
  if ((current?.version ?? null) !== write.expectedVersion) {
    throw new StoreConflictError(
      `${id}: expected version ${write.expectedVersion}, found ${current?.version ?? 'none'}`,
    );
  }
  into.set(id, copy(write.item));
}
