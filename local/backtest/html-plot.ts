import { inlineScript, uplotAssets } from '../charts/uplot-assets.ts';
import type { BacktestSummary } from './run-backtest.ts';
import { esc, type PlotCollector, type Series, sortedByTime } from './svg-plot.ts';

/** Points per sensor kept as they are; longer series keep a min and a max per column. */
const FULL_POINTS = 30_000;
const COLUMNS = 4000;

/**
 * The indices of a series' points to draw: all of them when short, else the lowest and the
 * highest value of each of COLUMNS time columns, and every anomaly.
 */
function drawnIndices(s: Series): number[] {
  const n = s.t.length;
  if (n <= FULL_POINTS) return s.t.map((_, i) => i);
  const t0 = s.t[0] ?? 0;
  const span = (s.t[n - 1] ?? t0) - t0 || 1;
  const keep = new Set<number>();
  let column = -1;
  let minI = 0;
  let maxI = 0;
  for (let i = 0; i < n; i += 1) {
    if (s.anomaly[i]) keep.add(i);
    const c = Math.floor((((s.t[i] ?? 0) - t0) / span) * (COLUMNS - 1));
    if (c !== column) {
      if (column >= 0) keep.add(minI).add(maxI);
      column = c;
      minI = i;
      maxI = i;
    } else {
      if ((s.value[i] ?? 0) < (s.value[minI] ?? 0)) minI = i;
      if ((s.value[i] ?? 0) > (s.value[maxI] ?? 0)) maxI = i;
    }
  }
  keep.add(minI).add(maxI);
  return [...keep].sort((a, b) => a - b);
}

/** uPlot's aligned columns: seconds, value, baseline, lower, upper, notified, held back. */
function columns(raw: Series): (number | null)[][] {
  const s = sortedByTime(raw);
  const out: (number | null)[][] = [[], [], [], [], [], [], []];
  for (const i of drawnIndices(s)) {
    const v = s.value[i] ?? 0;
    const b = s.baseline[i] ?? 0;
    const l = s.limit[i] ?? 0;
    const a = s.anomaly[i] === true;
    const row = [
      (s.t[i] ?? 0) / 1000,
      v,
      b,
      b - l,
      b + l,
      a && s.notified[i] ? v : null,
      a && !s.notified[i] ? v : null,
    ];
    for (let k = 0; k < row.length; k += 1) out[k]?.push(row[k] ?? null);
  }
  return out;
}

