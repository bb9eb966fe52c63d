import { globToRegExp } from '../detector-rules.ts';
import { CoreConfigError } from '../errors.ts';
import type { AlertDecision, GroupSummary, Severity } from '../types.ts';

/**
 * Alert groups (docs/alerting-groups.md). A group rule puts sensors in groups, by the
 * hierarchy in their ids (`site-a/line-1/pump-3/temp`, the first `depth` parts) or by a
 * name; when more than `threshold` sensors of one group notify within `periodSeconds` (event
 * time), their notifications become one group alert that names them.
 */
export interface GroupRule {
  /** Sensor ids (exact or glob) this rule groups. */
  readonly match: string;
  /** The group is the first `depth` parts of the id, split on `separator`. */
  readonly depth?: number;
  /** @default '/' */
  readonly separator?: string;
  /** Or every matching sensor is in the one group of this name. */
  readonly name?: string;
  /** More than this many sensors notifying within the period: one group alert. */
  readonly threshold: number;
  /** @default 300 */
  readonly periodSeconds?: number;
}

export const DEFAULT_GROUP_PERIOD_SECONDS = 300;
/** A group name's longest: it rides in every group alert. */
export const MAX_GROUP_NAME = 128;

export interface SensorGroup {
  readonly key: string;
  readonly threshold: number;
  readonly periodMs: number;
}

/** The group of a sensor, or null: not grouped. */
export type GroupResolver = (sensorId: string) => SensorGroup | null;

/**
 * The first rule in file order whose `match` matches and which gives a group: a hierarchy
 * rule gives none for an id with no more than `depth` parts (it is the group, or above it).
 */
export function compileGroups(rules: readonly GroupRule[]): GroupResolver {
  if (rules.length === 0) return () => null;
  const compiled = rules.map((r, index) => {
    const where = `groups ${index} (${r.match})`;
    if ((r.depth === undefined) === (r.name === undefined))
      throw new CoreConfigError(`${where}: give either depth (the id's hierarchy) or name`);
    if (!Number.isInteger(r.threshold) || r.threshold < 1)
      throw new CoreConfigError(`${where}: threshold must be a whole number ≥ 1`);
    const separator = r.separator ?? '/';
    if (separator.length === 0) throw new CoreConfigError(`${where}: separator is empty`);
    return {
      pattern: globToRegExp(r.match),
      depth: r.depth,
      separator,
      name: r.name,
      threshold: r.threshold,
      periodMs: (r.periodSeconds ?? DEFAULT_GROUP_PERIOD_SECONDS) * 1000,
    };
  });
  const cache = new Map<string, SensorGroup | null>();
  return (sensorId) => {
    let found = cache.get(sensorId);
    if (found !== undefined) return found;
    found = null;
    for (const r of compiled) {
      if (!r.pattern.test(sensorId)) continue;
      let key: string | undefined = r.name;
      if (key === undefined) {
        const parts = sensorId.split(r.separator);
        if (parts.length <= (r.depth as number)) continue;
        key = parts.slice(0, r.depth).join(r.separator);
      }
      found = { key, threshold: r.threshold, periodMs: r.periodMs };
      break;
    }
    if (cache.size >= 100_000) cache.clear();
    cache.set(sensorId, found);
    return found;
  };
}

/**
 * A group's current period, as the partition's root keeps it: the period's end (event time),
 * how many notifications of the group's sensors it has seen, and whether its group alert went
 * out. `id` is a hash of the group key: the root stays small whatever the keys.
 */
export interface GroupPeriod {
  readonly id: string;
  readonly endMs: number;
  readonly count: number;
  readonly alerted: boolean;
}

/** Periods a root keeps: past it, the least recently touched is forgotten (see decideGroups). */
export const MAX_GROUP_PERIODS = 64;
/** Group alerts one commit may carry: their summaries have a place in the root's budget. */
export const MAX_GROUP_ALERTS_PER_COMMIT = 16;
/** Sensor ids a group alert lists (each cut to LISTED_ID_CHARS); the rest are counted. */
export const LISTED_SENSORS = 5;
export const LISTED_ID_CHARS = 48;

export interface GroupDecision {
  /** The commit's alerts in their order: members folded into a group alert no longer notify. */
  readonly alerts: AlertDecision[];
  readonly periods: GroupPeriod[];
  /** Notifications replaced by group alerts (every member of each, its carrier included). */
  readonly grouped: number;
  readonly groupAlerts: number;
}

interface Segment {
  readonly group: SensorGroup;
  readonly members: number[];
  readonly sensors: Set<string>;
  period: { endMs: number; count: number; alerted: boolean };
}

