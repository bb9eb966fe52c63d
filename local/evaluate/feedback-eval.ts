import { DEFAULT_DETECTION } from '../../functions/config.ts';
import type { DetectorSpec } from '../../functions/core/detectors.ts';
import type { FeedbackRecord } from '../../functions/core/feedback.ts';
import { runBacktest } from '../backtest/run-backtest.ts';
import { countEvents, eventWindows } from './evaluate.ts';
import type { Experiment } from './labelled-data.ts';

/** What feedback did for one detector on one corpus (docs/feedback.md, docs/evaluate.md). */
export interface FeedbackRow {
  readonly detector: string;
  /** Verdicts given: at most `first` per sensor column. */
  readonly verdicts: number;
  readonly events: number;
  readonly foundBefore: number;
  readonly foundAfter: number;
  readonly falseAlarmsBefore: number;
  readonly falseAlarmsAfter: number;
}

export interface FeedbackEvaluation {
  /** Not-anomaly verdicts on the first this many false alarms of each sensor. */
  readonly first: number;
  readonly rows: readonly FeedbackRow[];
}

const SENSOR = 'sensor';

/**
 * A simulated operator on labelled data: each sensor column is replayed through the backtest
 * (the deployed use case); its first `first` false alarms (flagged readings outside every
 * event's window, in time order) get a not-anomaly verdict the moment after they fire, with
 * the alert's score and pattern, as `npm run feedback -- ALERT_ID not-anomaly --alert …`
 * would record it;
 * the column is replayed again with those verdicts (backtest --feedback). False alarms and
 * events found are counted as in the main table (probation excluded, sensors of an experiment
 * merged), before and after. The false alarms that got verdicts still count after: feedback
 * acts from the next reading on.
 */
export async function evaluateFeedback(
  experiments: readonly Experiment[],
  detectors: readonly { readonly name: string; readonly spec: DetectorSpec }[],
  first: number,
  onProgress: (message: string) => void = () => {},
): Promise<FeedbackEvaluation> {
  const rows: FeedbackRow[] = [];
  for (const d of detectors) {
    onProgress(d.name);
    let verdicts = 0;
    const sum = { events: 0, foundBefore: 0, foundAfter: 0, fpBefore: 0, fpAfter: 0 };
    for (const e of experiments) {
      const n = e.labels.length;
      const windows = eventWindows(e.labels);
      const outside = (i: number) => !windows.some((w) => i >= w.start && i <= w.end);
      const before = new Uint8Array(n);
      const after = new Uint8Array(n);
      for (const sensor of e.sensors) {
        const plain = await replay(d.spec, e.timestampsMs, sensor.values, []);
        const given: FeedbackRecord[] = [];
        for (let i = 0; i < n && given.length < first; i += 1) {
          if (plain.anomalies[i] !== 1 || !outside(i)) continue;
          const at = e.timestampsMs[i] as number;
          given.push({
            alertId: `backtest-0-${i}`,
            sensorId: SENSOR,
            verdict: 'not-anomaly',
            score: plain.scores[i] as number,
            ...(plain.tests[i] === undefined || plain.tests[i] === 'limit'
              ? {}
              : { test: plain.tests[i] as string }),
            recordedAtMs: at + 1,
            expiresAtMs: Number.MAX_SAFE_INTEGER,
            by: 'evaluator',
          });
        }
        verdicts += given.length;
        const taught =
          given.length === 0 ? plain : await replay(d.spec, e.timestampsMs, sensor.values, given);
        for (let i = 0; i < n; i += 1) {
          if (plain.anomalies[i] === 1) before[i] = 1;
          if (taught.anomalies[i] === 1) after[i] = 1;
        }
      }
      const b = countEvents(e.labels, before);
      const a = countEvents(e.labels, after);
      sum.events += b.events;
      sum.foundBefore += b.detected;
      sum.foundAfter += a.detected;
      sum.fpBefore += b.falseAlarms;
      sum.fpAfter += a.falseAlarms;
    }
    rows.push({
      detector: d.name,
      verdicts,
      events: sum.events,
      foundBefore: sum.foundBefore,
      foundAfter: sum.foundAfter,
      falseAlarmsBefore: sum.fpBefore,
      falseAlarmsAfter: sum.fpAfter,
    });
  }
  return { first, rows };
}

async function replay(
  spec: DetectorSpec,
  timestampsMs: readonly number[],
  values: readonly number[],
  feedback: readonly FeedbackRecord[],
): Promise<{ scores: Float64Array; anomalies: Uint8Array; tests: (string | undefined)[] }> {
  const scores = new Float64Array(values.length);
  const anomalies = new Uint8Array(values.length);
  const tests: (string | undefined)[] = new Array(values.length);
  await runBacktest(
    values.map((v, i) => `${timestampsMs[i]},${v}`),
    {
      detection: { ...DEFAULT_DETECTION, defaultDetector: spec, rules: [] },
      input: { format: 'series', timeUnit: 'ms', sensorId: SENSOR, startMs: 0, intervalMs: 1000 },
      batchSize: 500,
      feedback,
    },
    (row) => {
      scores[row.lineNumber - 1] = row.score;
      anomalies[row.lineNumber - 1] = row.anomaly ? 1 : 0;
      tests[row.lineNumber - 1] = row.test;
    },
  );
  return { scores, anomalies, tests };
}

/** The feedback table, Markdown. */
export function feedbackMarkdown(f: FeedbackEvaluation): string[] {
  return [
    '',
    `Feedback (docs/feedback.md): a not-anomaly verdict on each of the first ${f.first} false alarms of every sensor, the moment after it fired; false alarms and events found over the same rows, before → after.`,
    '',
    '| detector | verdicts | false alarms before | after | removed | events found before | after |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...f.rows.map(
      (r) =>
        `| \`${r.detector}\` | ${r.verdicts} | ${r.falseAlarmsBefore} | ${r.falseAlarmsAfter} | ${removed(r)} | ${r.foundBefore}/${r.events} | ${r.foundAfter}/${r.events} |`,
    ),
  ];
}

/** The feedback table, plain text for the terminal. */
export function feedbackText(f: FeedbackEvaluation): string[] {
  const rows = [
    ['feedback', 'verdicts', 'false alarms', 'after', 'removed', 'found', 'after'],
    ...f.rows.map((r) => [
      r.detector,
      String(r.verdicts),
      String(r.falseAlarmsBefore),
      String(r.falseAlarmsAfter),
      removed(r),
      `${r.foundBefore}/${r.events}`,
      `${r.foundAfter}/${r.events}`,
    ]),
  ];
  const widths = (rows[0] as string[]).map((_, i) =>
    Math.max(...rows.map((row) => (row[i] ?? '').length)),
  );
  return [
    `  not-anomaly on the first ${f.first} false alarms of each sensor:`,
    ...rows.map(
      (row) =>
        `  ${row.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')}`,
    ),
  ];
}

function removed(r: FeedbackRow): string {
  if (r.falseAlarmsBefore === 0) return '-';
  const d = r.falseAlarmsBefore - r.falseAlarmsAfter;
  return `${d} (${((100 * d) / r.falseAlarmsBefore).toFixed(0)} %)`;
}
