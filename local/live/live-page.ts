import { inlineScript, uplotAssets } from '../charts/uplot-assets.ts';

/**
 * The live view's page: one file, uPlot inlined, no request but the event stream. The script
 * below runs in the browser (plain ES2020, no build step): it draws a chart per sensor from the
 * snapshot the stream starts with, then appends the updates.
 */
const CLIENT = `
'use strict';
const MAX_POINTS = 600;
const charts = new Map();
const $ = (id) => document.getElementById(id);
const fmt = (v) => (v === null || v === undefined ? '?' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : String(v));
let dirty = new Set();
let frame = 0;

function chartWidth() {
  return Math.max(320, Math.min(1100, $('charts').clientWidth - 20));
}

function makeChart(sensorId) {
  const box = document.createElement('section');
  box.className = 'chart';
  box.dataset.sensor = sensorId;
  box.dataset.anomalies = '0';
  const head = document.createElement('h2');
  head.textContent = sensorId;
  box.appendChild(head);
  const list = $('sensors');
  list.appendChild(box);
  const sorted = [...list.children].sort((a, b) =>
    a.dataset.sensor.localeCompare(b.dataset.sensor, 'en', { numeric: true }));
  for (const child of sorted) list.appendChild(child);
  const data = { t: [], v: [], mean: [], lo: [], hi: [], notified: [], held: [] };
  const c = { box, head, data, zoomed: false, anomalies: 0, notified: 0 };
  const dot = (fill, stroke) => ({ show: true, size: 9, width: 2, fill, stroke });
  c.plot = new uPlot({
    width: chartWidth(),
    height: 190,
    scales: { x: { time: true } },
    axes: [{}, { size: 56 }],
    cursor: { drag: { x: true, y: false } },
    series: [
      { label: 'time' },
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
    },
  }, [[], [], [], [], [], [], []], box);
  // Double-click resets the zoom (uPlot's own gesture) and follows the stream again.
  box.addEventListener('dblclick', () => { c.zoomed = false; dirty.add(c); schedule(); });
  charts.set(sensorId, c);
  return c;
}

function addPoints(sensorId, points) {
  const c = charts.get(sensorId) ?? makeChart(sensorId);
  const d = c.data;
  for (const [t, v, mean, limit, mark] of points) {
    d.t.push(t / 1000);
    d.v.push(v);
    d.mean.push(mean);
    d.lo.push(mean - limit);
    d.hi.push(mean + limit);
    d.notified.push(mark === 1 ? v : null);
    d.held.push(mark === 2 ? v : null);
    if (mark === 1) c.notified += 1;
    if (mark !== 0) c.anomalies += 1;
  }
  const extra = d.t.length - MAX_POINTS;
  if (extra > 0) for (const k of Object.keys(d)) d[k].splice(0, extra);
  c.box.dataset.anomalies = String(c.anomalies);
  c.head.textContent = sensorId + ' · ' + c.anomalies + (c.anomalies === 1 ? ' anomaly' : ' anomalies') +
    ' (' + c.notified + ' notified)';
  dirty.add(c);
  schedule();
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
    const time = new Date(line.atMs).toLocaleTimeString();
    li.textContent = time + '  ' + line.text;
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
}

function setNotCharted(n) {
  $('notCharted').textContent = n > 0 ? n + ' more sensor(s) not charted' : '';
}

function reset(snapshot) {
  for (const c of charts.values()) { c.plot.destroy(); c.box.remove(); }
  charts.clear();
  $('feed').textContent = '';
  $('title').textContent = snapshot.title;
  $('detection').textContent = snapshot.detection;
  for (const [id, points] of Object.entries(snapshot.sensors)) addPoints(id, points);
  addLines(snapshot.feed);
  setStatus(snapshot.status);
  setNotCharted(snapshot.sensorsNotCharted);
}

const stream = new EventSource('/events');
stream.addEventListener('snapshot', (e) => { $('state').textContent = 'live'; $('state').className = 'live'; reset(JSON.parse(e.data)); });
stream.addEventListener('update', (e) => {
  const u = JSON.parse(e.data);
  for (const [id, points] of Object.entries(u.points)) addPoints(id, points);
  addLines(u.feed);
  setStatus(u.status);
  setNotCharted(u.sensorsNotCharted);
});
stream.onerror = () => { $('state').textContent = 'disconnected: is npm start still running? (retrying)'; $('state').className = 'down'; };
window.addEventListener('resize', () => { for (const c of charts.values()) c.plot.setSize({ width: chartWidth(), height: 190 }); });
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
main{display:flex;gap:16px;padding:12px 16px;align-items:flex-start}
#charts{flex:3;min-width:340px}
aside{flex:2;min-width:280px;max-height:calc(100vh - 120px);overflow:auto;background:#fff;border:1px solid #ddd;padding:8px}
.chart{background:#fff;border:1px solid #ddd;margin-bottom:12px;padding:6px 8px}
.chart h2{font-size:14px;margin:2px 0 4px}
#feed{list-style:none;margin:0;padding:0;font:12px ui-monospace,monospace}
#feed li{padding:2px 0;border-bottom:1px solid #f0f0f0;white-space:pre-wrap;word-break:break-word}
#feed li.anomaly{color:#b01e1e}#feed li.notification{color:#1f5fbf}#feed li.rejected{color:#8a6d00}#feed li.failed{color:#8a1c1c;font-weight:bold}
#notCharted{color:#a00;font-size:13px}
.legend{font-size:12px;color:#555;margin:0 0 8px}
`;

export function livePage(): string {
  const { script, css } = uplotAssets();
  const counter = (id: string, label: string) => `<span>${label} <b id="${id}">?</b></span>`;
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
</div>
</header>
<main>
<div id="charts"><p class="legend">grey: readings · blue: baseline (window mean, or the learned mean) · shaded: baseline ± limit · red dot: anomaly notified · hollow orange: anomaly held back by the cooldown. Drag to zoom, double-click to follow again; hover for values.</p><div id="notCharted"></div><div id="sensors"></div></div>
<aside><ul id="feed"></ul></aside>
</main>
<script>${inlineScript(script)}</script>
<script>${inlineScript(CLIENT)}</script>
</body></html>
`;
}
