import { compileRules, type DetectorRule } from './detector-rules.ts';
import type { DetectorSpec } from './detectors.ts';
import { SEVERITIES, type Severity } from './types.ts';

/**
 * Silent sensors (docs/silence.md): a sensor that has reported and then stays silent for its
 * rule's `silenceSeconds` raises one `silent` alert, and one `recovered` when it reports
 * again. Pure: the scheduled check and the local timer call `decideSilence` with what the
 * store holds; the adapters only load and save.
 */

export const SILENCE_KINDS = { silent: 'silent', recovered: 'recovered' } as const;
export type SilenceKind = (typeof SILENCE_KINDS)[keyof typeof SILENCE_KINDS];

/** A silence alert, what the log line, SNS and the sinks are told. */
export interface SilenceAlert {
  /**
   * `silent~<sensorId>~<lastSeenSeconds>` / `recovered~…` with the last-seen time of the
   * episode: the same on every retry, so subscribers can de-duplicate.
   */
  readonly alertId: string;
  readonly kind: SilenceKind;
  readonly sensorId: string;
  /** When the detector last processed a reading of the sensor before the silence (ms). */
  readonly lastSeenMs: number;
  /** For `recovered`: when it was heard from again (ms, to the recording granularity). */
  readonly seenAgainMs?: number;
  /** The sensor's limit when it was declared silent. */
  readonly silenceSeconds: number;
  /** When the check decided it (ms). */
  readonly decidedAtMs: number;
  readonly severity: Severity;
  /**
   * A group's alert (docs/alerting-groups.md): `sensorId` is the group, and `sensors` of its
   * `members` watched sensors went silent (or recovered) at this check.
   */
  readonly group?: {
    readonly sensors: number;
    readonly members: number;
    readonly listed: readonly string[];
  };
  /** A sensor's alert that its group's alert stands for: not sent to SNS. */
  readonly inhibited?: true;
}

/** A sensor the check has declared silent and not yet recovered. */
export interface SilentEntry {
  readonly lastSeenMs: number;
  readonly silenceSeconds: number;
  readonly declaredAtMs: number;
}

export type SilenceState = ReadonlyMap<string, SilentEntry>;

/**
 * The sensor's silence limit in seconds for readings of `topic` (absent or '': none), or
 * undefined: not watched.
 */
export type SilenceResolver = (sensorId: string, topic?: string) => number | undefined;

/**
 * The silence limit of each sensor on each topic: `silenceSeconds` of the rule that picks its
 * detector there (the same most-specific match over sensor id and topic, compileRules'), else
 * the rules file's `silenceSeconds`, else none. So a topic rule's limit applies to readings of
 * its topic only, and beats a rule without `topic` whose id pattern is as specific.
 */
export function compileSilence(
  defaultDetector: DetectorSpec,
  rules: readonly DetectorRule[],
  defaultSilenceSeconds: number | undefined,
): SilenceResolver {
  // Each rule's detector as a fresh object, so the spec compileRules returns names its rule.
  const byDetector = new Map<DetectorSpec, DetectorRule>();
  const copies = rules.map((rule) => {
    const detector = { ...rule.detector } as DetectorSpec;
    byDetector.set(detector, rule);
    return { ...rule, detector };
  });
  const resolve = compileRules(defaultDetector, copies);
  return (sensorId, topic) =>
    byDetector.get(resolve(sensorId, topic))?.silenceSeconds ?? defaultSilenceSeconds;
}

/** Every limit the rules can give, for the recorder's granularity; empty: silence is off. */
export function silenceLimits(
  rules: readonly DetectorRule[],
  defaultSilenceSeconds: number | undefined,
): number[] {
  const limits = rules.flatMap((r) => (r.silenceSeconds === undefined ? [] : [r.silenceSeconds]));
  if (defaultSilenceSeconds !== undefined) limits.push(defaultSilenceSeconds);
  return limits;
}

/**
 * How far a recorded last-seen time may lag the true one: the batch processor rewrites a
 * partition's last-seen item only when a sensor's time moved by at least this much (a tenth
 * of the smallest limit, at least 1 s), so its keyed cost stays flat. The check waits this
 * long on top of the limit, so it never declares a sensor silent early.
 */
export function seenGranularityMs(limitsSeconds: readonly number[]): number {
  if (limitsSeconds.length === 0) return Number.POSITIVE_INFINITY;
  return Math.max(1000, Math.floor((Math.min(...limitsSeconds) * 1000) / 10));
}

export interface SilenceDecision {
  readonly alerts: readonly SilenceAlert[];
  readonly state: SilenceState;
}

