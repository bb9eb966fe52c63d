import type { AdaptiveState } from './core/adaptive.ts';
import type { CooldownState } from './core/cooldown.ts';
import type { DetectorSpec, Verdict } from './core/detectors.ts';
import type { EwmaState } from './core/ewma.ts';
import type { RejectReason } from './core/parse-reading.ts';
import type { Aggregate, AlertDecision, Reading, RecordSource } from './core/types.ts';

/**
 * Ports of the process-batch use case. Adapters: DynamoDB + SNS in Lambda, the same or
 * in-memory ones in the local pipeline and the backtest.
 */

export interface BucketKey {
  readonly sensorId: string;
  readonly bucketStartMs: number;
}

export interface PartitionKey {
  readonly topic: string;
  readonly partition: number;
}

/** `<topic>#<partition>`: the watermark map key and the journal id of a partition. */
export function partitionId(key: PartitionKey): string {
  return `${key.topic}#${key.partition}`;
}

/**
 * Highest offset of each partition already applied to an item. Readings of one partition
 * reach an item in offset order, one write per batch, so "offset ≤ watermark" means applied.
 */
export type Watermarks = Readonly<Record<string, number>>;

interface Versioned {
  /** Optimistic-concurrency version; every write is conditional on the version it read. */
  readonly version: number;
  readonly expiresAtEpochSeconds: number;
  readonly watermarks: Watermarks;
}

export interface StoredBucket extends Versioned {
  readonly aggregate: Aggregate;
}

export interface StoredSensorState extends Versioned {
  readonly cooldown: CooldownState;
  /**
   * What the `ewma` detector has learned of the sensor: aggregates only. Absent for sensors
   * of the window detectors. The watermarks cover it: every reading's transition is in the
   * item exactly when the item's watermark for its partition has reached its offset.
   */
  readonly ewma?: EwmaState;
  /** What the `adaptive` detector has learned of the sensor (aggregates only), like `ewma`. */
  readonly adaptive?: AdaptiveState;
}

/** A decided anomaly kept until its batch has fully succeeded (the outbox). */
export interface JournalAlert extends AlertDecision {
  readonly published: boolean;
}

/**
 * Per partition: every offset up to `decidedThroughOffset` has been judged once and for all,
 * and `alerts` holds the decisions whose effects may not all be durable yet.
 */
export interface PartitionJournal {
  readonly decidedThroughOffset: number;
  readonly alerts: readonly JournalAlert[];
  readonly version: number;
}

export interface LoadRequest {
  readonly buckets: readonly BucketKey[];
  readonly sensorIds: readonly string[];
  readonly partitions: readonly PartitionKey[];
}

/** What the store holds, expired items included: the use case decides what is expired. */
export interface Snapshot {
  readonly buckets: ReadonlyMap<string, StoredBucket>;
  readonly sensors: ReadonlyMap<string, StoredSensorState>;
  readonly journals: ReadonlyMap<string, PartitionJournal>;
}

/** Map key of a bucket in a Snapshot. Sensor ids never hold control characters. */
export function bucketId(key: BucketKey): string {
  return `${key.sensorId}\u0000${key.bucketStartMs}`;
}

export interface ConditionalWrite<T> {
  /** The version the write was computed from; null when the item did not exist. */
  readonly expectedVersion: number | null;
  readonly item: T;
}

export interface BucketWrite extends ConditionalWrite<StoredBucket> {
  readonly key: BucketKey;
}

export interface SensorStateWrite extends ConditionalWrite<StoredSensorState> {
  readonly sensorId: string;
}

export interface JournalWrite extends ConditionalWrite<PartitionJournal> {
  readonly partition: PartitionKey;
}

/**
 * Sliding-window state. Every save is conditional; a lost race throws a StoreConflictError,
 * which fails the batch so that it is retried against fresh state.
 */
export interface WindowStore {
  load(request: LoadRequest): Promise<Snapshot>;
  saveJournals(writes: readonly JournalWrite[]): Promise<void>;
  saveBuckets(writes: readonly BucketWrite[]): Promise<void>;
  saveSensorStates(writes: readonly SensorStateWrite[]): Promise<void>;
}

/** Sends notifications. Resolves only when every one was accepted; otherwise throws. */
export interface AlertPublisher {
  publish(alerts: readonly AlertDecision[]): Promise<void>;
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
  readonly bucketsWritten: number;
  readonly bucketKeysRead: number;
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
 * Told about each decision just before it becomes durable (the journal write). A record is
 * reported again only if that write failed, and then with the identical verdict.
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
