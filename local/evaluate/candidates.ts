import { DEFAULT_DETECTION } from '../../functions/config.ts';
import type { DetectorSpec } from '../../functions/core/detectors.ts';
import { describeDetector } from '../backtest/report.ts';
import { runBacktest } from '../backtest/run-backtest.ts';

/** A detector's output on one sensor's series: a score and a verdict per reading. */
export interface SeriesResult {
  readonly scores: Float64Array;
  readonly anomalies: Uint8Array;
}

export interface Candidate {
  readonly name: string;
  /** Its parameters in one line, for the table's notes. */
  readonly description: string;
  /** True for the evaluator's own reference baselines (not product detectors). */
  readonly baseline: boolean;
  run(timestampsMs: readonly number[], values: readonly number[]): Promise<SeriesResult>;
}

export interface BacktestCandidateOptions {
  readonly windowMs?: number;
  readonly slideMs?: number;
}

/**
 * A product detector, run through the backtest (the deployed function's own use case, in
 * batches of 500), one sensor at a time: its `score` and `anomaly` columns.
 */
export function backtestCandidate(
  name: string,
  spec: DetectorSpec,
  options: BacktestCandidateOptions = {},
): Candidate {
  const windowMs = options.windowMs ?? DEFAULT_DETECTION.windowMs;
  const slideMs = options.slideMs ?? DEFAULT_DETECTION.slideMs;
  return {
    name,
    description: `${describeDetector(spec)} (window ${windowMs / 1000} s, slide ${slideMs / 1000} s)`,
    baseline: false,
    async run(timestampsMs, values) {
      const scores = new Float64Array(values.length);
      const anomalies = new Uint8Array(values.length);
      const lines = values.map((v, i) => `${timestampsMs[i]},${v}`);
      await runBacktest(
        lines,
        {
          detection: {
            slideMs,
            windowMs,
            defaultDetector: spec,
            rules: [],
            alertCooldownMs: DEFAULT_DETECTION.alertCooldownMs,
            retentionMarginSeconds: DEFAULT_DETECTION.retentionMarginSeconds,
          },
          input: {
            format: 'series',
            timeUnit: 'ms',
            sensorId: 'sensor',
            startMs: 0,
            intervalMs: 1000,
          },
          batchSize: 500,
        },
        (row) => {
          const i = row.lineNumber - 1;
          scores[i] = row.score;
          anomalies[i] = row.anomaly ? 1 : 0;
        },
      );
      return { scores, anomalies };
    },
  };
}

/**
 * The windowed Gaussian baseline (as NAB's): the reading's z-score against the mean and
 * standard deviation of the `windowReadings` readings before it. Its score is |z| / (1 + |z|),
 * which orders readings exactly as |z| does (NAB's 1 − 2·Q(|z|) rounds to 1 for every |z| > 8.3,
 * and a threshold sweep cannot tell those apart); anomaly iff |z| > `sigma`.
 */
export function windowedGaussian(windowReadings: number, sigma: number): Candidate {
  return {
    name: `windowed Gaussian (${windowReadings} readings, ${sigma}σ)`,
    description: `z against the previous ${windowReadings} readings' mean and σ; anomaly iff |z| > ${sigma}`,
    baseline: true,
    async run(_timestampsMs, values) {
      const n = values.length;
      const scores = new Float64Array(n);
      const anomalies = new Uint8Array(n);
      // Sums of differences from the first value: plain sums of squares of a 10,000-scale
      // sensor lose the spread to rounding.
      const ref = values[0] ?? 0;
      let sum = 0;
      let sumSq = 0;
      for (let i = 0; i < n; i += 1) {
        const v = (values[i] as number) - ref;
        const count = Math.min(i, windowReadings);
        if (count >= 2) {
          const mean = sum / count;
          const sd = Math.sqrt(Math.max(0, sumSq / count - mean * mean));
          const z = sd > 0 ? Math.abs(v - mean) / sd : v === mean ? 0 : Number.POSITIVE_INFINITY;
          scores[i] = z === Number.POSITIVE_INFINITY ? 1 : z / (1 + z);
          anomalies[i] = z > sigma ? 1 : 0;
        }
        sum += v;
        sumSq += v * v;
        if (i >= windowReadings) {
          const old = (values[i - windowReadings] as number) - ref;
          sum -= old;
          sumSq -= old * old;
        }
      }
      return { scores, anomalies };
    },
  };
}
