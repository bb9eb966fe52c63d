import { scaleLinear, scaleUtc } from 'd3-scale';
import type { BacktestRow, BacktestSummary } from './run-backtest.ts';

/**
 * A static SVG: one panel per sensor with its values (grey), the baseline it was judged
 * against (blue), the band baseline ± limit (shaded) and the anomalies: filled red when
 * notified, a hollow orange ring when the cooldown held them back. Axes get round ticks and
 * readable UTC times from d3-scale; long series are thinned to a min/max pair per pixel
 * column so files stay small. The HTML plot (html-plot.ts) is the interactive version.
 */

export const PLOT_DEFAULT_MAX_SENSORS = 12;

const WIDTH = 1000;
const PANEL_HEIGHT = 190;
const MARGIN = { left: 80, right: 20, top: 28, bottom: 26 } as const;
const PLOT_WIDTH = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_HEIGHT = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
/** Anomaly dots per panel beyond which only the first ones are drawn. */
const MAX_DOTS = 5000;

export interface Series {
  readonly t: number[];
  readonly value: number[];
  readonly baseline: number[];
  readonly limit: number[];
  readonly anomaly: boolean[];
  /** For an anomaly: sent to SNS (true) or held back by the cooldown (false). */
  readonly notified: boolean[];
}

/** Keeps the rows of the first `maxSensors` sensors seen, for the plot. */
export class PlotCollector {
  readonly series = new Map<string, Series>();
  /** Sensors seen beyond the cap, not plotted. */
  readonly skipped = new Set<string>();

  constructor(readonly maxSensors: number = PLOT_DEFAULT_MAX_SENSORS) {}

  add(row: BacktestRow): void {
    let s = this.series.get(row.sensorId);
    if (s === undefined) {
      if (this.series.size >= this.maxSensors) {
        this.skipped.add(row.sensorId);
        return;
      }
      s = { t: [], value: [], baseline: [], limit: [], anomaly: [], notified: [] };
      this.series.set(row.sensorId, s);
    }
    s.t.push(row.eventTimeMs);
    s.value.push(row.value);
    s.baseline.push(row.baseline);
    s.limit.push(row.limit);
    s.anomaly.push(row.anomaly);
    s.notified.push(row.notified);
  }
}

export function renderSvg(plot: PlotCollector, summary: BacktestSummary, title: string): string {
  const panels = [...plot.series.entries()];
  const note =
    plot.skipped.size > 0
      ? `${plot.skipped.size} more sensor(s) not plotted (at most ${plot.maxSensors}; see --plot-max-sensors)`
      : '';
  const height = 40 + panels.length * PANEL_HEIGHT + (note === '' ? 0 : 20);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="${MARGIN.left}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="${WIDTH - MARGIN.right}" y="22" text-anchor="end" fill="#555">grey: value · blue: baseline · shaded: baseline ± limit · red dot: anomaly notified · orange ring: held back (UTC)</text>`,
  ];
  panels.forEach(([sensorId, series], i) => {
    parts.push(panel(sensorId, series, summary, 40 + i * PANEL_HEIGHT, i));
  });
  if (note !== '') {
    parts.push(`<text x="${MARGIN.left}" y="${height - 6}" fill="#a00">${esc(note)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

function panel(
  sensorId: string,
  raw: Series,
  summary: BacktestSummary,
  top: number,
  index: number,
): string {
  const s = sortedByTime(raw);
  const n = s.t.length;
  const t0 = s.t[0] ?? 0;
  const t1 = s.t[n - 1] ?? t0;
  // The y range follows the values; a band far wider than them is clipped, which is itself
  // the message (a threshold that can never fire on this sensor).
  const [lo, hi] = valueRange(s.value);
  const panelTop = top + MARGIN.top;
  const yScale = scaleLinear()
    .domain([lo, hi])
    .nice(5)
    .range([panelTop + PLOT_HEIGHT, panelTop]);
  const xScale = scaleUtc()
    .domain([t0, t1 > t0 ? t1 : t0 + 1000])
    .range([MARGIN.left, MARGIN.left + PLOT_WIDTH]);
  const x = (t: number) => xScale(t);
  // Clamped a little outside the panel: a huge band must not write huge coordinates.
  const y = (v: number) =>
    Math.min(panelTop + 2 * PLOT_HEIGHT, Math.max(panelTop - PLOT_HEIGHT, yScale(v)));
  const clipId = `clip${index}`;
  const info = summary.sensors.get(sensorId);
  const heading = info
    ? `${sensorId} — ${info.detector.kind}: ${info.readings} readings, ${info.anomalies} anomalies, ${info.notifications} notified`
    : sensorId;

  const columns = thin(s);
  const valuePath = columns.value.map(([t, v]) => `${r(x(t))},${r(y(v))}`).join(' ');
  const basePath = columns.centre.map(([t, b]) => `${r(x(t))},${r(y(b))}`).join(' ');
  const upper = columns.centre.map(([t, b, l]) => `${r(x(t))},${r(y(b + l))}`);
  const lower = columns.centre.map(([t, b, l]) => `${r(x(t))},${r(y(b - l))}`).reverse();
  const notified: string[] = [];
  const heldBack: string[] = [];
  for (let i = 0; i < n && notified.length + heldBack.length < MAX_DOTS; i += 1) {
    if (!s.anomaly[i]) continue;
    const dot = `<circle cx="${r(x(s.t[i] ?? 0))}" cy="${r(y(s.value[i] ?? 0))}" r="3"/>`;
    (s.notified[i] ? notified : heldBack).push(dot);
  }

  const ticks: string[] = [];
  const yFormat = yScale.tickFormat(5);
  for (const v of yScale.ticks(5)) {
    const yy = r(yScale(v));
    ticks.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_WIDTH}" y1="${yy}" y2="${yy}" stroke="#eee"/>`,
      `<text x="${MARGIN.left - 6}" y="${yy + 4}" text-anchor="end" fill="#555">${esc(yFormat(v))}</text>`,
    );
  }
  const xTicks = xScale.ticks(7);
  const xLabels = timeLabels(xTicks, t1 - t0);
  const bottom = top + MARGIN.top + PLOT_HEIGHT;
  xTicks.forEach((t, i) => {
    const xx = r(xScale(t));
    ticks.push(
      `<line x1="${xx}" x2="${xx}" y1="${bottom}" y2="${bottom + 4}" stroke="#999"/>`,
      `<text x="${xx}" y="${bottom + 16}" text-anchor="middle" fill="#555">${esc(xLabels[i] ?? '')}</text>`,
    );
  });
  return [
    `<g>`,
    `<clipPath id="${clipId}"><rect x="${MARGIN.left}" y="${top + MARGIN.top}" width="${PLOT_WIDTH}" height="${PLOT_HEIGHT}"/></clipPath>`,
    `<text x="${MARGIN.left}" y="${top + 18}" font-size="12" font-weight="bold">${esc(heading)}</text>`,
    ...ticks,
    `<rect x="${MARGIN.left}" y="${top + MARGIN.top}" width="${PLOT_WIDTH}" height="${PLOT_HEIGHT}" fill="none" stroke="#999"/>`,
    `<g clip-path="url(#${clipId})">`,
    upper.length > 0
      ? `<polygon points="${[...upper, ...lower].join(' ')}" fill="#9ecae1" fill-opacity="0.35" stroke="none"/>`
      : '',
    `<polyline points="${valuePath}" fill="none" stroke="#888" stroke-width="0.8"/>`,
    `<polyline points="${basePath}" fill="none" stroke="#1f5fbf" stroke-width="1.2"/>`,
    `<g fill="none" stroke="#ff7f0e" stroke-width="1.6">${heldBack.join('')}</g>`,
    `<g fill="#d62728" stroke="#d62728">${notified.join('')}</g>`,
    '</g>',
    '</g>',
  ].join('\n');
}

