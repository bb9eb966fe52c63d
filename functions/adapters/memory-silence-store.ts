import type { SilenceAlert, SilentEntry } from '../core/silence.ts';
import type { Page, PagedMap, PagedStore, PageExpectation } from '../silence/pages.ts';
import type { Outbox, SilenceStore } from '../silence/ports.ts';
import { outboxFits, seenPageFits, silentPageFits } from './dynamodb-silence-codec.ts';
import { StoreConflictError } from './store-errors.ts';

/**
 * A paged map in process memory, with the DynamoDB adapter's conditional-write rules and
 * byte budgets (dynamodb-silence-codec.ts), so the same contents split into the same pages.
 */
export class MemoryPagedStore<V> implements PagedStore<V> {
  readonly heads = new Map<
    string,
    { version: number; bits: string[]; inline?: ReadonlyMap<string, V> }
  >();
  readonly pages = new Map<string, Page<V>>();
  readonly requests = { reads: 0, pageWrites: 0, headWrites: 0 };

  constructor(readonly fits: (entries: ReadonlyMap<string, V>) => boolean) {}

  async load(keys: readonly string[]): Promise<Map<string, PagedMap<V>>> {
    this.requests.reads += 1;
    const result = new Map<string, PagedMap<V>>();
    for (const key of keys) {
      const head = this.heads.get(key);
      if (head === undefined) continue;
      if (head.inline !== undefined) {
        const entries = new Map(head.inline);
        const root = { version: head.version, entries };
        result.set(key, { version: head.version, inline: true, pages: new Map([['', root]]) });
        continue;
      }
      const pages = new Map<string, Page<V>>();
      for (const bits of head.bits) {
        const page = this.pages.get(`${key}\u0000${bits}`);
        pages.set(
          bits,
          page === undefined
            ? { version: null, entries: new Map() }
            : { version: page.version, entries: new Map(page.entries) },
        );
      }
      result.set(key, { version: head.version, pages });
    }
    return result;
  }

  async headVersion(key: string): Promise<number | null> {
    return this.heads.get(key)?.version ?? null;
  }

  async savePage(key: string, bits: string, page: Page<V>, expected: PageExpectation) {
    this.requests.pageWrites += 1;
    const id = `${key}\u0000${bits}`;
    if (!this.fits(page.entries)) throw new Error(`${id}: page over its byte budget`);
    if (expected !== 'any') check(id, this.pages.get(id)?.version ?? null, expected);
    this.pages.set(id, { version: page.version, entries: new Map(page.entries) });
  }

  async saveHead(
    key: string,
    bits: readonly string[],
    version: number,
    expected: number | null,
    inline?: ReadonlyMap<string, V>,
  ) {
    this.requests.headWrites += 1;
    if (inline !== undefined && !this.fits(inline)) throw new Error(`${key}: over its budget`);
    check(`${key} head`, this.heads.get(key)?.version ?? null, expected);
    this.heads.set(key, {
      version,
      bits: [...bits],
      ...(inline === undefined ? {} : { inline: new Map(inline) }),
    });
  }
}

/** SilenceStore in process memory, with the DynamoDB adapter's rules and budgets. */
export class MemorySilenceStore implements SilenceStore {
  readonly seen = new MemoryPagedStore<number>(seenPageFits);
  readonly silent = new MemoryPagedStore<SilentEntry>(silentPageFits);
  partitions: { version: number; pids: string[] } | null = null;
  outbox: { version: number; alerts: SilenceAlert[] } | null = null;
  readonly requests = { partitionWrites: 0, outboxWrites: 0 };

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

  async loadOutbox(): Promise<Outbox> {
    return this.outbox === null
      ? { version: null, alerts: [] }
      : { version: this.outbox.version, alerts: structuredClone(this.outbox.alerts) };
  }

  async saveOutbox(alerts: readonly SilenceAlert[], expectedVersion: number | null) {
    this.requests.outboxWrites += 1;
    if (!outboxFits(alerts)) throw new Error('outbox over its byte budget');
    check('outbox', this.outbox?.version ?? null, expectedVersion);
    this.outbox = { version: (expectedVersion ?? 0) + 1, alerts: structuredClone([...alerts]) };
  }

  outboxFits(alerts: readonly SilenceAlert[]): boolean {
    return outboxFits(alerts);
  }

  async loadLegacyChecker() {
    return { silent: new Map<string, SilentEntry>(), outbox: [] as SilenceAlert[] };
  }
}

function check(id: string, current: number | null, expected: number | null): void {
  if (current !== expected)
    throw new StoreConflictError(`${id}: expected version ${expected}, found ${current ?? 'none'}`);
}
