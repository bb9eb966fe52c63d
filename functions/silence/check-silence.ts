import { StoreConflictError } from '../adapters/store-errors.ts';
import type { GroupResolver } from '../core/alerting/groups.ts';
import { groupSilence, muteSilence } from '../core/alerting/silence-groups.ts';
import {
  decideSilence,
  SILENCE_KINDS,
  type SilenceAlert,
  type SilenceResolver,
  type SilentEntry,
} from '../core/silence.ts';
import { allEntries, commitPlan, emptyPagedMap, planPages } from './pages.ts';
import {
  SILENT_SET_KEY,
  type SilencePublisher,
  type SilenceSink,
  type SilenceStore,
} from './ports.ts';

/** A silent sensor that no partition has heard of for this long is forgotten. */
export const SILENT_RETENTION_MS = 30 * 24 * 3600 * 1000;
/** Alerts sent per call to SNS and each sink: the outbox drains in order, this many at a time. */
export const DELIVERY_CHUNK = 100;

export interface SilenceCheckDeps {
  readonly store: SilenceStore;
  readonly publisher: SilencePublisher;
  readonly sinks?: readonly SilenceSink[];
  readonly silenceOf: SilenceResolver;
  /** The recorder's granularity (seenGranularityMs): the check waits this long past a limit. */
  readonly slackMs: number;
  /**
   * The longest a batch may run (the detector's timeout): a batch may have heard a sensor
   * and not yet recorded it, so the check waits this long too (docs/silence.md, "Races").
   * @default 0
   */
  readonly maxBatchMs?: number;
  readonly nowMs: () => number;
  /**
   * The alert groups of the rules: a group gone silent whole gets one alert for its sensors'
   * (docs/alerting-groups.md). @default none
   */
  readonly groupOf?: GroupResolver;
  /**
   * Maintenance windows: a sensor's silence alerts inside one are not notified (counted as
   * `muted`; docs/alerting-groups.md). @default none
   */
  readonly muted?: (sensorId: string, atMs: number) => boolean;
  /** Told about each alert once its decision is durable (and again after a failed delivery). */
  readonly onAlert?: (alert: SilenceAlert) => void;
}

export interface SilenceCheckReport {
  readonly partitions: number;
  readonly sensors: number;
  readonly silentSensors: number;
  /** Alerts decided by this check. */
  readonly alerts: number;
  /** Alerts of an earlier check whose delivery had failed, sent again (same alert ids). */
  readonly redelivered: number;
  /** Alerts due but not decided: the outbox was at its byte budget (a later check decides them). */
  readonly deferred: number;
  /** Alerts left in the outbox after this check (delivery failed). */
  readonly undelivered: number;
  /** Another check changed the state meanwhile (this one left it to that one). */
  readonly conflicts: number;
  /** Sensor alerts a group alert stood for (not sent to SNS). */
  readonly inhibited?: number;
  /** Sensor alerts inside maintenance windows (not sent to SNS). */
  readonly muted?: number;
}

/**
 * One scheduled check over the last-seen records (docs/silence.md). The outbox is the commit
 * point: the decided alerts are appended to it (conditional on its version) before the silent
 * set's pages are written, then told, then sent in order, a chunk at a time, to SNS and every
 * sink at once, and removed from the outbox only once all accepted. The outbox has a byte
 * budget: while delivery fails, the check decides no alert past it (those sensors keep their
 * state, and are decided at a later check with the same alert id), so nothing is lost and
 * nothing grows; once SNS is back the outbox drains oldest first. The state the check decides
 * against is the silent set with the outbox's alerts replayed over it, so a check that failed
 * between its outbox and its pages loses nothing.
 */
