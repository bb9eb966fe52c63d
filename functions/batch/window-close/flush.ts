import { StoreConflictError } from '../../adapters/store-errors.ts';
import { type AlertingPolicy, compileAlerting } from '../../core/alerting/policy.ts';
import { compileRules, type DetectorResolver } from '../../core/detector-rules.ts';
import type { AlertDecision } from '../../core/types.ts';
import {
  type AlertPublisher,
  type AnomalySink,
  type BatchObserver,
  NO_OBSERVER,
} from '../../ports.ts';
import { topicOfPartition } from '../../silence/check-silence.ts';
import { commitAlerts } from '../alerting.ts';
import { commit, generation, newCommitId } from '../commit.ts';
import { deliverOutbox } from '../deliver.ts';
import { loadState } from '../load.ts';
import { PageCache } from '../page-cache.ts';
import { buildPages } from '../pages.ts';
import type { DetectionSettings } from '../process-batch.ts';
import { emptyReport } from '../report.ts';
import type { PartitionRoot, PartitionStore } from '../state.ts';
import { OPEN_WINDOWS_ROOT_RESERVE_BYTES, openPagesExpireAt } from './open-pages.ts';
import { type OpenPartitions, PartitionWindows } from './partition-windows.ts';

export interface WindowFlushDeps {
  readonly store: PartitionStore;
  readonly publisher: AlertPublisher;
  readonly sinks?: readonly AnomalySink[];
  readonly observer?: BatchObserver;
  readonly openPartitions: OpenPartitions;
  readonly nowMs: () => number;
  readonly cache?: PageCache;
  readonly resolveDetector?: DetectorResolver;
  /** Alert groups (docs/alerting-groups.md), as a batch applies them. @default from settings */
  readonly alerting?: AlertingPolicy;
}

export interface WindowFlushReport {
  /** Partitions listed with open windows. */
  readonly partitions: number;
  /** Partitions whose windows the flush closed (it wrote their roots). */
  readonly flushed: number;
  readonly windowsClosed: number;
  readonly anomalies: number;
  readonly notificationsSent: number;
  /** A batch of the partition committed meanwhile: left to the next flush. */
  readonly conflicts: number;
}

/**
 * The scheduled flush of window-close evaluation (docs/state.md, "Open windows"): a partition's
 * windows close when its watermark passes their end plus the allowed lateness, and the
 * watermark moves with the partition's readings; a partition gone quiet would hold its last
 * windows open forever. The flush moves a quiet partition's watermark on by the processing
 * time it has been quiet (event time runs on with the clock, as the seed's processing-time
 * windows fired by the clock), closes what is due, and commits with the very conditional root
 * write a batch uses: a batch that commits first wins, and the flush leaves the partition to
 * the next run. `final` closes every open window (the end of a recording, as Flink's final
 * watermark at the end of a bounded input).
 */
