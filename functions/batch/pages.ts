import {
  DICT_PAGE_SENSORS,
  HOT_BUCKETS_KEEP,
  HOT_BUCKETS_MAX,
  LONG_PAGE_LIFE_SECONDS,
} from './layout.ts';
import type {
  BucketRefs,
  DictPage,
  PageRef,
  PageTable,
  PageWrite,
  PartitionRoot,
} from './state.ts';
import type { WorkingState } from './working-state.ts';

export interface PageBuild {
  readonly writes: PageWrite[];
  readonly table: PageTable;
  readonly bucketPages: number;
}

export interface PageBuildInput {
  readonly pid: string;
  readonly before: PartitionRoot | null;
  readonly work: WorkingState;
  readonly refresh: { readonly dict: readonly number[]; readonly state: readonly number[] };
  /** The partition starts afresh (its pages expired): nothing of the old table is kept. */
  readonly fresh: boolean;
  /** The generation of every page this commit writes. */
  readonly gen: string;
  readonly nowSeconds: number;
  /** TTL of a bucket page written now (processing time: now + window + retention margin). */
  readonly bucketExpiresAt: number;
  /** The adapter's measure of a page table, and its budget in the root. */
  readonly tableBytes: (table: PageTable) => number;
  readonly maxTableBytes: number;
}

/**
 * The new pages of a commit and the page table that makes them current: the dictionary pages
 * that grew, every bucket and state chunk the batch changed, and the long-lived pages near
 * their TTL, each under a new key (copy-on-write). Buckets whose TTL has passed leave the
 * table; if the table would pass its budget, the oldest buckets leave it first (as if expired).
 */
export function buildPages(input: PageBuildInput): PageBuild {
  const { pid, work, gen, nowSeconds } = input;
  const before = input.fresh ? undefined : input.before?.pages;
  const writes: PageWrite[] = [];
  const longExpiry = nowSeconds + LONG_PAGE_LIFE_SECONDS;

  // Dictionary: append-only; the pages from the first new index on, and those to refresh.
  const dict: PageRef[] = [...(before?.dict ?? [])];
  const dictPages = new Set(input.refresh.dict);
  for (let i = work.loadedSensors; i < work.ids.length; i += DICT_PAGE_SENSORS)
    dictPages.add(Math.floor(i / DICT_PAGE_SENSORS));
  if (work.ids.length > work.loadedSensors)
    dictPages.add(Math.floor((work.ids.length - 1) / DICT_PAGE_SENSORS));
  for (const chunk of [...dictPages].sort((a, b) => a - b)) {
    const page: DictPage = {
      kind: 'dict',
      ids: work.ids.slice(chunk * DICT_PAGE_SENSORS, (chunk + 1) * DICT_PAGE_SENSORS),
    };
    writes.push({
      key: { pid, kind: 'dict', scope: 0, chunk, gen },
      page,
      expiresAtEpochSeconds: longExpiry,
    });
    dict[chunk] = { gen, expiresAtEpochSeconds: longExpiry };
  }

  // Sensor states.
  const state: (PageRef | null)[] = [...(before?.state ?? [])];
  const refreshState = new Set(input.refresh.state);
  for (const [chunk, states] of work.states) {
    if (!states.dirty && !refreshState.has(chunk)) continue;
    writes.push({
      key: { pid, kind: 'state', scope: 0, chunk, gen },
      page: states.page(),
      expiresAtEpochSeconds: longExpiry,
    });
    while (state.length <= chunk) state.push(null);
    state[chunk] = { gen, expiresAtEpochSeconds: longExpiry };
  }

  // Buckets.
  const buckets = new Map<number, BucketRefs>();
  for (const b of before?.buckets ?? [])
    if (b.expiresAtEpochSeconds > nowSeconds) buckets.set(b.startMs, b);
  let bucketPages = 0;
  for (const [startMs, byChunk] of work.buckets) {
    for (const [chunk, bucket] of byChunk) {
      if (!bucket.dirty) continue;
      bucketPages += 1;
      writes.push({
        key: { pid, kind: 'bucket', scope: startMs, chunk, gen },
        page: bucket.page(),
        expiresAtEpochSeconds: input.bucketExpiresAt,
      });
      const old = buckets.get(startMs);
      const chunks = [...(old?.chunks ?? [])];
      while (chunks.length <= chunk) chunks.push(null);
      chunks[chunk] = gen;
      buckets.set(startMs, {
        startMs,
        expiresAtEpochSeconds: Math.max(old?.expiresAtEpochSeconds ?? 0, input.bucketExpiresAt),
        chunks,
      });
    }
  }
  let hot = [...buckets.values()].sort((a, b) => a.startMs - b.startMs);
  const bucketIndex = (before?.bucketIndex ?? []).filter(
    (r) => r.expiresAtEpochSeconds > nowSeconds,
  );
  // The root is rewritten by every batch: past HOT_BUCKETS_MAX refs, the oldest move out to
  // an immutable index page, so the root stays small however long buckets live.
  if (hot.length > HOT_BUCKETS_MAX) {
    const moved = hot.slice(0, hot.length - HOT_BUCKETS_KEEP);
    hot = hot.slice(moved.length);
    const chunk = (bucketIndex.at(-1)?.chunk ?? -1) + 1;
    const expiresAtEpochSeconds = Math.max(...moved.map((b) => b.expiresAtEpochSeconds));
    writes.push({
      key: { pid, kind: 'index', scope: 0, chunk, gen },
      page: { kind: 'index', buckets: moved },
      expiresAtEpochSeconds,
    });
    bucketIndex.push({ chunk, gen, expiresAtEpochSeconds });
  }
  let table: PageTable = { sensors: work.ids.length, dict, state, buckets: hot, bucketIndex };
  while (
    table.buckets.length + table.bucketIndex.length > 0 &&
    input.tableBytes(table) > input.maxTableBytes
  ) {
    // The oldest first (as if expired): index pages, then the root's own refs, a tenth at a time.
    table =
      table.bucketIndex.length > 0
        ? {
            ...table,
            bucketIndex: table.bucketIndex.slice(Math.ceil(table.bucketIndex.length / 10)),
          }
        : { ...table, buckets: table.buckets.slice(Math.ceil(table.buckets.length / 10)) };
  }
  return { writes, table, bucketPages };
}
