import { inlineScript, uplotAssets } from '../charts/uplot-assets.ts';

/**
 * The live view's page: one file, uPlot inlined, no request but the event stream. The script
 * below runs in the browser (plain ES2020, no build step): it draws a chart per sensor the
 * filter selects from the snapshot the stream starts with, then appends the updates. A new
 * filter opens a new stream.
 */
const CLIENT = `
'use strict';
const MAX_POINTS = 600;
// A reading later than this many typical intervals after the one before starts a new line.
const GAP_INTERVALS = 3;
const MIN_GAP_SECONDS = 2;
// An axis spans at least this much, so the first readings sit on a readable scale.
const MIN_SPAN_SECONDS = 10;
const charts = new Map();
const $ = (id) => document.getElementById(id);
const fmt = (v) => (v === null || v === undefined ? '?' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : String(v));
const pad = (n) => String(n).padStart(2, '0');
/** Seconds since the epoch as the local HH:MM:SS (with the date for spans beyond a day). */
function clock(seconds, withDate) {
  const d = new Date(seconds * 1000);
  const time = pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  return withDate ? d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + time : time;
}
function duration(ms) {
  if (ms === null || ms === undefined) return '?';
  return ms < 1000 ? Math.round(ms) + ' ms' : (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
}
let dirty = new Set();
let frame = 0;
let stream = null;

function chartWidth() {
  return Math.max(320, Math.min(1100, $('charts').clientWidth - 20));
}

/** The time axis: the data's span, at least MIN_SPAN_SECONDS, never uPlot's guess for one point. */
function timeRange(u, min, max) {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) {
    const now = Date.now() / 1000;
    return [now - MIN_SPAN_SECONDS, now];
  }
  if (max - min >= MIN_SPAN_SECONDS) return [min, max];
  const mid = (min + max) / 2;
  return [mid - MIN_SPAN_SECONDS / 2, mid + MIN_SPAN_SECONDS / 2];
}

function makeChart(sensorId) {
  const box = document.createElement('section');
  box.className = 'chart';
  box.dataset.sensor = sensorId;
  box.dataset.anomalies = '0';
  box.dataset.gaps = '0';
  box.dataset.silent = 'false';
  const head = document.createElement('h2');
  head.textContent = sensorId;
  box.appendChild(head);
  const list = $('sensors');
  list.appendChild(box);
  const sorted = [...list.children].sort((a, b) =>
    a.dataset.sensor.localeCompare(b.dataset.sensor, 'en', { numeric: true }));
  for (const child of sorted) list.appendChild(child);
  const data = { t: [], v: [], mean: [], lo: [], hi: [], notified: [], held: [] };
  const c = { id: sensorId, box, head, data, zoomed: false, summary: null, typical: null, gaps: 0 };
  const dot = (fill, stroke) => ({ show: true, size: 9, width: 2, fill, stroke });
  c.plot = new uPlot({
    width: chartWidth(),
    height: 190,
    scales: { x: { time: true, range: timeRange } },
    axes: [
      { values: (u, splits) => { const span = u.scales.x.max - u.scales.x.min; return splits.map((s) => clock(s, span > 86400)); } },
      { size: 56 },
    ],
    cursor: { drag: { x: true, y: false } },
    series: [
      { label: 'time', value: (u, v) => (v === null || v === undefined ? '—' : clock(v, false)) },
      { label: 'value', stroke: '#777', width: 1, points: { show: false } },
      { label: 'baseline', stroke: '#1f5fbf', width: 1.5, points: { show: false } },
      { label: 'limit −', stroke: 'rgba(31,95,191,0.35)', width: 1, dash: [4, 4], points: { show: false } },
      { label: 'limit +', stroke: 'rgba(31,95,191,0.35)', width: 1, dash: [4, 4], points: { show: false } },
      { label: 'notified', stroke: '#d62728', paths: () => null, points: dot('#d62728', '#d62728') },
      { label: 'held back', stroke: '#ff7f0e', paths: () => null, points: dot('#ffffff', '#ff7f0e') },
    ],
    bands: [{ series: [4, 3], fill: 'rgba(158,202,225,0.35)' }],
    hooks: {
      setSelect: [() => { c.zoomed = true; }],
      // What the axis shows, for the browser test: the range in seconds since the epoch.
      setScale: [(u, key) => {
        if (key !== 'x') return;
        box.dataset.xMin = String(u.scales.x.min);
        box.dataset.xMax = String(u.scales.x.max);
      }],
    },
  }, [[], [], [], [], [], [], []], box);
  // Double-click resets the zoom (uPlot's own gesture) and follows the stream again.
  box.addEventListener('dblclick', () => { c.zoomed = false; dirty.add(c); schedule(); });
  charts.set(sensorId, c);
  return c;
}

function pushRow(d, t, v, mean, lo, hi, notified, held) {
  d.t.push(t); d.v.push(v); d.mean.push(mean); d.lo.push(lo); d.hi.push(hi); d.notified.push(notified); d.held.push(held);
}

function addPoints(sensorId, points) {
  const c = charts.get(sensorId) ?? makeChart(sensorId);
  const d = c.data;
  for (const [tMs, v, mean, limit, mark] of points) {
    const t = tMs / 1000;
    const last = d.t.length > 0 ? d.t[d.t.length - 1] : null;
    if (last !== null) {
      const dt = t - last;
      // A silence or an outage: an empty row ends the line, so the gap shows as a gap.
      if (c.typical !== null && dt > Math.max(MIN_GAP_SECONDS, GAP_INTERVALS * c.typical)) {
        pushRow(d, last + c.typical, null, null, null, null, null, null);
        c.gaps += 1;
      } else if (dt > 0) {
        c.typical = c.typical === null ? dt : 0.8 * c.typical + 0.2 * dt;
      }
    }
    pushRow(d, t, v, mean, mean - limit, mean + limit, mark === 1 ? v : null, mark === 2 ? v : null);
  }
  const extra = d.t.length - MAX_POINTS;
  if (extra > 0) for (const k of Object.keys(d)) d[k].splice(0, extra);
  c.box.dataset.gaps = String(c.gaps);
  dirty.add(c);
  schedule();
}

function setSummary(s) {
  const c = charts.get(s.id) ?? makeChart(s.id);
  c.summary = s;
  c.box.dataset.anomalies = String(s.anomalies);
  const silent = s.silentSinceMs !== null && s.silentSinceMs !== undefined;
  c.box.dataset.silent = String(silent);
  c.box.classList.toggle('silent', silent);
  c.head.textContent = s.id + ' · ' + s.anomalies + (s.anomalies === 1 ? ' anomaly' : ' anomalies') +
    ' (' + s.notified + ' notified)' + (silent ? ' · SILENT since ' + clock(s.silentSinceMs / 1000, false) : '');
}

function drop(sensorId) {
  const c = charts.get(sensorId);
  if (c === undefined) return;
  c.plot.destroy();
  c.box.remove();
  charts.delete(sensorId);
  dirty.delete(c);
}

function schedule() {
  if (frame !== 0) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    for (const c of dirty) {
      const d = c.data;
      c.plot.setData([d.t, d.v, d.mean, d.lo, d.hi, d.notified, d.held], !c.zoomed);
    }
    dirty = new Set();
  });
}

function addLines(lines) {
  const list = $('feed');
  for (const line of lines) {
    const li = document.createElement('li');
    li.className = line.kind;
    li.textContent = clock(line.atMs / 1000, false) + '  ' + line.text;
    list.insertBefore(li, list.firstChild);
  }
  while (list.children.length > 200) list.removeChild(list.lastChild);
}

function setStatus(s) {
  if (s === null || s === undefined) return;
  for (const key of ['readingsPerSecond', 'lag', 'processed', 'batches', 'anomalies', 'notifications', 'heldBack', 'rejected', 'retries']) {
    $(key).textContent = fmt(s[key]);
  }
  const m = Math.floor(s.elapsedSeconds / 60);
  const sec = Math.floor(s.elapsedSeconds % 60);
  $('elapsed').textContent = String(m).padStart(2, '0') + ':' + String(sec).padStart(2, '0');
  const latency = s.alertLatency;
  $('latencyP50').textContent = latency ? duration(latency.p50Ms) : '?';
  $('latencyP99').textContent = latency ? duration(latency.p99Ms) : '?';
  $('latencyP50').title = latency ? 'over the last ' + latency.count + ' notifications' : 'no notification yet';
  const parts = $('partitions');
  parts.textContent = '';
  for (const p of s.partitions ?? []) {
    const item = document.createElement('span');
    item.className = 'partition';
    item.dataset.partition = String(p.partition);
    item.textContent = 'p' + p.partition + ' ' + p.lag;
    parts.appendChild(item);
  }
}

function setSelected(sel, notKept) {
  if (sel === undefined || sel === null) return;
  const shown = Math.min(sel.matching, charts.size);
  let text = sel.total + (sel.total === 1 ? ' sensor' : ' sensors');
  if (sel.matching !== sel.total) text += ', ' + sel.matching + ' match';
  if (shown < sel.matching) text += ': charting the first ' + shown + ', narrow the filter for others';
  if (notKept > 0) text += ' (' + notKept + ' more beyond those the view keeps)';
  $('shown').textContent = text;
}

function reset(snapshot) {
  for (const id of [...charts.keys()]) drop(id);
  $('feed').textContent = '';
  $('title').textContent = snapshot.title;
  $('detection').textContent = snapshot.detection;
  for (const [id, points] of Object.entries(snapshot.sensors)) addPoints(id, points);
  for (const s of snapshot.summaries) setSummary(s);
  addLines(snapshot.feed);
  setStatus(snapshot.status);
  setSelected(snapshot.selected, snapshot.sensorsNotKept);
}

function update(u) {
  for (const id of u.dropped) drop(id);
  for (const [id, points] of Object.entries(u.points)) addPoints(id, points);
  for (const s of u.summaries) setSummary(s);
  addLines(u.feed);
  setStatus(u.status);
  if (u.detection !== null) $('detection').textContent = u.detection;
  setSelected(u.selected, u.sensorsNotKept);
}

function connect() {
  if (stream !== null) stream.close();
  const query = new URLSearchParams({ filter: $('filter').value, anomalies: $('onlyAnomalies').checked ? '1' : '0' });
  stream = new EventSource('/events?' + query);
  stream.addEventListener('snapshot', (e) => { $('state').textContent = 'live'; $('state').className = 'live'; reset(JSON.parse(e.data)); });
  stream.addEventListener('update', (e) => update(JSON.parse(e.data)));
  stream.onerror = () => { $('state').textContent = 'disconnected: is npm start still running? (retrying)'; $('state').className = 'down'; };
}

let typing = 0;
$('filter').addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(connect, 250); });
$('onlyAnomalies').addEventListener('change', connect);
window.addEventListener('resize', () => { for (const c of charts.values()) c.plot.setSize({ width: chartWidth(), height: 190 }); });
connect();
`;

