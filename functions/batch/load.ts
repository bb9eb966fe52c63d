import type { Reading } from '../core/types.ts';
import { bucketStartMs, type WindowSpec, windowBucketStarts } from '../core/windows.ts';
import { currentBucketRefs, indexKey } from './bucket-refs.ts';
import {
  BUCKET_PAGE_SENSORS,
  chunkOf,
  DICT_PAGE_SENSORS,
  LONG_PAGE_LIFE_SECONDS,
  STATE_PAGE_SENSORS,
} from './layout.ts';
import type { PageCache } from './page-cache.ts';
import {
  type BucketPage,
  type DictPage,
  EMPTY_PAGE_TABLE,
  type IndexPage,
  type Page,
  type PageKey,
  type PartitionRoot,
  type PartitionStore,
  pageId,
  type StatePage,
} from './state.ts';
import { WorkingState } from './working-state.ts';

export interface LoadContext {
  readonly store: PartitionStore;
  readonly cache: PageCache;
  readonly nowSeconds: number;
  readonly window: WindowSpec;
}

/** Pages by key: from the container's cache, the rest in one read (counted). */
export async function fetchPages(
  ctx: Pick<LoadContext, 'store' | 'cache' | 'nowSeconds'>,
  keys: readonly PageKey[],
): Promise<{ pages: Map<string, Page>; read: number }> {
  const pages = new Map<string, Page>();
  const missing: PageKey[] = [];
  for (const key of keys) {
    const hit = ctx.cache.get(key);
    if (hit !== undefined) pages.set(pageId(key), hit);
    else missing.push(key);
  }
  if (missing.length === 0) return { pages, read: 0 };
  const found = await ctx.store.readPages(missing, ctx.nowSeconds);
  for (const key of missing) {
    const id = pageId(key);
    const page = found.get(id);
    if (page === undefined) continue;
    pages.set(id, page);
    ctx.cache.set(key, page);
  }
  return { pages, read: missing.length };
}

export interface Loaded {
  readonly work: WorkingState;
  readonly pagesRead: number;
  /** The root's pages had expired: the new page table starts empty. */
  readonly fresh: boolean;
  /** Dictionary and state pages to write again before their TTL. */
  readonly refresh: { readonly dict: readonly number[]; readonly state: readonly number[] };
}

/**
 * A partition's working state for the readings about to be judged: the whole dictionary,
 * then for each reading the pages of its window's buckets and of its sensor state, in its
 * sensor's chunk. A warm container holds them all already (pages never change), so a warm
 * batch reads only its root.
 */
