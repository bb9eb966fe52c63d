import { type Page, type PageKey, pageId } from './state.ts';

/**
 * What a warm Lambda container keeps between invocations: the pages it last read or wrote.
 * A page never changes once written (its key carries a generation), so a cached page is always
 * right, however old; the root, read at the start of every batch, says which generation of each
 * page is current.
 *
 * The cache keeps one generation per page slot (the key without its generation): writing
 * generation n+1 of a slot replaces generation n, which no root will point to again. Keyed by
 * the whole key instead, every commit's superseded pages stayed until the count bound pushed
 * them out, and a warm container's heap grew by every page it ever wrote (about 1 MiB/min in
 * the soak, scripts/soak.ts) until it held `maxPages` of them. A get of a generation other than
 * the slot's is a miss.
 *
 * Bounded by its count of slots, least recently used first: slots of buckets the windows have
 * moved past are used no more and go first. A batch copies what it uses into its own working
 * state, so an eviction in the middle of a batch changes nothing.
 */
export class PageCache {
  private readonly slots = new Map<string, { readonly gen: string; readonly page: Page }>();
  /**
   * Alert ids this container has told its observer (the log) and not yet delivered: a retry
   * in the same container does not log them twice (another container may, identically).
   */
  readonly told = new Set<string>();

  /**
   * @param maxPages at 1,024 sensors per bucket page (about 25 KB of heap each), 4,096 slots
   *   hold the windows of a large fleet in about 100 MiB, a tenth of the detector's default
   *   memory.
   */
  constructor(readonly maxPages = 4096) {}

  get(key: PageKey): Page | undefined {
    const slot = slotOf(key);
    const entry = this.slots.get(slot);
    if (entry === undefined || entry.gen !== key.gen) return undefined;
    this.slots.delete(slot);
    this.slots.set(slot, entry);
    return entry.page;
  }

  set(key: PageKey, page: Page): void {
    const slot = slotOf(key);
    this.slots.delete(slot);
    this.slots.set(slot, { gen: key.gen, page });
    while (this.slots.size > this.maxPages) {
      const oldest = this.slots.keys().next().value as string;
      this.slots.delete(oldest);
    }
  }

  get size(): number {
    return this.slots.size;
  }
}

/** A page's slot: its key without the generation. */
function slotOf(key: PageKey): string {
  return pageId({ ...key, gen: '' });
}
