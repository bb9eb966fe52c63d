import type { CooldownState } from './core/cooldown.ts';
import type { DetectorSpec, Verdict } from './core/detectors.ts';
import type { RejectReason } from './core/parse-reading.ts';
import type { Aggregate, AlertDecision, Reading, RecordSource } from './core/types.ts';

/**
 * Ports of the process-batch use case. Adapters: DynamoDB + SNS in Lambda, the same or
 * in-memory ones in the local pipeline and the backtest. The layout is docs/state.md's:
 * state is owned by Kafka partition, as Kafka Streams partitions its state stores.
 */

export interface PartitionKey {
  readonly topic: string;
  readonly partition: number;
}

/**
 * `[<stream>#]<topic>#<partition>`: the id of a partition's journal and state. `stream`
 * names the Kafka cluster (a hash of the event's source), so that the same topic name on
 * another cluster is another partition.
 */
export function partitionId(key: PartitionKey, stream = ''): string {
  return stream === ''
    ? `${key.topic}#${key.partition}`
    : `${stream}#${key.topic}#${key.partition}`;
}

/**
 * Per writer `<partitionId>@<epoch>`: the highest offset of that writer applied to an item.
 * A writer reaches an item in offset order, one write per batch, so "offset ≤ mark" means
 * applied.
 */
export type Marks = Readonly<Record<string, number>>;

/**
 * What a learning detector knows of one sensor: a plain JSON object of numbers, kept
 * opaquely beside the cooldown and changed at most once per batch.
 */
export interface LearnedState {
  readonly kind: string;
  readonly state: unknown;
}

/** One sensor of a home partition: its cooldown and learned state, and its home claim's end. */
export interface SensorEntry {
  readonly cooldown: CooldownState;
  readonly learned?: LearnedState;
  readonly expiresAtEpochSeconds: number;
}

interface Shard<E> {
  /** Optimistic-concurrency version; every write is conditional on the version it read. */
  readonly version: number;
  /** How many shards the set (a bucket, or a partition's sensor state) has; every shard says it. */
  readonly shards: number;
  readonly marks: Marks;
  readonly sensors: ReadonlyMap<string, E>;
  readonly expiresAtEpochSeconds: number;
}

/** Many sensors' aggregates of one (partition, bucket, shard). */
export type BucketShard = Shard<Aggregate>;
/** Many sensors' cooldowns and learned states of one (partition, shard). */
export type StateShard = Shard<SensorEntry>;

/** A decided anomaly kept until its batch has fully succeeded (the outbox). */
export interface JournalAlert extends AlertDecision {
  readonly published: boolean;
  /** The partition's epoch when it was decided. */
  readonly epoch: number;
  /** The time the cooldown counts from: the event time, at most a little past processing time. */
  readonly cooldownAtMs: number;
}

/**
 * Per partition: every offset up to `decidedThroughOffset` of this `epoch` has been judged
 * once and for all, and `alerts` holds the decisions whose effects may not all be durable yet.
 * `maxTimestampMs` is the latest record timestamp decided: a record at a decided offset but
 * newer than that cannot be a redelivery (a recreated topic), and starts a new epoch.
 */
export interface PartitionJournal {
  readonly version: number;
  readonly epoch: number;
  readonly decidedThroughOffset: number;
  readonly maxTimestampMs: number;
  /** The latest bucket start this partition has written its own sensors to (-Infinity: none). */
  readonly newestBucketMs: number;
  /**
   * Offset ranges below `decidedThroughOffset` that no batch delivered (the event source
   * mapping gave up on them, or they hold no record), each judged up to its own offset when
   * replayed.
   */
  readonly gaps: readonly OffsetGap[];
  readonly alerts: readonly JournalAlert[];
  /**
   * The shard writes of this partition's own state (as a home) announced by the last write of
   * this journal, and not known to have landed: docs/state.md, "One writer at a time".
   */
  readonly inflight?: Inflight;
}

/**
 * Shard items of a home partition and the versions a writer is about to give them. Written
 * into the home's journal before the writes (by the home's commit, or by another partition
 * that applies an unkeyed sensor's readings to the home's state); until every one is visible,
 * or `untilMs` has passed (the writer's invocation is over), no other writer may read the
 * home's state to judge.
 */
export interface Inflight {
  /** The partition whose batch writes them. */
  readonly by: string;
  readonly untilMs: number;
  readonly targets: readonly ShardTarget[];
}

export interface ShardTarget {
  /** null: a state shard. */
  readonly bucketStartMs: number | null;
  readonly shard: number;
  readonly version: number;
}

export interface OffsetGap {
  readonly from: number;
  readonly to: number;
  /** Offsets of the gap up to here have been judged (from − 1: none). */
  readonly decidedThrough: number;
}

/** Which partition owns a sensor's state: the first that saw it. */
export interface HomeClaim {
  readonly home: string;
  readonly expiresAtEpochSeconds: number;
}

export interface BucketShardKey {
  readonly pid: string;
  readonly bucketStartMs: number;
  readonly shard: number;
}

export interface StateShardKey {
  readonly pid: string;
  readonly shard: number;
}

