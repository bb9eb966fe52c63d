import type { Candidate, SeriesResult } from './candidates.ts';
import { type Experiment, labelRuns } from './labelled-data.ts';
import {
  type AnomalyWindow,
  NAB_PROFILES,
  nabWindows,
  PROFILE_KEYS,
  type ProfileKey,
  probationaryLength,
  type ScoredFile,
  scoreCorpus,
  type ThresholdResult,
  WINDOW_PERCENT,
} from './nab-score.ts';

/** Event-level counts: an event is found when its experiment fires inside its window. */
export interface EventCounts {
  readonly events: number;
  readonly detected: number;
  /** Detections (rows at which any sensor fired) outside every event's window. */
  readonly falseAlarms: number;
}

export interface EventMetrics extends EventCounts {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** F0.5: precision weighted twice as much as recall (an operator's pager). */
  readonly f05: number;
}

/** A way to split a corpus into groups (fault families, scales): event metrics per group. */
export interface Grouping {
  readonly title: string;
  /** The experiment's group, or undefined to leave it out of this table. */
  of(experiment: Experiment): string | undefined;
}

export interface GroupTable {
  readonly title: string;
  readonly rows: readonly { readonly group: string; readonly events: EventMetrics }[];
}

export interface CandidateResult {
  readonly name: string;
  readonly description: string;
  readonly baseline: boolean;
  readonly nab: Record<ProfileKey, ThresholdResult>;
  readonly events: EventMetrics;
  /** Event counts of the score column cut at the NAB-standard threshold (score ≥ thr fires). */
  readonly eventsAtThreshold: EventMetrics;
  /** Event metrics of the anomaly column per group, one table per grouping asked for. */
  readonly groups: readonly GroupTable[];
}

/**
 * An event's window for event-level counts: NAB's window around the event's first labelled row,
 * stretched to the end of its label run (a fault that lasts longer than the window is still the
 * same fault).
 */
export function eventWindows(labels: ArrayLike<number>): AnomalyWindow[] {
  const runs = labelRuns(labels);
  if (runs.length === 0) return [];
  const half = Math.floor(Math.floor((WINDOW_PERCENT * labels.length) / runs.length) / 2);
  return runs.map((r) => ({
    start: Math.max(r.start - half, 0),
    end: Math.min(Math.max(r.start + half, r.end), labels.length - 1),
  }));
}

/** Counts events found and false alarms of one experiment's detections (probation excluded). */
export function countEvents(labels: ArrayLike<number>, detections: ArrayLike<number>): EventCounts {
  const windows = eventWindows(labels);
  const probation = probationaryLength(labels.length);
  let detected = 0;
  let events = 0;
  for (const w of windows) {
    if (w.end < probation) continue;
    events += 1;
    for (let i = Math.max(w.start, probation); i <= w.end; i += 1) {
      if (detections[i] === 1) {
        detected += 1;
        break;
      }
    }
  }
  let falseAlarms = 0;
  for (let i = probation; i < labels.length; i += 1) {
    const inside = windows.some((win) => i >= win.start && i <= win.end);
    if (!inside && detections[i] === 1) falseAlarms += 1;
  }
  return { events, detected, falseAlarms };
}

export function eventMetrics(counts: EventCounts): EventMetrics {
  const precision =
    counts.detected + counts.falseAlarms === 0
      ? 0
      : counts.detected / (counts.detected + counts.falseAlarms);
  const recall = counts.events === 0 ? 0 : counts.detected / counts.events;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  const f05 =
    precision + recall === 0 ? 0 : (1.25 * precision * recall) / (0.25 * precision + recall);
  return { ...counts, precision, recall, f1, f05 };
}

/** One experiment's detector output, its sensors merged: the highest score, any anomaly. */
export async function runExperiment(
  experiment: Experiment,
  candidate: Candidate,
): Promise<SeriesResult> {
  const n = experiment.timestampsMs.length;
  const scores = new Float64Array(n);
  const anomalies = new Uint8Array(n);
  for (const sensor of experiment.sensors) {
    const r = await candidate.run(experiment.timestampsMs, sensor.values);
    for (let i = 0; i < n; i += 1) {
      if ((r.scores[i] as number) > (scores[i] as number)) scores[i] = r.scores[i] as number;
      if (r.anomalies[i] === 1) anomalies[i] = 1;
    }
  }
  return { scores, anomalies };
}

/** Scores each candidate on the corpus: NAB's three profiles and event-level P/R/F1. */
export async function evaluateCandidates(
  experiments: readonly Experiment[],
  candidates: readonly Candidate[],
  onProgress: (message: string) => void = () => {},
  groupings: readonly Grouping[] = [],
): Promise<CandidateResult[]> {
  const results: CandidateResult[] = [];
  for (const candidate of candidates) {
    onProgress(candidate.name);
    const files: ScoredFile[] = [];
    const labels: Uint8Array[] = [];
    let events = 0;
    let detected = 0;
    let falseAlarms = 0;
    const byGroup = groupings.map(() => new Map<string, EventCounts>());
    for (const experiment of experiments) {
      const out = await runExperiment(experiment, candidate);
      const runs = labelRuns(experiment.labels);
      files.push({
        name: experiment.name,
        scores: out.scores,
        windows: nabWindows(
          runs.map((r) => r.start),
          experiment.labels.length,
        ),
      });
      labels.push(experiment.labels);
      const c = countEvents(experiment.labels, out.anomalies);
      groupings.forEach((g, k) => {
        const group = g.of(experiment);
        if (group === undefined) return;
        const table = byGroup[k] as Map<string, EventCounts>;
        const sum = table.get(group) ?? { events: 0, detected: 0, falseAlarms: 0 };
        table.set(group, {
          events: sum.events + c.events,
          detected: sum.detected + c.detected,
          falseAlarms: sum.falseAlarms + c.falseAlarms,
        });
      });
      events += c.events;
      detected += c.detected;
      falseAlarms += c.falseAlarms;
    }
    const nab = Object.fromEntries(
      PROFILE_KEYS.map((k) => [k, scoreCorpus(files, NAB_PROFILES[k])]),
    ) as Record<ProfileKey, ThresholdResult>;
    const threshold = nab.standard.threshold;
    const atThreshold = { events: 0, detected: 0, falseAlarms: 0 };
    files.forEach((file, i) => {
      const fired = Uint8Array.from(file.scores as ArrayLike<number>, (s) =>
        s >= threshold ? 1 : 0,
      );
      const c = countEvents(labels[i] as Uint8Array, fired);
      atThreshold.events += c.events;
      atThreshold.detected += c.detected;
      atThreshold.falseAlarms += c.falseAlarms;
    });
    results.push({
      name: candidate.name,
      description: candidate.description,
      baseline: candidate.baseline,
      nab,
      events: eventMetrics({ events, detected, falseAlarms }),
      eventsAtThreshold: eventMetrics(atThreshold),
      groups: groupings.map((g, k) => ({
        title: g.title,
        rows: [...(byGroup[k] as Map<string, EventCounts>)].map(([group, counts]) => ({
          group,
          events: eventMetrics(counts),
        })),
      })),
    });
  }
  return results;
}
