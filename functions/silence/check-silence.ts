import { StoreConflictError } from '../adapters/store-errors.ts';
import {
  decideSilence,
  type SilenceAlert,
  type SilenceResolver,
  type SilentEntry,
} from '../core/silence.ts';
import { shardOf } from '../process-batch.ts';
import type { CheckerShard, SilencePublisher, SilenceSink, SilenceStore } from './ports.ts';

/** Shards of the check's state: 8 items of at most 400 KB hold about 80,000 silent sensors. */
export const CHECKER_SHARDS = 8;
/**
 * New alerts one shard commits per check: its outbox stays far below DynamoDB's 400 KB (about
 * 250 bytes each) when a whole plant goes quiet at once; the rest follow at the next check.
 */
export const MAX_NEW_ALERTS_PER_SHARD = 400;
/** A silent sensor that no partition has heard of for this long is forgotten. */
export const SILENT_RETENTION_MS = 30 * 24 * 3600 * 1000;

export interface SilenceCheckDeps {
  readonly store: SilenceStore;
  readonly publisher: SilencePublisher;
  readonly sinks?: readonly SilenceSink[];
  readonly silenceOf: SilenceResolver;
  /** The recorder's granularity (seenGranularityMs): the check waits this long past a limit. */
  readonly slackMs: number;
  readonly nowMs: () => number;
  /** Told about each alert once its decision is durable (and again after a failed delivery). */
  readonly onAlert?: (alert: SilenceAlert) => void;
  /** @default CHECKER_SHARDS */
  readonly shards?: number;
}

export interface SilenceCheckReport {
  readonly partitions: number;
  readonly sensors: number;
  readonly silentSensors: number;
  /** Alerts decided by this check. */
  readonly alerts: number;
  /** Alerts of an earlier check whose delivery had failed, sent again (same alert ids). */
  readonly redelivered: number;
  /** Shards another check changed meanwhile (left to it). */
  readonly conflicts: number;
}

/**
 * One scheduled check over the last-seen records (docs/silence.md), with the anomalies'
 * outbox guarantee: per shard of its state, the decided alerts are first written with the
 * new state (conditional on the version read: the commit point), then told, then sent to SNS
 * and every sink at once, and removed from the outbox only after all of them accepted. A
 * failure anywhere leaves them in the outbox; the next check sends them again with the same
 * alert ids before deciding anything new for that shard. A shard another check changed
 * meanwhile (a lost conditional write) is left to that check.
 */
export async function checkSilence(deps: SilenceCheckDeps): Promise<SilenceCheckReport> {
  const nowMs = deps.nowMs();
  const shards = deps.shards ?? CHECKER_SHARDS;
  const { pids } = await deps.store.loadPartitions();
  const seen = await deps.store.loadSeen(pids);
  // An unkeyed sensor is heard of through several partitions: its latest time counts, and
  // its limit is the one of the topic it was last heard on.
  const lastSeen = new Map<string, number>();
  const topicOf = new Map<string, string>();
  for (const [pid, item] of seen) {
    const topic = topicOfPartition(pid);
    for (const [id, ms] of item.sensors) {
      if ((lastSeen.get(id) ?? Number.NEGATIVE_INFINITY) < ms) {
        lastSeen.set(id, ms);
        topicOf.set(id, topic);
      }
    }
  }
  const silenceOf = (id: string) => deps.silenceOf(id, topicOf.get(id));
  const bySensorShard = Array.from({ length: shards }, () => new Map<string, number>());
  for (const [id, ms] of lastSeen) bySensorShard[shardOf(id, shards)]?.set(id, ms);
  const state = await deps.store.loadChecker(shards);

  let alerts = 0;
  let redelivered = 0;
  let conflicts = 0;
  let silentSensors = 0;
  const results = await Promise.allSettled(
    bySensorShard.map(async (sensors, shard) => {
      const current = state.get(shard) ?? null;
      const decision = decideSilence(
        sensors,
        silenceOf,
        current?.silent ?? new Map(),
        nowMs,
        deps.slackMs,
      );
      // Alerts past the cap are not decided yet: their sensors keep their earlier state.
      const taken = decision.alerts.slice(0, MAX_NEW_ALERTS_PER_SHARD);
      const next = new Map(decision.state);
      for (const a of decision.alerts.slice(MAX_NEW_ALERTS_PER_SHARD)) {
        const before = current?.silent.get(a.sensorId);
        if (before === undefined) next.delete(a.sensorId);
        else next.set(a.sensorId, before);
      }
      const silent = new Map<string, SilentEntry>();
      for (const [id, e] of next) {
        if (sensors.has(id) || nowMs - e.declaredAtMs < SILENT_RETENTION_MS) silent.set(id, e);
      }
      silentSensors += silent.size;
      const pending = current?.outbox ?? [];
      if (taken.length === 0 && pending.length === 0) {
        if (silent.size === (current?.silent.size ?? 0)) return;
      }
      const committed: CheckerShard = {
        version: (current?.version ?? 0) + 1,
        silent,
        outbox: [...pending, ...taken],
      };
      try {
        await deps.store.saveChecker(shard, committed, current?.version ?? null);
      } catch (error) {
        if (error instanceof StoreConflictError) {
          conflicts += 1;
          return;
        }
        throw error;
      }
      alerts += taken.length;
      redelivered += pending.length;
      for (const a of committed.outbox) deps.onAlert?.(a);
      await deliver(deps, committed.outbox);
      try {
        await deps.store.saveChecker(
          shard,
          { ...committed, version: committed.version + 1, outbox: [] },
          committed.version,
        );
      } catch (error) {
        if (!(error instanceof StoreConflictError)) throw error;
        conflicts += 1;
      }
    }),
  );
  const failed = results.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  return {
    partitions: pids.length,
    sensors: lastSeen.size,
    silentSensors,
    alerts,
    redelivered,
    conflicts,
  };
}

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
  const sends = [
    deps.publisher.publishSilence(alerts),
    ...(deps.sinks ?? []).map((s) => s.deliverSilence(alerts)),
  ];
  const failed = (await Promise.allSettled(sends)).find((r) => r.status === 'rejected');
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
}
