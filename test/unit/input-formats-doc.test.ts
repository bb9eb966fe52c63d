import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { READINGS_ENV } from '../../functions/schema-registry/registry-config.ts';
import { INPUT_FORMATS, LineReader } from '../../local/backtest/input-format.ts';
import { formatReport } from '../../local/backtest/report.ts';
import { runBacktest } from '../../local/backtest/run-backtest.ts';
import { parseBacktestOptions } from '../../local/flags/backtest-options.ts';
import { SENSOR_NAMES, TIME_NAMES, VALUE_NAMES } from '../../local/input/columns.ts';
import { COLUMN_FLAG_NAMES } from '../../local/input/input-flags.ts';
import { openInput } from '../../local/input/open-input.ts';
import { repo } from '../e2e/support/run-cli.ts';

/** docs/input-formats.md says what the code does: its lists, its messages, its output. */
const DOC = readFileSync(`${repo}docs/input-formats.md`, 'utf8');
const names = (list: readonly string[]) => list.map((n) => `\`${n}\``).join(', ');

describe('docs/input-formats.md matches the code', () => {
  it('lists the column names found by themselves, the flags, the formats and the variables', () => {
    expect(DOC).toContain(`| time   | ${names(TIME_NAMES)}`);
    expect(DOC).toContain(`| sensor | ${names(SENSOR_NAMES)}`);
    expect(DOC).toContain(`| value  | ${names(VALUE_NAMES)}`);
    for (const flag of COLUMN_FLAG_NAMES) expect(DOC).toContain(`\`--${flag}\``);
    for (const format of INPUT_FORMATS.filter((f) => f !== 'auto'))
      expect(DOC).toContain(`| \`${format}\``);
    for (const variable of Object.values(READINGS_ENV)) expect(DOC).toContain(`\`${variable}\``);
  });

  it('shows the output its example command prints', async () => {
    const command = /```sh\nnpm run backtest -- (.*)\n```\n\n```\n([\s\S]*?)```/.exec(DOC);
    expect(command).not.toBeNull();
    const argv = (command?.[1] ?? '').split(' ');
    const options = parseBacktestOptions(argv);
    const summary = await runBacktest((await openInput(`${repo}${options.inputPath}`)).lines, {
      detection: options.detection,
      input: options.input,
      batchSize: options.batchSize,
    });
    const report = formatReport(summary, {
      input: options.inputPath,
      detection: options.detection,
      batchSize: options.batchSize,
    });
    expect(report.startsWith(command?.[2] ?? '-')).toBe(true);
  });

  it('quotes the messages the reader gives', () => {
    const series = new LineReader({ format: 'auto', timeUnit: 'auto', startMs: 0, intervalMs: 1 });
    const message = (() => {
      try {
        series.read('time,value', 1);
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(DOC).toContain(`\`${message}\``);
    const flagged = new LineReader({
      format: 'auto',
      timeUnit: 'auto',
      startMs: 0,
      intervalMs: 1,
      columns: { value: 'Val' },
    });
    expect(() => flagged.read('Tag,Timestamp,Value', 1)).toThrow(
      '--value-column Val: no such column; the header has: Tag, Timestamp, Value',
    );
    expect(DOC).toContain(
      '`--value-column Val: no such column; the header has: Tag, Timestamp, Value`',
    );
  });
});
