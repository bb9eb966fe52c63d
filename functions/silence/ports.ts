import type { SilenceAlert, SilentEntry } from '../core/silence.ts';

/**
 * Ports of the silent-sensor check (docs/silence.md). The batch processor records when it
 * last heard from each watched sensor, per partition; the scheduled check reads those records
 * and keeps its own state and outbox. Every write is conditional on the version read; a lost
 * race throws a StoreConflictError.
 */

/** One partition's last-seen record: per watched sensor, when it was last heard from (ms). */
export interface SeenItem {
  readonly version: number;
  readonly sensors: ReadonlyMap<string, number>;
}

/**
 * One shard of the check's state (sensors hash to shards): the sensors it has declared
 * silent, and the alerts decided but not yet all delivered (the outbox).
 */
export interface CheckerShard {
  readonly version: number;
  readonly silent: ReadonlyMap<string, SilentEntry>;
  readonly outbox: readonly SilenceAlert[];
}

export interface SilenceStore {
  loadSeen(pids: readonly string[]): Promise<Map<string, SeenItem>>;
  /** `expectedVersion` null: the item must not exist yet. */
  saveSeen(pid: string, item: SeenItem, expectedVersion: number | null): Promise<void>;
  /** The partitions that have a last-seen record (or are about to). */
  loadPartitions(): Promise<{ version: number | null; pids: readonly string[] }>;
  savePartitions(pids: readonly string[], expectedVersion: number | null): Promise<void>;
  loadChecker(shards: number): Promise<Map<number, CheckerShard>>;
  saveChecker(shard: number, item: CheckerShard, expectedVersion: number | null): Promise<void>;
}

/** Sends silence alerts to SNS. Resolves only when every one was accepted; otherwise throws. */
export interface SilencePublisher {
  publishSilence(alerts: readonly SilenceAlert[]): Promise<void>;
}

/** A destination for silence alerts besides SNS (the anomalies topic, EventBridge). */
export interface SilenceSink {
  readonly name: string;
  deliverSilence(alerts: readonly SilenceAlert[]): Promise<void>;
}
