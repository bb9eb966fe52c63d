import { type DetectorSpec, ROBUST_DEFAULTS } from '../../functions/core/detectors.ts';
import type { DetectionSettings } from '../../functions/process-batch.ts';
import { formatNumber } from './csv-output.ts';
import type { BacktestSummary, SensorSummary } from './run-backtest.ts';

/** Sensors listed in the printed summary; the CSV output has them all. */
export const REPORT_MAX_SENSORS = 50;

/** A detector and its parameters in one short line. */
export function describeDetector(spec: DetectorSpec): string {
  switch (spec.kind) {
    case 'threshold':
      return `threshold ${formatNumber(spec.threshold)}`;
    case 'zscore':
      return `zscore k=${formatNumber(spec.sigma)} minCount=${spec.minCount} minDeviation=${formatNumber(spec.minDeviation)}`;
    case 'ewma':
      return (
        `ewma halfLife=${formatNumber(spec.halfLifeReadings)} k=${formatNumber(spec.sigma)} ` +
        `warmup=${spec.warmupReadings} minRelativeDeviation=${formatNumber(spec.minRelativeDeviation)} ` +
        `minDeviation=${formatNumber(spec.minDeviation)} levelShift=${spec.levelShiftReadings}`
      );
    case 'adaptive':
      return (
        `adaptive halfLife=${formatNumber(spec.halfLifeReadings)} envelopeHalfLife=${formatNumber(spec.envelopeHalfLifeReadings)} ` +
        `extremeHalfLife=${formatNumber(spec.extremeHalfLifeReadings)} k=${formatNumber(spec.sigma)} ` +
        `extremeMargin=${formatNumber(spec.extremeMargin)} maturity=${formatNumber(spec.extremeMaturityReadings)} ` +
        `scoreThreshold=${formatNumber(spec.scoreThreshold)} warmup=${spec.warmupReadings} ` +
        `refractory=${spec.refractoryReadings} minSpreadFraction=${formatNumber(spec.minSpreadFraction)} ` +
        `minDeviation=${formatNumber(spec.minDeviation)}`
      );
    case 'robust': {
      const d = ROBUST_DEFAULTS as Record<string, unknown>;
      const changed = Object.entries(spec)
        .filter(([k, v]) => k !== 'kind' && typeof v !== 'object' && d[k] !== v)
        .map(([k, v]) => `${k}=${typeof v === 'number' ? formatNumber(v) : String(v)}`);
      return (
        [`robust${changed.length === 0 ? ' (defaults)' : ''}`, ...changed].join(' ') + guards(spec)
      );
    }
    case 'limits':
      return `limits${guards({ limits: spec })}`;
  }
}

function guards(spec: { limits?: { high?: number; low?: number }; direction?: string }): string {
  const parts: string[] = [];
  if (spec.limits?.low !== undefined) parts.push(`low=${formatNumber(spec.limits.low)}`);
  if (spec.limits?.high !== undefined) parts.push(`high=${formatNumber(spec.limits.high)}`);
  return parts.length === 0 ? '' : ` ${parts.join(' ')}`;
}

/** The q-quantile (nearest rank) of the values; NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function percent(part: number, whole: number): string {
  return whole === 0 ? '-' : `${((100 * part) / whole).toFixed(2)}%`;
}

/** `2026-01-01T00:00:00Z → 2026-01-01T01:00:00Z (1 h 0 min)`. */
export function formatSpan(firstMs: number, lastMs: number): string {
  const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
  const seconds = Math.round((lastMs - firstMs) / 1000);
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const length =
    days > 0
      ? `${days} d ${hours} h`
      : hours > 0
        ? `${hours} h ${minutes} min`
        : minutes > 0
          ? `${minutes} min ${seconds % 60} s`
          : `${seconds} s`;
  return `${iso(firstMs)} → ${iso(lastMs)} (${length})`;
}

export interface ReportContext {
  readonly input: string;
  readonly detection: DetectionSettings;
  readonly batchSize: number;
  /** Verdicts replayed (--feedback). @default none */
  readonly feedbackVerdicts?: number;
}

/** The summary the CLI prints: settings, one line per sensor, totals, rejected lines. */
export function formatReport(summary: BacktestSummary, context: ReportContext): string {
  const d = context.detection;
  const lines: string[] = [
    `backtest of ${context.input} (${summary.format ?? 'empty'}): ${summary.readings + summary.rejected} data lines, ${summary.readings} readings, ${summary.rejected} rejected`,
    `window ${d.windowMs / 1000} s, slide ${d.slideMs / 1000} s, alert cooldown ${d.alertCooldownMs / 1000} s, batches of ${context.batchSize}`,
    `default detector: ${describeDetector(d.defaultDetector)}${d.rules.length > 0 ? `; ${d.rules.length} per-sensor rule(s)` : ''}`,
    ...(context.feedbackVerdicts === undefined
      ? []
      : [`feedback: ${context.feedbackVerdicts} verdict(s) replayed at their times`]),
    ...(d.evaluation === 'window-close'
      ? [
          `evaluation: window-close (each window judged when it closes, allowed lateness ${d.allowedLatenessMs ?? 2000} ms, ${d.flinkFormat ?? 'python'} arithmetic); anomalies count (window, reading) decisions; late readings ${summary.lateReadings}`,
        ]
      : []),
    ...summary.notes,
    ...(summary.span === null
      ? []
      : [`time span: ${formatSpan(summary.span.firstMs, summary.span.lastMs)}`]),
    '',
  ];
  const all = [...summary.sensors.values()];
  const shown =
    all.length <= REPORT_MAX_SENSORS
      ? all
      : [...all]
          .sort((a, b) => b.anomalies - a.anomalies || a.sensorId.localeCompare(b.sensorId))
          .slice(0, REPORT_MAX_SENSORS);
  const table: string[][] = [
    ['sensor', 'detector', 'readings', 'anomalies', 'rate', 'notified', 'p99.9 |v-avg|'],
  ];
  for (const s of shown) table.push(sensorRow(s));
  table.push([
    'total',
    '',
    String(summary.readings),
    String(summary.anomalies),
    percent(summary.anomalies, summary.readings),
    String(summary.notifications),
    '',
  ]);
  lines.push(...alignColumns(table));
  if (shown.length < all.length) {
    lines.push(
      `(${all.length - shown.length} more sensors not listed: the ${REPORT_MAX_SENSORS} with most anomalies are shown)`,
    );
  }
  lines.push(
    '',
    'p99.9 |v-avg|: the threshold that would flag about 1 reading in 1000 of the sensor (its window deviation).',
  );
  if (summary.rejected > 0) {
    const reasons = Object.entries(summary.rejectedByReason)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ');
    lines.push('', `rejected lines: ${summary.rejected} (${reasons})`);
    for (const r of summary.rejectedExamples)
      lines.push(`  line ${r.lineNumber}: ${r.reason} ${r.detail}`);
    if (summary.rejected > summary.rejectedExamples.length) {
      lines.push(`  … ${summary.rejected - summary.rejectedExamples.length} more`);
    }
  }
  return lines.join('\n');
}

function sensorRow(s: SensorSummary): string[] {
  return [
    s.sensorId,
    s.detector.kind,
    String(s.readings),
    String(s.anomalies),
    percent(s.anomalies, s.readings),
    String(s.notifications),
    formatNumber(Number(quantile(s.windowDeviations, 0.999).toPrecision(4))),
  ];
}

function alignColumns(rows: readonly string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i < 2 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}
