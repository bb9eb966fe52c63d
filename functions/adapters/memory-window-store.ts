import { materialize } from '../batch/inspect.ts';
import type { Page, PageKey, PageWrite, PartitionRoot, PartitionStore } from '../batch/state.ts';
import { pageId, type SensorState } from '../batch/state.ts';
import type { Aggregate } from '../core/types.ts';
import { LIMITS } from './dynamodb/codecs.ts';
import { StoreConflictError } from './store-errors.ts';

/**
 * PartitionStore in process memory, with the same rules as the DynamoDB adapter (its byte
 * budgets included). Serves the backtest, the embedded local mode and pure tests. Items
 * never disappear here (like dynalite); a page past its TTL reads as absent.
 */
export class MemoryPartitionStore implements PartitionStore {
  readonly limits = LIMITS;
  readonly roots = new Map<string, PartitionRoot>();
  readonly pages = new Map<string, { page: Page; expiresAtEpochSeconds: number }>();
  /** Request counts, shaped like DynamoDB's (100 keys per read), for comparisons. */
  readonly requests = {
    reads: 0,
    rootWrites: 0,
    dictWrites: 0,
    bucketWrites: 0,
    stateWrites: 0,
    indexWrites: 0,
    digestWrites: 0,
    openWrites: 0,
  };

  /** Every sensor's bucket aggregates, keyed `<sensorId>\u0000<bucketStartMs>`, for tests and tools. */
  aggregates(): Map<string, Aggregate> {
    return this.materialize().buckets;
  }

  /** Every sensor's cooldown and learned state. */
  sensorStates(): Map<string, SensorState> {
    return this.materialize().sensors;
  }

  private materialize() {
    return materialize(this.roots, (key) => this.pages.get(pageId(key))?.page);
  }

  async readRoots(pids: readonly string[]): Promise<ReadonlyMap<string, PartitionRoot>> {
    this.requests.reads += Math.ceil(pids.length / 100);
    const result = new Map<string, PartitionRoot>();
    for (const pid of pids) {
      const root = this.roots.get(pid);
      if (root !== undefined) result.set(pid, root);
    }
    return result;
  }

  async readPages(
    keys: readonly PageKey[],
    nowEpochSeconds: number,
  ): Promise<ReadonlyMap<string, Page>> {
    this.requests.reads += Math.ceil(keys.length / 100);
    const result = new Map<string, Page>();
    for (const key of keys) {
      const id = pageId(key);
      const stored = this.pages.get(id);
      if (stored !== undefined && stored.expiresAtEpochSeconds > nowEpochSeconds)
        result.set(id, stored.page);
    }
    return result;
  }

  async putPages(writes: readonly PageWrite[]): Promise<void> {
    for (const w of writes) {
      this.requests[`${w.key.kind}Writes`] += 1;
      // A copy: the caller may go on changing what it wrote.
      this.pages.set(pageId(w.key), {
        page: structuredClone(w.page),
        expiresAtEpochSeconds: w.expiresAtEpochSeconds,
      });
    }
  }

  async commitRoot(
    pid: string,
    root: PartitionRoot,
    expectedVersion: number | null,
  ): Promise<void> {
    this.requests.rootWrites += 1;
    const current = this.roots.get(pid);
    if ((current?.version ?? null) !== expectedVersion)
      throw new StoreConflictError(
        `root#${pid}: expected version ${expectedVersion ?? 'none'}, found ${current?.version ?? 'none'}`,
      );
    this.roots.set(pid, structuredClone(root));
  }
}

/** The name the backtest, the local pipeline and the tests know it by. */
export { MemoryPartitionStore as MemoryWindowStore };