export function silenceAlertId(kind: SilenceKind, sensorId: string, lastSeenMs: number): string {
  return `${kind}~${sensorId}~${Math.floor(lastSeenMs / 1000)}`;
}

/**
 * One check. `lastSeen`: per sensor the latest recorded time it was heard from (the max over
 * partitions); `slackMs`: the recording granularity. A watched sensor whose last-seen time is
 * at least its limit + slack ago and that is not silent yet becomes silent; a silent sensor
 * whose last-seen time moved past the one it went silent with has recovered. A sensor never
 * heard from has no last-seen time, so no alert. Sensors silent but absent from `lastSeen`
 * (forgotten by the recorder) stay silent in the state. A silent sensor whose limit is gone
 * (the rules changed: `silenceOf` gives undefined) is dropped from the state without an alert:
 * it is no longer watched, so neither a further `silent` nor a `recovered` is owed.
 */
export function decideSilence(
  lastSeen: ReadonlyMap<string, number>,
  silenceOf: SilenceResolver,
  state: SilenceState,
  nowMs: number,
  slackMs: number,
): SilenceDecision {
  const alerts: SilenceAlert[] = [];
  const next = new Map(state);
  for (const [sensorId, seenMs] of lastSeen) {
    const silent = state.get(sensorId);
    const limit = silenceOf(sensorId);
    if (silent !== undefined && limit === undefined) {
      next.delete(sensorId);
      continue;
    }
    if (silent !== undefined) {
      if (seenMs > silent.lastSeenMs) {
        next.delete(sensorId);
        alerts.push({
          alertId: silenceAlertId(SILENCE_KINDS.recovered, sensorId, silent.lastSeenMs),
          kind: SILENCE_KINDS.recovered,
          sensorId,
          lastSeenMs: silent.lastSeenMs,
          seenAgainMs: seenMs,
          silenceSeconds: silent.silenceSeconds,
          decidedAtMs: nowMs,
          severity: SEVERITIES.warning,
        });
      }
      continue;
    }
    if (limit === undefined) continue;
    if (nowMs - seenMs < limit * 1000 + slackMs) continue;
    next.set(sensorId, { lastSeenMs: seenMs, silenceSeconds: limit, declaredAtMs: nowMs });
    alerts.push({
      alertId: silenceAlertId(SILENCE_KINDS.silent, sensorId, seenMs),
      kind: SILENCE_KINDS.silent,
      sensorId,
      lastSeenMs: seenMs,
      silenceSeconds: limit,
      decidedAtMs: nowMs,
      severity: SEVERITIES.critical,
    });
  }
  return { alerts, state: next };
}

/** `SILENT sensor_3: no reading for 42 s (limit 30 s), last seen 2026-…`, the log line's message. */
export function silenceLine(alert: SilenceAlert): string {
  const last = new Date(alert.lastSeenMs).toISOString();
  if (alert.group !== undefined) {
    const g = alert.group;
    const names = `${g.listed.join(', ')}${g.sensors > g.listed.length ? ', ...' : ''}`;
    return alert.kind === SILENCE_KINDS.silent
      ? `SILENT group ${alert.sensorId}: all ${g.members} sensors without a reading (limit ${alert.silenceSeconds} s), ${g.sensors} declared now: ${names}; last seen ${last}`
      : `RECOVERED group ${alert.sensorId}: ${g.sensors} sensors reporting again: ${names}`;
  }
  if (alert.kind === SILENCE_KINDS.silent) {
    const quiet = Math.round((alert.decidedAtMs - alert.lastSeenMs) / 1000);
    return `SILENT ${alert.sensorId}: no reading for ${quiet} s (limit ${alert.silenceSeconds} s), last seen ${last}`;
  }
  const gap = Math.round(((alert.seenAgainMs ?? alert.decidedAtMs) - alert.lastSeenMs) / 1000);
  return `RECOVERED ${alert.sensorId}: reporting again after about ${gap} s of silence (last seen ${last})`;
}

/** The alert as machine subscribers, the sinks and the log line's fields receive it. */
export function silenceJson(alert: SilenceAlert) {
  return {
    alertId: alert.alertId,
    type: alert.kind,
    sensorId: alert.sensorId,
    lastSeen: new Date(alert.lastSeenMs).toISOString(),
    ...(alert.seenAgainMs === undefined
      ? {}
      : { seenAgain: new Date(alert.seenAgainMs).toISOString() }),
    silenceSeconds: alert.silenceSeconds,
    decidedAt: new Date(alert.decidedAtMs).toISOString(),
    severity: alert.severity,
    ...(alert.group === undefined ? {} : { group: alert.sensorId, ...alert.group }),
    ...(alert.inhibited === true ? { inhibited: true } : {}),
  };
}
