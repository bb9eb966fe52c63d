import { StoreConflictError } from './adapters/store-errors.ts';
import type { DetectorConfig } from './config.ts';
import { type CooldownState, decideNotification, INITIAL_COOLDOWN } from './core/cooldown.ts';
import { compileRules, type DetectorResolver } from './core/detector-rules.ts';
import {
  type LearnedState as DetectorLearnedState,
  type DetectorSpec,
  evaluate,
  isLearning,
  type LearningDetector,
  learningStepInPlace,
  type Verdict,
  type WorkingLearnedState,
  type WorkingVerdict,
  workingLearnedState,
} from './core/detectors.ts';
import { type ParseResult, parseReading } from './core/parse-reading.ts';
import {
  type Aggregate,
  type AlertDecision,
  type Anomaly,
  EMPTY_AGGREGATE,
  type RawRecord,
  type Reading,
  SEVERITIES,
} from './core/types.ts';
import { addValue, bucketStartMs } from './core/windows.ts';
import {
  type AlertPublisher,
  type AnomalySink,
  type BatchObserver,
  type BatchReport,
  type BucketShard,
  type BucketShardKey,
  type BucketShardWrite,
  bucketShardId,
  type ClaimRequest,
  type Evaluation,
  type HomeClaim,
  type Inflight,
  type JournalAlert,
  type JournalWrite,
  type LearnedState,
  type LoadRequest,
  NO_OBSERVER,
  type PartitionJournal,
  type PartitionKey,
  partitionId,
  type Rejection,
  type SensorEntry,
  type ShardTarget,
  type StateShard,
  type StateShardKey,
  type StateShardWrite,
  stateShardId,
  type WindowStore,
} from './ports.ts';
import type { LastSeenRecorder } from './silence/last-seen-recorder.ts';

/** The detection settings the use case needs: the deployment-free part of DetectorConfig. */
export type DetectionSettings = Pick<
  DetectorConfig,
  | 'slideMs'
  | 'windowMs'
  | 'defaultDetector'
  | 'rules'
  | 'alertCooldownMs'
  | 'retentionMarginSeconds'
>;

