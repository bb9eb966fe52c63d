import type { EpisodeEnd } from '../../core/alerting/episodes.ts';
import type { AlertDecision, Anomaly, GroupSummary, Severity } from '../../core/types.ts';

/**
 * The outbox's encodings (docs/state.md): each decided alert as a compact tuple, and each
 * ended episode (docs/alerting.md). Optional elements trail, and trailing defaults are left
 * out, so an alert without them encodes as before they existed.
 */

/** Outbox alerts as compact tuples. */
export function compactAlert(a: AlertDecision): unknown[] {
  const row = compactAlertRow(a);
  // Trailing defaults (no explanation, fresh, not escalated, no episode) are left out.
  while (row.length > 16 && (row[row.length - 1] === null || row[row.length - 1] === 0)) row.pop();
  return row;
}

function compactAlertRow(a: AlertDecision): unknown[] {
  const x = a.anomaly;
  return [
    x.sensorId,
    x.value,
    x.mean,
    x.count,
    x.deviation,
    x.limit,
    x.detector,
    x.eventTimeMs,
    x.severity,
    x.source.topic,
    x.source.partition,
    x.source.offset,
    a.notify ? 1 : 0,
    a.heldBackBefore,
    x.sigma ?? null,
    x.alertId,
    // Why the detector fired (the robust and limits detectors); absent for the others.
    x.test === undefined
      ? null
      : [
          x.test,
          x.score ?? null,
          x.expected ?? null,
          x.expectedLow ?? null,
          x.expectedHigh ?? null,
        ],
    // The group alert this notification carries (docs/alerting-groups.md).
    a.group === undefined ? null : compactGroup(a.group),
    // The window of a window-close decision, and the seed's number format ('p' or 'j').
    x.windowEndMs === undefined ? null : [x.windowEndMs, x.seedFormat === 'java' ? 'j' : 'p'],
    // How it was routed, and its episode: the episode id shares the alert id's
    // `<topic>-<partition>-` prefix (one partition's state), so only its tail is kept.
    a.stale === true ? 1 : 0,
    a.escalated === true ? 1 : 0,
    a.episodeId === undefined ? null : episodeTail(x, a.episodeId),
  ];
}

function episodePrefix(x: Anomaly): string {
  return `${x.source.topic}-${x.source.partition}-`;
}

function episodeTail(x: Anomaly, episodeId: string): string | [string] {
  const prefix = episodePrefix(x);
  return episodeId.startsWith(prefix) ? episodeId.slice(prefix.length) : [episodeId];
}

type GroupRow = [string, number, number, number, number, number, string, string[]];

function compactGroup(g: GroupSummary): GroupRow {
  return [
    g.key,
    g.threshold,
    g.periodSeconds,
    g.sensors,
    g.alerts,
    g.inPeriod,
    g.severity,
    [...g.listed],
  ];
}

function expandGroup(row: GroupRow): GroupSummary {
  const [key, threshold, periodSeconds, sensors, alerts, inPeriod, severity, listed] = row;
  return {
    key,
    threshold,
    periodSeconds,
    sensors,
    alerts,
    inPeriod,
    severity: severity as GroupSummary['severity'],
    listed,
  };
}

export function expandAlert(raw: unknown): AlertDecision {
  const [
    sensorId,
    value,
    mean,
    count,
    deviation,
    limit,
    detector,
    eventTimeMs,
    severity,
    topic,
    partition,
    offset,
    notify,
    heldBackBefore,
    sigma,
    alertId,
    why,
    group,
    window,
    stale,
    escalated,
    episode,
  ] = raw as [
    string,
    number,
    number,
    number,
    number,
    number,
    string,
    number,
    'warning' | 'critical',
    string,
    number,
    number,
    number,
    number,
    number | null,
    string,
    [string, number | null, number | null, number | null, number | null] | null | undefined,
    GroupRow | null | undefined,
    [number, 'p' | 'j'] | null | undefined,
    number | undefined,
    number | undefined,
    string | [string] | null | undefined,
  ];
  const [test, score, expected, expectedLow, expectedHigh] = why ?? [];
  const episodeId =
    episode === null || episode === undefined
      ? undefined
      : Array.isArray(episode)
        ? episode[0]
        : `${topic}-${partition}-${episode}`;
  return {
    anomaly: {
      alertId,
      sensorId,
      value,
      mean,
      count,
      deviation,
      limit,
      detector,
      eventTimeMs,
      severity,
      ...(sigma === null || sigma === undefined ? {} : { sigma }),
      source: { topic, partition, offset },
      ...(test === undefined ? {} : { test: test as NonNullable<Anomaly['test']> }),
      ...(score === null || score === undefined ? {} : { score }),
      ...(expected === null || expected === undefined ? {} : { expected }),
      ...(expectedLow === null || expectedLow === undefined ? {} : { expectedLow }),
      ...(expectedHigh === null || expectedHigh === undefined ? {} : { expectedHigh }),
      ...(window === undefined || window === null
        ? {}
        : { windowEndMs: window[0], seedFormat: window[1] === 'j' ? 'java' : 'python' }),
    },
    notify: notify === 1,
    heldBackBefore,
    ...(group === undefined || group === null ? {} : { group: expandGroup(group) }),
    ...(stale === 1 ? { stale: true } : {}),
    ...(escalated === 1 ? { escalated: true } : {}),
    ...(episodeId === undefined ? {} : { episodeId }),
  };
}

/** `[episodeId, sensorId, startMs, endMs, peak, anomalies, notify, endId]` */
export function compactEpisodeEnd(e: EpisodeEnd): unknown[] {
  return [
    e.episodeId,
    e.sensorId,
    e.startMs,
    e.endMs,
    e.peak,
    e.anomalies,
    e.notify ? 1 : 0,
    e.endId,
  ];
}

export function expandEpisodeEnd(raw: unknown): EpisodeEnd {
  const [episodeId, sensorId, startMs, endMs, peak, anomalies, notify, endId] = raw as [
    string,
    string,
    number,
    number,
    Severity,
    number,
    number,
    string,
  ];
  return { episodeId, sensorId, startMs, endMs, peak, anomalies, notify: notify === 1, endId };
}
