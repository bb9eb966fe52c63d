import type { Severity } from '../types.ts';

/**
 * What the batch decides for each anomaly before it reaches the outbox (docs/alerting.md):
 *
 * - `notify`: sent now, one message per alert (SMS, machine subscribers) and listed in the
 *   period's email digest;
 * - `held`: within the sensor's cooldown and not clearly worse than the last notification:
 *   logged, counted (`heldBackBefore` of the sensor's next notification), in the digest's
 *   counts;
 * - `stale`: older than the freshness limit in processing time (a backlog, a replay, a
 *   device that uploads what it buffered): logged and counted as before, never sent on its
 *   own, only in the period's digest ("while catching up: N anomalies on M sensors"). A stale
 *   anomaly leaves the cooldown as it was, so the first fresh anomaly after a catch-up is
 *   notified.
 *
 * Pure: processing time comes in as `nowMs`.
 */
export type AlertRoute = 'notify' | 'held' | 'stale';

/** The per-sensor notification state kept in the sensor's state page. */
export interface NotificationState {
  /** Event time of the last notified anomaly; null before the first. */
  readonly lastNotifiedEventTimeMs: number | null;
  /** Anomalies held back since the last notification. */
  readonly heldBack: number;
  /** Severity of the last notified anomaly (absent in state written before escalation). */
  readonly lastSeverity?: Severity;
  /** Exceedance (deviation ÷ limit) of the last notified anomaly. */
  readonly lastExceedance?: number;
  /** Escalations since the last notification that the cooldown let through. */
  readonly escalations?: number;
}

export const INITIAL_NOTIFICATION: NotificationState = {
  lastNotifiedEventTimeMs: null,
  heldBack: 0,
};

export interface AlertPolicy {
  readonly cooldownMs: number;
  /** Anomalies older than this in processing time are `stale`. Infinity: never. */
  readonly freshnessMs: number;
  /** "Clearly beyond": exceedance at least this many times the last notified one's. */
  readonly escalationFactor: number;
  /** Escalations allowed between two notifications the cooldown let through. */
  readonly maxEscalations: number;
  /**
   * A last notification more than this far ahead of both the anomaly and processing time
   * came from a clock that ran ahead: it is not held against the anomaly.
   */
  readonly credibleAheadMs: number;
}

/** Default: one escalation needs twice the exceedance, at most 3 between regular notifications. */
export const ESCALATION_FACTOR = 2;
export const MAX_ESCALATIONS = 3;
/** Default freshness limit: a reading 5 minutes old is a backlog, not news. */
export const DEFAULT_FRESHNESS_MS = 5 * 60_000;

export interface AnomalyFacts {
  readonly eventTimeMs: number;
  readonly severity: Severity;
  readonly exceedance: number;
}

export interface RouteDecision {
  readonly route: AlertRoute;
  /** Notified inside the cooldown because it is clearly worse than the last notification. */
  readonly escalated: boolean;
  /** For a notified anomaly: the sensor's anomalies held back before it. */
  readonly heldBackBefore: number;
  readonly next: NotificationState;
}

const RANK: Readonly<Record<Severity, number>> = { warning: 1, critical: 2 };

/** Exceedances are stored as JSON: bounded, finite, never negative. */
export const MAX_EXCEEDANCE = 1e9;

/**
 * How far a reading is beyond its detector's limit, comparable across detectors: deviation ÷
 * limit (1: at the limit; a critical anomaly is at least 2). A limit of 0 (a limits-only
 * breach, a zero threshold) counts as the largest exceedance, as a critical one.
 */
export function exceedanceOf(deviation: number, limit: number): number {
  if (!(limit > 0)) return MAX_EXCEEDANCE;
  if (!(deviation > 0)) return 0;
  return Math.min(MAX_EXCEEDANCE, deviation / limit);
}

/**
 * "Clearly beyond" the last notified anomaly: a higher severity, or an exceedance at least
 * `factor` times the last notified one's. Unknown (state from before escalation): never.
 */
export function clearlyBeyond(
  state: NotificationState,
  facts: AnomalyFacts,
  factor: number,
): boolean {
  if (state.lastSeverity === undefined) return false;
  if (RANK[facts.severity] > RANK[state.lastSeverity]) return true;
  const last = state.lastExceedance;
  return last !== undefined && facts.exceedance >= factor * last && facts.exceedance > last;
}

/**
 * One anomaly of a sensor: stale, notified (regularly, after the cooldown, or escalated
 * within it) or held back. The held-back count stays exact: every anomaly that is neither
 * notified nor stale adds one, and every notification (regular or escalated) carries the
 * count since the one before and resets it.
 */
export function routeAnomaly(
  state: NotificationState,
  facts: AnomalyFacts,
  nowMs: number,
  policy: AlertPolicy,
): RouteDecision {
  const t = facts.eventTimeMs;
  if (nowMs - t > policy.freshnessMs)
    return { route: 'stale', escalated: false, heldBackBefore: 0, next: state };
  const notified = (escalated: boolean, lastMs: number, escalations: number): RouteDecision => ({
    route: 'notify',
    escalated,
    heldBackBefore: state.heldBack,
    next: {
      lastNotifiedEventTimeMs: lastMs,
      heldBack: 0,
      lastSeverity: facts.severity,
      lastExceedance: facts.exceedance,
      escalations,
    },
  });
  const stored = state.lastNotifiedEventTimeMs;
  // A cooldown only moves forward (a days-old backlog cannot move it back), unless the last
  // notification came from a clock that ran far ahead of this reading and of now.
  const last =
    stored === null || stored - Math.max(t, nowMs) > policy.credibleAheadMs ? null : stored;
  if (last === null || t - last >= policy.cooldownMs) return notified(false, t, 0);
  const escalations = state.escalations ?? 0;
  if (escalations < policy.maxEscalations && clearlyBeyond(state, facts, policy.escalationFactor))
    // The cooldown restarts from the escalated notification (never moves back).
    return notified(true, Math.max(last, t), escalations + 1);
  return {
    route: 'held',
    escalated: false,
    heldBackBefore: 0,
    next: { ...state, heldBack: state.heldBack + 1 },
  };
}
