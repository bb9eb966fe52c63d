import type { Aggregate } from '../core/types.ts';
import { BUCKET_PAGE_SENSORS, chunkOf, STATE_PAGE_SENSORS } from './layout.ts';
import type { BucketPage, SensorState, StatePage } from './state.ts';

/** One bucket's aggregates of one chunk of sensor indices, as the batch changes them. */
export class WorkBucket {
  readonly count: number[];
  readonly sum: number[];
  /** Null while no detector of the chunk has needed sums of squares. */
  sumSq: number[] | null;
  dirty = false;

  constructor(page: BucketPage | undefined) {
    this.count = page === undefined ? [] : [...page.count];
    this.sum = page === undefined ? [] : [...page.sum];
    this.sumSq = page?.sumSq === null || page === undefined ? null : [...page.sumSq];
  }

  /** Adds a value at `slot` (index − chunk start); sums of squares from now on if `keepSumSq`. */
  add(slot: number, value: number, keepSumSq: boolean): void {
    while (this.count.length <= slot) {
      this.count.push(0);
      this.sum.push(0);
      this.sumSq?.push(0);
    }
    if (keepSumSq && this.sumSq === null) {
      // Readings added before were not squared: unknown (NaN) where there were any.
      this.sumSq = this.count.map((n) => (n === 0 ? 0 : Number.NaN));
    }
    this.count[slot] = (this.count[slot] as number) + 1;
    this.sum[slot] = (this.sum[slot] as number) + value;
    if (this.sumSq !== null) this.sumSq[slot] = (this.sumSq[slot] as number) + value * value;
    this.dirty = true;
  }

  at(slot: number): Aggregate | undefined {
    const count = this.count[slot];
    if (count === undefined || count === 0) return undefined;
    return {
      count,
      sum: this.sum[slot] as number,
      sumSq: this.sumSq === null ? Number.NaN : (this.sumSq[slot] as number),
    };
  }

  page(): BucketPage {
    return { kind: 'bucket', count: this.count, sum: this.sum, sumSq: this.sumSq };
  }
}

/** The sensor states of one chunk of indices, as the batch changes them. */
export class WorkStates {
  readonly entries: Map<number, SensorState>;
  dirty = false;

  constructor(page: StatePage | undefined) {
    this.entries = new Map(page?.entries ?? []);
  }

  page(): StatePage {
    return { kind: 'state', entries: this.entries };
  }
}

/**
 * A partition's state in memory for one attempt: the dictionary (id ↔ index), the buckets
 * and sensor states of the chunks the batch touches. Built from immutable pages, so nothing
 * a cache holds is ever changed.
 */
export class WorkingState {
  readonly ids: string[];
  readonly indexOf = new Map<string, number>();
  /** Dictionary size as loaded: ids from here on are new in this attempt. */
  readonly loadedSensors: number;
  readonly buckets = new Map<number, Map<number, WorkBucket>>();
  readonly states = new Map<number, WorkStates>();

  constructor(ids: readonly string[]) {
    this.ids = [...ids];
    this.loadedSensors = ids.length;
    for (let i = 0; i < ids.length; i += 1) this.indexOf.set(ids[i] as string, i);
  }

  /** The sensor's index, appended to the dictionary on first sight. */
  index(sensorId: string): number {
    let i = this.indexOf.get(sensorId);
    if (i === undefined) {
      i = this.ids.length;
      this.ids.push(sensorId);
      this.indexOf.set(sensorId, i);
    }
    return i;
  }

  bucket(startMs: number, index: number): WorkBucket {
    const chunk = chunkOf(index, BUCKET_PAGE_SENSORS);
    let byChunk = this.buckets.get(startMs);
    if (byChunk === undefined) {
      byChunk = new Map();
      this.buckets.set(startMs, byChunk);
    }
    let bucket = byChunk.get(chunk);
    if (bucket === undefined) {
      bucket = new WorkBucket(undefined);
      byChunk.set(chunk, bucket);
    }
    return bucket;
  }

  addReading(startMs: number, index: number, value: number, keepSumSq: boolean): void {
    this.bucket(startMs, index).add(index % BUCKET_PAGE_SENSORS, value, keepSumSq);
  }

  /** A bucket page as loaded (called by the loader before judging). */
  putBucket(startMs: number, chunk: number, page: BucketPage | undefined): void {
    let byChunk = this.buckets.get(startMs);
    if (byChunk === undefined) {
      byChunk = new Map();
      this.buckets.set(startMs, byChunk);
    }
    if (!byChunk.has(chunk)) byChunk.set(chunk, new WorkBucket(page));
  }

  aggregate(startMs: number, index: number): Aggregate | undefined {
    const bucket = this.buckets.get(startMs)?.get(chunkOf(index, BUCKET_PAGE_SENSORS));
    return bucket?.at(index % BUCKET_PAGE_SENSORS);
  }

  putStates(chunk: number, page: StatePage | undefined): void {
    if (!this.states.has(chunk)) this.states.set(chunk, new WorkStates(page));
  }

  sensorState(index: number): SensorState | undefined {
    return this.states
      .get(chunkOf(index, STATE_PAGE_SENSORS))
      ?.entries.get(index % STATE_PAGE_SENSORS);
  }

  setSensorState(index: number, state: SensorState): void {
    const chunk = chunkOf(index, STATE_PAGE_SENSORS);
    let states = this.states.get(chunk);
    if (states === undefined) {
      states = new WorkStates(undefined);
      this.states.set(chunk, states);
    }
    states.entries.set(index % STATE_PAGE_SENSORS, state);
    states.dirty = true;
  }
}
