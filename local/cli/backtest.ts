import '../flags/user-cwd.ts';
import '../flags/quiet-sdk.ts';
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { ConfigError } from '../../functions/config.ts';
import { anomalyLine } from '../../functions/core/alert-text.ts';
import { CSV_HEADER, csvRow } from '../backtest/csv-output.ts';
import { renderHtml } from '../backtest/html-plot.ts';
import { InputFormatError } from '../backtest/input-format.ts';
import { formatReport } from '../backtest/report.ts';
import { type BacktestRow, runBacktest } from '../backtest/run-backtest.ts';
import { PlotCollector, renderSvg } from '../backtest/svg-plot.ts';
import { type AtomicOutput, openAtomicOutput, writeFileAtomic } from '../flags/atomic-output.ts';
import {
  BACKTEST_HELP,
  type BacktestOptions,
  parseBacktestOptions,
  UsageError,
} from '../flags/backtest-options.ts';
import { Progress } from '../flags/progress.ts';
import { nothingRead } from '../input/nothing-read.ts';
import { InputOpenError, openInput } from '../input/open-input.ts';

const SEE_HELP = 'See: npm run backtest -- --help';

async function main(argv: readonly string[]): Promise<number> {
  let options: BacktestOptions;
  try {
    options = parseBacktestOptions(argv);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n${SEE_HELP}\n`);
      return 2;
    }
    throw error;
  }
  // With --output -, --plot - or --flink-lines -, standard output carries the data: the report
  // goes to stderr.
  const dataOnStdout =
    options.outputPath === '-' || options.plotPath === '-' || options.flinkLinesPath === '-';
  const say = (line: string) => (dataOnStdout ? process.stderr : process.stdout).write(`${line}\n`);
  if (options.help) {
    say(BACKTEST_HELP);
    return 0;
  }

  let source: Awaited<ReturnType<typeof openInput>>;
  try {
    source = await openInput(options.inputPath);
  } catch (error) {
    if (!(error instanceof InputOpenError)) throw error;
    process.stderr.write(`--input: ${error.message}\n${SEE_HELP}\n`);
    return 2;
  }
  const lines = source.lines;
  const progress = new Progress({
    stream: process.stderr,
    unit: 'readings',
    ...(options.inputPath === '-' ? {} : { totalBytes: statSync(options.inputPath).size }),
  });

  // Written whole or not at all: an interrupted run leaves no half CSV behind.
  const csv: AtomicOutput | null =
    options.outputPath === undefined ? null : openAtomicOutput(options.outputPath);
  let rows = 0;
  const plot = options.plotPath === undefined ? null : new PlotCollector(options.plotMaxSensors);
  csv?.stream.write(`${CSV_HEADER}\n`);
  // The seed job's lines, in its order (written whole once the replay is done).
  const flinkLines: string[] = [];
  const onRow = (row: BacktestRow) => {
    rows += 1;
    csv?.stream.write(`${csvRow(row)}\n`);
    plot?.add(row);
  };

  let summary: Awaited<ReturnType<typeof runBacktest>>;
  try {
    summary = await runBacktest(
      lines,
      {
        detection: options.detection,
        input: options.input,
        batchSize: options.batchSize,
        ...(options.feedback === undefined ? {} : { feedback: options.feedback }),
        ...(options.flinkLinesPath === undefined
          ? {}
          : { onWindowDecision: (d) => flinkLines.push(anomalyLine(d.anomaly)) }),
        // Rows are written as each batch is judged; wait for the file when its buffer is full.
        afterBatch: async () => {
          progress.tick(rows, source.bytesRead());
          if (csv?.stream.writableNeedDrain) await new Promise((r) => csv.stream.once('drain', r));
        },
      },
      onRow,
    );
  } catch (error) {
    progress.done();
    csv?.abort();
    if (error instanceof InputFormatError || error instanceof InputOpenError) {
      process.stderr.write(`${options.inputPath}: ${error.message}\n${SEE_HELP}\n`);
      return 2;
    }
    throw error;
  }
  progress.done();
  // An input with nothing to judge is a mistake to say in one line, never a quiet exit 0.
  const nothing = nothingRead(summary, source.empty);
  if (nothing !== null) {
    csv?.abort();
    process.stderr.write(`${options.inputPath}: ${nothing}\n`);
    return 2;
  }
  await csv?.commit();

  const report = formatReport(summary, {
    input: options.inputPath === '-' ? 'stdin' : options.inputPath,
    detection: options.detection,
    batchSize: options.batchSize,
    ...(options.feedback === undefined ? {} : { feedbackVerdicts: options.feedback.length }),
  });
  say(report);
  const wrote: string[] = [];
  if (options.outputPath !== undefined && options.outputPath !== '-')
    wrote.push(`${options.outputPath} (${rows} rows)`);
  if (plot !== null && options.plotPath !== undefined) {
    const title = `backtest of ${options.inputPath === '-' ? 'stdin' : basename(options.inputPath)}`;
    const body = /\.html?$/i.test(options.plotPath)
      ? renderHtml(plot, summary, title, report)
      : renderSvg(plot, summary, title);
    writeFileAtomic(options.plotPath, body);
    const skipped = plot.skipped.size > 0 ? `, ${plot.skipped.size} more not plotted` : '';
    if (options.plotPath !== '-')
      wrote.push(`${options.plotPath} (${plot.series.size} sensors${skipped})`);
  }
  if (options.flinkLinesPath === '-')
    process.stdout.write(flinkLines.map((l) => `${l}\n`).join(''));
  else if (options.flinkLinesPath !== undefined) {
    writeFileAtomic(options.flinkLinesPath, flinkLines.map((l) => `${l}\n`).join(''));
    wrote.push(`${options.flinkLinesPath} (${flinkLines.length} seed lines)`);
  }
  if (wrote.length > 0) say(`\nwrote ${wrote.join(', ')}`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
