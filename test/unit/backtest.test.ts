import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CSV_HEADER, csvRow } from '../../local/backtest/csv-output.ts';
import { formatReport } from '../../local/backtest/report.ts';
import { type BacktestRow, runBacktest } from '../../local/backtest/run-backtest.ts';
import { PlotCollector, renderSvg } from '../../local/backtest/svg-plot.ts';
import { parseBacktestOptions, UsageError } from '../../local/flags/backtest-options.ts';

/**
 * Golden files: test/golden/<case>.csv is the backtest's --output for the fixed stream
 * test/fixtures/backtest/plant.csv, compared as text. After an intended change of a
 * detector, regenerate them and review the diff:
 *
 *   UPDATE_GOLDEN=1 npx vitest run test/unit/backtest.test.ts
 */
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const FIXTURE = 'test/fixtures/backtest/plant.csv';
const RULES = 'test/fixtures/backtest/rules.json';

const GOLDEN_CASES = [
  ['threshold', []],
  ['zscore', ['--detector', 'zscore', '--zscore-sigma', '2.5']],
  ['ewma', ['--detector', 'ewma']],
  ['adaptive', ['--detector', 'adaptive']],
  ['robust', ['--detector', 'robust']],
  ['rules', ['--rules', RULES]],
] as const;

function fixtureLines(path = FIXTURE): string[] {
  return readFileSync(path, 'utf8').split('\n');
}

async function backtest(args: readonly string[], lines: readonly string[] = fixtureLines()) {
  const options = parseBacktestOptions(['--input', FIXTURE, ...args]);
  const rows: BacktestRow[] = [];
  const summary = await runBacktest(
    lines,
    { detection: options.detection, input: options.input, batchSize: options.batchSize },
    (row) => rows.push(row),
  );
  return { options, rows, summary };
}

function asCsv(rows: readonly BacktestRow[]): string {
  return `${[CSV_HEADER, ...rows.map(csvRow)].join('\n')}\n`;
}

describe('backtest: golden files per detector', () => {
  it.each(GOLDEN_CASES)('%s', async (name, args) => {
    // Act
    const { rows } = await backtest(args);
    // Assess
    const path = `test/golden/${name}.csv`;
    const csv = asCsv(rows);
    if (UPDATE) writeFileSync(path, csv);
    expect(existsSync(path), `${path} is missing: run with UPDATE_GOLDEN=1`).toBe(true);
    expect(csv).toBe(readFileSync(path, 'utf8'));
  });
});

describe('backtest: the replay law', () => {
  it.each([
    ['ewma', ['--detector', 'ewma']],
    ['robust', ['--detector', 'robust']],
    ['rules', ['--rules', RULES]],
    ['threshold', []],
  ] as const)('%s: the rows do not depend on the batch size', async (_name, args) => {
    // Act
    const runs = await Promise.all(
      ['1', '7', '500', '100000'].map((size) => backtest([...args, '--batch-size', size])),
    );
    // Assess
    const [first, ...others] = runs.map((r) => asCsv(r.rows));
    for (const other of others) expect(other).toBe(first);
  });
});

describe('backtest: what it reports', () => {
  it('one row per reading, in input order, with the window of every reading', async () => {
    // Act
    const { rows, summary } = await backtest(['--detector', 'ewma']);
    // Assess
    expect(rows).toHaveLength(summary.readings);
    expect(rows.map((r) => r.lineNumber)).toEqual(
      [...rows.map((r) => r.lineNumber)].sort((a, b) => a - b),
    );
    for (const row of rows) {
      expect(row.windowCount).toBeGreaterThanOrEqual(1);
      expect(row.score).toBeGreaterThanOrEqual(0);
      expect(row.score).toBeLessThanOrEqual(1);
      // Anomaly exactly when the score is past 0.5 (strictly beyond the limit), after warm-up.
      if (row.anomaly) expect(row.score).toBeGreaterThan(0.5);
    }
  });

  it('counts bad lines by reason with their line numbers, and goes on', async () => {
    const { summary } = await backtest([]);
    expect(summary.rejectedByReason).toEqual({
      INVALID_VALUE: 1,
      MISSING_SENSOR_ID: 1,
      MALFORMED: 1,
      BAD_TIMESTAMP: 1,
    });
    expect(summary.rejectedExamples.map((r) => r.lineNumber)).toEqual([42, 92, 142, 192]);
  });

  it('reproduces the seed: the Flink job’s spikes of sensor_1, one notification per cooldown', async () => {
    // Act
    const { rows, summary } = await backtest(
      ['--start', '2026-11-21T10:00:00Z'],
      fixtureLines('test/fixtures/backtest/seed-lines.txt'),
    );
    // Assess
    expect(
      rows
        .filter((r) => r.anomaly)
        .map((r) => [r.value, Number(r.windowMean.toFixed(2)), r.notified]),
    ).toEqual([
      [150, 73.32, true],
      [180, 85.21, false],
    ]);
    expect(summary.sensors.get('sensor_1')).toMatchObject({
      readings: 8,
      anomalies: 2,
      notifications: 1,
    });
  });

  it('prints a summary line per sensor and the rejected lines', async () => {
    const { options, summary } = await backtest(['--rules', RULES]);
    const text = formatReport(summary, {
      input: FIXTURE,
      detection: options.detection,
      batchSize: 500,
    });
    expect(text).toMatch(/^flinkLike_1 +threshold +151 +\d+ +[\d.]+% +\d+/m);
    expect(text).toMatch(/^hugeScale_1 +zscore +151 /m);
    expect(text).toMatch(/^total +752 /m);
    expect(text).toContain("line 142: MALFORMED 4 fields, want the header's columns");
  });

  it('quotes sensor ids in the CSV when they need it', () => {
    const row: BacktestRow = {
      lineNumber: 1,
      eventTimeMs: 0,
      sensorId: 'a,"b"',
      value: 1,
      windowMean: 1,
      windowCount: 1,
      deviation: 0,
      score: 0,
      anomaly: false,
      notified: false,
      detector: 'ewma',
      baseline: 1,
      limit: 0,
    };
    expect(csvRow(row)).toBe('1970-01-01T00:00:00.000Z,"a,""b""",1,1,1,0,0,0,1,0,ewma,0,1');
  });
});

