import type { DigestPage } from '../batch/state.ts';
import type { DigestItem, DigestStore } from '../digest/send-digests.ts';
import type { MemoryPartitionStore } from './memory-window-store.ts';

/**
 * The digest function's store over the in-memory partition store (the local pipeline and
 * pure tests), with the DynamoDB adapter's rules: a period's pages whatever their commit, and
 * a cursor moved only from the value read.
 */
export class MemoryDigestStore implements DigestStore {
  private cursor: number | null = null;

  constructor(private readonly partitions: MemoryPartitionStore) {}

  async queryPeriod(periodStartMs: number): Promise<readonly DigestItem[]> {
    const items: DigestItem[] = [];
    for (const [id, stored] of this.partitions.pages) {
      if (stored.page.kind !== 'digest') continue;
      // pageId: `<pid>\0<kind>\0<scope>\0<chunk>\0<gen>`
      const [pid, , scope, , gen] = id.split('\u0000');
      if (Number(scope) !== periodStartMs || pid === undefined || gen === undefined) continue;
      items.push({ pid, gen, page: stored.page as DigestPage });
    }
    return items;
  }

  async readCursor(): Promise<number | null> {
    return this.cursor;
  }

  async advanceCursor(from: number | null, to: number): Promise<boolean> {
    if (this.cursor !== from) return this.cursor === to;
    this.cursor = to;
    return true;
  }
}
