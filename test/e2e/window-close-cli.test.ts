import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/run-cli.ts';

const SAMPLE = 'test/fixtures/parity/seed-sample.csv';
const FLINK_OUT = 'test/fixtures/parity/seed-sample-flink.out';

/** The seed job's lines of a captured TaskManager .out file (its "1> " subtask prefix off). */
function seedLinesOf(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.replace(/^\d+> /, ''))
    .filter((l) => l.startsWith('ANOMALY → '));
}

describe('window-close evaluation on the command line', { concurrent: true }, () => {
  it("npm run backtest -- --evaluation window-close --flink-lines FILE: the seed's sample gives the seed's output, line for line", async () => {
    // Prepare
    const out = join(mkdtempSync(join(tmpdir(), 'flink-lines-')), 'ours.out');
    // Act
    const result = await runCli('local/cli/backtest.ts', [
      '--input',
      SAMPLE,
      '--evaluation',
      'window-close',
      '--flink-lines',
      out,
    ]);
    // Assess
    expect(result.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(`${seedLinesOf(FLINK_OUT).join('\n')}\n`);
    expect(result.stdout).toContain('evaluation: window-close');
    expect(result.stdout).toContain(`wrote ${out} (3 seed lines)`);
  });

  it('--flink-lines - writes the lines to standard output and the report to standard error', async () => {
    const result = await runCli('local/cli/backtest.ts', [
      '--input',
      SAMPLE,
      '--evaluation',
      'window-close',
      '--flink-lines',
      '-',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n')).toEqual(seedLinesOf(FLINK_OUT));
    expect(result.stderr).toContain('backtest of');
  });

  it('a reading later than the allowed lateness is counted as late in the report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'late-'));
    const input = join(dir, 'late.csv');
    writeFileSync(
      input,
      [
        'sensor_id,value,timestamp',
        's,50,2026-01-01T00:00:01Z',
        's,50,2026-01-01T00:00:30Z',
        // 29 s behind the stream: every window of it closed long ago.
        's,500,2026-01-01T00:00:01.500Z',
        '',
      ].join('\n'),
    );
    const result = await runCli('local/cli/backtest.ts', [
      '--input',
      input,
      '--evaluation',
      'window-close',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('late readings 1');
  });

  it('says in one line what is wrong with a window-close flag', async () => {
    const noMode = await runCli('local/cli/backtest.ts', ['--input', SAMPLE, '--flink-lines', '-']);
    expect(noMode.code).toBe(2);
    expect(noMode.stderr).toContain('--flink-lines: needs --evaluation window-close');
    const learning = await runCli('local/cli/backtest.ts', [
      '--input',
      SAMPLE,
      '--evaluation',
      'window-close',
      '--detector',
      'robust',
    ]);
    expect(learning.code).toBe(2);
    expect(learning.stderr).toContain('--evaluation window-close: judges the window detectors');
    const lateness = await runCli('local/cli/backtest.ts', [
      '--input',
      SAMPLE,
      '--allowed-lateness-ms',
      '5',
    ]);
    expect(lateness.code).toBe(2);
    expect(lateness.stderr).toContain(
      '--allowed-lateness-ms: applies to --evaluation window-close',
    );
  });

  it("npm start -- --evaluation window-close prints the seed's lines live", async () => {
    // The simulator's spikes, judged per window: a line with the unrounded average, as the
    // PyFlink job prints it (the value as a 4-byte float).
    const result = await runCli(
      'local/cli/start.ts',
      [
        '--evaluation',
        'window-close',
        '--in-process',
        '--no-live',
        '--duration',
        '14',
        '--sensors',
        '2',
        '--rate',
        '10',
        '--anomaly-rate',
        '0.2',
        '--seed',
        '7',
        '--status-interval',
        '0',
      ],
      { timeoutMs: 90_000 },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('each window judged when it closes (lateness 2 s)');
    const lines = result.stdout.split('\n').filter((l) => l.startsWith('ANOMALY → '));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^ANOMALY → sensor_\d: value=\S+, avg=\S+$/);
    // At least one average with more than two decimals: the seed prints it unrounded.
    expect(lines.some((l) => /avg=-?\d+\.\d{3,}/.test(l))).toBe(true);
  });
});
