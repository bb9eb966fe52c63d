/**
 * The NAB scoring method (Lavin & Ahmad 2015, "Evaluating Real-time Anomaly Detection
 * Algorithms – the Numenta Anomaly Benchmark"), as its reference scorer computes it:
 *
 * - each labelled event gets an anomaly window of 10 % of the file's length divided by its
 *   number of events, centred on the event;
 * - the first detection inside a window earns the scaled sigmoid of its position (≈ A_TP at
 *   the window's left edge, 0 at its right edge); later detections in the same window count
 *   nothing; a window without a detection costs A_FN;
 * - a detection outside every window costs A_FP times the scaled sigmoid of its distance past
 *   the preceding window (little right after it, the full A_FP from 3 window lengths on, and
 *   the full A_FP before the first window);
 * - detections in the probationary period (the first 15 % of a file, at most 750 rows) count
 *   nothing either way;
 * - a detector's score column is thresholded (score ≥ threshold is a detection) at the one
 *   threshold that maximises the raw score summed over the corpus, and that sum is normalised
 *   to 100 × (raw − null) / (perfect − null), where the null detector never fires (−A_FN per
 *   window) and the perfect one fires at each window's left edge (+A_TP per window).
 */

export interface CostProfile {
  readonly name: string;
  readonly tpWeight: number;
  readonly fpWeight: number;
  readonly fnWeight: number;
}

/** NAB's three application profiles (config/profiles.json); A_TN is 1 in all and unused. */
export const NAB_PROFILES = {
  standard: { name: 'standard', tpWeight: 1, fpWeight: 0.11, fnWeight: 1 },
  rewardLowFP: { name: 'reward_low_FP_rate', tpWeight: 1, fpWeight: 0.22, fnWeight: 1 },
  rewardLowFN: { name: 'reward_low_FN_rate', tpWeight: 1, fpWeight: 0.11, fnWeight: 2 },
} as const satisfies Record<string, CostProfile>;

export type ProfileKey = keyof typeof NAB_PROFILES;
export const PROFILE_KEYS = Object.keys(NAB_PROFILES) as ProfileKey[];

export const PROBATION_PERCENT = 0.15;
export const WINDOW_PERCENT = 0.1;

/** An anomaly window as row indices, both ends inclusive. */
export interface AnomalyWindow {
  readonly start: number;
  readonly end: number;
}

