import type { EpisodeEnd } from '../core/alerting/episodes.ts';
import type { FreshnessResolver } from '../core/alerting/freshness.ts';
import type { AlertingPolicy } from '../core/alerting/policy.ts';
import type { DetectorResolver } from '../core/detector-rules.ts';
import type { FeedbackResolver } from '../core/feedback.ts';
import type { AlertDecision, Reading } from '../core/types.ts';
import type { BatchObserver } from '../ports.ts';
import { Admitter, decidedOf } from './admit.ts';
import { commitAlerts } from './alerting.ts';
import { commit, generation, newCommitId } from './commit.ts';
import { type DeliverDeps, deliverOutbox } from './deliver.ts';
import { digestStep } from './digest-step.ts';
import type { PartitionGroup } from './group.ts';
import { judgeRecords } from './judge.ts';
import { loadState } from './load.ts';
import type { PageCache } from './page-cache.ts';
import { buildPages } from './pages.ts';
import type { MutableReport } from './report.ts';
import type { PartitionRoot, PartitionStore } from './state.ts';
import type { WindowCloseSettings } from './window-close/closing.ts';
import { OPEN_WINDOWS_ROOT_RESERVE_BYTES, openPagesExpireAt } from './window-close/open-pages.ts';
import { type OpenPartitions, PartitionWindows } from './window-close/partition-windows.ts';

export interface RunContext extends DeliverDeps {
  readonly store: PartitionStore;
  readonly cache: PageCache;
  readonly observer: BatchObserver;
  readonly resolveDetector: DetectorResolver;
  readonly feedback?: FeedbackResolver;
  /** Each sensor's freshness limit (docs/alerting.md). @default 5 minutes */
  readonly freshnessOf?: FreshnessResolver;
  readonly settings: WindowCloseSettings & {
    readonly slideMs: number;
    readonly windowMs: number;
    readonly alertCooldownMs: number;
    readonly retentionMarginSeconds: number;
    readonly episodeEndReadings?: number;
    /** Email digests by time (docs/alerting.md); 0 or absent: off. */
    readonly digestPeriodMs?: number;
  };
  readonly nowMs: number;
  /** Alert groups and maintenance windows (docs/alerting-groups.md). @default none */
  readonly alerting?: AlertingPolicy;
  /** Where partitions with open windows are listed for the scheduled flush. @default none */
  readonly openPartitions?: OpenPartitions;
}

/**
 * One partition's part of a batch, as steps: deliver what the root's outbox still holds;
 * admit the records not yet decided; load the pages they need; judge them (in chunks, so each
 * commit's outbox fits); commit (new pages, one conditional root write); tell and deliver.
 * Resolves once every record of the group is decided and delivered.
 */