/** The values' range, padded a little; a flat series gets ±1. */
export function valueRange(values: readonly number[]): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) return [0, 1];
  if (!(hi > lo)) return [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.08;
  return [lo - pad, hi + pad];
}

/**
 * UTC labels for round time ticks: the time of day, to the second when the span is short, and
 * the date on the first tick and wherever the day changes.
 */
export function timeLabels(ticks: readonly Date[], spanMs: number): string[] {
  let day = '';
  return ticks.map((tick) => {
    const iso = tick.toISOString();
    const date = iso.slice(0, 10);
    const time = spanMs < 10 * 60_000 ? iso.slice(11, 19) : iso.slice(11, 16);
    const label = date !== day ? `${date} ${time}` : time;
    day = date;
    return label;
  });
}

/** The series in event-time order (input order breaks ties), so late readings plot in place. */
export function sortedByTime(s: Series): Series {
  const order = s.t.map((_, i) => i).sort((a, b) => (s.t[a] ?? 0) - (s.t[b] ?? 0) || a - b);
  const pick = <T>(xs: T[]) => order.map((i) => xs[i] as T);
  return {
    t: pick(s.t),
    value: pick(s.value),
    baseline: pick(s.baseline),
    limit: pick(s.limit),
    anomaly: pick(s.anomaly),
    notified: pick(s.notified),
  };
}

/**
 * At most a min and a max value per pixel column (in their order), and the baseline and
 * limit of the column's last reading: the shape stays, the file does not grow with the data.
 */
export function thin(
  s: Series,
  columns = PLOT_WIDTH,
): { value: [number, number][]; centre: [number, number, number][] } {
  const n = s.t.length;
  if (n <= columns * 2) {
    return {
      value: s.t.map((t, i) => [t, s.value[i] ?? 0]),
      centre: s.t.map((t, i) => [t, s.baseline[i] ?? 0, s.limit[i] ?? 0]),
    };
  }
  const t0 = s.t[0] ?? 0;
  const span = (s.t[n - 1] ?? t0) - t0 || 1;
  const value: [number, number][] = [];
  const centre: [number, number, number][] = [];
  let column = -1;
  let minI = 0;
  let maxI = 0;
  const close = (last: number) => {
    const [a, b] = minI <= maxI ? [minI, maxI] : [maxI, minI];
    value.push([s.t[a] ?? 0, s.value[a] ?? 0]);
    if (b !== a) value.push([s.t[b] ?? 0, s.value[b] ?? 0]);
    centre.push([s.t[last] ?? 0, s.baseline[last] ?? 0, s.limit[last] ?? 0]);
  };
  for (let i = 0; i < n; i += 1) {
    const c = Math.floor((((s.t[i] ?? 0) - t0) / span) * (columns - 1));
    if (c !== column) {
      if (column >= 0) close(i - 1);
      column = c;
      minI = i;
      maxI = i;
    } else {
      if ((s.value[i] ?? 0) < (s.value[minI] ?? 0)) minI = i;
      if ((s.value[i] ?? 0) > (s.value[maxI] ?? 0)) maxI = i;
    }
  }
  if (column >= 0) close(n - 1);
  return { value, centre };
}

function r(v: number): number {
  return Math.round(v * 10) / 10;
}

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
