import '../flags/user-cwd.ts';
import '../flags/quiet-sdk.ts';
import { readFileSync } from 'node:fs';
import { parseReading } from '../../functions/core/parse-reading.ts';
import type { Reading } from '../../functions/core/types.ts';
import { linesToRecords } from '../backtest/run-backtest.ts';
import {
  compareLines,
  type FlinkLine,
  parseFlinkLog,
  parseOurLine,
} from '../parity/compare-lines.ts';
import {
  PARITY_HELP,
  type ParityOptions,
  parseParityOptions,
  UsageError,
} from '../parity/parity-options.ts';
import { seedLines } from '../parity/seed-lines.ts';

const SEE_HELP = 'See: npm run parity -- --help';

function readText(path: string, flag: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UsageError(`${flag}: cannot read ${path} (${code})`);
  }
}

function run(options: ParityOptions): number {
  const input = readText(options.input, '--input');
  const log = readText(options.flinkOutput, '--flink-output');
  const { records } = linesToRecords(input.split(/\r?\n/), {
    format: 'auto',
    timeUnit: 'ms',
    startMs: Date.parse('2026-01-01T00:00:00Z'),
    intervalMs: 1000,
  });
  const readings: Reading[] = [];
  let rejected = 0;
  for (const record of records) {
    const parsed = parseReading(record);
    if (parsed.ok) readings.push(parsed.reading);
    else rejected += 1;
  }
  if (readings.length === 0) {
    throw new UsageError(`--input: ${options.input} holds no reading (${rejected} rejected lines)`);
  }
  const ours = seedLines(
    readings,
    {
      windowMs: Math.round(options.windowSeconds * 1000),
      slideMs: Math.round(options.slideSeconds * 1000),
      allowedLatenessMs: options.allowedLatenessMs,
    },
    { format: options.flinkFormat, detector: { kind: 'threshold', threshold: options.threshold } },
  );
  const theirs = parseFlinkLog(log);
  const oursParsed = ours.lines.map(parseOurLine).filter((l): l is FlinkLine => l !== null);
  const report = compareLines(oursParsed, theirs.lines);

  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(
    `read ${readings.length} readings (${rejected} rejected) and ${theirs.lines.length} Flink lines (${theirs.otherLines} other lines skipped)`,
  );
  say(
    `ours ${oursParsed.length} lines · match ${report.exact} exactly, ${report.sameValue} by value · ours only ${report.oursOnly.length} · theirs only ${report.theirsOnly.length}`,
  );
  if (ours.lateReadings > 0 || ours.lateWindowDrops > 0) {
    say(
      `late: ${ours.lateReadings} readings after all their windows closed, ${ours.lateWindowDrops} (reading, window) pairs dropped (--allowed-lateness-ms ${options.allowedLatenessMs})`,
    );
  }
  const show = (title: string, lines: readonly FlinkLine[]) => {
    if (lines.length === 0) return;
    say(`${title}:`);
    for (const l of lines.slice(0, options.show)) {
      const where = l.lineNumber > 0 ? ` (line ${l.lineNumber})` : '';
      say(`  ANOMALY → ${l.sensorId}: value=${l.valueText}, avg=${l.avgText}${where}`);
    }
    if (lines.length > options.show) say(`  … ${lines.length - options.show} more`);
  };
  show('ours only', report.oursOnly);
  show('theirs only', report.theirsOnly);
  const agree = report.oursOnly.length === 0 && report.theirsOnly.length === 0;
  say(agree ? 'parity: the outputs agree' : 'parity: the outputs differ');
  return agree ? 0 : 1;
}

function main(argv: readonly string[]): number {
  try {
    const options = parseParityOptions(argv);
    if (options.help) {
      process.stdout.write(`${PARITY_HELP}\n`);
      return 0;
    }
    return run(options);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n${SEE_HELP}\n`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = main(process.argv.slice(2));
