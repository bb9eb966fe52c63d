import { describe, expect, it } from 'vitest';
import { windowedGaussian } from '../../local/evaluate/candidates.ts';
import { countEvents, eventMetrics, eventWindows } from '../../local/evaluate/evaluate.ts';
import { generatedCorpus } from '../../local/evaluate/generated.ts';
import { labelRuns } from '../../local/evaluate/labelled-data.ts';
import {
  NAB_PROFILES,
  nabWindows,
  probationaryLength,
  type ScoredFile,
  scaledSigmoid,
  scoreAtThreshold,
  scoreCorpus,
  sweepPoints,
} from '../../local/evaluate/nab-score.ts';

const standard = NAB_PROFILES.standard;
const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** 100 rows, one event at row 50: window [45, 55] (10 % of 100 = 10 rows, ±5), probation 15. */
function file(detections: Record<number, number>, rows = 100, events = [50]): ScoredFile {
  const scores = new Float64Array(rows);
  for (const [row, score] of Object.entries(detections)) scores[Number(row)] = score;
  return { name: 'f', scores, windows: nabWindows(events, rows) };
}

describe('NAB scoring, on cases computed by hand', () => {
  it('scaled sigmoid: 2·sigmoid(5) − 1 at the left edge, 0 at the right, −1 from 3 on', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.986614, 6);
    expect(scaledSigmoid(-0.5)).toBeCloseTo(0.848284, 6);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(1)).toBeCloseTo(-0.986614, 6);
    expect(scaledSigmoid(3)).toBe(-1);
  });

  it('windows: 10 % of the rows over the events, centred, clipped, merged when they touch', () => {
    expect(nabWindows([50], 100)).toEqual([{ start: 45, end: 55 }]);
    expect(nabWindows([30, 70], 100)).toEqual([
      { start: 28, end: 32 },
      { start: 68, end: 72 },
    ]);
    expect(nabWindows([2], 100)).toEqual([{ start: 0, end: 7 }]);
    expect(nabWindows([50, 52], 100)).toEqual([{ start: 48, end: 54 }]);
    expect(probationaryLength(100)).toBe(15);
    expect(probationaryLength(100_000)).toBe(750);
  });

  it('a detection at the left edge of the only window scores the perfect 100', () => {
    expect(scoreCorpus([file({ 45: 1 })], standard).normalized).toBeCloseTo(100, 9);
  });

  it('at the right edge it earns scaledSigmoid(−1/11) / scaledSigmoid(−1)', () => {
    const tp = (2 * sig(5 / 11) - 1) / (2 * sig(5) - 1);
    const r = scoreCorpus([file({ 55: 1 })], standard);
    expect(r.rawScore).toBeCloseTo(tp, 9);
    expect(r.normalized).toBeCloseTo((100 * (tp + 1)) / 2, 9);
  });

  it('a false positive costs A_FP before any window, less just after one; probation is free', () => {
    // Before the window: −A_FP; with the window missed: −1 − 0.11.
    expect(scoreAtThreshold([file({ 20: 1 })], standard, 0.5)).toBeCloseTo(-1.11, 9);
    // One row after the window: position |55 − 56| / (11 − 1) = 0.1.
    const after = (2 * sig(-0.5) - 1) * 0.11;
    expect(scoreAtThreshold([file({ 45: 1, 56: 1 })], standard, 0.5)).toBeCloseTo(1 + after, 9);
    // The low-FP profile doubles it.
    expect(scoreAtThreshold([file({ 45: 1, 56: 1 })], NAB_PROFILES.rewardLowFP, 0.5)).toBeCloseTo(
      1 + 2 * after,
      9,
    );
    // Inside probation (rows 0–14) nothing counts.
    expect(scoreAtThreshold([file({ 10: 1 })], standard, 0.5)).toBeCloseTo(-1, 9);
    // Only the first detection in a window counts; later ones in it are free.
    expect(scoreAtThreshold([file({ 45: 1, 50: 1, 55: 1 })], standard, 0.5)).toBeCloseTo(1, 9);
  });

  it('the low-FN profile doubles the cost of a missed window', () => {
    expect(scoreAtThreshold([file({})], NAB_PROFILES.rewardLowFN, 0.5)).toBe(-2);
  });

  it('the sweep finds the corpus-wide threshold with the best sum, and normalises it', () => {
    // Row 45 (TP) scores 0.9, row 20 (FP) 0.95: at 0.95 only the FP fires (−1.11); at 0.9
    // both (1 − 0.11 = 0.89): the best, normalised 100 · (0.89 + 1) / 2 = 94.5.
    const r = scoreCorpus([file({ 45: 0.9, 20: 0.95 })], standard);
    expect(r.threshold).toBe(0.9);
    expect(r.rawScore).toBeCloseTo(0.89, 9);
    expect(r.normalized).toBeCloseTo(94.5, 9);
    expect([r.truePositives, r.falsePositives, r.falseNegatives]).toEqual([1, 1, 0]);
  });

  it('one threshold for the whole corpus: a file that needs another threshold pays for it', () => {
    // File A's event scores 0.9 and its noise 0.5; file B's event 0.4 and its noise 0.6.
    const a = file({ 45: 0.9, 20: 0.5 });
    const b = file({ 45: 0.4, 20: 0.6 });
    const r = scoreCorpus([a, b], standard);
    // At 0.9: A found, B missed = 1 − 1 = 0 (normalised 50); going lower to 0.6 adds B's FP
    // (−0.11) and A's FP at 0.5 too, only worse until 0.4, which finds B at the cost of both
    // FPs: 2 − 0.22 = 1.78 → 100 · (1.78 + 2) / 4 = 94.5.
    expect(r.threshold).toBe(0.4);
    expect(r.normalized).toBeCloseTo(94.5, 9);
  });

  it('the null detector scores 0 and never fires', () => {
    const r = scoreCorpus([file({}), file({}, 200, [100, 150])], standard);
    expect(r.normalized).toBe(0);
    expect(r.threshold).toBe(Number.POSITIVE_INFINITY);
  });

  it('rows in probation are not scorable points', () => {
    expect(sweepPoints(file({}), standard)).toHaveLength(85);
  });
});