export function createWindowFlush(settings: DetectionSettings, deps: WindowFlushDeps) {
  const resolveDetector =
    deps.resolveDetector ?? compileRules(settings.defaultDetector, settings.rules);
  const observer = deps.observer ?? NO_OBSERVER;
  const cache = deps.cache ?? new PageCache();
  const alerting = deps.alerting ?? compileAlerting(settings.alerting ?? {});

  return async function flush(options: { final?: boolean } = {}): Promise<WindowFlushReport> {
    const nowMs = deps.nowMs();
    const pids = await deps.openPartitions.list();
    const roots = pids.length === 0 ? new Map() : await deps.store.readRoots(pids);
    const total = {
      partitions: pids.length,
      flushed: 0,
      windowsClosed: 0,
      anomalies: 0,
      notificationsSent: 0,
      conflicts: 0,
    };
    for (const [pid, root] of roots as Map<string, PartitionRoot>) {
      const w = root.openWindows;
      if (w === undefined || w.watermarkMs === null) continue;
      const quietMs = nowMs - w.movedAtMs;
      // A partition that moved its watermark within the last slide is not quiet: its own
      // readings close its windows (the flush would only race them).
      const target = options.final
        ? Number.POSITIVE_INFINITY
        : quietMs >= settings.slideMs
          ? w.watermarkMs + quietMs
          : w.watermarkMs;
      if (target === w.watermarkMs && w.closing === null && w.queued.length === 0) continue;
      try {
        const done = await flushPartition(pid, root, target, nowMs);
        if (done.windowsClosed > 0) total.flushed += 1;
        total.windowsClosed += done.windowsClosed;
        total.anomalies += done.anomalies;
        total.notificationsSent += done.sent;
      } catch (error) {
        if (!(error instanceof StoreConflictError)) throw error;
        total.conflicts += 1;
      }
    }
    return total;
  };

  async function flushPartition(pid: string, first: PartitionRoot, target: number, nowMs: number) {
    const nowSeconds = Math.floor(nowMs / 1000);
    const deliver = {
      store: deps.store,
      publisher: deps.publisher,
      sinks: deps.sinks ?? [],
      observer,
    };
    let root = first;
    let sent = 0;
    if (root.outbox.length > 0) {
      for (const a of root.outbox) observer.anomaly(a);
      const done = await deliverOutbox(deliver, pid, root);
      root = done.root;
      sent += done.sent;
    }
    const windows = await PartitionWindows.load(
      { store: deps.store, cache, nowSeconds },
      pid,
      root,
      {
        ...settings,
        evaluation: 'window-close',
      },
    );
    if (windows === null) return { windowsClosed: 0, anomalies: 0, sent };
    const report = emptyReport(0);
    let anomalies = 0;
    let advanced = false;
    const topic = topicOfPartition(pid);
    for (;;) {
      const loaded = await loadState(
        { store: deps.store, cache, nowSeconds, window: settings },
        pid,
        root,
        [],
        windows.sensors(),
      );
      let outboxBytes = 0;
      let measured = 0;
      const outboxFull = (alerts: readonly AlertDecision[]) => {
        for (; measured < alerts.length; measured += 1)
          outboxBytes += deps.store.limits.alertBytes(alerts[measured] as AlertDecision);
        return outboxBytes >= deps.store.limits.maxOutboxBytes - OPEN_WINDOWS_ROOT_RESERVE_BYTES;
      };
      const epoch = root.epoch;
      const hook = windows.hook({
        work: loaded.work,
        resolveDetector,
        topic,
        alertCooldownMs: settings.alertCooldownMs,
        nowMs,
        epoch: () => epoch,
        outboxFull,
      });
      const alerts: AlertDecision[] = [];
      // What the last commit left (a queued record, due windows), then the quiet time's.
      let paused = hook.drain(alerts);
      if (!paused && target > windows.open.watermarkMs) {
        windows.open.advanceTo(target);
        advanced = true;
        paused = hook.closeDue(alerts);
      }
      if (hook.counts.windowsClosed === 0 && alerts.length === 0 && !paused) break;
      const version = root.version + 1;
      const commitId = newCommitId();
      const gen = generation({ version, commitId });
      const built = buildPages({
        pid,
        before: root,
        work: loaded.work,
        refresh: loaded.refresh,
        fresh: loaded.fresh,
        gen,
        nowSeconds,
        bucketExpiresAt:
          nowSeconds + Math.ceil(settings.windowMs / 1000) + settings.retentionMarginSeconds,
        tableBytes: deps.store.limits.pageTableBytes,
        maxTableBytes: deps.store.limits.maxPageTableBytes,
      });
      const open = windows.build({
        pid,
        gen,
        nowMs,
        expiresAtEpochSeconds: openPagesExpireAt(settings, nowSeconds),
        ...(advanced ? { movedAtMs: nowMs } : {}),
      });
      // Grouped as a batch's decisions are (functions/batch/alerting.ts).
      const grouped = commitAlerts(alerting, alerts, root);
      const next: PartitionRoot = {
        ...root,
        version,
        commitId,
        pages: built.table,
        outbox: grouped.outbox,
        ...(grouped.groups === undefined ? {} : { groups: grouped.groups }),
        openWindows: open.root,
      };
      windows.judged(report, observer);
      await commit(deps.store, cache, pid, root, next, [...built.writes, ...open.writes]);
      root = next;
      windows.committed(open.root, report);
      for (const a of grouped.outbox) observer.anomaly(a);
      anomalies += alerts.length;
      const done = await deliverOutbox(deliver, pid, root);
      root = done.root;
      sent += done.sent;
      if (!paused) break;
    }
    return { windowsClosed: report.windowsClosed ?? 0, anomalies, sent };
  }
}
