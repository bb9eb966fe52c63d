import './quiet-sdk.ts';
import { once } from 'node:events';
import { createWriteStream, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ConfigError } from '../../functions/config.ts';
import {
  BACKTEST_HELP,
  type BacktestOptions,
  parseBacktestOptions,
  UsageError,
} from '../backtest/backtest-options.ts';
import { CSV_HEADER, csvRow } from '../backtest/csv-output.ts';
import { renderHtml } from '../backtest/html-plot.ts';
import { InputFormatError } from '../backtest/input-format.ts';
import { formatReport } from '../backtest/report.ts';
import { type BacktestRow, runBacktest } from '../backtest/run-backtest.ts';
import { PlotCollector, renderSvg } from '../backtest/svg-plot.ts';
import { nothingRead } from '../input/nothing-read.ts';
import { InputOpenError, openInput } from '../input/open-input.ts';

const say = (line: string) => process.stdout.write(`${line}\n`);
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
  if (options.help) {
    say(BACKTEST_HELP);
    return 0;
  }

  let input: Awaited<ReturnType<typeof openInput>>;
  try {
    input = await openInput(options.inputPath);
  } catch (error) {
    if (!(error instanceof InputOpenError)) throw error;
    process.stderr.write(`--input: ${error.message}\n${SEE_HELP}\n`);
    return 2;
  }
  const lines = input.lines;

  const csv =
    options.outputPath === undefined ? null : createWriteStream(options.outputPath, 'utf8');
  let rows = 0;
  const plot = options.plotPath === undefined ? null : new PlotCollector(options.plotMaxSensors);
  csv?.write(`${CSV_HEADER}\n`);
  const onRow = (row: BacktestRow) => {
    rows += 1;
    csv?.write(`${csvRow(row)}\n`);
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
        // Rows are written as each batch is judged; wait for the file when its buffer is full.
        afterBatch: async () => {
          if (csv?.writableNeedDrain) await once(csv, 'drain');
        },
      },
      onRow,
    );
  } catch (error) {
    if (error instanceof InputFormatError || error instanceof InputOpenError) {
      process.stderr.write(`${options.inputPath}: ${error.message}\n${SEE_HELP}\n`);
      return 2;
    }
    throw error;
  }
  // An input with nothing to judge is a mistake to say in one line, never a quiet exit 0.
  const nothing = nothingRead(summary, input.empty);
  if (nothing !== null) {
    process.stderr.write(`${options.inputPath}: ${nothing}\n`);
    return 2;
  }
  if (csv !== null) {
    csv.end();
    await once(csv, 'finish');
  }

  const report = formatReport(summary, {
    input: options.inputPath === '-' ? 'stdin' : options.inputPath,
    detection: options.detection,
    batchSize: options.batchSize,
  });
  say(report);
  const wrote: string[] = [];
  if (options.outputPath !== undefined) wrote.push(`${options.outputPath} (${rows} rows)`);
  if (plot !== null && options.plotPath !== undefined) {
    const title = `backtest of ${basename(options.inputPath)}`;
    const body = /\.html?$/i.test(options.plotPath)
      ? renderHtml(plot, summary, title, report)
      : renderSvg(plot, summary, title);
    writeFileSync(options.plotPath, body);
    const skipped = plot.skipped.size > 0 ? `, ${plot.skipped.size} more not plotted` : '';
    wrote.push(`${options.plotPath} (${plot.series.size} sensors${skipped})`);
  }
  if (wrote.length > 0) say(`\nwrote ${wrote.join(', ')}`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
