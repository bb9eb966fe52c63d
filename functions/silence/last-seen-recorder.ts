import { StoreConflictError } from '../adapters/store-errors.ts';
import type { SilenceResolver } from '../core/silence.ts';
import type { SeenItem, SilenceStore } from './ports.ts';

/** Which sensors are watched, and how coarsely their times are recorded. */
export interface SilenceLimits {
  readonly silenceOf: SilenceResolver;
  /** A sensor's recorded time is rewritten only once it moved by this much (seenGranularityMs). */
  readonly granularityMs: number;
}

export interface LastSeenRecorderOptions extends SilenceLimits {
  readonly store: SilenceStore;
}

/** Sensors of one partition heard from in a batch. */
export interface PartitionSensors {
  readonly pid: string;
  /** The partition's Kafka topic: rules may give its sensors their limit. @default none */
  readonly topic?: string;
  readonly sensorIds: Iterable<string>;
}

/** A partition's record keeps at most this many sensors (the newest), far below 400 KB. */
export const MAX_SEEN_PER_PARTITION = 20_000;
/** A sensor not heard from for this long is dropped from its partition's record. */
export const SEEN_RETENTION_MS = 7 * 24 * 3600 * 1000;
const MAX_ATTEMPTS = 4;

/**
 * The batch processor's hook for silent sensors (docs/silence.md): after a batch, records
 * per partition when each watched sensor was last heard from (processing time, whole seconds
 * rounded up). The partition's item is written at most once per batch and only when a
 * sensor's time moved by the granularity or a new sensor appeared, so a partition costs at
 * most one write per granularity whatever its batch rate. A warm container keeps the items
 * it wrote; a version conflict (another container, after a rebalance) is answered by reading
 * and merging (the newest time wins, so merges commute). A new partition is added to the
 * registry before its first record is written, so the check never misses one.
 */
export class LastSeenRecorder {
  private readonly known = new Map<string, SeenItem>();
  private readonly registered = new Set<string>();

  constructor(private readonly options: LastSeenRecorderOptions) {}

  /**
   * `limits`: the rules the batch was judged with (the live rules snapshot), else the
   * options'. Sensors without a limit under them are not recorded: no rule sets a limit, no
   * write at all.
   */
  async record(
    partitions: readonly PartitionSensors[],
    nowMs: number,
    limits: SilenceLimits = this.options,
  ): Promise<void> {
    const seenMs = Math.ceil(nowMs / 1000) * 1000;
    const watched = partitions
      .map((p) => ({
        pid: p.pid,
        ids: [...new Set(p.sensorIds)].filter((id) => limits.silenceOf(id, p.topic) !== undefined),
      }))
      .filter((p) => p.ids.length > 0);
    if (watched.length === 0) return;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.attempt(watched, seenMs, limits.granularityMs);
        return;
      } catch (error) {
        for (const p of watched) this.known.delete(p.pid);
        if (!(error instanceof StoreConflictError) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  private async attempt(
    watched: readonly { pid: string; ids: readonly string[] }[],
    seenMs: number,
    granularityMs: number,
  ): Promise<void> {
    const store = this.options.store;
    const missing = watched.filter((p) => !this.known.has(p.pid)).map((p) => p.pid);
    const loaded: Map<string, SeenItem> =
      missing.length === 0 ? new Map() : await store.loadSeen(missing);
    const writes: { pid: string; item: SeenItem; expected: number | null }[] = [];
    for (const { pid, ids } of watched) {
      const current = this.known.get(pid) ?? loaded.get(pid) ?? null;
      const sensors = new Map(current?.sensors ?? []);
      let moved = current === null;
      for (const id of ids) {
        const before = sensors.get(id);
        if (before === undefined || seenMs - before >= granularityMs) {
          sensors.set(id, Math.max(before ?? 0, seenMs));
          moved = true;
        }
      }
      if (!moved) {
        if (current !== null) this.known.set(pid, current);
        continue;
      }
      writes.push({
        pid,
        item: { version: (current?.version ?? 0) + 1, sensors: pruned(sensors, seenMs) },
        expected: current?.version ?? null,
      });
    }
    const fresh = writes.filter((w) => w.expected === null && !this.registered.has(w.pid));
    if (fresh.length > 0) await this.register(fresh.map((w) => w.pid));
    await Promise.all(writes.map((w) => store.saveSeen(w.pid, w.item, w.expected)));
    for (const w of writes) this.known.set(w.pid, w.item);
  }

  /** Adds partitions to the registry (a conditional read-modify-write, retried on a race). */
  private async register(pids: readonly string[]): Promise<void> {
    const store = this.options.store;
    for (let attempt = 1; ; attempt += 1) {
      const current = await store.loadPartitions();
      const all = new Set(current.pids);
      for (const pid of current.pids) this.registered.add(pid);
      const added = pids.filter((pid) => !all.has(pid));
      if (added.length === 0) return;
      try {
        await store.savePartitions([...current.pids, ...added], current.version);
        for (const pid of added) this.registered.add(pid);
        return;
      } catch (error) {
        if (!(error instanceof StoreConflictError) || attempt >= MAX_ATTEMPTS * 2) throw error;
      }
    }
  }
}

/** Drops sensors gone for SEEN_RETENTION_MS, then keeps the newest MAX_SEEN_PER_PARTITION. */
function pruned(sensors: Map<string, number>, nowMs: number): Map<string, number> {
  for (const [id, ms] of sensors) if (nowMs - ms > SEEN_RETENTION_MS) sensors.delete(id);
  if (sensors.size <= MAX_SEEN_PER_PARTITION) return sensors;
  return new Map([...sensors].sort((a, b) => b[1] - a[1]).slice(0, MAX_SEEN_PER_PARTITION));
}