export interface ProcessBatchDeps {
  readonly store: WindowStore;
  readonly publisher: AlertPublisher;
  /** Where every decided anomaly goes besides SNS, from the same outbox. @default none */
  readonly sinks?: readonly AnomalySink[];
  readonly observer?: BatchObserver;
  /** Processing time in ms; drives TTLs and expiry, never detection. */
  readonly nowMs: () => number;
  /** The Kafka cluster the records come from (streamIdOf the event). @default '' */
  readonly stream?: string;
  /** What a warm container keeps between invocations. @default one per processor */
  readonly cache?: StateCache;
  /**
   * The detector of each (topic, sensor), e.g. from the rules stored in the table
   * (functions/live-rules.ts). @default compiled from settings.defaultDetector and .rules
   */
  readonly resolveDetector?: DetectorResolver;
  /** Records when watched sensors were last heard from (docs/silence.md). @default none */
  readonly lastSeen?: Pick<LastSeenRecorder, 'record'>;
  /**
   * How long this invocation may still run (Lambda's remaining time): shard writes it
   * announces in a home's journal block other writers of that home at most this long if it
   * dies. @default LEASE_MS
   */
  readonly leaseMs?: number;
  /** Waits between attempts while a home's announced writes are still landing. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A Kafka event source mapping's function runs at most 14 minutes; a bound above any. */
export const LEASE_MS = 15 * 60 * 1000;
/** Attempts while another writer's announced writes to a home are landing (about 5 s). */
const MAX_BUSY_ATTEMPTS = 12;

/**
 * Another writer announced shard writes to a home this batch must read, and they have not
 * all landed yet: the batch waits and reads again (docs/state.md, "One writer at a time").
 */
export class HomeBusyError extends StoreConflictError {
  constructor(home: string) {
    super(`${home}: another writer's announced shard writes have not landed yet`);
  }
}

/** Sensor state outlives the cooldown by this much, so a quiet sensor's state still expires. */
const SENSOR_STATE_EXTRA_SECONDS = 24 * 3600;
const RAW_PREVIEW_BYTES = 200;
/** Conflicts answered inside one invocation (reload, judge again) before the batch fails. */
const MAX_ATTEMPTS = 4;
/**
 * A partition's journal holds its batch's anomalies until they are published. Above this
 * estimate the batch is committed in smaller pieces, so the journal stays one item far
 * below DynamoDB's 400 KB (no page items to lose or orphan).
 */
export const JOURNAL_ALERT_BYTES_LIMIT = 96 * 1024;
/** A new bucket or state set gets enough shards for this many bytes each... */
export const SHARD_TARGET_BYTES = 32 * 1024;
/** ...and a shard above this after a batch is split in two (and again), marks kept. */
export const SHARD_SPLIT_BYTES = 96 * 1024;
/** Skipped offset ranges a journal remembers; the oldest is forgotten first. */
export const MAX_GAPS = 16;

/**
 * The use case shared by the Lambda handler, the local pipeline and the backtest:
 * parse → evaluate → persist → alert, with the guarantees of semantics.md §6 and the layout
 * of docs/state.md.
 *
 * Order of effects, each step idempotent so that a retry after a failure anywhere converges:
 *  1. read the partitions' journals; a warm container whose cached journal version matches
 *     reads nothing else of its own partition;
 *  2. find each sensor's home partition (claims), and load the packed bucket and state
 *     shards of every home the batch touches that is not cached;
 *  3. judge every record not yet decided (offset > the partition's decided offset, in its
 *     epoch), in offset order, against the in-memory state;
 *  4. save each partition's journal: the decided offset and the anomalies (the outbox);
 *     from here on no retry re-judges these records; the anomalies are reported now;
 *  5. save every touched shard once, conditional on its version; each carries per-writer
 *     marks so a retried record is never applied twice;
 *  6. publish the journal's unpublished notifications; 7. trim the journal.
 * A version conflict (a stale cache, a concurrent writer) is answered by reloading and
 * running the batch again; a batch whose journal would be too large is run in halves.
 */
export function createBatchProcessor(settings: DetectionSettings, deps: ProcessBatchDeps) {
  const resolveDetector =
    deps.resolveDetector ?? compileRules(settings.defaultDetector, settings.rules);
  const observer = deps.observer ?? NO_OBSERVER;
  const cache = deps.cache ?? new StateCache();
  const stream = deps.stream ?? '';

  return async function processBatch(records: readonly RawRecord[]): Promise<BatchReport> {
    const nowMs = deps.nowMs();
    const groups = groupByPartition(records, stream);
    const run = new BatchRun(settings, resolveDetector, deps, observer, cache, nowMs);
    const total = emptyReport(records.length);
    await runSplitting(run, groups, total);
    // Silent sensors (docs/silence.md): after the batch, whom each partition heard from.
    if (deps.lastSeen !== undefined) await deps.lastSeen.record(heardFrom(groups), nowMs);
    return total;
  };
}

async function runSplitting(
  run: BatchRun,
  groups: readonly PartitionGroup[],
  total: MutableReport,
): Promise<void> {
  let busy = 0;
  for (let attempt = 1; ; attempt += 1) {
    try {
      addReport(total, await run.once(groups));
      return;
    } catch (error) {
      if (error instanceof JournalTooLarge) {
        const [first, second] = halves(groups);
        if (second.length === 0) throw error;
        await runSplitting(run, first, total);
        await runSplitting(run, second, total);
        return;
      }
      run.forget(groups);
      if (error instanceof HomeBusyError) {
        busy += 1;
        attempt -= 1;
        if (busy >= MAX_BUSY_ATTEMPTS) throw error;
        await run.pause(Math.min(20 * 2 ** busy, 640) * (0.5 + Math.random()));
        continue;
      }
      if (!(error instanceof StoreConflictError) || attempt >= MAX_ATTEMPTS) throw error;
      // Two partitions that each announced in the other's home and then lost their own
      // commit both step back: a moment of jitter keeps them from meeting again.
      if (attempt >= 2) await run.pause(Math.random() * 20 * attempt);
    }
  }
}

class JournalTooLarge extends Error {
  override readonly name = 'JournalTooLarge';
}

/** Each partition's records cut in two, first halves before second halves. */
function halves(groups: readonly PartitionGroup[]): [PartitionGroup[], PartitionGroup[]] {
  const first: PartitionGroup[] = [];
  const second: PartitionGroup[] = [];
  for (const g of groups) {
    const mid = Math.ceil(g.records.length / 2);
    if (g.records.length <= 1) {
      first.push(g);
      continue;
    }
    first.push({ ...g, records: g.records.slice(0, mid), parsed: g.parsed.slice(0, mid) });
    second.push({ ...g, records: g.records.slice(mid), parsed: g.parsed.slice(mid) });
  }
  return [first, second];
}

type MutableReport = {
  -readonly [K in keyof BatchReport]: BatchReport[K] extends Readonly<Record<string, number>>
    ? Record<string, number>
    : BatchReport[K];
};

function emptyReport(records: number): MutableReport {
  return {
    records,
    readings: 0,
    rejectedByReason: {},
    redelivered: 0,
    anomalies: 0,
    notificationsSent: 0,
    notificationsHeldBack: 0,
    bucketsWritten: 0,
    bucketKeysRead: 0,
    foreignReadings: 0,
  };
}

function addReport(total: MutableReport, part: Omit<BatchReport, 'records'>): void {
  total.readings += part.readings;
  for (const [reason, n] of Object.entries(part.rejectedByReason))
    total.rejectedByReason[reason] = (total.rejectedByReason[reason] ?? 0) + n;
  total.redelivered += part.redelivered;
  total.anomalies += part.anomalies;
  total.notificationsSent += part.notificationsSent;
  total.notificationsHeldBack += part.notificationsHeldBack;
  total.bucketsWritten += part.bucketsWritten;
  total.bucketKeysRead += part.bucketKeysRead;
  total.foreignReadings += part.foreignReadings;
}

interface PartitionGroup {
  readonly key: PartitionKey;
  readonly pid: string;
  readonly records: readonly RawRecord[];
  readonly parsed: readonly ParseResult[];
}

/** Records per partition in offset order; a repeated offset within one batch counts once. */
function groupByPartition(records: readonly RawRecord[], stream: string): PartitionGroup[] {
  const byId = new Map<string, { key: PartitionKey; records: RawRecord[] }>();
  // An event lists each partition's records together: look the group up only when it changes.
  let group: { key: PartitionKey; records: RawRecord[] } | undefined;
  for (const record of records) {
    if (group?.key.topic !== record.topic || group.key.partition !== record.partition) {
      const key = { topic: record.topic, partition: record.partition };
      const id = partitionId(key, stream);
      group = byId.get(id);
      if (group === undefined) {
        group = { key, records: [] };
        byId.set(id, group);
      }
    }
    group.records.push(record);
  }
  const sorted = [...byId.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const result: PartitionGroup[] = [];
  for (const [pid, g] of sorted) {
    let list = g.records;
    // Lambda delivers a partition in offset order: sort and de-duplicate only when it is not.
    if (!strictlyIncreasing(list)) {
      list.sort((a, b) => a.offset - b.offset);
      list = list.filter((r, i, all) => i === 0 || all[i - 1]?.offset !== r.offset);
    }
    result.push({ key: g.key, pid, records: list, parsed: list.map(parseReading) });
  }
  return result;
}

/** The sensors of each partition's valid readings, for the last-seen record. */
function heardFrom(groups: readonly PartitionGroup[]) {
  return groups.map((g) => ({
    pid: g.pid,
    topic: g.key.topic,
    sensorIds: g.parsed.flatMap((p) => (p.ok ? [p.reading.sensorId] : [])),
  }));
}

function strictlyIncreasing(records: readonly RawRecord[]): boolean {
  for (let i = 1; i < records.length; i += 1) {
    if ((records[i - 1] as RawRecord).offset >= (records[i] as RawRecord).offset) return false;
  }
  return true;
}

/**
 * What a warm Lambda container keeps between invocations (containers are reused): per
 * partition the journal version it last wrote or read and the shards it used then, and the
 * home of each sensor. The cached shards are used only while the partition's journal still
 * has that version (read at the start of every batch), so another container's batches are
 * never missed; a concurrent writer's change surfaces as a version conflict on write.
 */
export class StateCache {
  readonly partitions = new Map<string, CachedPartition>();
  readonly homes = new Map<string, HomeClaim>();
  /**
   * Anomalies this container has told its observer and not yet trimmed from their journal:
   * a batch run again after a version conflict does not log them twice.
   */
  readonly told = new Set<string>();
  /** A container serves a bounded fleet; past this many sensors the home cache restarts. */
  static readonly MAX_HOMES = 200_000;

  rememberHome(sensorId: string, claim: HomeClaim): void {
    if (this.homes.size >= StateCache.MAX_HOMES) this.homes.clear();
    this.homes.set(sensorId, claim);
  }
}

interface CachedPartition {
  readonly journalVersion: number;
  /** By shard id; null: known to be absent. */
  readonly buckets: Map<string, BucketShard | null>;
  readonly states: Map<string, StateShard | null>;
}

interface ShardMeta {
  readonly expected: number | null;
  marks: Record<string, number>;
  dirty: boolean;
}

/**
 * A set of shards in memory: a bucket of a home partition (entries: aggregates) or its
 * sensor state (entries: cooldown and learned state). `shards` is 0 for a set that does not
 * exist yet: its shard count is chosen when it is first written.
 */
class ShardSet<E> {
  shards: number;
  readonly metas: ShardMeta[];
  readonly entries: Map<string, E>;
  /** The marks of a new set, given to every one of its shards when it is written. */
  readonly pending: ShardMeta = { expected: null, marks: {}, dirty: false };

  constructor(shards: number, metas: ShardMeta[], entries: Map<string, E>) {
    this.shards = shards;
    this.metas = metas;
    this.entries = entries;
  }

  meta(sensorId: string): ShardMeta {
    if (this.shards === 0) return this.pending;
    return this.metas[shardOf(sensorId, this.shards)] as ShardMeta;
  }

  dirty(): boolean {
    return this.shards === 0 ? this.pending.dirty : this.metas.some((m) => m.dirty);
  }

  /**
   * The shards to write: a new set gets its shard count from its size; a shard grown past
   * SHARD_SPLIT_BYTES is split by doubling the count (each new shard takes its sensors from
   * one old shard, so it keeps that shard's marks); shard 0, which names the count, is
   * written whenever any shard is, so it never expires before the others.
   */
  /** Set when this batch splits the set: its shard count before. */
  splitFrom: number | null = null;

  private sizes(entryBytes: (id: string, e: E) => number): number[] {
    const sizes = new Array<number>(this.shards).fill(0);
    for (const [id, e] of this.entries) {
      const i = shardOf(id, this.shards);
      sizes[i] = (sizes[i] ?? 0) + entryBytes(id, e);
    }
    return sizes;
  }

  /** The shard count a split would give this batch's set, or null when none is needed. */
  splitTo(entryBytes: (id: string, e: E) => number): number | null {
    if (this.shards === 0 || !this.dirty()) return null;
    const largest = Math.max(...this.sizes(entryBytes));
    if (largest <= SHARD_SPLIT_BYTES) return null;
    return this.shards * powerOfTwoAtLeast(Math.ceil(largest / SHARD_TARGET_BYTES));
  }

  /**
   * The shards to write: a new set gets its shard count from its size (at least `minBytes`,
   * the size of the bucket before it, so a batch that opens a bucket with a few sensors does
   * not make it small); a shard grown past SHARD_SPLIT_BYTES is split by doubling the count
   * (each new shard takes its sensors from one old shard, so it keeps that shard's marks;
   * `versions` are those of any items already at the new indices). Shard 0, which names the
   * count, is written whenever any shard is, so it never expires before the others.
   */
  layout(
    entryBytes: (id: string, e: E) => number,
    minBytes = 0,
    versions: ReadonlyMap<number, number | null> = new Map(),
  ): { index: number; meta: ShardMeta }[] {
    if (!this.dirty()) return [];
    if (this.shards === 0) {
      let bytes = 0;
      for (const [id, e] of this.entries) bytes += entryBytes(id, e);
      const n = powerOfTwoAtLeast(Math.ceil(Math.max(bytes, minBytes) / SHARD_TARGET_BYTES));
      this.shards = n;
      for (let i = 0; i < n; i += 1) {
        this.metas.push({ expected: null, marks: { ...this.pending.marks }, dirty: true });
      }
    } else {
      const to = this.splitTo(entryBytes);
      if (to !== null) {
        const old = this.shards;
        this.splitFrom = old;
        this.shards = to;
        for (let i = 0; i < to; i += 1) {
          const from = this.metas[i % old] as ShardMeta;
          if (i < old) (this.metas[i] as ShardMeta).dirty = true;
          else
            this.metas.push({
              expected: versions.get(i) ?? null,
              marks: { ...from.marks },
              dirty: true,
            });
        }
      }
      (this.metas[0] as ShardMeta).dirty = true;
    }
    return this.metas.map((meta, index) => ({ index, meta })).filter((s) => s.meta.dirty);
  }

  /**
   * The order a split must be written in, so a reader never misses a sensor: the new shards
   * first (readers of the old count do not read them), then shard 0 (the new count), then
   * the old shards, which until then still hold the sensors that moved (a reader of the new
   * count takes the higher shard's entry).
   */
  phase(index: number): 0 | 1 | 2 {
    if (this.splitFrom === null || index === 0) return 1;
    return index >= this.splitFrom ? 0 : 2;
  }

  entriesOf(index: number): Map<string, E> {
    const result = new Map<string, E>();
    for (const [id, e] of this.entries) if (shardOf(id, this.shards) === index) result.set(id, e);
    return result;
  }
}

function powerOfTwoAtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** FNV-1a over UTF-16 code units: stable across processes and versions. */
export function shardOf(sensorId: string, shards: number): number {
  if (shards <= 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < sensorId.length; i += 1) {
    h ^= sensorId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

/** Bytes an entry takes in its item (the adapter's encodings), for sizing shards. */
function bucketEntryBytes(id: string): number {
  return 22 + Buffer.byteLength(id);
}

function stateEntryBytes(id: string, e: WorkingSensor): number {
  if (e.learned === undefined) return 40 + Buffer.byteLength(id);
  // Sized when first needed: most loaded states are learned again (and sized) by the batch.
  if (e.learnedBytes === UNSIZED) e.learnedBytes = JSON.stringify(e.learned).length;
  return 40 + Buffer.byteLength(id) + e.learnedBytes;
}

/** `learnedBytes` of a loaded entry whose learned state has not been measured yet. */
const UNSIZED = -1;

interface WorkingSensor {
  cooldown: CooldownState;
  learned: LearnedState | undefined;
  /** JSON size of `learned`, kept with it (UNSIZED until measured). */
  learnedBytes: number;
  expiresAtEpochSeconds: number;
}

/** One home partition's state as the batch sees it. */
class HomeState {
  readonly buckets = new Map<number, ShardSet<Aggregate>>();
  state: ShardSet<WorkingSensor> | undefined;
  /** Per sensor of this home, what the judging loop resolves once per attempt. */
  readonly cursors = new Map<string, SensorCursor>();
  constructor(readonly pid: string) {}
}

/**
 * One sensor as the per-reading loop of one attempt sees it: its detector, resolved once; its
 * entry in the home's state set once the attempt owns it (a copy of what the store or the cache
 * handed out, which is never changed; changed in place after that); and, under a learning
 * detector, the learned state it steps in place, read from the entry the first time.
 */
interface SensorCursor {
  /** The topic of the reading the detector was resolved for (rules may match on it). */
  topic: string;
  spec: DetectorSpec;
  learning: LearningDetector | null;
  entry: WorkingSensor | null;
  work: WorkingLearnedState | null;
  /** The sensor's shard of the state set (its layout is fixed while the batch is judged). */
  stateMeta: ShardMeta | null;
}

interface JudgeOutcome {
  readonly rejections: Rejection[];
  /** Null unless the observer asked for every evaluation. */
  readonly evaluations: Evaluation[] | null;
  readonly rejectedByReason: Record<string, number>;
  redelivered: number;
  readings: number;
  foreign: number;
}

/** One attempt at a batch (or a piece of one), and what it shares with the next attempt. */
class BatchRun {
  private readonly nowSeconds: number;
  private readonly nowMs: number;
  private readonly bucketLifeSeconds: number;
  private readonly sensorLifeSeconds: number;
  private readonly k: number;
  /** The learning detectors' verdict, written in place by each reading's step. */
  private readonly scratch: WorkingVerdict = {
    anomaly: false,
    mean: 0,
    count: 0,
    deviation: 0,
    limit: 0,
    score: 0,
  };

  constructor(
    private readonly settings: DetectionSettings,
    private readonly resolveDetector: DetectorResolver,
    private readonly deps: ProcessBatchDeps,
    private readonly observer: BatchObserver,
    private readonly cache: StateCache,
    nowMs: number,
  ) {
    this.nowSeconds = Math.floor(nowMs / 1000);
    this.nowMs = nowMs;
    this.bucketLifeSeconds = Math.ceil(settings.windowMs / 1000) + settings.retentionMarginSeconds;
    this.sensorLifeSeconds =
      this.bucketLifeSeconds +
      Math.ceil(settings.alertCooldownMs / 1000) +
      SENSOR_STATE_EXTRA_SECONDS;
    this.k = settings.windowMs / settings.slideMs;
  }

  /**
   * Writes the trimmed journals. Another partition may have announced writes in one of them
   * since the commit (an unkeyed sensor homed here): then the trim is applied again to the
   * journal as it is now. Resolves to the partitions whose journals had changed.
   */
  private async trim(
    trims: readonly JournalWrite[],
    done: ReadonlySet<string>,
    sent: ReadonlySet<string>,
  ): Promise<string[]> {
    const store = this.deps.store;
    try {
      await store.saveJournals(trims);
      return [];
    } catch (error) {
      if (!(error instanceof StoreConflictError)) throw error;
    }
    const moved: string[] = [];
    let todo = trims;
    for (let attempt = 1; todo.length > 0; attempt += 1) {
      const now = await store.load({
        journals: todo.map((t) => t.pid),
        buckets: [],
        states: [],
        homes: [],
      });
      const again: JournalWrite[] = [];
      for (const t of todo) {
        const journal = now.journals.get(t.pid);
        if (journal === undefined || journal.epoch !== t.item.epoch) continue;
        // Our own trim landed (its response was lost with another's conflict).
        if (journal.version === t.item.version && journal.alerts.length === t.item.alerts.length)
          continue;
        moved.push(t.pid);
        const alerts = journal.alerts
          .filter((a) => !done.has(a.anomaly.alertId))
          .map((a) =>
            sent.has(a.anomaly.alertId)
              ? { ...a, published: a.published || a.notify || this.sinks.length > 0 }
              : a,
          );
        again.push({
          pid: t.pid,
          expectedVersion: journal.version,
          item: { ...journal, alerts, version: journal.version + 1 },
        });
      }
      try {
        await store.saveJournals(again);
        return moved;
      } catch (error) {
        if (!(error instanceof StoreConflictError) || attempt >= MAX_ATTEMPTS) throw error;
      }
      todo = again;
    }
    return moved;
  }

  /** Waits `ms` between attempts. */
  pause(ms: number): Promise<void> {
    return (this.deps.sleep ?? sleep)(ms);
  }

  private get leaseMs(): number {
    return this.deps.leaseMs ?? LEASE_MS;
  }

  /**
   * Whether every write `inflight` announces to `home` is visible in what this batch read
   * (the item live, its version at least the announced one). Items not read are not part of
   * what this batch judges against.
   */
  private landed(home: string, inflight: Inflight, loaded: LoadedShards): boolean {
    for (const t of inflight.targets) {
      const item =
        t.bucketStartMs === null
          ? loaded.states.get(stateShardId({ pid: home, shard: t.shard }))
          : loaded.buckets.get(
              bucketShardId({ pid: home, bucketStartMs: t.bucketStartMs, shard: t.shard }),
            );
      if (item === undefined) continue;
      if (
        item === null ||
        item.expiresAtEpochSeconds <= this.nowSeconds ||
        item.version < t.version
      )
        return false;
    }
    return true;
  }

  /**
   * The announcements in other partitions' homes' journals (each conditional on the version
   * read), then the batch's own journals. A failure before any own journal landed abandons
   * the announcements, so the homes are not kept waiting for writes that will not come.
   */
  private async commit(acquires: readonly JournalWrite[], own: readonly JournalWrite[]) {
    const store = this.deps.store;
    if (acquires.length === 0) {
      await store.saveJournals(own);
      return;
    }
    const done: JournalWrite[] = [];
    let landed = false;
    try {
      for (const w of acquires) {
        await store.saveJournals([w]);
        done.push(w);
      }
      for (const w of own) {
        await store.saveJournals([w]);
        landed = true;
      }
    } catch (error) {
      // A commit whose response was lost landed all the same: then the announcements stand.
      if (!landed && done.length > 0) landed = await this.anyLanded(own);
      if (!landed) {
        for (const w of done) {
          const { inflight: _, ...rest } = w.item;
          await store
            .saveJournals([
              {
                pid: w.pid,
                expectedVersion: w.item.version,
                item: { ...rest, version: w.item.version + 1 },
              },
            ])
            .catch(() => {});
        }
      }
      throw error;
    }
  }

  /** Whether any of these journal writes is in the store (true when that cannot be read). */
  private async anyLanded(writes: readonly JournalWrite[]): Promise<boolean> {
    try {
      const now = await this.deps.store.load({
        journals: writes.map((w) => w.pid),
        buckets: [],
        states: [],
        homes: [],
      });
      return writes.some((w) => {
        const j = now.journals.get(w.pid);
        return (
          j !== undefined &&
          j.version === w.item.version &&
          j.decidedThroughOffset === w.item.decidedThroughOffset &&
          j.inflight?.untilMs === w.item.inflight?.untilMs &&
          j.alerts.length === w.item.alerts.length
        );
      });
    } catch {
      return true;
    }
  }

  /** After a failure nothing cached about these partitions can be trusted. */
  forget(groups: readonly PartitionGroup[]): void {
    for (const g of groups) this.cache.partitions.delete(g.pid);
  }

  async once(groups: readonly PartitionGroup[]): Promise<Omit<BatchReport, 'records'>> {
    const store = this.deps.store;
    const pids = groups.map((g) => g.pid);

    // 1. Journals, and the homes of sensors this container does not know yet.
    const unknown = new Set<string>();
    for (const g of groups) {
      for (const p of g.parsed) {
        if (!p.ok) continue;
        const known = this.cache.homes.get(p.reading.sensorId);
        if (known === undefined || known.expiresAtEpochSeconds <= this.nowSeconds) {
          unknown.add(p.reading.sensorId);
        }
      }
    }
    // A partition this container holds nothing of (a cold start, most often) has its own
    // shard 0s read in the same round, on the guess that its sensors are its own.
    const prefetch: { buckets: BucketShardKey[]; states: StateShardKey[] } = {
      buckets: [],
      states: [],
    };
    for (const g of groups) {
      if (this.cache.partitions.has(g.pid)) continue;
      const starts = new Set<number>();
      for (const p of g.parsed) {
        if (!p.ok) continue;
        const last = bucketStartMs(p.reading.eventTimeMs, this.settings);
        for (let i = 0; i < this.k; i += 1) starts.add(last - i * this.settings.slideMs);
      }
      for (const start of starts)
        prefetch.buckets.push({ pid: g.pid, bucketStartMs: start, shard: 0 });
      prefetch.states.push({ pid: g.pid, shard: 0 });
    }
    const first = await store.load({
      journals: pids,
      buckets: prefetch.buckets,
      states: prefetch.states,
      homes: [...unknown],
    });
    let keysRead = prefetch.buckets.length;
    const cached = new Map<string, CachedPartition>();
    for (const pid of pids) {
      const entry = this.cache.partitions.get(pid);
      const journal = first.journals.get(pid);
      if (entry !== undefined && journal !== undefined && entry.journalVersion === journal.version)
        cached.set(pid, entry);
      else this.cache.partitions.delete(pid);
    }
    // What was just read counts as known for this batch (absent ones included).
    for (const key of prefetch.buckets) {
      const id = bucketShardId(key);
      cached.get(key.pid) ??
        cached.set(key.pid, { journalVersion: -1, buckets: new Map(), states: new Map() });
      cached.get(key.pid)?.buckets.set(id, first.buckets.get(id) ?? null);
    }
    for (const key of prefetch.states) {
      const id = stateShardId(key);
      cached.get(key.pid) ??
        cached.set(key.pid, { journalVersion: -1, buckets: new Map(), states: new Map() });
      cached.get(key.pid)?.states.set(id, first.states.get(id) ?? null);
    }

    // 2. Homes: a live claim, or a claim by the first partition that sees the sensor.
    const claims: ClaimRequest[] = [];
    const claimed = new Set<string>();
    for (const g of groups) {
      for (const p of g.parsed) {
        if (!p.ok) continue;
        const id = p.reading.sensorId;
        if (claimed.has(id)) continue;
        let claim = this.cache.homes.get(id);
        if (claim === undefined || claim.expiresAtEpochSeconds <= this.nowSeconds) {
          claim = first.homes.get(id);
          if (claim !== undefined && claim.expiresAtEpochSeconds > this.nowSeconds)
            this.cache.rememberHome(id, claim);
        }
        const live = claim !== undefined && claim.expiresAtEpochSeconds > this.nowSeconds;
        // A claim is renewed by its home when half its life is gone.
        const renew =
          live &&
          claim?.home === g.pid &&
          (claim?.expiresAtEpochSeconds ?? 0) < this.nowSeconds + this.sensorLifeSeconds / 2;
        if (!live || renew) {
          claimed.add(id);
          claims.push({
            sensorId: id,
            home: live ? (claim as HomeClaim).home : g.pid,
            expiresAtEpochSeconds: this.nowSeconds + this.sensorLifeSeconds,
          });
        }
      }
    }
    if (claims.length > 0) {
      const won = await store.claimHomes(claims, this.nowSeconds);
      for (const c of claims) {
        const home = won.get(c.sensorId) ?? c.home;
        // Another partition's claim: its end is not known here; look again within the hour.
        const expires = home === c.home ? c.expiresAtEpochSeconds : this.nowSeconds + 3600;
        this.cache.rememberHome(c.sensorId, { home, expiresAtEpochSeconds: expires });
      }
    }
    const homeOf = (sensorId: string) => this.cache.homes.get(sensorId)?.home ?? '';

    // 3. The shards of every home the batch touches: shard 0 of each set, then the rest.
    const homes = new Map<string, HomeState>();
    const bucketStarts = new Map<string, Set<number>>();
    for (const g of groups) {
      for (const p of g.parsed) {
        if (!p.ok) continue;
        const home = homeOf(p.reading.sensorId);
        let starts = bucketStarts.get(home);
        if (starts === undefined) {
          starts = new Set();
          bucketStarts.set(home, starts);
          homes.set(home, new HomeState(home));
        }
        const last = bucketStartMs(p.reading.eventTimeMs, this.settings);
        for (let i = 0; i < this.k; i += 1) starts.add(last - i * this.settings.slideMs);
      }
    }
    // A partition's journal names the newest bucket it has written (as home): no read past it.
    const newest = new Map<string, number>();
    for (const pid of pids) {
      const journal = first.journals.get(pid);
      newest.set(pid, journal?.newestBucketMs ?? Number.NEGATIVE_INFINITY);
    }
    // The first partition of the batch whose readings reach each home of another partition.
    const writerOf = new Map<string, string>();
    for (const g of groups) {
      for (const p of g.parsed) {
        if (!p.ok) continue;
        const home = homeOf(p.reading.sensorId);
        if (home !== g.pid && !pids.includes(home) && !writerOf.has(home))
          writerOf.set(home, g.pid);
      }
    }
    const loaded = await this.loadShards(homes, bucketStarts, cached, newest, [...writerOf.keys()]);
    keysRead += loaded.keysRead;
    // One writer at a time: a home whose journal announces shard writes of another writer
    // that have not all landed is not judged against yet.
    const journalOf = (home: string) =>
      pids.includes(home) ? first.journals.get(home) : loaded.journals.get(home);
    // A retry of a batch that died among its shard writes finds its own writes still
    // announced: it replays them, and does not wait for writers later in partition order
    // (two such retries that each wait for the other would stall until a deadline).
    let retryOf: string | null = null;
    for (const home of homes.keys()) {
      const inflight = journalOf(home)?.inflight;
      if (inflight === undefined || !pids.includes(inflight.by)) continue;
      if (this.landed(home, inflight, loaded)) continue;
      if (retryOf === null || inflight.by < retryOf) retryOf = inflight.by;
    }
    for (const home of homes.keys()) {
      const inflight = journalOf(home)?.inflight;
      if (inflight === undefined || pids.includes(inflight.by) || inflight.untilMs <= this.nowMs)
        continue;
      if (retryOf !== null && inflight.by > retryOf) continue;
      if (!this.landed(home, inflight, loaded)) throw new HomeBusyError(home);
    }

    // 4. Judge.
    const outcome: JudgeOutcome = {
      rejections: [],
      evaluations: this.observer.evaluated === undefined ? null : [],
      redelivered: 0,
      readings: 0,
      rejectedByReason: {},
      foreign: 0,
    };
    const journalWrites: JournalWrite[] = [];
    const committed = new Map<string, PartitionJournal>();
    const batchEnd = new Map<string, number>();
    let freshCount = 0;
    let heldBack = 0;
    for (const g of groups) {
      const journal = first.journals.get(g.pid) ?? null;
      const result = this.judgePartition(g, journal, homes, homeOf, outcome);
      batchEnd.set(g.pid, g.records.at(-1)?.offset ?? -1);
      freshCount += result.fresh.length;
      heldBack += result.fresh.filter((a) => !a.notify).length;
      if (result.write !== null) {
        journalWrites.push({
          pid: g.pid,
          expectedVersion: journal?.version ?? null,
          item: result.write,
        });
        committed.set(g.pid, result.write);
      } else if (journal !== null) {
        committed.set(g.pid, journal);
      }
    }
    for (const w of journalWrites) {
      if (alertBytes(w.item.alerts) > JOURNAL_ALERT_BYTES_LIMIT) {
        const before = first.journals.get(w.pid);
        // Only this batch's anomalies can be cut smaller; earlier ones are drained first.
        if (before !== undefined && alertBytes(before.alerts) > JOURNAL_ALERT_BYTES_LIMIT / 2) {
          await this.drain(w.pid, before);
          throw new StoreConflictError(`${w.pid}: journal drained, judging again`);
        }
        throw new JournalTooLarge(w.pid);
      }
    }

    // Rejections are told when judged: they depend on the record alone.
    for (const rejection of outcome.rejections) this.observer.rejected(rejection);

    // 5. State: one conditional write per touched shard, computed before the commit (whose
    // journal names them) and written after it. A set that must split first reads
    // what may already sit at its new indices (an attempt that died mid-split).
    const splitBuckets: BucketShardKey[] = [];
    const splitStates: StateShardKey[] = [];
    for (const home of homes.values()) {
      for (const [start, set] of home.buckets) {
        const to = set.splitTo(bucketEntryBytes);
        for (let i = set.shards; to !== null && i < to; i += 1)
          splitBuckets.push({ pid: home.pid, bucketStartMs: start, shard: i });
      }
      const to = home.state?.splitTo(stateEntryBytes) ?? null;
      for (let i = home.state?.shards ?? 0; to !== null && i < to; i += 1)
        splitStates.push({ pid: home.pid, shard: i });
    }
    const existing =
      splitBuckets.length + splitStates.length === 0
        ? null
        : await store.load({ journals: [], buckets: splitBuckets, states: splitStates, homes: [] });
    const versionOf = (item: { version: number; expiresAtEpochSeconds: number } | undefined) =>
      item !== undefined && item.expiresAtEpochSeconds > this.nowSeconds ? item.version : null;

    const bucketWrites: BucketShardWrite[] = [];
    const stateWrites: StateShardWrite[] = [];
    const bucketPhases: BucketShardWrite[][] = [[], [], []];
    const statePhases: StateShardWrite[][] = [[], [], []];
    const bucketExpiry = this.nowSeconds + this.bucketLifeSeconds;
    for (const home of homes.values()) {
      for (const [start, set] of home.buckets) {
        const versions = new Map<number, number | null>();
        for (const key of splitBuckets) {
          if (key.pid === home.pid && key.bucketStartMs === start)
            versions.set(key.shard, versionOf(existing?.buckets.get(bucketShardId(key))));
        }
        const before = home.buckets.get(start - this.settings.slideMs);
        let minBytes = 0;
        for (const id of before?.entries.keys() ?? []) minBytes += bucketEntryBytes(id);
        for (const { index, meta } of set.layout(bucketEntryBytes, minBytes, versions)) {
          const w: BucketShardWrite = {
            key: { pid: home.pid, bucketStartMs: start, shard: index },
            expectedVersion: meta.expected,
            item: {
              version: (meta.expected ?? 0) + 1,
              shards: set.shards,
              marks: meta.marks,
              sensors: set.entriesOf(index),
              expiresAtEpochSeconds: bucketExpiry,
            },
          };
          bucketWrites.push(w);
          bucketPhases[set.phase(index)]?.push(w);
        }
      }
      const state = home.state;
      if (state === undefined) continue;
      const versions = new Map<number, number | null>();
      for (const key of splitStates) {
        if (key.pid === home.pid)
          versions.set(key.shard, versionOf(existing?.states.get(stateShardId(key))));
      }
      for (const { index, meta } of state.layout(stateEntryBytes, 0, versions)) {
        const sensors = new Map<string, SensorEntry>();
        let expires = this.nowSeconds;
        for (const [id, s] of state.entriesOf(index)) {
          sensors.set(id, {
            cooldown: s.cooldown,
            ...(s.learned === undefined ? {} : { learned: s.learned }),
            expiresAtEpochSeconds: s.expiresAtEpochSeconds,
          });
          expires = Math.max(expires, s.expiresAtEpochSeconds);
        }
        const w: StateShardWrite = {
          key: { pid: home.pid, shard: index },
          expectedVersion: meta.expected,
          item: {
            version: (meta.expected ?? 0) + 1,
            shards: state.shards,
            marks: meta.marks,
            sensors,
            // Shard 0 names the count: it lives as long as any shard.
            expiresAtEpochSeconds: index === 0 ? this.nowSeconds + this.sensorLifeSeconds : expires,
          },
        };
        stateWrites.push(w);
        statePhases[state.phase(index)]?.push(w);
      }
    }
    // 6. Announce, then commit. Every home whose shards this batch writes gets the writes
    // in its journal first: a home of the batch in its own commit, another partition's home
    // by a conditional write of that journal (one writer at a time, docs/state.md).
    const pidSet = new Set(pids);
    const untilMs = this.nowMs + this.leaseMs;
    const announced = new Map<string, { targets: ShardTarget[]; newest: number }>();
    const announce = (pid: string, target: ShardTarget) => {
      let a = announced.get(pid);
      if (a === undefined) {
        a = { targets: [], newest: Number.NEGATIVE_INFINITY };
        announced.set(pid, a);
      }
      a.targets.push(target);
      if (target.bucketStartMs !== null && target.bucketStartMs > a.newest)
        a.newest = target.bucketStartMs;
    };
    for (const w of bucketWrites)
      announce(w.key.pid, {
        bucketStartMs: w.key.bucketStartMs,
        shard: w.key.shard,
        version: w.item.version,
      });
    for (const w of stateWrites)
      announce(w.key.pid, { bucketStartMs: null, shard: w.key.shard, version: w.item.version });
    const acquires: JournalWrite[] = [];
    for (const [pid, a] of [...announced].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
      const own = pidSet.has(pid);
      const at = own ? journalWrites.findIndex((w) => w.pid === pid) : -1;
      const before = own ? (first.journals.get(pid) ?? null) : (loaded.journals.get(pid) ?? null);
      const base = at >= 0 ? (journalWrites[at] as JournalWrite).item : before;
      const inflight: Inflight = {
        by: own ? pid : (writerOf.get(pid) ?? pids[0] ?? pid),
        untilMs,
        targets: a.targets,
      };
      const item: PartitionJournal = {
        ...(base ?? emptyJournal()),
        version: (before?.version ?? 0) + 1,
        newestBucketMs: Math.max(base?.newestBucketMs ?? Number.NEGATIVE_INFINITY, a.newest),
        inflight,
      };
      const write: JournalWrite = { pid, expectedVersion: before?.version ?? null, item };
      if (!own) acquires.push(write);
      else {
        if (at >= 0) journalWrites[at] = write;
        else journalWrites.push(write);
        committed.set(pid, item);
      }
    }
    // The commit point of every decision in this batch; anomalies are told from here on.
    await this.commit(acquires, journalWrites);
    for (const [pid, journal] of committed) {
      for (const a of journal.alerts) {
        if (!trimmed(a, journal, batchEnd.get(pid) ?? -1)) continue;
        if (this.cache.told.has(a.anomaly.alertId)) continue;
        this.cache.told.add(a.anomaly.alertId);
        this.observer.anomaly(alertOnly(a));
      }
    }
    // Evaluations after the anomalies, as observers (the live view) expect them.
    for (const evaluation of outcome.evaluations ?? []) this.observer.evaluated?.(evaluation);

    // 7. The shard writes, in split order.
    for (let phase = 0; phase < 3; phase += 1) {
      await store.saveBuckets(bucketPhases[phase] ?? [], this.nowSeconds);
      await store.saveStates(statePhases[phase] ?? [], this.nowSeconds);
    }

    // 8 and 9. Publish what every journal holds unpublished, then trim.
    const pending = [...committed.values()].flatMap((j) => j.alerts.filter((a) => !a.published));
    const toPublish = await this.sendOutbox(pending);
    const trims: JournalWrite[] = [];
    const done: string[] = [];
    for (const [pid, journal] of committed) {
      if (journal.alerts.length === 0) continue;
      const end = batchEnd.get(pid) ?? -1;
      for (const a of journal.alerts) if (trimmed(a, journal, end)) done.push(a.anomaly.alertId);
      const kept = journal.alerts
        .filter((a) => !trimmed(a, journal, end))
        .map((a) => ({ ...a, published: a.published || a.notify || this.sinks.length > 0 }));
      const item = { ...journal, alerts: kept, version: journal.version + 1 };
      trims.push({ pid, expectedVersion: journal.version, item });
      committed.set(pid, item);
    }
    const moved = await this.trim(
      trims,
      new Set(done),
      new Set(pending.map((a) => a.anomaly.alertId)),
    );
    for (const id of done) this.cache.told.delete(id);

    // The container's cache: what this batch used of its own partitions, as now stored; not
    // of a partition whose journal another writer changed meanwhile (its shards may have too).
    this.remember(committed, homes, loaded, bucketWrites, stateWrites);
    for (const pid of moved) this.cache.partitions.delete(pid);

    return {
      readings: outcome.readings,
      rejectedByReason: outcome.rejectedByReason,
      redelivered: outcome.redelivered,
      anomalies: freshCount,
      notificationsSent: toPublish.length,
      notificationsHeldBack: heldBack,
      bucketsWritten: bucketWrites.length,
      bucketKeysRead: keysRead,
      foreignReadings: outcome.foreign,
    };
  }

  private get sinks(): readonly AnomalySink[] {
    return this.deps.sinks ?? [];
  }

  /**
   * The outbox's effects: the notifications to SNS and every anomaly to each sink, all at
   * once. Each must settle before a failure is thrown, so no send is still running when the
   * batch is retried; the journal is trimmed (and marked sent) only after all succeeded.
   */
  private async sendOutbox(pending: readonly JournalAlert[]): Promise<AlertDecision[]> {
    const toPublish = pending.filter((a) => a.notify).map(alertOnly);
    const all = pending.map(alertOnly);
    const sends: Promise<void>[] = [];
    if (toPublish.length > 0) {
      sends.push(
        this.deps.publisher.publish(toPublish).then(() => this.observer.published(toPublish)),
      );
    }
    if (all.length > 0) for (const sink of this.sinks) sends.push(sink.deliver(all));
    const failed = (await Promise.allSettled(sends)).find((r) => r.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    return toPublish;
  }

  /** Publishes and trims a journal's old anomalies before a batch that would overfill it. */
  private async drain(pid: string, journal: PartitionJournal): Promise<void> {
    for (const a of journal.alerts) this.observer.anomaly(alertOnly(a));
    await this.sendOutbox(journal.alerts.filter((a) => !a.published));
    await this.deps.store.saveJournals([
      {
        pid,
        expectedVersion: journal.version,
        item: { ...journal, alerts: [], version: journal.version + 1 },
      },
    ]);
  }

  private async loadShards(
    homes: Map<string, HomeState>,
    bucketStarts: Map<string, Set<number>>,
    cached: Map<string, CachedPartition>,
    newest: ReadonlyMap<string, number>,
    foreignHomes: readonly string[],
  ): Promise<LoadedShards> {
    const buckets = new Map<string, BucketShard | null>();
    const states = new Map<string, StateShard | null>();
    const journals = new Map<string, PartitionJournal>();
    let keysRead = 0;
    const fetch = async (
      bucketKeys: BucketShardKey[],
      stateKeys: StateShardKey[],
      journalIds: readonly string[] = [],
    ) => {
      const want: LoadRequest = { journals: journalIds, buckets: [], states: [], homes: [] };
      const wb = want.buckets as BucketShardKey[];
      const ws = want.states as StateShardKey[];
      for (const key of bucketKeys) {
        const id = bucketShardId(key);
        const hit = cached.get(key.pid)?.buckets.get(id);
        // Past the newest bucket its journal names, a partition has no bucket of its own.
        if (hit !== undefined) buckets.set(id, hit);
        else if (key.bucketStartMs > (newest.get(key.pid) ?? Number.POSITIVE_INFINITY))
          buckets.set(id, null);
        else wb.push(key);
      }
      for (const key of stateKeys) {
        const id = stateShardId(key);
        const hit = cached.get(key.pid)?.states.get(id);
        if (hit !== undefined) states.set(id, hit);
        else ws.push(key);
      }
      if (wb.length + ws.length + journalIds.length === 0) return;
      keysRead += wb.length;
      const snapshot = await this.deps.store.load(want);
      for (const [pid, journal] of snapshot.journals) journals.set(pid, journal);
      for (const key of wb)
        buckets.set(bucketShardId(key), snapshot.buckets.get(bucketShardId(key)) ?? null);
      for (const key of ws)
        states.set(stateShardId(key), snapshot.states.get(stateShardId(key)) ?? null);
    };
    const live = <T extends { expiresAtEpochSeconds: number }>(item: T | null | undefined) =>
      item !== null && item !== undefined && item.expiresAtEpochSeconds > this.nowSeconds
        ? item
        : undefined;

    // Shard 0 of every set.
    const zeroBuckets: BucketShardKey[] = [];
    const zeroStates: StateShardKey[] = [];
    for (const [pid, starts] of bucketStarts) {
      for (const start of starts) zeroBuckets.push({ pid, bucketStartMs: start, shard: 0 });
      zeroStates.push({ pid, shard: 0 });
    }
    await fetch(zeroBuckets, zeroStates, foreignHomes);
    // The other shards of the live sets.
    const restBuckets: BucketShardKey[] = [];
    const restStates: StateShardKey[] = [];
    for (const key of zeroBuckets) {
      const head = live(buckets.get(bucketShardId(key)));
      for (let i = 1; i < (head?.shards ?? 0); i += 1) restBuckets.push({ ...key, shard: i });
    }
    for (const key of zeroStates) {
      const head = live(states.get(stateShardId(key)));
      for (let i = 1; i < (head?.shards ?? 0); i += 1) restStates.push({ ...key, shard: i });
    }
    await fetch(restBuckets, restStates);

    // The working sets: live shards' entries merged, every shard's version kept.
    for (const key of zeroBuckets) {
      const home = homes.get(key.pid) as HomeState;
      const head = live(buckets.get(bucketShardId(key)));
      const set = buildSet<Aggregate, Aggregate>(
        head?.shards ?? 0,
        (i) => buckets.get(bucketShardId({ ...key, shard: i })) ?? null,
        this.nowSeconds,
        (a) => a,
      );
      home.buckets.set(key.bucketStartMs, set);
    }
    for (const key of zeroStates) {
      const home = homes.get(key.pid) as HomeState;
      const head = live(states.get(stateShardId(key)));
      home.state = buildSet<SensorEntry, WorkingSensor>(
        head?.shards ?? 0,
        (i) => states.get(stateShardId({ ...key, shard: i })) ?? null,
        this.nowSeconds,
        (e) =>
          e.expiresAtEpochSeconds > this.nowSeconds
            ? {
                cooldown: e.cooldown,
                learned: e.learned,
                learnedBytes: UNSIZED,
                expiresAtEpochSeconds: e.expiresAtEpochSeconds,
              }
            : undefined,
      );
    }
    return { buckets, states, journals, keysRead };
  }

  private remember(
    journals: ReadonlyMap<string, PartitionJournal>,
    homes: ReadonlyMap<string, HomeState>,
    loaded: LoadedShards,
    bucketWrites: readonly BucketShardWrite[],
    stateWrites: readonly StateShardWrite[],
  ): void {
    for (const [pid, journal] of journals) {
      if (!homes.has(pid) && !this.cache.partitions.has(pid)) {
        this.cache.partitions.set(pid, {
          journalVersion: journal.version,
          buckets: new Map(),
          states: new Map(),
        });
        continue;
      }
      const buckets = new Map<string, BucketShard | null>();
      const states = new Map<string, StateShard | null>();
      const prefix = `${pid}\u0000`;
      for (const [id, item] of loaded.buckets) {
        if (!id.startsWith(prefix)) continue;
        // Keep what is still alive; expired buckets are dropped (absent next time).
        if (item === null || item.expiresAtEpochSeconds > this.nowSeconds) buckets.set(id, item);
      }
      for (const [id, item] of loaded.states) if (id.startsWith(prefix)) states.set(id, item);
      for (const w of bucketWrites)
        if (w.key.pid === pid) buckets.set(bucketShardId(w.key), w.item);
      for (const w of stateWrites) if (w.key.pid === pid) states.set(stateShardId(w.key), w.item);
      this.cache.partitions.set(pid, { journalVersion: journal.version, buckets, states });
    }
  }

  /** Walks one partition's records in offset order, applying and judging them in memory. */
  private judgePartition(
    group: PartitionGroup,
    journal: PartitionJournal | null,
    homes: ReadonlyMap<string, HomeState>,
    homeOf: (sensorId: string) => string,
    outcome: JudgeOutcome,
  ): { fresh: JournalAlert[]; write: PartitionJournal | null } {
    let epoch = journal?.epoch ?? 0;
    let decidedThrough = journal?.decidedThroughOffset ?? -1;
    let maxTimestampMs = journal?.maxTimestampMs ?? Number.NEGATIVE_INFINITY;
    let gaps = (journal?.gaps ?? []).map((g) => ({ ...g }));
    const gapOf = (offset: number) => gaps.find((g) => g.from <= offset && offset <= g.to);
    // A record at a decided offset but newer than every decided record cannot be a
    // redelivery: the topic was recreated (offsets restart at 0). A new epoch judges it.
    const reincarnated = group.records.some(
      (r) =>
        r.offset <= decidedThrough &&
        r.timestampMs >= 0 &&
        r.timestampMs > maxTimestampMs &&
        gapOf(r.offset) === undefined,
    );
    if (reincarnated) {
      epoch += 1;
      decidedThrough = -1;
      maxTimestampMs = Number.NEGATIVE_INFINITY;
      gaps = [];
    }
    // Offsets the event source mapping skipped (it gave up on a batch, or they hold no
    // record): remembered as undecided, so a replay of them is judged (docs/state.md).
    const firstFresh = group.records.find((r) => r.offset > decidedThrough)?.offset;
    let changed = false;
    if (firstFresh !== undefined && decidedThrough >= 0 && firstFresh > decidedThrough + 1) {
      gaps.push({ from: decidedThrough + 1, to: firstFresh - 1, decidedThrough: decidedThrough });
      gaps = gaps.slice(-MAX_GAPS);
      changed = true;
    }
    const mainWriter = `${group.pid}@${epoch}`;
    let newestBucketMs = journal?.newestBucketMs ?? Number.NEGATIVE_INFINITY;
    const journaled = new Map<number, JournalAlert>();
    for (const a of journal?.alerts ?? []) {
      if (a.epoch === epoch) journaled.set(a.anomaly.source.offset, a);
    }
    const fresh: JournalAlert[] = [];
    for (let i = 0; i < group.records.length; i += 1) {
      const record = group.records[i] as RawRecord;
      // A replayed gap is applied by a writer of its own: the partition's marks are past it.
      const gap = record.offset <= decidedThrough ? gapOf(record.offset) : undefined;
      const writer = gap === undefined ? mainWriter : `${mainWriter}g${gap.from}`;
      const decided =
        gap === undefined ? record.offset <= decidedThrough : record.offset <= gap.decidedThrough;
      if (decided) outcome.redelivered += 1;
      else {
        if (record.timestampMs > maxTimestampMs) maxTimestampMs = record.timestampMs;
        if (gap !== undefined) {
          gap.decidedThrough = record.offset;
          changed = true;
        }
      }
      const result = group.parsed[i];
      if (result === undefined) continue;
      if (!result.ok) {
        if (!decided) {
          outcome.rejections.push(toRejection(record, result));
          outcome.rejectedByReason[result.reason] =
            (outcome.rejectedByReason[result.reason] ?? 0) + 1;
        }
        continue;
      }
      const reading = result.reading;
      const home = homes.get(homeOf(reading.sensorId)) as HomeState;
      if (!decided) {
        outcome.readings += 1;
        if (home.pid !== group.pid) outcome.foreign += 1;
      }
      const cursor = this.cursor(home, reading.sensorId, group.key.topic);
      if (home.pid === group.pid) {
        const start = bucketStartMs(reading.eventTimeMs, this.settings);
        if (start > newestBucketMs) newestBucketMs = start;
      }
      this.applyToBucket(home, reading, writer);
      if (decided) {
        // Judged in an earlier attempt: replay the effects on the sensor's entry that may not
        // have been saved (the cooldown from the journaled decision, the learned state from
        // the value); the verdict itself stays the journaled one.
        const earlier = journaled.get(record.offset);
        if (earlier !== undefined || cursor.learning !== null) {
          const sensor = this.claimEntry(home, cursor, reading.sensorId, writer, record.offset);
          if (sensor !== null) {
            if (earlier !== undefined) applyCooldown(sensor, earlier, earlier.cooldownAtMs);
            if (cursor.learning !== null) {
              this.stepLearned(home, cursor, reading, cursor.learning, true);
              attachLearned(sensor, cursor);
            }
          }
        }
        continue;
      }
      const decision = this.judge(home, reading, writer, cursor, epoch, outcome);
      if (decision !== null) fresh.push(decision);
    }
    const lastOffset = group.records.at(-1)?.offset ?? -1;
    if (lastOffset <= decidedThrough && !changed && !reincarnated) return { fresh, write: null };
    return {
      fresh,
      write: {
        version: (journal?.version ?? 0) + 1,
        epoch,
        decidedThroughOffset: Math.max(decidedThrough, lastOffset),
        maxTimestampMs,
        newestBucketMs,
        gaps,
        alerts: [...(journal?.alerts ?? []), ...fresh],
        ...(journal?.inflight === undefined ? {} : { inflight: journal.inflight }),
      },
    };
  }

  private judge(
    home: HomeState,
    reading: Reading,
    writer: string,
    cursor: SensorCursor,
    epoch: number,
    outcome: JudgeOutcome,
  ): JournalAlert | null {
    const spec = cursor.spec;
    const learning = cursor.learning;
    const offset = reading.source.offset;
    const evaluations = outcome.evaluations;
    // A learning detector's one step gives both the verdict and the state it leaves, so the
    // reading is judged against what was learned before it and learned exactly once: in place,
    // when the shard's mark shows the reading's effect is not in the entry yet.
    let verdict: Verdict;
    let sensor: WorkingSensor | null = null;
    let claimed = false;
    if (learning !== null) {
      sensor = this.claimEntry(home, cursor, reading.sensorId, writer, offset);
      claimed = true;
      verdict = this.stepLearned(home, cursor, reading, learning, sensor !== null);
      if (sensor !== null) attachLearned(sensor, cursor);
      if (evaluations !== null) {
        // The scratch verdict is reused by the next reading: the observer gets its own.
        verdict = copyVerdict(verdict);
        evaluations.push({
          reading,
          detector: spec,
          window: this.windowAggregate(home, reading),
          verdict,
        });
      }
    } else {
      const window = this.windowAggregate(home, reading);
      verdict = evaluate(spec, window, reading.value);
      evaluations?.push({ reading, detector: spec, window, verdict });
    }
    if (!verdict.anomaly) return null;
    const { topic, partition } = reading.source;
    const anomaly: Anomaly = {
      alertId: `${topic}-${partition}-${offset}${epoch === 0 ? '' : `~${epoch}`}`,
      sensorId: reading.sensorId,
      value: reading.value,
      mean: verdict.mean,
      count: verdict.count,
      deviation: verdict.deviation,
      limit: verdict.limit,
      detector: spec.kind,
      ...(spec.kind === 'threshold' ? {} : { sigma: spec.sigma }),
      eventTimeMs: reading.eventTimeMs,
      severity: verdict.deviation >= 2 * verdict.limit ? SEVERITIES.critical : SEVERITIES.warning,
      source: reading.source,
    };
    if (!claimed) sensor = this.claimEntry(home, cursor, reading.sensorId, writer, offset);
    // Already in the entry (an earlier attempt saved it): not an alert of this attempt.
    if (sensor === null) return null;
    const cooldownAtMs = reading.eventTimeMs;
    const decision = decideNotification(
      credibleCooldown(sensor.cooldown, cooldownAtMs),
      cooldownAtMs,
      this.settings.alertCooldownMs,
    );
    const result: JournalAlert = {
      anomaly,
      notify: decision.notify,
      heldBackBefore: decision.heldBackBefore,
      published: false,
      epoch,
      cooldownAtMs,
    };
    applyCooldown(sensor, result, cooldownAtMs);
    return result;
  }

  /**
   * The sensor's cursor for this attempt, its detector resolved on first sight and again only
   * when a reading arrives on another topic (rules may match on the topic). State is per sensor
   * id, so one id on two topics is one sensor judged by each reading's rule; a change of
   * learning detector kind relearns from the one learned slot (docs/rules.md).
   */
  private cursor(home: HomeState, sensorId: string, topic: string): SensorCursor {
    let cursor = home.cursors.get(sensorId);
    if (cursor === undefined) {
      const spec = this.resolveDetector(sensorId, topic);
      cursor = {
        topic,
        spec,
        learning: isLearning(spec) ? spec : null,
        entry: null,
        work: null,
        stateMeta: null,
      };
      home.cursors.set(sensorId, cursor);
    } else if (cursor.topic !== topic) {
      const spec = this.resolveDetector(sensorId, topic);
      cursor.topic = topic;
      if (spec !== cursor.spec) {
        cursor.spec = spec;
        cursor.learning = isLearning(spec) ? spec : null;
        // Read again from the entry, where the previous detector's steps are attached.
        cursor.work = null;
      }
    }
    return cursor;
  }

  /**
   * Judges the reading with the sensor's learning detector against what it has learned so far,
   * into the run's scratch verdict (valid until the next reading). With `keep` the reading is
   * learned into the cursor's working state; without (its effect is already in the entry) the
   * step runs on a copy and the state stays as it was.
   */
  private stepLearned(
    home: HomeState,
    cursor: SensorCursor,
    reading: Reading,
    spec: LearningDetector,
    keep: boolean,
  ): Verdict {
    let work = cursor.work;
    if (work === null) {
      work = workingLearnedState(spec, this.learned(home, reading.sensorId, spec));
      cursor.work = work;
    }
    learningStepInPlace(
      spec,
      keep ? work : workingLearnedState(spec, work),
      reading.value,
      this.scratch,
    );
    return this.scratch;
  }

  private bucketSet(home: HomeState, start: number): ShardSet<Aggregate> {
    let set = home.buckets.get(start);
    if (set === undefined) {
      // Only buckets outside every window loaded (none, in practice): a new set.
      set = new ShardSet<Aggregate>(0, [], new Map());
      home.buckets.set(start, set);
    }
    return set;
  }

  /** The reading's window: its buckets added oldest first, as combine() adds them. */
  private windowAggregate(home: HomeState, reading: Reading): Aggregate {
    let count = EMPTY_AGGREGATE.count;
    let sum = EMPTY_AGGREGATE.sum;
    let sumSq = EMPTY_AGGREGATE.sumSq;
    const last = bucketStartMs(reading.eventTimeMs, this.settings);
    for (let i = this.k - 1; i >= 0; i -= 1) {
      const a = this.bucketSet(home, last - i * this.settings.slideMs).entries.get(
        reading.sensorId,
      );
      if (a === undefined) continue;
      count += a.count;
      sum += a.sum;
      sumSq += a.sumSq;
    }
    return { count, sum, sumSq };
  }

  /** Adds the reading to its bucket unless the shard's mark shows it is already in. */
  private applyToBucket(home: HomeState, reading: Reading, writer: string): void {
    const set = this.bucketSet(home, bucketStartMs(reading.eventTimeMs, this.settings));
    const meta = set.meta(reading.sensorId);
    const applied = meta.marks[writer];
    if (applied !== undefined && reading.source.offset <= applied) return;
    set.entries.set(
      reading.sensorId,
      addValue(set.entries.get(reading.sensorId) ?? EMPTY_AGGREGATE, reading.value),
    );
    meta.marks[writer] = reading.source.offset;
    meta.dirty = true;
  }

  private learned(
    home: HomeState,
    sensorId: string,
    spec: DetectorSpec,
  ): DetectorLearnedState | undefined {
    return learnedOf(home.state?.entries.get(sensorId), spec);
  }

  /**
   * The sensor's entry, to apply one reading's whole effect on it (cooldown, learned state),
   * if that effect is not in it yet: once per (writer, offset), as the shard's mark says, which
   * is moved past the reading here. Null when it is already in. The first claim in an attempt
   * puts a copy of the entry in the set, so nothing the store or the cache handed out changes.
   */
  private claimEntry(
    home: HomeState,
    cursor: SensorCursor,
    sensorId: string,
    writer: string,
    offset: number,
  ): WorkingSensor | null {
    const set = home.state as ShardSet<WorkingSensor>;
    let meta = cursor.stateMeta;
    if (meta === null) {
      meta = set.meta(sensorId);
      cursor.stateMeta = meta;
    }
    const applied = meta.marks[writer];
    if (applied !== undefined && offset <= applied) return null;
    let sensor = cursor.entry;
    if (sensor === null) {
      const stored = set.entries.get(sensorId);
      sensor =
        stored === undefined
          ? {
              cooldown: INITIAL_COOLDOWN,
              learned: undefined,
              learnedBytes: 0,
              expiresAtEpochSeconds: 0,
            }
          : { ...stored };
      set.entries.set(sensorId, sensor);
      cursor.entry = sensor;
    }
    sensor.expiresAtEpochSeconds = this.nowSeconds + this.sensorLifeSeconds;
    meta.marks[writer] = offset;
    meta.dirty = true;
    return sensor;
  }
}

interface LoadedShards {
  readonly buckets: Map<string, BucketShard | null>;
  readonly states: Map<string, StateShard | null>;
  /** The journals of the homes that are not partitions of the batch. */
  readonly journals: Map<string, PartitionJournal>;
  readonly keysRead: number;
}

function buildSet<S, E>(
  shards: number,
  shard: (i: number) => BucketShard | StateShard | null,
  nowSeconds: number,
  entry: (stored: S) => E | undefined,
): ShardSet<E> {
  const metas: ShardMeta[] = [];
  const entries = new Map<string, E>();
  for (let i = 0; i < shards; i += 1) {
    const item = shard(i);
    const live = item !== null && item.expiresAtEpochSeconds > nowSeconds;
    // An expired shard is overwritten as if absent (the write condition allows it).
    metas.push({
      expected: live ? item.version : null,
      marks: live ? { ...item.marks } : {},
      dirty: false,
    });
    if (!live) continue;
    for (const [id, e] of item.sensors as ReadonlyMap<string, S>) {
      const value = entry(e);
      if (value !== undefined) entries.set(id, value);
    }
  }
  return new ShardSet<E>(shards, metas, entries);
}

/** The journal of a partition that has none yet (another partition announces in it first). */
function emptyJournal(): PartitionJournal {
  return {
    version: 0,
    epoch: 0,
    decidedThroughOffset: -1,
    maxTimestampMs: Number.NEGATIVE_INFINITY,
    newestBucketMs: Number.NEGATIVE_INFINITY,
    gaps: [],
    alerts: [],
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether a journal alert is done once this batch succeeds (and is trimmed, and told). */
function trimmed(a: JournalAlert, journal: PartitionJournal, batchEnd: number): boolean {
  return a.epoch !== journal.epoch || a.anomaly.source.offset <= batchEnd;
}

function alertOnly(a: JournalAlert): AlertDecision {
  return { anomaly: a.anomaly, notify: a.notify, heldBackBefore: a.heldBackBefore };
}

/** About the bytes the alerts take in the journal item (the adapter's compact tuples). */
export function alertBytes(alerts: readonly JournalAlert[]): number {
  let bytes = 0;
  for (const a of alerts) {
    bytes += 160 + 3 * (a.anomaly.sensorId.length + a.anomaly.source.topic.length);
  }
  return bytes;
}

/** What a learning detector of `spec`'s kind knows of the sensor; none after a switch. */
function learnedOf(
  sensor: { readonly learned?: LearnedState } | undefined,
  spec: DetectorSpec,
): DetectorLearnedState | undefined {
  const learned = sensor?.learned;
  return learned !== undefined && learned.kind === spec.kind
    ? (learned.state as DetectorLearnedState)
    : undefined;
}

/**
 * Upper bound of a learned state's JSON size per kind (ewma: 6 numbers, adaptive: 11), so
 * the shard sizing never serialises on the hot path.
 */
const LEARNED_BYTES: Readonly<Record<LearningDetector['kind'], number>> = {
  ewma: 200,
  adaptive: 400,
  robust: 700,
};

/** Makes the cursor's working state the entry's learned state (it is stepped in place). */
function attachLearned(sensor: WorkingSensor, cursor: SensorCursor): void {
  const spec = cursor.learning as LearningDetector;
  const work = cursor.work as WorkingLearnedState;
  if (sensor.learned?.state === work && sensor.learned.kind === spec.kind) return;
  sensor.learned = { kind: spec.kind, state: work };
  sensor.learnedBytes = LEARNED_BYTES[spec.kind];
}

function copyVerdict(v: Verdict): Verdict {
  return {
    anomaly: v.anomaly,
    mean: v.mean,
    count: v.count,
    deviation: v.deviation,
    limit: v.limit,
    score: v.score,
  };
}

/**
 * A last notification more than this far ahead of an anomaly says more about a clock than
 * about the anomaly: a producer whose clock ran years ahead once must not silence its sensor
 * until then. Readings a day late are past any window's retention anyway.
 */
export const COOLDOWN_CREDIBLE_AHEAD_MS = 24 * 3600 * 1000;

/** The cooldown an anomaly at `atMs` is judged against: a far-future last notification is void. */
function credibleCooldown(cooldown: CooldownState, atMs: number): CooldownState {
  const last = cooldown.lastNotifiedEventTimeMs;
  if (last === null || last - atMs <= COOLDOWN_CREDIBLE_AHEAD_MS) return cooldown;
  return { lastNotifiedEventTimeMs: null, heldBack: cooldown.heldBack };
}

/** A decision's effect on its sensor's cooldown (semantics.md §4). */
function applyCooldown(sensor: WorkingSensor, decision: AlertDecision, atMs: number): void {
  sensor.cooldown = decision.notify
    ? { lastNotifiedEventTimeMs: atMs, heldBack: 0 }
    : {
        lastNotifiedEventTimeMs: sensor.cooldown.lastNotifiedEventTimeMs,
        heldBack: sensor.cooldown.heldBack + 1,
      };
}

function toRejection(record: RawRecord, result: Extract<ParseResult, { ok: false }>): Rejection {
  const bytes = record.value ?? new Uint8Array();
  return {
    source: { topic: record.topic, partition: record.partition, offset: record.offset },
    reason: result.reason,
    detail: result.detail,
    rawPreview: Buffer.from(bytes.subarray(0, RAW_PREVIEW_BYTES)).toString('utf8'),
  };
}
