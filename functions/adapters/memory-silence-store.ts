import type { CheckerShard, SeenItem, SilenceStore } from '../silence/ports.ts';
import { StoreConflictError } from './store-errors.ts';

/** SilenceStore in process memory, with the DynamoDB adapter's conditional-write rules. */
export class MemorySilenceStore implements SilenceStore {
  readonly seen = new Map<string, SeenItem>();
  readonly checker = new Map<number, CheckerShard>();
  partitions: { version: number; pids: string[] } | null = null;
  readonly requests = { seenReads: 0, seenWrites: 0, checkerWrites: 0, partitionWrites: 0 };

  async loadSeen(pids: readonly string[]): Promise<Map<string, SeenItem>> {
    this.requests.seenReads += 1;
    const result = new Map<string, SeenItem>();
    for (const pid of pids) {
      const item = this.seen.get(pid);
      if (item !== undefined) result.set(pid, { ...item, sensors: new Map(item.sensors) });
    }
    return result;
  }

  async saveSeen(pid: string, item: SeenItem, expectedVersion: number | null): Promise<void> {
    this.requests.seenWrites += 1;
    check(pid, this.seen.get(pid)?.version ?? null, expectedVersion);
    this.seen.set(pid, { ...item, sensors: new Map(item.sensors) });
  }

  async loadPartitions(): Promise<{ version: number | null; pids: readonly string[] }> {
    return this.partitions === null
      ? { version: null, pids: [] }
      : { version: this.partitions.version, pids: [...this.partitions.pids] };
  }

  async savePartitions(pids: readonly string[], expectedVersion: number | null): Promise<void> {
    this.requests.partitionWrites += 1;
    check('partitions', this.partitions?.version ?? null, expectedVersion);
    this.partitions = { version: (expectedVersion ?? 0) + 1, pids: [...pids] };
  }

  async loadChecker(shards: number): Promise<Map<number, CheckerShard>> {
    const result = new Map<number, CheckerShard>();
    for (let i = 0; i < shards; i += 1) {
      const item = this.checker.get(i);
      if (item !== undefined) result.set(i, structuredClone(item));
    }
    return result;
  }

  async saveChecker(shard: number, item: CheckerShard, expectedVersion: number | null) {
    this.requests.checkerWrites += 1;
    check(`checker ${shard}`, this.checker.get(shard)?.version ?? null, expectedVersion);
    this.checker.set(shard, structuredClone(item));
  }
}

function check(id: string, current: number | null, expected: number | null): void {
  if (current !== expected)
    throw new StoreConflictError(`${id}: expected version ${expected}, found ${current ?? 'none'}`);
}