export async function runPartition(
  ctx: RunContext,
  group: PartitionGroup,
  first: PartitionRoot | null,
  report: MutableReport,
): Promise<void> {
  const nowSeconds = Math.floor(ctx.nowMs / 1000);
  const told = ctx.cache.told;
  const tell = (alerts: readonly AlertDecision[]) => {
    if (told.size > 100_000) told.clear();
    for (const a of alerts) {
      if (told.has(a.anomaly.alertId)) continue;
      told.add(a.anomaly.alertId);
      ctx.observer.anomaly(a);
    }
  };
  const delivered = (alerts: readonly AlertDecision[]) => {
    for (const a of alerts) told.delete(a.anomaly.alertId);
  };
  // Episode ends, told once their decision is durable, as anomalies are.
  const tellEnds = (ends: readonly EpisodeEnd[] | undefined) => {
    for (const e of ends ?? []) {
      const key = `end:${e.endId}`;
      if (told.has(key)) continue;
      told.add(key);
      ctx.observer.episodeEnded?.(e);
    }
  };
  const deliveredEnds = (ends: readonly EpisodeEnd[] | undefined) => {
    for (const e of ends ?? []) told.delete(`end:${e.endId}`);
  };
  let root = first;
  // 1. What an earlier attempt committed and may not have delivered: told and sent first.
  if (root !== null && (root.outbox.length > 0 || (root.episodeEnds?.length ?? 0) > 0)) {
    tell(root.outbox);
    tellEnds(root.episodeEnds);
    const done = await deliverOutbox(ctx, group.pid, root);
    delivered(root.outbox);
    deliveredEnds(root.episodeEnds);
    root = done.root;
    report.notificationsSent += done.sent;
  }
  // Window-close evaluation: the open windows, and whatever a budget left to close.
  const windows = await PartitionWindows.load(
    { store: ctx.store, cache: ctx.cache, nowSeconds },
    group.pid,
    root,
    ctx.settings,
  );
  report.bucketKeysRead += windows?.pagesRead ?? 0;
  let records = group.records;
  let parsed = group.parsed;
  while (records.length > 0 || windows?.pending === true) {
    // 2. Admit: which records are new (a dry run, to know which pages to load).
    const dry = new Admitter(decidedOf(root), records);
    const readings: Reading[] = [];
    for (let i = 0; i < records.length; i += 1) {
      const p = parsed[i];
      if (dry.next(records[i] as (typeof records)[number]) === 'judge' && p?.ok === true)
        readings.push(...p.readings);
    }
    if (!dry.dirty && windows?.pending !== true) {
      report.redelivered += records.length;
      return;
    }
    // 3. Load, 4. judge.
    const loaded = await loadState(
      { store: ctx.store, cache: ctx.cache, nowSeconds, window: ctx.settings },
      group.pid,
      root,
      readings,
      windows?.sensors(),
    );
    report.bucketKeysRead += loaded.pagesRead;
    const admitter = new Admitter(decidedOf(root), records);
    let outboxBytes = 0;
    let measured = 0;
    let measuredEnds = 0;
    // Window-close state rides in the root too: the outbox leaves it its room.
    const outboxBudget =
      ctx.store.limits.maxOutboxBytes - (windows === null ? 0 : OPEN_WINDOWS_ROOT_RESERVE_BYTES);
    // Alerts and episode ends share the outbox's budget.
    const measure = (alerts: readonly AlertDecision[], ends: readonly EpisodeEnd[]) => {
      for (; measured < alerts.length; measured += 1)
        outboxBytes += ctx.store.limits.alertBytes(alerts[measured] as AlertDecision);
      for (; measuredEnds < ends.length; measuredEnds += 1)
        outboxBytes += ctx.store.limits.episodeEndBytes(ends[measuredEnds] as EpisodeEnd);
    };
    const outboxFull = (alerts: readonly AlertDecision[], ends: readonly EpisodeEnd[] = []) => {
      measure(alerts, ends);
      return outboxBytes >= outboxBudget;
    };
    const windowClose = windows?.hook({
      work: loaded.work,
      resolveDetector: ctx.resolveDetector,
      topic: group.key.topic,
      alertCooldownMs: ctx.settings.alertCooldownMs,
      nowMs: ctx.nowMs,
      epoch: () => admitter.epoch,
      outboxFull,
    });
    const judged = judgeRecords(loaded.work, records, parsed, admitter, {
      settings: ctx.settings,
      resolveDetector: ctx.resolveDetector,
      ...(ctx.feedback === undefined ? {} : { feedback: ctx.feedback }),
      ...(ctx.freshnessOf === undefined ? {} : { freshnessOf: ctx.freshnessOf }),
      nowMs: ctx.nowMs,
      evaluations: ctx.observer.evaluated !== undefined,
      ...(windowClose === undefined ? {} : { windowClose }),
      outboxFull,
      outboxRoomFor: (alerts, ends, readings) => {
        measure(alerts, ends);
        return outboxBytes + readings * ctx.store.limits.maxAlertBytes <= outboxBudget;
      },
      ...(ctx.alerting?.maintenance === true ? { muted: ctx.alerting.muted } : {}),
    });
    const alerts = commitAlerts(ctx.alerting, judged.alerts, root);
    // Rejections are told when judged: they depend on the record alone (a retry whose
    // records were committed meanwhile would never tell them).
    for (const r of judged.rejections) {
      ctx.observer.rejected(r);
      report.rejectedByReason[r.reason] = (report.rejectedByReason[r.reason] ?? 0) + 1;
    }
    windows?.judged(report, ctx.observer);
    // 5. Commit: new pages, then the root that points to them, with the outbox.
    const version = (root?.version ?? 0) + 1;
    const commitId = newCommitId();
    const built = buildPages({
      pid: group.pid,
      before: root,
      work: loaded.work,
      refresh: loaded.refresh,
      fresh: loaded.fresh,
      gen: generation({ version, commitId }),
      nowSeconds,
      bucketExpiresAt:
        nowSeconds + Math.ceil(ctx.settings.windowMs / 1000) + ctx.settings.retentionMarginSeconds,
      tableBytes: ctx.store.limits.pageTableBytes,
      maxTableBytes: ctx.store.limits.maxPageTableBytes,
    });
    const digest = digestStep({
      pid: group.pid,
      before: root,
      alerts: alerts.outbox,
      ends: judged.episodeEnds,
      nowMs: ctx.nowMs,
      periodMs: ctx.settings.digestPeriodMs ?? 0,
      gen: generation({ version, commitId }),
    });
    const open = windows?.build({
      pid: group.pid,
      gen: generation({ version, commitId }),
      nowMs: ctx.nowMs,
      expiresAtEpochSeconds: openPagesExpireAt(ctx.settings, nowSeconds),
    });
    const next: PartitionRoot = {
      version,
      commitId,
      ...admitter.decided(),
      pages: built.table,
      outbox: alerts.outbox,
      ...(alerts.groups === undefined ? {} : { groups: alerts.groups }),
      ...(judged.episodeEnds.length === 0 ? {} : { episodeEnds: judged.episodeEnds }),
      ...(digest.heads.length === 0 ? {} : { digestHeads: digest.heads }),
      ...(open === undefined ? {} : { openWindows: open.root }),
    };
    if (open !== undefined) await windows?.list(ctx.openPartitions, group.pid, open.root);
    await commit(ctx.store, ctx.cache, group.pid, root, next, [
      ...built.writes,
      ...(open?.writes ?? []),
      ...(digest.write === null ? [] : [digest.write]),
    ]);
    root = next;
    if (open !== undefined && windows !== null) windows.committed(open.root, report);
    // 6. Tell: decisions are durable now. Anomalies, then every evaluation.
    tell(alerts.outbox);
    tellEnds(judged.episodeEnds);
    for (const e of judged.evaluations) ctx.observer.evaluated?.(e);
    report.readings += judged.readings;
    report.redelivered += judged.redelivered + judged.duplicates;
    report.duplicates += judged.duplicates;
    report.anomalies += judged.alerts.length;
    // Not notified by themselves: stale (in the digest only), held back by a cooldown, or
    // folded into a group alert.
    for (const a of alerts.outbox) {
      if (a.stale === true) report.notificationsStale += 1;
      else if (!a.notify) report.notificationsHeldBack += 1;
      if (a.escalated === true) report.notificationsEscalated += 1;
    }
    report.episodesEnded += judged.episodeEnds.length;
    report.notificationsMuted += judged.muted;
    report.notificationsGrouped += alerts.grouped;
    report.groupAlerts += alerts.groupAlerts;
    report.bucketsWritten += built.bucketPages;
    // 7. Deliver the outbox, then the records the outbox's budget left for the next round.
    const done = await deliverOutbox(ctx, group.pid, root);
    delivered(alerts.outbox);
    deliveredEnds(judged.episodeEnds);
    root = done.root;
    report.notificationsSent += done.sent;
    records = records.slice(judged.consumed);
    parsed = parsed.slice(judged.consumed);
  }
}