export async function loadState(
  ctx: LoadContext,
  pid: string,
  root: PartitionRoot | null,
  readings: readonly Reading[],
  /** Sensors whose state pages are needed besides the readings' (closing their windows). */
  alsoSensors: readonly string[] = [],
): Promise<Loaded> {
  // A partition idle past its pages' TTL: its dictionary and states are gone; start afresh.
  const expired = (root?.pages.dict ?? []).some((r) => r.expiresAtEpochSeconds <= ctx.nowSeconds);
  const table = root === null || expired ? EMPTY_PAGE_TABLE : root.pages;
  const soon = ctx.nowSeconds + LONG_PAGE_LIFE_SECONDS / 2;
  const dictKeys: PageKey[] = table.dict.map((ref, chunk) => ({
    pid,
    kind: 'dict',
    scope: 0,
    chunk,
    gen: ref.gen,
  }));
  const dict = await fetchPages(ctx, dictKeys);
  const ids: string[] = [];
  for (const key of dictKeys) {
    const page = dict.pages.get(pageId(key)) as DictPage | undefined;
    const first = key.chunk * DICT_PAGE_SENSORS;
    const n = Math.min(DICT_PAGE_SENSORS, table.sensors - first);
    for (let i = 0; i < n; i += 1) {
      // A page lost to its TTL (it is rewritten long before): its sensors start afresh
      // under new indices; a placeholder no sensor id can be (ids hold no control characters).
      ids.push(page?.ids[i] ?? `\u0000lost#${first + i}`);
    }
  }
  const work = new WorkingState(ids);

  const indexKeys = table.bucketIndex.map((ref) => indexKey(pid, ref));
  const index = await fetchPages(ctx, indexKeys);
  const buckets = currentBucketRefs(
    table,
    (ref) => index.pages.get(pageId(indexKey(pid, ref))) as IndexPage | undefined,
    ctx.nowSeconds,
  );
  const wantBuckets = new Map<string, { startMs: number; chunk: number; key: PageKey | null }>();
  const wantStates = new Map<number, PageKey | null>();
  // (bucket, chunk) pairs already looked at: most readings share theirs with a reading before
  // them, so the per-reading work is two lookups, not a window's worth of keys.
  const seen = new Map<number, Set<number>>();
  for (const r of readings) {
    const index = work.index(r.sensorId);
    const chunk = chunkOf(index, BUCKET_PAGE_SENSORS);
    const last = bucketStartMs(r.eventTimeMs, ctx.window);
    let chunks = seen.get(last);
    if (chunks === undefined) {
      chunks = new Set();
      seen.set(last, chunks);
    }
    const stateChunk = chunkOf(index, STATE_PAGE_SENSORS);
    if (chunks.has(chunk)) {
      if (!wantStates.has(stateChunk))
        wantStates.set(stateChunk, expired ? null : stateKey(pid, root, stateChunk));
      continue;
    }
    chunks.add(chunk);
    for (const startMs of windowBucketStarts(r.eventTimeMs, ctx.window)) {
      const id = `${startMs}/${chunk}`;
      if (wantBuckets.has(id)) continue;
      const gen = buckets.get(startMs)?.chunks[chunk] ?? null;
      wantBuckets.set(id, {
        startMs,
        chunk,
        key: gen === null ? null : { pid, kind: 'bucket', scope: startMs, chunk, gen },
      });
    }
    if (!wantStates.has(stateChunk))
      wantStates.set(stateChunk, expired ? null : stateKey(pid, root, stateChunk));
  }
  for (const sensorId of alsoSensors) {
    const stateChunk = chunkOf(work.index(sensorId), STATE_PAGE_SENSORS);
    if (!wantStates.has(stateChunk))
      wantStates.set(stateChunk, expired ? null : stateKey(pid, root, stateChunk));
  }
  const refreshState: number[] = [];
  table.state.forEach((ref, chunk) => {
    if (ref === null || ref.expiresAtEpochSeconds > soon) return;
    refreshState.push(chunk);
    if (!wantStates.has(chunk)) wantStates.set(chunk, stateKey(pid, root, chunk));
  });
  const keys: PageKey[] = [];
  for (const w of wantBuckets.values()) if (w.key !== null) keys.push(w.key);
  for (const key of wantStates.values()) if (key !== null) keys.push(key);
  const rest = await fetchPages(ctx, keys);
  for (const w of wantBuckets.values()) {
    const page = w.key === null ? undefined : (rest.pages.get(pageId(w.key)) as BucketPage);
    work.putBucket(w.startMs, w.chunk, page);
  }
  for (const [chunk, key] of wantStates) {
    work.putStates(chunk, key === null ? undefined : (rest.pages.get(pageId(key)) as StatePage));
  }
  const refreshDict: number[] = [];
  table.dict.forEach((ref, chunk) => {
    if (ref.expiresAtEpochSeconds <= soon) refreshDict.push(chunk);
  });
  return {
    work,
    fresh: expired,
    pagesRead: dict.read + index.read + rest.read,
    refresh: { dict: refreshDict, state: refreshState },
  };
}

function stateKey(pid: string, root: PartitionRoot | null, chunk: number): PageKey | null {
  const ref = root?.pages.state[chunk];
  return ref === undefined || ref === null
    ? null
    : { pid, kind: 'state', scope: 0, chunk, gen: ref.gen };
}
