import type { EpisodeEnd } from './core/alerting/episodes.ts';
import type { DetectorSpec, Verdict } from './core/detectors.ts';
import type { RejectReason } from './core/parse-reading.ts';
import type { Aggregate, AlertDecision, Reading, RecordSource } from './core/types.ts';

/**
 * Ports of the process-batch use case. Adapters: DynamoDB + SNS in Lambda, the same or
 * in-memory ones in the local pipeline and the backtest. The state port is
 * functions/batch/state.ts: state is owned by Kafka partition, as Kafka Streams partitions
 * its state stores (docs/state.md).
 */
export type {
  LearnedState,
  PartitionStore,
  SensorState,
} from './batch/state.ts';

export interface PartitionKey {
  readonly topic: string;
  readonly partition: number;
}

/**
 * `[<stream>#]<topic>#<partition>`: the id of a partition's root and pages. `stream`
 * names the Kafka cluster (a hash of the event's source), so that the same topic name on
 * another cluster is another partition.
 */
export function partitionId(key: PartitionKey, stream = ''): string {
  return stream === ''
    ? `${key.topic}#${key.partition}`
    : `${stream}#${key.topic}#${key.partition}`;
}

/** Sends notifications. Resolves only when every one was accepted; otherwise throws. */
export interface AlertPublisher {
  publish(alerts: readonly AlertDecision[]): Promise<void>;
  /**
   * Critical episodes that ended (docs/alerting.md): one `resolved` message each. A publisher
   * without it does not notify ends (they are still logged and counted).
   */
  publishResolved?(ends: readonly EpisodeEnd[]): Promise<void>;
}

/**
 * A destination for every decided anomaly (notified or held back by the cooldown): a Kafka
 * topic, an EventBridge bus. Fed from the partition root's outbox like the SNS
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
  /**
   * Records at or below a partition's decided offset (seen in an earlier attempt), and
   * repartitioned copies whose source offset was decided (`duplicates`).
   */
  readonly redelivered: number;
  /** Repartitioned records dropped as copies re-produced after a retry of the repartition step. */
  readonly duplicates: number;
  readonly anomalies: number;
  readonly notificationsSent: number;
  readonly notificationsHeldBack: number;
  /** Anomalies older than their freshness limit: in the digest only (docs/alerting.md). */
  readonly notificationsStale: number;
  /** Notified inside the cooldown because clearly worse than the last notification. */
  readonly notificationsEscalated: number;
  /** Episodes that ended (back to normal). */
  readonly episodesEnded: number;
  /** Anomalies inside maintenance windows: not notified, not sent (docs/alerting-groups.md). */
  readonly notificationsMuted: number;
  /** Notifications folded into group alerts, and the group alerts sent for them. */
  readonly notificationsGrouped: number;
  readonly groupAlerts: number;
  /** Bucket pages written. */
  readonly bucketsWritten: number;
  /** Pages read from the store (0 when the warm container's cache held them all). */
  readonly bucketKeysRead: number;
  /**
   * Window-close evaluation: readings that arrived after every window they belong to had
   * closed (counted and logged, never judged), (reading, window) pairs left out because that
   * window had closed, and windows closed.
   */
  readonly lateReadings?: number;
  readonly lateWindowDrops?: number;
  readonly windowsClosed?: number;
}

/** How one reading was judged: what the backtest writes for every reading. */
export interface Evaluation {
  readonly reading: Reading;
  readonly detector: DetectorSpec;
  /** The reading's sliding window (itself included), whatever the detector. */
  readonly window: Aggregate;
  readonly verdict: Verdict;
  /** Inside a maintenance window: judged, changed nothing, not notified (docs/alerting-groups.md). */
  readonly muted?: true;
}

/**
 * Told about each decision. Anomalies are told once their decision is durable (the root
 * write held), from the root's outbox, so a retry can only repeat the very same decision, and the
 * batch's evaluations right after them; rejections are told when judged (they depend on the
 * record alone).
 */
export interface BatchObserver {
  rejected(rejection: Rejection): void;
  anomaly(decision: AlertDecision): void;
  published(alerts: readonly AlertDecision[]): void;
  /** An episode ended, told once its decision is durable (as anomalies are). */
  episodeEnded?(end: EpisodeEnd): void;
  /**
   * Every reading judged in this attempt, anomalous or not, in each partition's offset order.
   * Optional: the use case only collects evaluations for an observer that wants them.
   */
  evaluated?(evaluation: Evaluation): void;
  /**
   * Window-close evaluation: a reading that arrived after every window it belongs to had
   * closed (semantics.md §3), told once its batch's commit is durable.
   */
  late?(reading: Reading): void;
}

export const NO_OBSERVER: BatchObserver = { rejected() {}, anomaly() {}, published() {} };
