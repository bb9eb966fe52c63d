import type { BucketRefs, IndexPage, IndexRef, PageKey, PageTable } from './state.ts';

/** The key of an index page the table names. */
export function indexKey(pid: string, ref: IndexRef): PageKey {
  return { pid, kind: 'index', scope: 0, chunk: ref.chunk, gen: ref.gen };
}

/**
 * Every live bucket's current refs: the index pages' oldest first, each later one and then the
 * root's own refs overriding. An expired ref is absent (semantics.md §5).
 */
export function currentBucketRefs(
  table: PageTable,
  indexPage: (ref: IndexRef) => IndexPage | undefined,
  nowSeconds: number,
): Map<number, BucketRefs> {
  const refs = new Map<number, BucketRefs>();
  for (const ref of table.bucketIndex) {
    if (ref.expiresAtEpochSeconds <= nowSeconds) continue;
    for (const b of indexPage(ref)?.buckets ?? []) refs.set(b.startMs, b);
  }
  for (const b of table.buckets) refs.set(b.startMs, b);
  for (const [start, b] of refs) if (b.expiresAtEpochSeconds <= nowSeconds) refs.delete(start);
  return refs;
}