describe('event-level counts', () => {
  it('label runs are the events; a window spans NAB’s window and the rest of the run', () => {
    const labels = new Uint8Array(100);
    labels.fill(1, 50, 70);
    expect(labelRuns(labels)).toEqual([{ start: 50, end: 69 }]);
    expect(eventWindows(labels)).toEqual([{ start: 45, end: 69 }]);
  });

  it('an event found once, two false alarms outside its window, one in probation ignored', () => {
    const labels = new Uint8Array(100);
    labels.fill(1, 50, 60);
    const detections = new Uint8Array(100);
    for (const i of [5, 30, 52, 58, 80]) detections[i] = 1;
    const m = eventMetrics(countEvents(labels, detections));
    expect(m).toMatchObject({ events: 1, detected: 1, falseAlarms: 2 });
    expect(m.precision).toBeCloseTo(1 / 3, 9);
    expect(m.recall).toBe(1);
    expect(m.f1).toBeCloseTo(0.5, 9);
  });
});

describe('windowed Gaussian baseline', () => {
  it('scores a reading against the readings before it only', async () => {
    const values = [10, 11, 9, 10, 11, 9, 10, 40, 10];
    const r = await windowedGaussian(5, 3).run(
      values.map((_, i) => i),
      values,
    );
    // Row 7 (40) against rows 2–6 (9, 10, 11, 9, 10: mean 9.8, σ 0.75): z ≈ 40; row 8 is
    // judged against a window that holds the 40 (mean 15.8, σ 12.1): z ≈ 0.5.
    expect(r.anomalies[7]).toBe(1);
    expect(r.anomalies[8]).toBe(0);
    expect(r.scores[7] as number).toBeGreaterThan(r.scores[6] as number);
  });
});

describe('generated corpus', () => {
  it('is the same for the same seed, with events labelled after the probationary period', () => {
    const a = generatedCorpus({ seed: 7, copies: 1 });
    const b = generatedCorpus({ seed: 7, copies: 1 });
    expect(a.map((e) => e.sensors[0]?.values.slice(0, 5))).toEqual(
      b.map((e) => e.sensors[0]?.values.slice(0, 5)),
    );
    for (const e of a) {
      for (const run of labelRuns(e.labels)) {
        expect(run.start).toBeGreaterThanOrEqual(probationaryLength(e.labels.length));
      }
    }
  });
});