const CLIENT = `
'use strict';
const DATA = JSON.parse(document.getElementById('plot-data').textContent);
const sync = uPlot.sync('sensors');
const utc = (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC');
const width = () => Math.max(360, Math.min(1200, document.body.clientWidth - 40));
// The charts, for a look from the browser's console (and the tests).
window.plots = [];

// Wheel: zoom the time axis around the cursor. Shift + drag: pan. Double-click: everything.
function wheelAndPan(u) {
  const over = u.over;
  over.addEventListener('wheel', (e) => {
    e.preventDefault();
    const { left } = u.cursor;
    const at = u.posToVal(left, 'x');
    const { min, max } = u.scales.x;
    const factor = e.deltaY < 0 ? 0.8 : 1.25;
    const lo = at - (at - min) * factor;
    const hi = at + (max - at) * factor;
    u.setScale('x', { min: lo, max: hi });
  }, { passive: false });
  over.addEventListener('mousedown', (e) => {
    if (!e.shiftKey) return;
    e.stopPropagation();
    e.preventDefault();
    const startX = e.clientX;
    const { min, max } = u.scales.x;
    const perPx = (max - min) / u.bbox.width * devicePixelRatio;
    const move = (m) => {
      const dx = (m.clientX - startX) * perPx;
      u.setScale('x', { min: min - dx, max: max - dx });
    };
    const up = () => { document.removeEventListener('mousemove', move); document.removeEventListener('mouseup', up); };
    document.addEventListener('mousemove', move);
    document.addEventListener('mouseup', up);
  }, true);
}

for (const sensor of DATA.sensors) {
  const box = document.createElement('section');
  box.className = 'chart';
  box.dataset.sensor = sensor.id;
  const h = document.createElement('h2');
  h.textContent = sensor.heading;
  box.appendChild(h);
  document.getElementById('charts').appendChild(box);
  const dot = (fill, stroke) => ({ show: true, size: 8, width: 2, fill, stroke });
  window.plots.push(new uPlot({
    width: width(),
    height: 220,
    tzDate: utc,
    cursor: { sync: { key: sync.key }, drag: { x: true, y: false } },
    scales: { x: { time: true } },
    axes: [{}, { size: 64 }],
    series: [
      { label: 'time (UTC)' },
      { label: 'value', stroke: '#777', width: 1, spanGaps: true, points: { show: false } },
      { label: 'baseline', stroke: '#1f5fbf', width: 1.5, spanGaps: true, points: { show: false } },
      { label: 'limit −', stroke: 'rgba(31,95,191,0.35)', dash: [4, 4], spanGaps: true, points: { show: false } },
      { label: 'limit +', stroke: 'rgba(31,95,191,0.35)', dash: [4, 4], spanGaps: true, points: { show: false } },
      { label: 'notified', stroke: '#d62728', paths: () => null, points: dot('#d62728', '#d62728') },
      { label: 'held back', stroke: '#ff7f0e', paths: () => null, points: dot('#ffffff', '#ff7f0e') },
    ],
    bands: [{ series: [4, 3], fill: 'rgba(158,202,225,0.35)' }],
    plugins: [{ hooks: { ready: [wheelAndPan] } }],
  }, sensor.columns, box));
}
`;

/**
 * The backtest's HTML plot: the summary and an interactive chart per sensor (drag or wheel to
 * zoom, shift-drag to pan, hover for the values, double-click to reset), uPlot inlined from
 * node_modules so the one file works offline.
 */
export function renderHtml(
  plot: PlotCollector,
  summary: BacktestSummary,
  title: string,
  summaryText: string,
): string {
  const sensors = [...plot.series.entries()].map(([id, series]) => {
    const info = summary.sensors.get(id);
    return {
      id,
      heading: info
        ? `${id} — ${info.detector.kind}: ${info.readings} readings, ${info.anomalies} anomalies, ${info.notifications} notified`
        : id,
      columns: columns(series),
    };
  });
  const note =
    plot.skipped.size > 0
      ? `${plot.skipped.size} more sensor(s) not plotted (at most ${plot.maxSensors}; see --plot-max-sensors)`
      : '';
  // JSON in a script element: only "<" needs escaping for the HTML parser.
  const data = JSON.stringify({ sensors }).replace(/</g, '\\u003c');
  const { script, css } = uplotAssets();
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${css}</style>
<style>
body{font-family:system-ui,sans-serif;margin:20px;color:#222}
pre{background:#f6f6f6;padding:1em;overflow:auto}
.chart{border:1px solid #ddd;margin:0 0 14px;padding:6px 8px}
.chart h2{font-size:14px;margin:2px 0 6px}
.help{color:#555;font-size:13px}
.note{color:#a00}
</style>
</head><body>
<h1 style="font-size:18px">${esc(title)}</h1>
<pre>${esc(summaryText)}</pre>
<p class="help">grey: value · blue: baseline (window mean, or the learned mean) · shaded: baseline ± limit · red dot: anomaly notified · hollow orange: anomaly held back by the cooldown. Drag or scroll to zoom, shift-drag to pan, double-click to see everything; hover for values. Times in UTC.</p>
${note === '' ? '' : `<p class="note">${esc(note)}</p>`}
<div id="charts"></div>
<script type="application/json" id="plot-data">${data}</script>
<script>${inlineScript(script)}</script>
<script>${inlineScript(CLIENT)}</script>
</body></html>
`;
}
