import type { DigestContribution } from '../core/alerting/digest.ts';
import type { EpisodeEnd, EpisodeState } from '../core/alerting/episodes.ts';
import type { GroupPeriod } from '../core/alerting/groups.ts';
import type { NotificationState } from '../core/alerting/notification-policy.ts';
import type { ClosingCursor } from '../core/open-windows.ts';
import type { AlertDecision, Reading } from '../core/types.ts';
import type { HeldReading } from '../core/window-close.ts';

/**
 * The state of the batch path and the store port that keeps it (docs/state.md). Each Kafka
 * partition owns a root and the pages it points to, and is their only writer: the event
 * source mapping gives a partition one batch at a time, which is the only concurrency
 * control the batch path needs. Pages are immutable (their key carries a generation) and
 * become visible by one conditional write of the root.
 */

/** What a learning detector knows of one sensor: plain JSON, kept opaquely. */
export interface LearnedState {
  readonly kind: string;
  readonly state: unknown;
}

/**
 * One sensor's state beside its aggregates: its notification state (cooldown, last notified
 * severity and exceedance), its open episode, and what its detector learned.
 */
export interface SensorState {
  readonly cooldown: NotificationState;
  readonly learned?: LearnedState;
  readonly episode?: EpisodeState;
}

/** Offsets below the decided offset that no batch delivered, judged when replayed. */
export interface OffsetGap {
  readonly from: number;
  readonly to: number;
  /** Offsets of the gap up to here have been judged (from − 1: none). */
  readonly decidedThrough: number;
}

/**
 * Per source partition of repartitioned records (headers `source-topic`, `source-partition`,
 * `source-offset`): the highest source offset decided, and the latest record timestamp
 * decided from it (a source offset at or below the mark but newer than that is a recreated
 * source topic, not a duplicate).
 */
export interface SourceMark {
  readonly offset: number;
  readonly maxTimestampMs: number;
}

/** Where a page of the current state is, and until when it lives (TTL, epoch seconds). */
export interface PageRef {
  readonly gen: string;
  readonly expiresAtEpochSeconds: number;
}

/** One bucket of the partition: its page of each sensor-index chunk (null: none written). */
export interface BucketRefs {
  readonly startMs: number;
  readonly expiresAtEpochSeconds: number;
  readonly chunks: readonly (string | null)[];
}

/**
 * The pages that make up a partition's state. New kinds of per-partition state (open-window
 * readings, digest and episode state) are more page kinds here, made visible by the same
 * root write.
 */
export interface PageTable {
  /** Sensors in the dictionary (indices 0 … sensors − 1). */
  readonly sensors: number;
  /** Dictionary page i: the ids of indices [i·DICT_PAGE_SENSORS, …). */
  readonly dict: readonly PageRef[];
  /** Sensor-state page per chunk of STATE_PAGE_SENSORS indices (null: none yet). */
  readonly state: readonly (PageRef | null)[];
  /** Buckets written lately, oldest first: their refs ride in the root. */
  readonly buckets: readonly BucketRefs[];
  /**
   * Older buckets' refs, moved out of the root (which every batch rewrites) into immutable
   * index pages, oldest first; a later page's ref of a bucket, and any ref in `buckets`, wins.
   */
  readonly bucketIndex: readonly IndexRef[];
}

export interface IndexRef {
  readonly chunk: number;
  readonly gen: string;
  readonly expiresAtEpochSeconds: number;
}

export const EMPTY_PAGE_TABLE: PageTable = {
  sensors: 0,
  dict: [],
  state: [],
  buckets: [],
  bucketIndex: [],
};

/**
 * A partition's root: everything a batch commits, in one item written conditionally on its
 * version. `commitId` names the attempt that wrote it, so an attempt whose write landed but
 * whose response was lost (the SDK retries, the retry fails its condition) knows its own
 * commit.
 */
export interface PartitionRoot {
  readonly version: number;
  readonly commitId: string;
  readonly epoch: number;
  readonly decidedThroughOffset: number;
  /** The latest record timestamp decided (-Infinity: none): a newer record at a decided offset is a recreated topic. */
  readonly maxTimestampMs: number;
  readonly gaps: readonly OffsetGap[];
  /** By `<topic>#<partition>` of the source. */
  readonly sources: Readonly<Record<string, SourceMark>>;
  readonly pages: PageTable;
  /** Decided anomalies whose delivery is not known to be done (the outbox). */
  readonly outbox: readonly AlertDecision[];
  /** Window-close evaluation: the open windows (absent: none, or arrival evaluation). */
  readonly openWindows?: OpenWindowsRoot;
  /** Episodes that ended, delivered with the outbox (docs/alerting.md). @default none */
  readonly episodeEnds?: readonly EpisodeEnd[];
  /**
   * Per processing-time period, the partition's latest committed digest contribution (the
   * head of its chain), newest last, at most MAX_DIGEST_HEADS (docs/alerting.md). @default none
   */
  readonly digestHeads?: readonly DigestHead[];
  /**
   * Alert groups' open periods (docs/alerting-groups.md), at most MAX_GROUP_PERIODS of them,
   * keyed by a hash of the group. @default none
   */
  readonly groups?: readonly GroupPeriod[];
}

