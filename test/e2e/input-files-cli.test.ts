import { describe, expect, it } from 'vitest';
import { runCli } from './support/run-cli.ts';

/** The backtest as a new user runs it on a plant's own exports: a result, or one line and exit 2. */
describe('npm run backtest on recorded exports', () => {
  it('reads a gzip historian export and prints how it read it and the time span', async () => {
    const result = await runCli('local/cli/backtest.ts', [
      '--input',
      'test/fixtures/input/epoch-seconds.csv.gz',
      '--detector',
      'ewma',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      'read as: comma-separated, columns time=ts, sensor=sensor_id, value=value',
    );
    expect(result.stdout).toContain('timestamps: epoch seconds by magnitude');
    expect(result.stdout).toContain(
      'time span: 2026-11-21T10:00:00Z → 2026-11-21T10:04:59Z (4 min 59 s)',
    );
  });

  it.each([
    [
      'an unrecognised header',
      ['--input', 'test/fixtures/input/european.csv'],
      'test/fixtures/input/european.csv: unrecognised header: no time or value column among: Zeit, Messstelle, Wert. Name them with --time-column, --sensor-column, --value-column',
    ],
    [
      'an empty file',
      ['--input', 'test/fixtures/input/empty.csv'],
      'test/fixtures/input/empty.csv: the input is empty: no readings to read',
    ],
    [
      'a mapping that reads no valid value',
      [
        '--input',
        'test/fixtures/input/pi-export.csv',
        '--value-column',
        'Tag',
        '--sensor-column',
        'Value',
      ],
      'test/fixtures/input/pi-export.csv: no valid reading: all 600 rejected (INVALID_VALUE: value is not a finite number); columns seen: Tag, Timestamp, Value; map them with --time-column, --sensor-column, --value-column',
    ],
  ])('%s: exit 2 and one line naming the columns and the flags', async (_name, args, line) => {
    const result = await runCli('local/cli/backtest.ts', args);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toContain(line);
  });
});