/** One scored file: a score per row and its anomaly windows (sorted, non-overlapping). */
export interface ScoredFile {
  readonly name: string;
  readonly scores: ArrayLike<number>;
  readonly windows: readonly AnomalyWindow[];
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * −1 at a window's left edge gives 2·sigmoid(5) − 1 ≈ 0.9866, 0 its right edge 0; positive
 * positions (past a window, in window lengths) fall towards −1, which they are from 3 on.
 */
export function scaledSigmoid(relativePosition: number): number {
  if (relativePosition >= 3) return -1;
  return 2 * sigmoid(-5 * relativePosition) - 1;
}

/** min(floor(15 % of the rows), 15 % of 5000): NAB's probationary rows. */
export function probationaryLength(rows: number): number {
  return Math.min(Math.floor(PROBATION_PERCENT * rows), PROBATION_PERCENT * 5000);
}

/**
 * NAB's windows for events at the given row indices: each 10 % of the rows divided by the
 * number of events, centred on its event, clipped to the file; windows that would overlap
 * are merged (NAB's labels never overlap).
 */
export function nabWindows(eventRows: readonly number[], rows: number): AnomalyWindow[] {
  if (eventRows.length === 0) return [];
  const length = Math.floor((WINDOW_PERCENT * rows) / eventRows.length);
  const half = Math.floor(length / 2);
  const windows: AnomalyWindow[] = [];
  for (const row of [...eventRows].sort((a, b) => a - b)) {
    const start = Math.max(row - half, 0);
    const end = Math.min(row + half, rows - 1);
    const last = windows.at(-1);
    if (last !== undefined && start <= last.end) windows[windows.length - 1] = { ...last, end };
    else windows.push({ start, end });
  }
  return windows;
}

/** A row's contribution if it were a detection: its window (or −1 outside) and its weight. */
interface ScorablePoint {
  readonly score: number;
  /** Index into the corpus-wide list of windows, or −1 for a point outside every window. */
  readonly window: number;
  readonly sweepScore: number;
}

/**
 * Per row (after the probationary period): which window it is in and what it would earn as a
 * detection under `profile`, exactly as NAB's Sweeper.calcSweepScore.
 */
export function sweepPoints(
  file: ScoredFile,
  profile: CostProfile,
  windowOffset = 0,
): ScorablePoint[] {
  const n = file.scores.length;
  const maxTP = scaledSigmoid(-1);
  const probation = probationaryLength(n);
  const points: ScorablePoint[] = [];
  let w = 0;
  let prevRight: number | null = null;
  let prevWidth = 0;
  for (let i = 0; i < n; i += 1) {
    const current = file.windows[w];
    const inWindow = current !== undefined && i >= current.start && i <= current.end;
    let sweepScore: number;
    if (inWindow) {
      const width = current.end - current.start + 1;
      // NAB's position: −(right − i + 1) / width, so −1 at the left edge.
      const position = -(current.end - i + 1) / width;
      sweepScore = (scaledSigmoid(position) * profile.tpWeight) / maxTP;
    } else {
      // Before any window, a false positive costs the full weight; after one, less nearby.
      // NAB divides by (width − 1); a one-row window would divide by 0: take it as 1.
      const position =
        prevRight === null ? 3 : Math.abs(prevRight - i) / Math.max(prevWidth - 1, 1);
      sweepScore = scaledSigmoid(position) * profile.fpWeight;
    }
    if (i >= probation) {
      const score = file.scores[i] as number;
      points.push({ score, window: inWindow ? windowOffset + w : -1, sweepScore });
    }
    if (inWindow && i === current.end) {
      prevRight = i;
      prevWidth = current.end - current.start + 1;
      w += 1;
    }
  }
  return points;
}

export interface ThresholdResult {
  readonly threshold: number;
  readonly rawScore: number;
  /** 100 × (raw − null) / (perfect − null). */
  readonly normalized: number;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly falseNegatives: number;
}

/**
 * The corpus-wide sweep: every distinct score is a candidate threshold (score ≥ threshold
 * detects), from above the highest (nothing detected: the null score) down; returns the best.
 * Windows that lie wholly in a probationary period are not scored, as in NAB.
 */
export function scoreCorpus(files: readonly ScoredFile[], profile: CostProfile): ThresholdResult {
  const points: ScorablePoint[] = [];
  let windowCount = 0;
  for (const file of files) {
    for (const p of sweepPoints(file, profile, windowCount)) points.push(p);
    windowCount += file.windows.length;
  }
  // Windows with at least one scorable row: the others (inside probation) are ignored.
  const best = new Float64Array(windowCount).fill(Number.NaN);
  for (const p of points) if (p.window >= 0) best[p.window] = -profile.fnWeight;
  let scoredWindows = 0;
  for (const b of best) if (!Number.isNaN(b)) scoredWindows += 1;
  const nullScore = -profile.fnWeight * scoredWindows;
  const perfectScore = profile.tpWeight * scoredWindows;
  const normalize = (raw: number) =>
    perfectScore === nullScore ? 0 : (100 * (raw - nullScore)) / (perfectScore - nullScore);

  points.sort((a, b) => b.score - a.score);
  let raw = nullScore;
  let tp = 0;
  let fp = 0;
  let result: ThresholdResult = {
    threshold: Number.POSITIVE_INFINITY,
    rawScore: raw,
    normalized: normalize(raw),
    truePositives: 0,
    falsePositives: 0,
    falseNegatives: scoredWindows,
  };
  for (let i = 0; i < points.length; ) {
    const threshold = (points[i] as ScorablePoint).score;
    // Every point at this score becomes a detection together.
    while (i < points.length && (points[i] as ScorablePoint).score === threshold) {
      const p = points[i] as ScorablePoint;
      if (p.window < 0) {
        raw += p.sweepScore;
        fp += 1;
      } else {
        const before = best[p.window] as number;
        if (before === -profile.fnWeight && p.sweepScore > before) tp += 1;
        if (p.sweepScore > before) {
          raw += p.sweepScore - before;
          best[p.window] = p.sweepScore;
        }
      }
      i += 1;
    }
    // Ties keep the higher threshold: fewer detections for the same score.
    if (raw > result.rawScore + 1e-12) {
      result = {
        threshold,
        rawScore: raw,
        normalized: normalize(raw),
        truePositives: tp,
        falsePositives: fp,
        falseNegatives: scoredWindows - tp,
      };
    }
  }
  return result;
}

/** The raw score of a corpus at a fixed threshold (no sweep), e.g. for 0/1 anomaly columns. */
export function scoreAtThreshold(
  files: readonly ScoredFile[],
  profile: CostProfile,
  threshold: number,
): number {
  let raw = 0;
  let windowCount = 0;
  for (const file of files) {
    const points = sweepPoints(file, profile, windowCount);
    const best = new Map<number, number>();
    for (const p of points) {
      if (p.window >= 0 && !best.has(p.window)) best.set(p.window, -profile.fnWeight);
      if (p.score < threshold) continue;
      if (p.window < 0) raw += p.sweepScore;
      else best.set(p.window, Math.max(best.get(p.window) as number, p.sweepScore));
    }
    for (const b of best.values()) raw += b;
    windowCount += file.windows.length;
  }
  return raw;
}
