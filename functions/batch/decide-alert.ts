import { explanation } from '../core/alert-text.ts';
import { episodeOnAnomaly } from '../core/alerting/episodes.ts';
import {
  ESCALATION_FACTOR,
  exceedanceOf,
  MAX_ESCALATIONS,
  type NotificationState,
  routeAnomaly,
} from '../core/alerting/notification-policy.ts';
import type { Verdict } from '../core/detectors.ts';
import { type AlertDecision, type Anomaly, type Reading, SEVERITIES } from '../core/types.ts';
import type { Cursor, JudgeInput } from './judge.ts';
import { COOLDOWN_CREDIBLE_AHEAD_MS } from './layout.ts';

/**
 * What the batch decides for one anomaly (docs/alerting.md): its alert, and whether it is
 * notified now, escalated, held back or stale (functions/core/alerting/), with the sensor's
 * episode. The cursor's notification state and episode move on with it.
 */

/** `<topic>-<partition>-`: the start of every alert id of the partition. */
export function partitionPrefix(reading: Reading): string {
  return `${reading.source.topic}-${reading.source.partition}-`;
}

/** A reading's id after the prefix: `<offset>[.<i>][~<epoch>]`. */
export function readingTail(reading: Reading, epoch: number): string {
  // A record's i-th reading after its first: `.<i>` (docs/input-formats.md).
  return `${reading.source.offset}${reading.index ? `.${reading.index}` : ''}${epoch === 0 ? '' : `~${epoch}`}`;
}

/** A reading's id, `<topic>-<partition>-<offset>[.<i>][~<epoch>]`: the same on every retry. */
export function readingId(reading: Reading, epoch: number): string {
  return `${partitionPrefix(reading)}${readingTail(reading, epoch)}`;
}

export function decide(
  c: Cursor,
  reading: Reading,
  verdict: Verdict,
  epoch: number,
  input: JudgeInput,
): AlertDecision {
  const spec = c.spec;
  const severity =
    verdict.deviation >= 2 * verdict.limit ? SEVERITIES.critical : SEVERITIES.warning;
  const alertId = readingId(reading, epoch);
  // Stale, notified (after the cooldown, or escalated within it) or held back
  // (functions/core/alerting/notification-policy.ts).
  const decision = routeAnomaly(
    c.cooldown,
    {
      eventTimeMs: reading.eventTimeMs,
      severity,
      exceedance: exceedanceOf(verdict.deviation, verdict.limit),
    },
    input.nowMs,
    {
      cooldownMs: input.settings.alertCooldownMs,
      freshnessMs: c.freshnessMs,
      escalationFactor: ESCALATION_FACTOR,
      maxEscalations: MAX_ESCALATIONS,
      credibleAheadMs: COOLDOWN_CREDIBLE_AHEAD_MS,
    },
  );
  c.cooldown = decision.next;
  const notify = decision.route === 'notify';
  c.episode = episodeOnAnomaly(
    c.episode,
    readingTail(reading, epoch),
    reading.eventTimeMs,
    severity,
    notify,
  );
  const anomaly: Anomaly = {
    alertId,
    sensorId: reading.sensorId,
    value: reading.value,
    mean: verdict.mean,
    count: verdict.count,
    deviation: verdict.deviation,
    limit: verdict.limit,
    detector: spec.kind,
    ...(spec.kind === 'threshold' ? {} : { sigma: spec.sigma }),
    eventTimeMs: reading.eventTimeMs,
    severity,
    source: reading.source,
    ...explanation(verdict),
  };
  return {
    anomaly,
    notify,
    heldBackBefore: decision.heldBackBefore,
    ...(decision.route === 'stale' ? { stale: true } : {}),
    ...(decision.escalated ? { escalated: true } : {}),
    episodeId: `${partitionPrefix(reading)}${c.episode.id}`,
  };
}

/**
 * The sensor's cooldown decision for an anomaly at event time `t`. A last notification from a
 * clock that ran far ahead (of processing time, and of this reading) is not held against the
 * anomaly. Otherwise a cooldown only moves forward: an anomaly older than the last
 * notification (a days-old backlog) is held back, never notified in its past.
 */
export function cooldownDecision(
  cooldown: NotificationState,
  t: number,
  nowMs: number,
  cooldownMs: number,
) {
  // The window-close mode notifies by the cooldown alone: no escalation, no freshness limit
  // (docs/alerting.md). The last notification's severity is left unknown, so an arrival-time
  // anomaly of the sensor never escalates against it.
  const d = routeAnomaly(cooldown, { eventTimeMs: t, severity: 'warning', exceedance: 0 }, nowMs, {
    cooldownMs,
    freshnessMs: Number.POSITIVE_INFINITY,
    escalationFactor: Number.POSITIVE_INFINITY,
    maxEscalations: 0,
    credibleAheadMs: COOLDOWN_CREDIBLE_AHEAD_MS,
  });
  const { lastSeverity: _severity, lastExceedance: _exceedance, ...next } = d.next;
  return { notify: d.route === 'notify', heldBackBefore: d.heldBackBefore, next };
}