const STYLE = `
body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{padding:10px 16px;background:#fff;border-bottom:1px solid #ddd;position:sticky;top:0;z-index:5}
h1{font-size:17px;margin:0 0 4px}
#detection{color:#555;font-size:13px}
#state{font-size:12px;margin-left:8px;padding:1px 6px;border-radius:8px;background:#eee}
#state.live{background:#d9f2d9;color:#185c18}#state.down{background:#f8d7d7;color:#8a1c1c}
.counters{display:flex;flex-wrap:wrap;gap:6px 18px;margin-top:8px;font-size:13px}
.counters b{font-variant-numeric:tabular-nums;font-size:15px}
#partitions .partition{margin-right:8px;font-variant-numeric:tabular-nums}
.controls{display:flex;flex-wrap:wrap;gap:6px 14px;align-items:center;margin-top:8px;font-size:13px}
#filter{width:220px;padding:2px 6px}
#shown{color:#555}
main{display:flex;gap:16px;padding:12px 16px;align-items:flex-start}
#charts{flex:3;min-width:340px}
aside{flex:2;min-width:280px;max-height:calc(100vh - 160px);overflow:auto;background:#fff;border:1px solid #ddd;padding:8px}
.chart{background:#fff;border:1px solid #ddd;margin-bottom:12px;padding:6px 8px}
.chart h2{font-size:14px;margin:2px 0 4px}
.chart.silent{border-color:#8a1c1c;background:#fff6f6}
.chart.silent h2{color:#8a1c1c}
#feed{list-style:none;margin:0;padding:0;font:12px ui-monospace,monospace}
#feed li{padding:2px 0;border-bottom:1px solid #f0f0f0;white-space:pre-wrap;word-break:break-word}
#feed li.anomaly{color:#b01e1e}#feed li.notification{color:#1f5fbf}#feed li.rejected{color:#8a6d00}#feed li.failed{color:#8a1c1c;font-weight:bold}
#feed li.rules{color:#185c18;font-weight:bold}#feed li.silence{color:#8a1c1c}
.legend{font-size:12px;color:#555;margin:0 0 8px}
`;

