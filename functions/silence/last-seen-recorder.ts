import { StoreConflictError } from '../adapters/store-errors.ts';
import type { SilenceResolver } from '../core/silence.ts';
import { allEntries, commitPlan, emptyPagedMap, type PagedMap, planPages } from './pages.ts';
import type { SilenceStore } from './ports.ts';

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

/** A sensor not heard from for this long is dropped from its partition's record. */
export const SEEN_RETENTION_MS = 7 * 24 * 3600 * 1000;
const MAX_ATTEMPTS = 4;

interface Known {
  readonly map: PagedMap<number>;
  readonly entries: ReadonlyMap<string, number>;
}

/**
 * The batch processor's hook for silent sensors (docs/silence.md): after a batch, records
 * per partition when each watched sensor was last heard from (processing time, whole seconds
 * rounded up), and forgets each heard sensor that is not watched (any more), so a limit
 * removed and put back never finds a stale time. A partition's record is a paged map
 * (pages.ts) whose pages stay within the store's byte budget whatever the number of sensors
 * and the length of their ids; only pages whose content changed are written, at most once per
 * batch, and only when a sensor's time moved by the granularity, a sensor appeared or went.
 * A warm container keeps the records it wrote and, before writing from that cache, reads the
 * record's head (one small read): a page set another container changed is reloaded; a page
 * another container changed fails its conditional write, and is reloaded and merged (the
 * newest time wins, so merges commute). A new partition is added to the registry before its
 * first record is written, so the check never misses one.
 */
export class LastSeenRecorder {
  private readonly known = new Map<string, Known>();
  private readonly registered = new Set<string>();

  constructor(private readonly options: LastSeenRecorderOptions) {}

  /**
   * `limits`: the rules the batch was judged with (the live rules snapshot), else the
   * options'. Sensors with a limit under them are recorded; the others are removed from the
   * record if they are in it. A partition is read once per container (to learn whether it
   * holds such sensors); with no limit anywhere and no record, nothing is written.
   */
  async record(
    partitions: readonly PartitionSensors[],
    nowMs: number,
    limits: SilenceLimits = this.options,
  ): Promise<void> {
    const seenMs = Math.ceil(nowMs / 1000) * 1000;
    const heard = partitions
      .map((p) => {
        const ids = [...new Set(p.sensorIds)];
        const watched = ids.filter((id) => limits.silenceOf(id, p.topic) !== undefined);
        const set = new Set(watched);
        return { pid: p.pid, watched, unwatched: ids.filter((id) => !set.has(id)) };
      })
      .filter((p) => p.watched.length + p.unwatched.length > 0);
    if (heard.length === 0) return;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.attempt(heard, seenMs, limits.granularityMs);
        return;
      } catch (error) {
        for (const p of heard) this.known.delete(p.pid);
        if (!(error instanceof StoreConflictError) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  private async attempt(
    heard: readonly { pid: string; watched: readonly string[]; unwatched: readonly string[] }[],
    seenMs: number,
    granularityMs: number,
  ): Promise<void> {
    const store = this.options.store.seen;
    const missing = heard.filter((p) => !this.known.has(p.pid)).map((p) => p.pid);
    const loaded = missing.length === 0 ? new Map() : await store.load(missing);
    const cold = new Set(missing);
    for (const pid of missing) {
      const map = loaded.get(pid) ?? emptyPagedMap();
      this.known.set(pid, { map, entries: allEntries(map) });
    }
    const writes = [];
    for (const { pid, watched, unwatched } of heard) {
      const current = this.known.get(pid) as Known;
      const moved = watched.filter((id) => {
        const before = current.entries.get(id);
        return before === undefined || seenMs - before >= granularityMs;
      });
      const gone = unwatched.filter((id) => current.entries.has(id));
      if (moved.length === 0 && gone.length === 0) continue;
      const next = new Map(current.entries);
      for (const id of moved) next.set(id, Math.max(next.get(id) ?? 0, seenMs));
      for (const id of gone) next.delete(id);
      for (const [id, ms] of next) if (seenMs - ms > SEEN_RETENTION_MS) next.delete(id);
      const plan = planPages(current.map, next, (e) => store.fits(e), seenMs);
      writes.push({ pid, plan, entries: next, created: current.map.version === null });
    }
    if (writes.length === 0) return;
    const fresh = writes.filter((w) => w.created && !this.registered.has(w.pid));
    if (fresh.length > 0) await this.register(fresh.map((w) => w.pid));
    // A paged record cached from an earlier batch may have been split by another container
    // since (a record held in its head is written conditional on the head's version anyway).
    await Promise.all(
      writes
        .filter((w) => !cold.has(w.pid) && (this.known.get(w.pid) as Known).map.inline !== true)
        .map(async (w) => {
          const head = await store.headVersion(w.pid);
          const cached = (this.known.get(w.pid) as Known).map.version;
          if (head !== cached) throw new StoreConflictError(`seen#${w.pid}: head moved`);
        }),
    );
    await Promise.all(writes.map((w) => commitPlan(store, w.pid, w.plan)));
    for (const w of writes) this.known.set(w.pid, { map: w.plan.next, entries: w.entries });
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
