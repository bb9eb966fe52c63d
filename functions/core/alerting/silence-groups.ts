import { SILENCE_KINDS, type SilenceAlert, type SilenceState } from '../silence.ts';
import { SEVERITIES } from '../types.ts';
import {
  type GroupResolver,
  LISTED_ID_CHARS,
  LISTED_SENSORS,
  MAX_GROUP_NAME,
  shown,
} from './groups.ts';

export interface SilenceGroupDecision {
  /** The check's alerts: every sensor's, the inhibited ones marked, then the group alerts. */
  readonly alerts: SilenceAlert[];
  /** Sensor alerts a group alert stands for (not notified; still in the log and the sinks). */
  readonly inhibited: number;
}

/**
 * Inhibition of silence alerts by their group (docs/alerting-groups.md), as Alertmanager's
 * inhibit rules mute a target's alerts while its source's fires: when a check declares at
 * least two sensors of one group silent and, after it, **every** watched sensor of the group
 * is silent (the whole site or line went quiet), their alerts become one group `silent`
 * alert. Likewise, when at least two recover in one check and none of the group is silent
 * after it, one group `recovered`. The sensors' own alerts stay in the outbox, marked
 * `inhibited`: the check's state and its replay stay per sensor, the sinks and the log get
 * them all, and only SNS is spared them. A sensor declared at an earlier check was notified
 * then: a group whose sensors fall silent over several checks alerts per sensor until the last.
 *
 * `watched`: the sensors the check knows and watches (heard of, with a limit).
 */
export function groupSilence(
  alerts: readonly SilenceAlert[],
  watched: Iterable<string>,
  after: SilenceState,
  groupOf: GroupResolver,
): SilenceGroupDecision {
  const byGroup = new Map<string, { silent: number[]; recovered: number[] }>();
  alerts.forEach((a, i) => {
    // Already kept from SNS (a maintenance window): not part of a group's alert.
    const g = a.group === undefined && a.inhibited !== true ? groupOf(a.sensorId) : null;
    if (g === null) return;
    let entry = byGroup.get(g.key);
    if (entry === undefined) {
      entry = { silent: [], recovered: [] };
      byGroup.set(g.key, entry);
    }
    (a.kind === SILENCE_KINDS.silent ? entry.silent : entry.recovered).push(i);
  });
  if (byGroup.size === 0) return { alerts: [...alerts], inhibited: 0 };
  // Per group: its watched sensors, and how many of them are silent after this check.
  const members = new Map<string, { total: number; silent: number }>();
  for (const id of watched) {
    const g = groupOf(id);
    if (g === null || !byGroup.has(g.key)) continue;
    const m = members.get(g.key) ?? { total: 0, silent: 0 };
    m.total += 1;
    if (after.has(id)) m.silent += 1;
    members.set(g.key, m);
  }
  const out = [...alerts];
  const added: SilenceAlert[] = [];
  let inhibited = 0;
  for (const [key, { silent, recovered }] of byGroup) {
    const m = members.get(key) ?? { total: 0, silent: 0 };
    if (silent.length >= 2 && m.silent === m.total) {
      added.push(
        groupAlert(
          key,
          silent.map((i) => alerts[i] as SilenceAlert),
          m.total,
        ),
      );
      for (const i of silent) out[i] = { ...(out[i] as SilenceAlert), inhibited: true };
      inhibited += silent.length;
    }
    if (recovered.length >= 2 && m.silent === 0) {
      added.push(
        groupAlert(
          key,
          recovered.map((i) => alerts[i] as SilenceAlert),
          m.total,
        ),
      );
      for (const i of recovered) out[i] = { ...(out[i] as SilenceAlert), inhibited: true };
      inhibited += recovered.length;
    }
  }
  return { alerts: [...out, ...added], inhibited };
}

/**
 * Silence alerts of sensors under maintenance (docs/alerting-groups.md), marked `inhibited`
 * (kept for the log and the sinks, not sent to SNS): a `silent` alert when the check runs
 * inside a window of the sensor (the check's time: a silence has no reading to date it); a
 * `recovered` one as well when its silence was declared inside a window, so a muted silence
 * does not end with a notification. `declaredAt`: when each silent sensor was declared.
 */
export function muteSilence(
  alerts: readonly SilenceAlert[],
  muted: (sensorId: string, atMs: number) => boolean,
  declaredAt: (sensorId: string) => number | undefined,
): { alerts: SilenceAlert[]; muted: number } {
  let count = 0;
  const out = alerts.map((a) => {
    if (a.group !== undefined || a.inhibited === true) return a;
    const declared = declaredAt(a.sensorId);
    const inWindow =
      muted(a.sensorId, a.decidedAtMs) ||
      (a.kind === SILENCE_KINDS.recovered && declared !== undefined && muted(a.sensorId, declared));
    if (!inWindow) return a;
    count += 1;
    return { ...a, inhibited: true as const };
  });
  return { alerts: out, muted: count };
}

function groupAlert(key: string, alerts: readonly SilenceAlert[], total: number): SilenceAlert {
  const first = alerts[0] as SilenceAlert;
  const lastSeenMs = Math.max(...alerts.map((a) => a.lastSeenMs));
  const name = shown(key, MAX_GROUP_NAME);
  return {
    // The latest last-seen time of the sensors names the episode, as a sensor's does.
    alertId: `${first.kind}~group~${name}~${Math.floor(lastSeenMs / 1000)}`,
    kind: first.kind,
    sensorId: name,
    lastSeenMs,
    ...(first.kind === SILENCE_KINDS.recovered
      ? { seenAgainMs: Math.max(...alerts.map((a) => a.seenAgainMs ?? a.decidedAtMs)) }
      : {}),
    silenceSeconds: Math.min(...alerts.map((a) => a.silenceSeconds)),
    decidedAtMs: first.decidedAtMs,
    severity: first.kind === SILENCE_KINDS.silent ? SEVERITIES.critical : SEVERITIES.warning,
    group: {
      sensors: alerts.length,
      members: total,
      listed: alerts.slice(0, LISTED_SENSORS).map((a) => shown(a.sensorId, LISTED_ID_CHARS)),
    },
  };
}
