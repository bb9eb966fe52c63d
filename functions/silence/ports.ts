import type { SilenceAlert, SilentEntry } from '../core/silence.ts';
import type { PagedStore } from './pages.ts';

/**
 * Ports of the silent-sensor check (docs/silence.md). The batch processor records when it
 * last heard from each watched sensor, per partition; the scheduled check reads those records
 * and keeps its own state and outbox. Every item is bounded in bytes by the adapter's budget:
 * the last-seen records and the silent set are paged maps (pages.ts), the outbox takes no
 * alert past its budget. Every write is conditional on the version read; a lost race throws a
 * StoreConflictError.
 */

/**
 * The check's environment variable: the detector's timeout in seconds, the longest a batch may
 * hold readings it has not recorded yet (docs/silence.md, "Races").
 */
export const DETECTOR_TIMEOUT_ENV = 'DETECTOR_TIMEOUT_SECONDS';
/** Without it: the construct's default detector timeout. */
export const DEFAULT_DETECTOR_TIMEOUT_SECONDS = 60;

/** Key of the check's silent set among the `silent` paged maps. */
export const SILENT_SET_KEY = 'silent';

/** The check's outbox: alerts decided (their state committed), not yet delivered everywhere. */
export interface Outbox {
  /** null: never written. */
  readonly version: number | null;
  /** Oldest first: delivered in this order. */
  readonly alerts: readonly SilenceAlert[];
}

export interface SilenceStore {
  /** Per partition id: when each watched sensor was last heard from (ms, whole seconds). */
  readonly seen: PagedStore<number>;
  /** One map, SILENT_SET_KEY: the sensors the check has declared silent. */
  readonly silent: PagedStore<SilentEntry>;
  /** The partitions that have a last-seen record (or are about to). */
  loadPartitions(): Promise<{ version: number | null; pids: readonly string[] }>;
  savePartitions(pids: readonly string[], expectedVersion: number | null): Promise<void>;
  loadOutbox(): Promise<Outbox>;
  /** `expectedVersion` null: the item must not exist yet. */
  saveOutbox(alerts: readonly SilenceAlert[], expectedVersion: number | null): Promise<void>;
  /** Whether an outbox holding `alerts` stays within the adapter's byte budget. */
  outboxFits(alerts: readonly SilenceAlert[]): boolean;
  /**
   * The check's state in the earlier layout (per shard: silent sensors and an outbox), read
   * until the first outbox of this layout is written, so an upgrade loses no declared
   * silence and no undelivered alert.
   */
  loadLegacyChecker(): Promise<{
    silent: Map<string, SilentEntry>;
    outbox: SilenceAlert[];
  }>;
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
