import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FEEDBACK_BOUNDS, odds } from '../../functions/core/feedback.ts';
import { type BacktestRow, runBacktest } from '../../local/backtest/run-backtest.ts';
import { parseBacktestOptions, UsageError } from '../../local/flags/backtest-options.ts';

const INPUT = 'examples/readings.csv';
const LINES = readFileSync(INPUT, 'utf8').split('\n');
const dir = mkdtempSync(join(tmpdir(), 'backtest-feedback-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

async function backtest(args: readonly string[]) {
  const options = parseBacktestOptions(['--input', INPUT, ...args]);
  const rows: BacktestRow[] = [];
  await runBacktest(
    LINES,
    {
      detection: options.detection,
      input: options.input,
      batchSize: options.batchSize,
      ...(options.feedback === undefined ? {} : { feedback: options.feedback }),
    },
    (row) => rows.push(row),
  );
  return rows;
}

describe('npm run backtest -- --feedback FILE', () => {
  it('replays a verdict from its time on: earlier decisions stay, later false alarms of that pattern go', async () => {
    // Prepare: hugeScale_1 (a 10,000-scale sensor under a threshold of 50) alarms on noise.
    const plain = await backtest([]);
    const first = plain.find((r) => r.sensorId === 'hugeScale_1' && r.anomaly) as BacktestRow;
    // As `npm run feedback -- list --json` prints it, one verdict per line.
    const verdicts = file(
      'verdicts.jsonl',
      `${JSON.stringify({
        alertId: 'backtest-0-13',
        sensorId: 'hugeScale_1',
        verdict: 'not-anomaly',
        score: first.score,
        recordedAtMs: first.eventTimeMs + 1,
        expiresAtMs: first.eventTimeMs + 86_400_000,
        by: 'alice@plant',
      })}\n`,
    );
    // Act
    const taught = await backtest(['--feedback', verdicts]);
    // Assess
    const boundary = odds(first.score) * FEEDBACK_BOUNDS.margin;
    let removed = 0;
    for (const [i, before] of plain.entries()) {
      const after = taught[i] as BacktestRow;
      expect(after.lineNumber).toBe(before.lineNumber);
      const applies = before.sensorId === 'hugeScale_1' && before.eventTimeMs > first.eventTimeMs;
      const expected = applies ? before.anomaly && odds(before.score) > boundary : before.anomaly;
      expect(after.anomaly, `line ${before.lineNumber}`).toBe(expected);
      if (before.anomaly && !after.anomaly) removed += 1;
    }
    expect(removed).toBeGreaterThan(10);
  });

  it('takes a JSON array with ISO times, and says which entry is wrong', async () => {
    const good = file(
      'verdicts.json',
      JSON.stringify([
        {
          alertId: 'a',
          sensorId: 'flinkLike_1',
          verdict: 'missed',
          recordedAt: '2026-11-21T00:00:00Z',
        },
      ]),
    );
    expect(parseBacktestOptions(['--input', INPUT, '--feedback', good]).feedback).toMatchObject([
      { alertId: 'a', verdict: 'missed', recordedAtMs: Date.parse('2026-11-21T00:00:00Z') },
    ]);
    const bad = file(
      'bad.json',
      JSON.stringify([{ alertId: 'a', sensorId: 's', verdict: 'ok', recordedAtMs: 1 }]),
    );
    expect(() => parseBacktestOptions(['--input', INPUT, '--feedback', bad])).toThrow(
      new UsageError(`--feedback "${bad}" entry 1: verdict: not-anomaly or missed (got "ok")`),
    );
    const timeless = file('timeless.jsonl', '{"alertId":"a","sensorId":"s","verdict":"missed"}\n');
    expect(() => parseBacktestOptions(['--input', INPUT, '--feedback', timeless])).toThrow(
      'line 1: recordedAtMs (epoch ms) or recordedAt (ISO 8601) is needed',
    );
    expect(() => parseBacktestOptions(['--input', '-', '--feedback', '-'])).toThrow(
      '--input - and --feedback -: only one of them can read standard input',
    );
  });
});