/** Map keys of a Snapshot. Partition ids and sensor ids never hold control characters. */
export function bucketShardId(key: BucketShardKey): string {
  return `${key.pid}\u0000b\u0000${key.bucketStartMs}\u0000${key.shard}`;
}

export function stateShardId(key: StateShardKey): string {
  return `${key.pid}\u0000s\u0000${key.shard}`;
}

export interface LoadRequest {
  readonly journals: readonly string[];
  readonly buckets: readonly BucketShardKey[];
  readonly states: readonly StateShardKey[];
  /** Sensor ids whose home claims to read. */
  readonly homes: readonly string[];
}

/** What the store holds, expired items included: the use case decides what is expired. */
export interface Snapshot {
  readonly journals: ReadonlyMap<string, PartitionJournal>;
  readonly buckets: ReadonlyMap<string, BucketShard>;
  readonly states: ReadonlyMap<string, StateShard>;
  readonly homes: ReadonlyMap<string, HomeClaim>;
}

export interface ConditionalWrite<T> {
  /**
   * The version the write was computed from; null when the item was absent or expired
   * (then the write holds only if it still is, at `nowEpochSeconds`).
   */
  readonly expectedVersion: number | null;
  readonly item: T;
}

export interface JournalWrite extends ConditionalWrite<PartitionJournal> {
  readonly pid: string;
}

export interface BucketShardWrite extends ConditionalWrite<BucketShard> {
  readonly key: BucketShardKey;
}

export interface StateShardWrite extends ConditionalWrite<StateShard> {
  readonly key: StateShardKey;
}

export interface ClaimRequest {
  readonly sensorId: string;
  readonly home: string;
  readonly expiresAtEpochSeconds: number;
}

/**
 * Partition state. Every save is conditional; a lost race throws a StoreConflictError, which
 * the use case answers by reloading and trying again.
 */
export interface WindowStore {
  load(request: LoadRequest): Promise<Snapshot>;
  saveJournals(writes: readonly JournalWrite[]): Promise<void>;
  saveBuckets(writes: readonly BucketShardWrite[], nowEpochSeconds: number): Promise<void>;
  saveStates(writes: readonly StateShardWrite[], nowEpochSeconds: number): Promise<void>;
  /**
   * Claims each sensor for its `home` unless a live claim names another partition (a
   * conditional write); resolves to every sensor's home after the claims.
   */
  claimHomes(
    claims: readonly ClaimRequest[],
    nowEpochSeconds: number,
  ): Promise<ReadonlyMap<string, string>>;
}

/** Sends notifications. Resolves only when every one was accepted; otherwise throws. */
export interface AlertPublisher {
  publish(alerts: readonly AlertDecision[]): Promise<void>;
}

/**
 * A destination for every decided anomaly (notified or held back by the cooldown): a Kafka
 * topic, an EventBridge bus. Fed from the partition journal (the outbox) like the SNS
 * publisher: resolves only when every alert was accepted, otherwise throws, and the batch is
 * retried with the same alert ids (docs/sinks.md).
 */
export interface AnomalySink {
  readonly name: string;
  deliver(alerts: readonly AlertDecision[]): Promise<void>;
}

export interface Rejection {
  readonly source: RecordSource;
  readonly reason: RejectReason;
  readonly detail: string;
  /** At most 200 bytes of the raw value, as text (invalid UTF-8 replaced). */
  readonly rawPreview: string;
}

export interface BatchReport {
  readonly records: number;
  readonly readings: number;
  readonly rejectedByReason: Readonly<Record<string, number>>;
  /** Records at or below a partition's decided offset: seen in an earlier attempt. */
  readonly redelivered: number;
  readonly anomalies: number;
  readonly notificationsSent: number;
  readonly notificationsHeldBack: number;
  /** Bucket shard items written. */
  readonly bucketsWritten: number;
  /** Bucket shard items read (0 when the warm cache held them). */
  readonly bucketKeysRead: number;
  /** Readings of sensors whose home is another partition (an unkeyed producer). */
  readonly foreignReadings: number;
}

/** How one reading was judged: what the backtest writes for every reading. */
export interface Evaluation {
  readonly reading: Reading;
  readonly detector: DetectorSpec;
  /** The reading's sliding window (itself included), whatever the detector. */
  readonly window: Aggregate;
  readonly verdict: Verdict;
}

/**
 * Told about each decision. Anomalies are told once their decision is durable (the journal
 * write held), from the journal, so a retry can only repeat the very same decision, and the
 * batch's evaluations right after them; rejections are told when judged (they depend on the
 * record alone).
 */
export interface BatchObserver {
  rejected(rejection: Rejection): void;
  anomaly(decision: AlertDecision): void;
  published(alerts: readonly AlertDecision[]): void;
  /**
   * Every reading judged in this attempt, anomalous or not, in each partition's offset order.
   * Optional: the use case only collects evaluations for an observer that wants them.
   */
  evaluated?(evaluation: Evaluation): void;
}

export const NO_OBSERVER: BatchObserver = { rejected() {}, anomaly() {}, published() {} };