export interface DigestHead {
  readonly periodStartMs: number;
  readonly gen: string;
}

/** Periods whose heads a root remembers: 16 hours of 15-minute periods with alerts. */
export const MAX_DIGEST_HEADS = 64;

/**
 * The open windows of a partition under window-close evaluation (docs/state.md, "Open
 * windows"): the watermark and the closing cursor ride in the root; the held readings live in
 * open pages, per bucket start, appended a part per commit.
 */
export interface OpenWindowsRoot {
  readonly watermarkMs: number | null;
  readonly seq: number;
  readonly closing: ClosingCursor | null;
  /** Processing time when the watermark last moved: the scheduled flush moves it on from here. */
  readonly movedAtMs: number;
  readonly buckets: readonly OpenBucketRefs[];
  /** Readings of a record taken while due windows were still closing (at most one record's). */
  readonly queued: readonly Reading[];
}

/** One bucket start's open pages: part n has generation parts[n]. */
export interface OpenBucketRefs {
  readonly startMs: number;
  readonly expiresAtEpochSeconds: number;
  readonly parts: readonly string[];
}

export type PageKind = 'dict' | 'bucket' | 'state' | 'index' | 'open' | 'digest';

export interface PageKey {
  readonly pid: string;
  readonly kind: PageKind;
  /** The bucket start of a bucket or open page, the period start of a digest page; 0 otherwise. */
  readonly scope: number;
  /** Which chunk of sensor indices (or which dictionary page). */
  readonly chunk: number;
  readonly gen: string;
}

/** The ids of one dictionary page, in index order. */
export interface DictPage {
  readonly kind: 'dict';
  readonly ids: readonly string[];
}

/**
 * Aggregates of one bucket for one chunk of sensor indices, as columns indexed by
 * `index − chunk start`. `sumSq` is kept only when a detector of the chunk needs it (zscore);
 * a value NaN there means "not kept when that reading was added".
 */
export interface BucketPage {
  readonly kind: 'bucket';
  readonly count: readonly number[];
  readonly sum: readonly number[];
  readonly sumSq: readonly number[] | null;
}

/** Sensor states of one chunk of indices, by `index − chunk start`. */
export interface StatePage {
  readonly kind: 'state';
  readonly entries: ReadonlyMap<number, SensorState>;
}

/** Bucket refs moved out of the root (see PageTable.bucketIndex). */
export interface IndexPage {
  readonly kind: 'index';
  readonly buckets: readonly BucketRefs[];
}

/** Readings held in open windows: one part of one bucket start, by sensor, in arrival order. */
export interface OpenPage {
  readonly kind: 'open';
  readonly sensors: ReadonlyMap<string, readonly HeldReading[]>;
}

/**
 * One commit's contribution to its period's digest, chained to the partition's previous one
 * of the period (`prev`, a generation). Keyed by period so the digest function finds a
 * period's pages with one query; only chains that a root's head reaches count (a page of an
 * attempt whose root write failed is never reached).
 */
export interface DigestPage {
  readonly kind: 'digest';
  readonly prev: string | null;
  readonly contribution: DigestContribution;
}

export type Page = DictPage | BucketPage | StatePage | IndexPage | OpenPage | DigestPage;

export interface PageWrite {
  readonly key: PageKey;
  readonly page: Page;
  readonly expiresAtEpochSeconds: number;
}

/** A map key for a page (ids and partition ids never hold control characters). */
export function pageId(key: PageKey): string {
  return `${key.pid}\u0000${key.kind}\u0000${key.scope}\u0000${key.chunk}\u0000${key.gen}`;
}

/** What fits one root item: the adapter's byte budgets, measured by its own encoding. */
export interface StoreLimits {
  /** The outbox of one commit stops growing at this many bytes (judging goes on after). */
  readonly maxOutboxBytes: number;
  /** The most one alert can take in the outbox (bounds a record of several readings). */
  readonly maxAlertBytes: number;
  alertBytes(alert: AlertDecision): number;
  /** An episode end's share of the outbox budget (at most maxAlertBytes). */
  episodeEndBytes(end: EpisodeEnd): number;
  readonly maxPageTableBytes: number;
  pageTableBytes(table: PageTable): number;
}

/**
 * Where partitions keep their state. Reads of roots are strongly consistent; pages are
 * immutable, so any read of one gives the one version there is.
 */
export interface PartitionStore {
  readonly limits: StoreLimits;
  readRoots(pids: readonly string[]): Promise<ReadonlyMap<string, PartitionRoot>>;
  /** Pages by pageId; an absent or expired one (TTL at or before now) is left out. */
  readPages(keys: readonly PageKey[], nowEpochSeconds: number): Promise<ReadonlyMap<string, Page>>;
  /** Unconditional puts of new keys: invisible until a root points to them. */
  putPages(writes: readonly PageWrite[]): Promise<void>;
  /**
   * Writes the root if its version is still `expectedVersion` (null: no root yet);
   * otherwise throws StoreConflictError.
   */
  commitRoot(pid: string, root: PartitionRoot, expectedVersion: number | null): Promise<void>;
}