/**
 * Groups one commit's notifications (pure; the batch applies it before its commit). Per
 * group, in the commit's order: a notification at event time t opens a period [t, t + period)
 * when none is open; each counts in its period. When a period's count passes the threshold,
 * every notification of this commit in that period is folded into **one group alert**: the
 * first of them carries it (its message becomes the group's), the others no longer notify
 * (they still reach the sinks and the log, held back as by a cooldown). A group alerts once per
 * period: later notifications of its sensors in the period are folded without another.
 * Notifications before the threshold, in earlier commits, went out one by one: a batch cannot
 * know that more are coming. A backlog arrives in large batches, so its flood is one alert.
 *
 * Bounded: at most MAX_GROUP_PERIODS periods are kept (a group forgotten early alerts again
 * in its period: more notifications, never fewer), and at most MAX_GROUP_ALERTS_PER_COMMIT
 * group alerts per commit (the groups past it notify one by one).
 */
export function decideGroups(
  alerts: readonly AlertDecision[],
  groupOf: GroupResolver,
  periods: readonly GroupPeriod[],
): GroupDecision {
  const open = new Map(periods.map((p) => [p.id, { ...p }]));
  const touched = new Map<string, number>(periods.map((p, i) => [p.id, i - periods.length]));
  const out = [...alerts];
  const segments: Segment[] = [];
  const current = new Map<string, Segment>();
  let latest = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < alerts.length; i += 1) {
    const a = alerts[i] as AlertDecision;
    if (!a.notify) continue;
    const group = groupOf(a.anomaly.sensorId);
    if (group === null) continue;
    const id = groupId(group.key);
    const t = a.anomaly.eventTimeMs;
    latest = Math.max(latest, t);
    let segment = current.get(id);
    let period = segment?.period ?? open.get(id);
    if (period === undefined || t >= period.endMs) {
      period = { endMs: t + group.periodMs, count: 0, alerted: false };
      segment = undefined;
    }
    if (segment === undefined) {
      segment = { group, members: [], sensors: new Set(), period };
      segments.push(segment);
      current.set(id, segment);
    }
    // A sensor counts once per commit: its cooldown may let it notify more than once a period.
    if (!segment.sensors.has(a.anomaly.sensorId)) period.count += 1;
    segment.sensors.add(a.anomaly.sensorId);
    segment.members.push(i);
    open.set(id, { id, ...period });
    touched.set(id, i);
  }

  let grouped = 0;
  let groupAlerts = 0;
  for (const s of segments) {
    const p = s.period;
    if (p.alerted) {
      for (const i of s.members) out[i] = { ...(out[i] as AlertDecision), notify: false };
      grouped += s.members.length;
    } else if (p.count > s.group.threshold && groupAlerts < MAX_GROUP_ALERTS_PER_COMMIT) {
      const members = s.members.map((i) => out[i] as AlertDecision);
      const first = s.members[0] as number;
      out[first] = { ...(out[first] as AlertDecision), group: summary(s.group, members, p.count) };
      for (const i of s.members.slice(1)) out[i] = { ...(out[i] as AlertDecision), notify: false };
      p.alerted = true;
      grouped += s.members.length;
      groupAlerts += 1;
    }
  }
  // The last state of each period touched (a segment's object is the period's), then bounded:
  // periods over by this commit's latest event time go first, then the least recently touched.
  for (const s of segments)
    open.set(groupId(s.group.key), { id: groupId(s.group.key), ...s.period });
  const kept = [...open.values()]
    .filter((p) => !(p.endMs <= latest))
    .sort((a, b) => (touched.get(a.id) ?? 0) - (touched.get(b.id) ?? 0))
    .slice(-MAX_GROUP_PERIODS);
  return { alerts: out, periods: kept, grouped, groupAlerts };
}

const SEVERITY_RANK: Readonly<Record<string, number>> = { warning: 1, critical: 2 };

function summary(
  group: SensorGroup,
  members: readonly AlertDecision[],
  count: number,
): GroupSummary {
  const sensors = [...new Set(members.map((m) => m.anomaly.sensorId))];
  let severity: Severity = 'warning';
  for (const m of members)
    if ((SEVERITY_RANK[m.anomaly.severity] ?? 0) > (SEVERITY_RANK[severity] ?? 0))
      severity = m.anomaly.severity;
  return {
    key: shown(group.key, MAX_GROUP_NAME),
    threshold: group.threshold,
    periodSeconds: group.periodMs / 1000,
    sensors: sensors.length,
    alerts: members.length,
    inPeriod: count,
    severity,
    listed: sensors.slice(0, LISTED_SENSORS).map((id) => shown(id, LISTED_ID_CHARS)),
  };
}

/**
 * A name as a group alert shows it: printable ASCII (others as `?`), cut to `chars`. So a
 * summary's bytes are bounded whatever the ids hold (JSON escapes a control character in 6
 * bytes), and the root keeps its budget (test/unit/item-budgets.test.ts).
 */
export function shown(text: string, chars: number): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > chars ? `${ascii.slice(0, chars - 3)}...` : ascii;
}

/**
 * A group key's id in the root: FNV-1a, 52 bits, base 36 (11 characters). Two keys that
 * collide share a period: their sensors count together, which can only group sooner.
 */
export function groupId(key: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < key.length; i += 1) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return ((h1 & 0xfffff) * 2 ** 32 + h2).toString(36);
}
