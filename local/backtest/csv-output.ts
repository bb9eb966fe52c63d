import type { BacktestRow } from './run-backtest.ts';

/**
 * The --output columns: the eight the docs promise first, then what explains them
 * (docs/backtest.md). `baseline` is what the deviation is measured from: the window mean
 * for threshold and zscore, the learned mean for ewma.
 */
export const CSV_COLUMNS = [
  'timestamp',
  'sensorId',
  'value',
  'windowMean',
  'windowCount',
  'deviation',
  'score',
  'anomaly',
  'baseline',
  'limit',
  'detector',
  'notified',
  'line',
] as const;

export const CSV_HEADER = CSV_COLUMNS.join(',');

export function csvRow(row: BacktestRow): string {
  return [
    new Date(row.eventTimeMs).toISOString(),
    csvText(row.sensorId),
    formatNumber(row.value),
    formatNumber(row.windowMean),
    String(row.windowCount),
    formatNumber(row.deviation),
    // Full precision: a threshold sweep over the score must see every distinct value.
    String(row.score),
    row.anomaly ? '1' : '0',
    formatNumber(row.baseline),
    formatNumber(row.limit),
    row.detector,
    row.notified ? '1' : '0',
    String(row.lineNumber),
  ].join(',');
}

/**
 * 12 significant digits: exact enough to compare runs, and stable across Node versions whose
 * Math.pow may differ in the last bit (the golden files are compared as text).
 */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(12)));
}

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
function csvText(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