describe('backtest: the plot', () => {
  it('draws one panel per sensor, up to the cap, with anomalies in red and ids escaped', async () => {
    // Prepare
    const { rows, summary } = await backtest(['--detector', 'ewma']);
    const plot = new PlotCollector(3);
    for (const row of rows) plot.add(row);
    const [first] = rows;
    if (first === undefined) throw new Error('no rows');
    plot.add({ ...first, sensorId: '<script>' });
    // Act
    const svg = renderSvg(plot, summary, 'plant & co');
    // Assess
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<clipPath/g)).toHaveLength(3);
    expect(svg).toContain('3 more sensor(s) not plotted (at most 3; see --plot-max-sensors)');
    expect(svg).toContain('plant &#38; co');
    expect(svg).not.toContain('<script>');
    expect(svg.match(/<circle /g)?.length).toBe(
      rows.filter((r) => r.anomaly && plot.series.has(r.sensorId)).length,
    );
  });

  it('thins long series to about two points per pixel column', async () => {
    const plot = new PlotCollector(1);
    const base = {
      lineNumber: 1,
      sensorId: 's',
      windowMean: 0,
      windowCount: 1,
      deviation: 0,
      score: 0,
      anomaly: false,
      notified: false,
      detector: 'threshold',
      baseline: 0,
      limit: 1,
    } as const;
    for (let i = 0; i < 100_000; i += 1)
      plot.add({ ...base, eventTimeMs: i * 1000, value: Math.sin(i) });
    const svg = renderSvg(plot, { sensors: new Map() } as never, 'long');
    expect(svg.length).toBeLessThan(200_000);
  });
});

describe('backtest: options', () => {
  it.each([
    [[], /--input: required/],
    [['--input', 'x', '--detector', 'magic'], /--detector: .*"magic"/],
    [['--input', 'x', '--threshold=-1'], /--threshold: .*"-1"/],
    [
      ['--input', 'x', '--detector', 'ewma', '--threshold', '10'],
      /--threshold: applies to --detector threshold, not ewma/,
    ],
    [
      ['--input', 'x', '--window-seconds', '12'],
      /--window-seconds: must be a whole multiple of --slide-seconds \(5\) \(got 12\)/,
    ],
    [['--input', 'x', '--format', 'series'], /--format series: needs --sensor-id/],
    [['--input', 'x', '--plot', 'out.png'], /--plot: a file name ending in .svg or .html/],
    [
      ['--input', 'x', '--rules', RULES, '--detector', 'ewma'],
      /--detector ewma and the "default" of .*rules.json: choose one/,
    ],
    [['--input', 'x', '--bogus'], /unknown option --bogus/],
  ])('%o → %s', (argv, message) => {
    expect(() => parseBacktestOptions(argv)).toThrow(message);
    try {
      parseBacktestOptions(argv);
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
    }
  });

  it('mirrors the deployed defaults: threshold 50 over 10 s windows sliding by 5 s', () => {
    expect(parseBacktestOptions(['--input', 'x']).detection).toEqual({
      slideMs: 5000,
      windowMs: 10_000,
      defaultDetector: { kind: 'threshold', threshold: 50 },
      rules: [],
      alertCooldownMs: 60_000,
      retentionMarginSeconds: 3600,
    });
  });
});
