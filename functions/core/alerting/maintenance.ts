import { globToRegExp } from '../detector-rules.ts';
import { CoreConfigError } from '../errors.ts';

/**
 * Maintenance windows (docs/alerting-groups.md): periods, by sensor or by group, whose readings
 * are not data. A reading whose event time is inside a window of its sensor is judged (so the
 * muted anomalies are counted) and changes nothing: not the window aggregates, not a learning
 * detector's state, not the cooldown; its anomaly is not notified nor sent to the sinks.
 *
 * Windows are in **event time**, the readings' own clock: a backlog replayed after the window
 * still knows its readings were taken during maintenance, and a replay decides the same.
 */

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Every week on `days`, from `from` to `to` local time (`HH:MM`; `to` ≤ `from`: past midnight). */
export interface WeeklyRecurrence {
  readonly days: readonly Weekday[];
  readonly from: string;
  readonly to: string;
}

export interface MaintenanceWindow {
  /** Shown in logs and docs only. */
  readonly name?: string;
  /** Sensor ids (exact or glob, `*` and `?`) the window covers. */
  readonly match?: string;
  /** Group keys (exact or glob) the window covers: every sensor of those groups. */
  readonly group?: string;
  /** One-off: ISO 8601 instants with an offset (`Z` or `+01:00`); the end is excluded. */
  readonly start?: string;
  readonly end?: string;
  /** Recurring: weekly day and time ranges, in `timezone`. */
  readonly weekly?: WeeklyRecurrence;
  /** IANA time zone of `weekly` (`Europe/Paris`). @default 'UTC' */
  readonly timezone?: string;
}

/** Whether a reading of `sensorId` (in group `group`, or none) at `eventTimeMs` is muted. */
export type MaintenanceResolver = (
  sensorId: string,
  group: string | null,
  eventTimeMs: number,
) => boolean;

/** A window's time test alone: whether `eventTimeMs` is inside it. */
type Within = (eventTimeMs: number) => boolean;

interface CompiledWindow {
  readonly sensor: RegExp | null;
  readonly group: RegExp | null;
  readonly within: Within;
}

/** Resolutions of which windows cover a sensor, remembered per (sensor, group). */
const MAX_CACHED = 100_000;

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
const CLOCK = /^([01]\d|2[0-4]):([0-5]\d)$/;

/**
 * Compiles the rules' windows; throws a CoreConfigError naming the window (`maintenance 2
 * (weekly calibration): …`) for a mistake a user makes: no `match` nor `group`, both a
 * one-off and a recurrence, an instant without an offset, an end not after its start, an
 * unknown time zone.
 */
export function compileMaintenance(windows: readonly MaintenanceWindow[]): MaintenanceResolver {
  if (windows.length === 0) return () => false;
  const compiled = windows.map(compileWindow);
  const cache = new Map<string, readonly Within[]>();
  return (sensorId, group, eventTimeMs) => {
    const key = group === null ? sensorId : `${sensorId}\u0000${group}`;
    let covering = cache.get(key);
    if (covering === undefined) {
      covering = compiled
        .filter(
          (w) =>
            w.sensor?.test(sensorId) === true ||
            (w.group !== null && group !== null && w.group.test(group)),
        )
        .map((w) => w.within);
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(key, covering);
    }
    for (const within of covering) if (within(eventTimeMs)) return true;
    return false;
  };
}

function compileWindow(w: MaintenanceWindow, index: number): CompiledWindow {
  const where = `maintenance ${index}${w.name === undefined ? '' : ` (${w.name})`}`;
  if (w.match === undefined && w.group === undefined)
    throw new CoreConfigError(`${where}: give match (sensor ids) or group (group keys)`);
  const oneOff = w.start !== undefined || w.end !== undefined;
  if (oneOff === (w.weekly !== undefined))
    throw new CoreConfigError(`${where}: give either start and end, or weekly`);
  let within: Within;
  if (oneOff) {
    if (w.timezone !== undefined)
      throw new CoreConfigError(
        `${where}: timezone applies to weekly; start and end carry their own offset`,
      );
    const start = instant(w.start, 'start', where);
    const end = instant(w.end, 'end', where);
    if (end <= start) throw new CoreConfigError(`${where}: end must be after start`);
    within = (t) => t >= start && t < end;
  } else {
    within = weeklyWithin(w.weekly as WeeklyRecurrence, w.timezone ?? 'UTC', where);
  }
  return {
    sensor: w.match === undefined ? null : globToRegExp(w.match),
    group: w.group === undefined ? null : globToRegExp(w.group),
    within,
  };
}

function instant(text: string | undefined, field: string, where: string): number {
  if (text === undefined) throw new CoreConfigError(`${where}: ${field} is missing`);
  const ms = INSTANT.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms))
    throw new CoreConfigError(
      `${where}: ${field} must be an ISO 8601 instant with an offset, e.g. 2026-12-08T06:00:00Z (got ${JSON.stringify(text)})`,
    );
  return ms;
}

function minutesOf(text: string, field: string, where: string): number {
  const m = CLOCK.exec(text);
  const minutes = m === null ? Number.NaN : Number(m[1]) * 60 + Number(m[2]);
  if (!(minutes <= 24 * 60))
    throw new CoreConfigError(
      `${where}: weekly.${field} must be HH:MM (got ${JSON.stringify(text)})`,
    );
  return minutes;
}

/**
 * The weekly test in a time zone, on the local wall clock (Intl, the platform's tz database):
 * `02:00–04:00` stays 02:00–04:00 local across a daylight-saving change. A range whose `to` is
 * not after `from` runs past midnight into the next day, which then need not be listed.
 */
function weeklyWithin(weekly: WeeklyRecurrence, timezone: string, where: string): Within {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
  } catch {
    throw new CoreConfigError(
      `${where}: unknown timezone ${JSON.stringify(timezone)} (an IANA name, e.g. Europe/Paris)`,
    );
  }
  if (weekly.days.length === 0) throw new CoreConfigError(`${where}: weekly.days is empty`);
  const days = new Set(weekly.days.map((d) => WEEKDAYS.indexOf(d)));
  if (days.has(-1)) throw new CoreConfigError(`${where}: weekly.days are ${WEEKDAYS.join(', ')}`);
  const from = minutesOf(weekly.from, 'from', where);
  const to = minutesOf(weekly.to, 'to', where);
  if (from === to) throw new CoreConfigError(`${where}: weekly.from and weekly.to are equal`);
  const overnight = to < from;
  // Every offset in use since 1972 is whole minutes: one local time per UTC minute, remembered
  // for the last minute asked (a batch's readings come in runs of the same minute).
  let lastMinute = Number.NaN;
  let lastAnswer = false;
  return (t) => {
    const minute = Math.floor(t / 60_000);
    if (minute === lastMinute) return lastAnswer;
    const { day, clock } = localClock(format, minute * 60_000);
    const previous = (day + 6) % 7;
    lastAnswer = overnight
      ? (days.has(day) && clock >= from) || (days.has(previous) && clock < to)
      : days.has(day) && clock >= from && clock < to;
    lastMinute = minute;
    return lastAnswer;
  };
}

const SHORT_DAYS: Readonly<Record<string, number>> = {
  Sun: 0,
  Mon: 1,
  Tue: 2,
  Wed: 3,
  Thu: 4,
  Fri: 5,
  Sat: 6,
};

function localClock(format: Intl.DateTimeFormat, ms: number): { day: number; clock: number } {
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const part of format.formatToParts(ms)) {
    if (part.type === 'weekday') day = SHORT_DAYS[part.value] ?? 0;
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, clock: hour * 60 + minute };
}