export function livePage(): string {
  const { script, css } = uplotAssets();
  const counter = (id: string, label: string, title?: string) =>
    `<span${title === undefined ? '' : ` title="${title}"`}>${label} <b id="${id}">?</b></span>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sensor anomaly detector: live</title>
<style>${css}</style><style>${STYLE}</style>
</head><body>
<header>
<h1><span id="title">npm start</span><span id="state">connecting…</span></h1>
<div id="detection"></div>
<div class="counters">
${counter('elapsed', 'running')}${counter('readingsPerSecond', 'readings/s')}${counter('lag', 'lag')}${counter('processed', 'processed')}${counter('batches', 'batches')}${counter('anomalies', 'anomalies')}${counter('notifications', 'notifications')}${counter('heldBack', 'held back')}${counter('rejected', 'rejected')}${counter('retries', 'retries')}
${counter('latencyP50', 'alert latency p50', 'event time → notification sent')}${counter('latencyP99', 'p99', 'event time → notification sent')}<span>lag by partition <span id="partitions"></span></span>
</div>
<div class="controls">
<input id="filter" type="search" placeholder="filter sensors, e.g. pump_1" aria-label="filter sensors">
<label><input id="onlyAnomalies" type="checkbox"> only sensors with anomalies</label>
<span id="shown"></span>
</div>
</header>
<main>
<div id="charts"><p class="legend">grey: readings (a break: no reading) · blue: baseline (window mean, or the learned mean) · shaded: baseline ± limit · red dot: anomaly notified · hollow orange: anomaly held back by the cooldown · red frame: silent sensor. Drag to zoom, double-click to follow again; hover for values.</p><div id="sensors"></div></div>
<aside><ul id="feed"></ul></aside>
</main>
<script>${inlineScript(script)}</script>
<script>${inlineScript(CLIENT)}</script>
</body></html>
`;
}
