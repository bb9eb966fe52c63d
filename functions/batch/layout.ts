/**
 * How a partition's state is cut into pages (docs/state.md). Fixed index ranges, so that a
 * page's worst case is known in advance and fits an item (the adapter's budgets check it):
 * a dictionary page of 1,024 ids of 256 bytes is 264 KB, a bucket page of 1,024 sensors with
 * sums of squares 17 KB, a state page of 256 sensors with the largest learned state 128 KB.
 */
export const DICT_PAGE_SENSORS = 1024;
export const BUCKET_PAGE_SENSORS = 1024;
export const STATE_PAGE_SENSORS = 256;

/**
 * Bucket refs the root carries: past the max, all but the newest KEEP move to an index page
 * (at the 5 s slide, one small index page per 15 s of buckets, against a root rewrite per
 * batch: the root stays a few hundred bytes).
 */
export const HOT_BUCKETS_MAX = 6;
export const HOT_BUCKETS_KEEP = 3;

/** Skipped offset ranges a root remembers; the oldest is forgotten first. */
export const MAX_GAPS = 16;
/** Source partitions a root keeps a mark for; the least recently seen is forgotten first. */
export const MAX_SOURCES = 256;

/**
 * Dictionary and state pages live this long, and are rewritten when less than half is left:
 * a partition that sees no batch for this long starts afresh (as a sensor silent for a day
 * did before). Superseded generations are kept by nobody and expire with it, so what they
 * cost in storage is bounded by a day of a partition's writes.
 */
export const LONG_PAGE_LIFE_SECONDS = 25 * 3600;

/**
 * A last notification more than this far ahead of processing time comes from a clock that
 * ran ahead (a producer's CreateTime years in the future): it is not held against anomalies.
 */
export const COOLDOWN_CREDIBLE_AHEAD_MS = 24 * 3600 * 1000;

export function chunkOf(index: number, size: number): number {
  return Math.floor(index / size);
}
