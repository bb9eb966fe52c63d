import { readFileSync } from 'node:fs';
import { type BacktestRow, runBacktest } from '../../../local/backtest/run-backtest.ts';
import { PlotCollector } from '../../../local/backtest/svg-plot.ts';
import { parseBacktestOptions } from '../../../local/flags/backtest-options.ts';

/** The backtest of examples/ (the README's), collected for a plot. */
export async function examplePlot(): Promise<{
  plot: PlotCollector;
  rows: BacktestRow[];
  summary: Awaited<ReturnType<typeof runBacktest>>;
}> {
  const options = parseBacktestOptions([
    '--input',
    'examples/readings.csv',
    '--rules',
    'examples/detector-rules.json',
  ]);
  const rows: BacktestRow[] = [];
  const summary = await runBacktest(
    readFileSync('examples/readings.csv', 'utf8').split('\n'),
    { detection: options.detection, input: options.input, batchSize: options.batchSize },
    (row) => rows.push(row),
  );
  const plot = new PlotCollector();
  for (const row of rows) plot.add(row);
  return { plot, rows, summary };
}