export async function checkSilence(deps: SilenceCheckDeps): Promise<SilenceCheckReport> {
  const nowMs = deps.nowMs();
  const { store } = deps;
  const { pids } = await store.loadPartitions();
  const seen = await store.seen.load(pids);
  // An unkeyed sensor is heard of through several partitions: its latest time counts, and
  // its limit is the one of the topic it was last heard on.
  const lastSeen = new Map<string, number>();
  const topicOf = new Map<string, string>();
  for (const [pid, map] of seen) {
    const topic = topicOfPartition(pid);
    for (const page of map.pages.values()) {
      for (const [id, ms] of page.entries) {
        if ((lastSeen.get(id) ?? Number.NEGATIVE_INFINITY) < ms) {
          lastSeen.set(id, ms);
          topicOf.set(id, topic);
        }
      }
    }
  }
  const silenceOf = (id: string) => deps.silenceOf(id, topicOf.get(id));
  const silentMap =
    (await store.silent.load([SILENT_SET_KEY])).get(SILENT_SET_KEY) ?? emptyPagedMap();
  const outbox = await store.loadOutbox();
  const stored = allEntries(silentMap);
  let pending = [...outbox.alerts];
  if (outbox.version === null) {
    // Upgraded from the earlier layout: its declared silences and undelivered alerts.
    const legacy = await store.loadLegacyChecker();
    for (const [id, e] of legacy.silent) if (!stored.has(id)) stored.set(id, e);
    pending = [...legacy.outbox, ...pending];
  }
  const state = replay(stored, pending);
  const decision = decideSilence(
    lastSeen,
    silenceOf,
    state,
    nowMs,
    deps.slackMs + (deps.maxBatchMs ?? 0),
  );
  // Maintenance first: a muted sensor's alert is not part of its group's alert.
  const quiet =
    deps.muted === undefined
      ? { alerts: decision.alerts, muted: 0 }
      : muteSilence(decision.alerts, deps.muted, (id) => state.get(id)?.declaredAtMs);
  const mutedIds = new Set(
    quiet.alerts.filter((a, i) => a !== decision.alerts[i]).map((a) => a.alertId),
  );
  const grouped =
    deps.groupOf === undefined
      ? { alerts: quiet.alerts, inhibited: 0 }
      : groupSilence(
          quiet.alerts,
          [...lastSeen.keys()].filter((id) => silenceOf(id) !== undefined),
          decision.state,
          deps.groupOf,
        );
  const room = alertsThatFit(store, pending, grouped.alerts);
  const taken = grouped.alerts.slice(0, room);
  // Alerts past the budget are not decided yet: their sensors keep their earlier state.
  const next = new Map(decision.state);
  for (const a of grouped.alerts.slice(room)) {
    if (a.group !== undefined) continue;
    const before = state.get(a.sensorId);
    if (before === undefined) next.delete(a.sensorId);
    else next.set(a.sensorId, before);
  }
  for (const [id, e] of next) {
    if (!lastSeen.has(id) && nowMs - e.declaredAtMs >= SILENT_RETENTION_MS) next.delete(id);
  }
  const report = {
    partitions: pids.length,
    sensors: lastSeen.size,
    silentSensors: next.size,
    alerts: taken.length,
    redelivered: pending.length,
    deferred: grouped.alerts.length - room,
    undelivered: 0,
    conflicts: 0,
    inhibited: taken.filter((a) => a.inhibited === true && !mutedIds.has(a.alertId)).length,
    muted: taken.filter((a) => mutedIds.has(a.alertId)).length,
  };

  let outboxVersion = outbox.version;
  const committed = [...pending, ...taken];
  try {
    // The first outbox also marks the earlier layout's state as carried over.
    if (taken.length > 0 || outbox.version === null) {
      await store.saveOutbox(committed, outboxVersion);
      outboxVersion = (outboxVersion ?? 0) + 1;
    }
    const plan = planPages(silentMap, next, (e) => store.silent.fits(e), nowMs, sameEntry);
    await commitPlan(store.silent, SILENT_SET_KEY, plan);
  } catch (error) {
    if (!(error instanceof StoreConflictError)) throw error;
    return { ...report, alerts: 0, redelivered: 0, conflicts: 1 };
  }
  for (const a of committed) deps.onAlert?.(a);

  let delivered = 0;
  let failure: unknown = null;
  while (delivered < committed.length) {
    const chunk = committed.slice(delivered, delivered + DELIVERY_CHUNK);
    try {
      await deliver(deps, chunk);
    } catch (error) {
      failure = error;
      break;
    }
    delivered += chunk.length;
  }
  if (delivered > 0) {
    try {
      await store.saveOutbox(committed.slice(delivered), outboxVersion);
    } catch (error) {
      if (!(error instanceof StoreConflictError)) throw error;
      report.conflicts += 1;
    }
  }
  if (failure !== null) throw failure;
  return { ...report, undelivered: committed.length - delivered };
}

/** The silent set with the outbox's alerts applied in order (idempotent: the last one wins). */
function replay(
  silent: ReadonlyMap<string, SilentEntry>,
  alerts: readonly SilenceAlert[],
): Map<string, SilentEntry> {
  const state = new Map(silent);
  for (const a of alerts) {
    // A group's alert stands for its sensors' alerts, which are in the outbox themselves.
    if (a.group !== undefined) continue;
    if (a.kind === SILENCE_KINDS.silent) {
      state.set(a.sensorId, {
        lastSeenMs: a.lastSeenMs,
        silenceSeconds: a.silenceSeconds,
        declaredAtMs: a.decidedAtMs,
      });
    } else if (state.get(a.sensorId)?.lastSeenMs === a.lastSeenMs) state.delete(a.sensorId);
  }
  return state;
}

/** How many of `alerts` (in order) the outbox takes beside `pending`: a binary search. */
function alertsThatFit(
  store: SilenceStore,
  pending: readonly SilenceAlert[],
  alerts: readonly SilenceAlert[],
): number {
  let low = 0;
  let high = alerts.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (store.outboxFits([...pending, ...alerts.slice(0, mid)])) low = mid;
    else high = mid - 1;
  }
  return low;
}

const sameEntry = (a: SilentEntry, b: SilentEntry) =>
  a.lastSeenMs === b.lastSeenMs &&
  a.silenceSeconds === b.silenceSeconds &&
  a.declaredAtMs === b.declaredAtMs;

/**
 * The Kafka topic of a partition id (`<topic>#<partition>` or `<stream>#<topic>#<partition>`,
 * functions/ports.ts partitionId): Kafka topic names hold only letters, digits, `.`, `_` and
 * `-`, and the stream id is base64url, so `#` separates the parts.
 */
export function topicOfPartition(pid: string): string {
  const parts = pid.split('#');
  return parts.length >= 3 ? (parts[parts.length - 2] as string) : (parts[0] ?? '');
}

/** SNS and every sink at once; each settles before a failure is thrown. */
async function deliver(deps: SilenceCheckDeps, alerts: readonly SilenceAlert[]): Promise<void> {
  if (alerts.length === 0) return;
  // Inhibited sensor alerts: their group's alert is sent instead; the sinks get both.
  const notified = alerts.filter((a) => a.inhibited !== true);
  const sends = [
    ...(notified.length === 0 ? [] : [deps.publisher.publishSilence(notified)]),
    ...(deps.sinks ?? []).map((s) => s.deliverSilence(alerts)),
  ];
  const failed = (await Promise.allSettled(sends)).find((r) => r.status === 'rejected');
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
}
