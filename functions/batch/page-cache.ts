import type { Page } from './state.ts';

/**
 * What a warm Lambda container keeps between invocations: pages by key. A page never changes
 * once written (its key carries a generation), so a cached page is always right, however old;
 * the root, read at the start of every batch, says which pages are current. The cache is
 * bounded by its count of pages; the least recently used go first. A batch copies what it
 * uses into its own working state, so an eviction in the middle of a batch changes nothing.
 */
export class PageCache {
  private readonly pages = new Map<string, Page>();
  /**
   * Alert ids this container has told its observer (the log) and not yet delivered: a retry
   * in the same container does not log them twice (another container may, identically).
   */
  readonly told = new Set<string>();

  /** @param maxPages at 1,024 sensors per page, 4,096 pages hold the windows of many partitions. */
  constructor(readonly maxPages = 4096) {}

  get(id: string): Page | undefined {
    const page = this.pages.get(id);
    if (page !== undefined) {
      this.pages.delete(id);
      this.pages.set(id, page);
    }
    return page;
  }

  set(id: string, page: Page): void {
    this.pages.delete(id);
    this.pages.set(id, page);
    while (this.pages.size > this.maxPages) {
      const oldest = this.pages.keys().next().value as string;
      this.pages.delete(oldest);
    }
  }

  get size(): number {
    return this.pages.size;
  }
}
