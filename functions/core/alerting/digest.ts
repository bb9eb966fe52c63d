import type { AlertDecision, Severity } from '../types.ts';
import type { EpisodeEnd } from './episodes.ts';
import { exceedanceOf } from './notification-policy.ts';

/**
 * Email digests by time (docs/alerting.md): at most one per period per stack, holding the
 * period's alerts most severe first, with counts of what did not fit. Each partition's commit
 * adds a contribution of its batch (an immutable item, chained to the partition's previous
 * one of the period and made current by the root write); after the period closes, the digest
 * function gathers the committed chains and sends one message. Pure: no clock, no SDK.
 */

/** One alert as a digest lists it. */
export interface DigestEntry {
  readonly alertId: string;
  readonly sensorId: string;
  readonly severity: Severity;
  readonly value: number;
  readonly mean: number;
  readonly eventTimeMs: number;
  readonly exceedance: number;
  /** notify: sent now too; held: inside its cooldown; stale: judged while catching up. */
  readonly route: 'notify' | 'held' | 'stale';
  readonly escalated?: boolean;
}

export interface DigestCounts {
  readonly alerts: number;
  readonly critical: number;
  readonly notified: number;
  readonly escalated: number;
  readonly heldBack: number;
  readonly stale: number;
  readonly resolved: number;
}

/** What one commit adds to its period's digest. */
export interface DigestContribution {
  /** The batch's most severe alerts, most severe first (at most CONTRIBUTION_LISTED). */
  readonly listed: readonly DigestEntry[];
  readonly counts: DigestCounts;
  /** Sensors with stale anomalies (at most CONTRIBUTION_SENSORS ids, then `staleSensorsCut`). */
  readonly staleSensors: readonly string[];
  readonly staleSensorsCut: boolean;
}

/** A period's digest, gathered from every partition's committed contributions. */
export interface Digest {
  readonly periodStartMs: number;
  readonly periodMs: number;
  readonly listed: readonly DigestEntry[];
  readonly counts: DigestCounts;
  /** Distinct sensors with stale anomalies (a lower bound when `staleSensorsAtLeast`). */
  readonly staleSensors: number;
  readonly staleSensorsAtLeast: boolean;
}

export const CONTRIBUTION_LISTED = 20;
export const CONTRIBUTION_SENSORS = 64;
/** Alerts a digest lists; the rest are counted (the log group has every one). */
export const DIGEST_LISTED = 50;
/** Default period: one email per 15 minutes at most. */
export const DEFAULT_DIGEST_PERIOD_MS = 15 * 60_000;

const ZERO: DigestCounts = {
  alerts: 0,
  critical: 0,
  notified: 0,
  escalated: 0,
  heldBack: 0,
  stale: 0,
  resolved: 0,
};

/** The start of the processing-time period `nowMs` falls in. */
export function periodStart(nowMs: number, periodMs: number): number {
  return Math.floor(nowMs / periodMs) * periodMs;
}

/** Most severe first: critical before warning, then the larger exceedance, then the alert id. */
export function bySeverity(a: DigestEntry, b: DigestEntry): number {
  const rank = (s: Severity) => (s === 'critical' ? 0 : 1);
  return (
    rank(a.severity) - rank(b.severity) ||
    b.exceedance - a.exceedance ||
    (a.alertId < b.alertId ? -1 : a.alertId > b.alertId ? 1 : 0)
  );
}

function entryOf(a: AlertDecision): DigestEntry {
  const x = a.anomaly;
  return {
    alertId: x.alertId,
    sensorId: x.sensorId,
    severity: x.severity,
    value: x.value,
    mean: x.mean,
    eventTimeMs: x.eventTimeMs,
    exceedance: exceedanceOf(x.deviation, x.limit),
    route: a.stale === true ? 'stale' : a.notify ? 'notify' : 'held',
    ...(a.escalated === true ? { escalated: true } : {}),
  };
}

/** A commit's contribution, or null when it has nothing for the digest. */
export function contributionOf(
  alerts: readonly AlertDecision[],
  ends: readonly EpisodeEnd[],
): DigestContribution | null {
  if (alerts.length === 0 && ends.length === 0) return null;
  const entries = alerts.map(entryOf).sort(bySeverity);
  const stale = new Set<string>();
  let cut = false;
  const counts = { ...ZERO };
  for (const e of entries) {
    counts.alerts += 1;
    if (e.severity === 'critical') counts.critical += 1;
    if (e.route === 'notify') counts.notified += 1;
    if (e.route === 'held') counts.heldBack += 1;
    if (e.escalated === true) counts.escalated += 1;
    if (e.route === 'stale') {
      counts.stale += 1;
      if (stale.size < CONTRIBUTION_SENSORS) stale.add(e.sensorId);
      else if (!stale.has(e.sensorId)) cut = true;
    }
  }
  counts.resolved = ends.length;
  return {
    listed: entries.slice(0, CONTRIBUTION_LISTED),
    counts,
    staleSensors: [...stale],
    staleSensorsCut: cut,
  };
}

/** The period's digest from every committed contribution (in any order: the result is the same). */
export function gatherDigest(
  periodStartMs: number,
  periodMs: number,
  contributions: readonly DigestContribution[],
): Digest {
  const counts = { ...ZERO };
  const listed: DigestEntry[] = [];
  const stale = new Set<string>();
  let atLeast = false;
  for (const c of contributions) {
    for (const k of Object.keys(counts) as (keyof DigestCounts)[]) counts[k] += c.counts[k];
    listed.push(...c.listed);
    for (const s of c.staleSensors) stale.add(s);
    atLeast ||= c.staleSensorsCut;
  }
  listed.sort(bySeverity);
  return {
    periodStartMs,
    periodMs,
    listed: listed.slice(0, DIGEST_LISTED),
    counts,
    staleSensors: stale.size,
    staleSensorsAtLeast: atLeast,
  };
}
