import type { Severity } from '../types.ts';

/**
 * Episodes (docs/alerting.md): a sensor's run of anomalies from the first one until it has
 * been back to normal for `endAfterReadings` readings in a row. Every alert of the run
 * carries the episode id (the alert id of its first anomaly: unique, and the same on every
 * retry); the end is recorded, and notified as resolved when the episode reached critical
 * and at least one of its alerts was notified (a backlog's episode ends in the log only).
 */
export interface EpisodeState {
  /**
   * The first anomaly's alert id after its `<topic>-<partition>-` (a sensor's state belongs
   * to one partition, so the prefix is the partition's): kept short in the state page.
   */
  readonly id: string;
  readonly startMs: number;
  readonly peak: Severity;
  readonly anomalies: number;
  /** At least one alert of the episode was notified (sent now). */
  readonly notified: boolean;
  /** Normal readings in a row since the last anomaly. */
  readonly normalRun: number;
}

/** An episode that ended: what the log, the resolved notification and the sinks say. */
export interface EpisodeEnd {
  readonly episodeId: string;
  readonly sensorId: string;
  readonly startMs: number;
  /** Event time of the reading that completed the normal run. */
  readonly endMs: number;
  readonly peak: Severity;
  readonly anomalies: number;
  /** Notified as resolved (critical and notified at least once); otherwise recorded only. */
  readonly notify: boolean;
  /** Where the ending reading came from: its id `<topic>-<partition>-<offset>` names the end. */
  readonly endId: string;
}

/** Default: ten normal readings in a row end an episode. */
export const EPISODE_END_READINGS = 10;

/** An anomaly: opens an episode (its alert id's tail is the episode's) or joins the open one. */
export function episodeOnAnomaly(
  open: EpisodeState | undefined,
  idTail: string,
  eventTimeMs: number,
  severity: Severity,
  notified: boolean,
): EpisodeState {
  if (open === undefined)
    return {
      id: idTail,
      startMs: eventTimeMs,
      peak: severity,
      anomalies: 1,
      notified,
      normalRun: 0,
    };
  return {
    ...open,
    peak: open.peak === 'critical' || severity === 'critical' ? 'critical' : 'warning',
    anomalies: open.anomalies + 1,
    notified: open.notified || notified,
    normalRun: 0,
  };
}

/** A normal reading: one more in the run; the episode ends when the run is long enough. */
export function episodeOnNormal(
  open: EpisodeState,
  endAfterReadings: number,
): { readonly open: EpisodeState | undefined; readonly ended: boolean } {
  const normalRun = open.normalRun + 1;
  if (normalRun >= endAfterReadings) return { open: undefined, ended: true };
  return { open: { ...open, normalRun }, ended: false };
}

/** `prefix`: the partition's `<topic>-<partition>-`, which makes the state's id an alert id. */
export function episodeEnd(
  open: EpisodeState,
  prefix: string,
  sensorId: string,
  endMs: number,
  endId: string,
): EpisodeEnd {
  return {
    episodeId: `${prefix}${open.id}`,
    sensorId,
    startMs: open.startMs,
    endMs,
    peak: open.peak,
    anomalies: open.anomalies,
    notify: open.peak === 'critical' && open.notified,
    endId,
  };
}
