import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { anomalyJson, anomalyLine } from '../core/alert-text.ts';
import { episodeEndJson, episodeEndLine } from '../core/alerting/digest-text.ts';
import type { BatchObserver, BatchReport } from '../ports.ts';
import { METRIC } from '../telemetry-names.ts';

/**
 * What the detector's handler tells CloudWatch about a batch: one log line per decision and
 * the batch's metrics. Kept apart from the handler's wiring so the log and metric shapes that
 * dashboards, alarms and Logs Insights queries rely on are read (and changed) in one place.
 */

/**
 * The batch's decisions, counted as they are made so that a failed batch still reports what it
 * decided (see addDecisionMetrics).
 */
export interface Tally {
  rejected: number;
  anomalies: number;
  sent: number;
  heldBack: number;
  stale: number;
  escalated: number;
  episodesEnded: number;
  readonly byReason: Map<string, number>;
}

export function newTally(): Tally {
  return {
    rejected: 0,
    anomalies: 0,
    sent: 0,
    heldBack: 0,
    stale: 0,
    escalated: 0,
    episodesEnded: 0,
    byReason: new Map(),
  };
}

/** Logs each decision as CloudWatch expects it and counts it for the batch's metrics. */
export function telemetryObserver(
  logger: Logger,
  tally: Tally,
  extra: BatchObserver | undefined,
): BatchObserver {
  return {
    rejected(rejection) {
      tally.rejected += 1;
      tally.byReason.set(rejection.reason, (tally.byReason.get(rejection.reason) ?? 0) + 1);
      logger.warn('record rejected', {
        topic: rejection.source.topic,
        partition: rejection.source.partition,
        offset: rejection.source.offset,
        reason: rejection.reason,
        detail: rejection.detail,
        rawValue: rejection.rawPreview,
      });
      extra?.rejected(rejection);
    },
    anomaly(decision) {
      tally.anomalies += 1;
      if (decision.stale === true) tally.stale += 1;
      else if (!decision.notify) tally.heldBack += 1;
      if (decision.escalated === true) tally.escalated += 1;
      // The message is the Flink job's line; the fields make it queryable in Logs Insights.
      logger.warn(anomalyLine(decision.anomaly), {
        ...anomalyJson(decision.anomaly, decision.heldBackBefore),
        notified: decision.notify,
        ...(decision.stale === true ? { stale: true } : {}),
        ...(decision.escalated === true ? { escalated: true } : {}),
        ...(decision.episodeId === undefined ? {} : { episodeId: decision.episodeId }),
        ...(decision.group === undefined ? {} : { groupAlert: decision.group }),
      });
      extra?.anomaly(decision);
    },
    episodeEnded(end) {
      tally.episodesEnded += 1;
      logger.info(episodeEndLine(end), episodeEndJson(end));
      extra?.episodeEnded?.(end);
    },
    published(alerts) {
      tally.sent += alerts.length;
      extra?.published(alerts);
    },
    late(reading) {
      // Counted in the batch report (lateReadings); never judged, never silently dropped.
      logger.warn('reading late for every window (window-close evaluation)', {
        sensorId: reading.sensorId,
        value: reading.value,
        eventTime: new Date(reading.eventTimeMs).toISOString(),
        topic: reading.source.topic,
        partition: reading.source.partition,
        offset: reading.source.offset,
      });
      extra?.late?.(reading);
    },
    // Passed on only when wanted: the use case collects evaluations just for such an observer.
    ...(extra?.evaluated === undefined ? {} : { evaluated: extra.evaluated.bind(extra) }),
  };
}

/**
 * The metrics of the use case's report, added only when the batch succeeded (the report
 * exists). Alerting (docs/alerting-groups.md): only when the rules use it, so a stack without
 * groups or windows publishes no more metrics than before.
 */
export function addReportMetrics(metrics: Metrics, report: BatchReport): void {
  metrics.addMetric(METRIC.recordsRedelivered, MetricUnit.Count, report.redelivered);
  if (report.notificationsMuted > 0)
    metrics.addMetric(METRIC.notificationsMuted, MetricUnit.Count, report.notificationsMuted);
  if (report.notificationsGrouped > 0)
    metrics.addMetric(METRIC.notificationsGrouped, MetricUnit.Count, report.notificationsGrouped);
  if (report.groupAlerts > 0)
    metrics.addMetric(METRIC.groupAlerts, MetricUnit.Count, report.groupAlerts);
}

/**
 * The metrics counted from decisions as they are made, added whether the batch succeeded or
 * not, so a failed batch still reports what it decided; logMetrics flushes them on success and
 * on error.
 */
export function addDecisionMetrics(
  metrics: Metrics,
  tally: Tally,
  records: number,
  durationMs: number,
): void {
  metrics.addMetric(METRIC.recordsReceived, MetricUnit.Count, records);
  metrics.addMetric(METRIC.recordsRejected, MetricUnit.Count, tally.rejected);
  metrics.addMetric(METRIC.anomalies, MetricUnit.Count, tally.anomalies);
  metrics.addMetric(METRIC.notificationsSent, MetricUnit.Count, tally.sent);
  metrics.addMetric(METRIC.notificationsHeldBack, MetricUnit.Count, tally.heldBack);
  metrics.addMetric(METRIC.notificationsStale, MetricUnit.Count, tally.stale);
  metrics.addMetric(METRIC.notificationsEscalated, MetricUnit.Count, tally.escalated);
  metrics.addMetric(METRIC.episodesEnded, MetricUnit.Count, tally.episodesEnded);
  metrics.addMetric(METRIC.batchDurationMs, MetricUnit.Milliseconds, durationMs);
  for (const [reason, count] of tally.byReason) {
    const single = metrics.singleMetric();
    single.addDimension('reason', reason);
    single.addMetric(METRIC.recordsRejectedByReason, MetricUnit.Count, count);
  }
}
