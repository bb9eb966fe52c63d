import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { anomalyLine } from '../../functions/core/alert-text.ts';
import { type SilenceAlert, silenceLine } from '../../functions/core/silence.ts';
import type { AlertDecision } from '../../functions/core/types.ts';
import type { Evaluation, Rejection } from '../../functions/ports.ts';
import { listenOn } from '../embedded/listen.ts';
import type { NotificationView } from '../pipeline/notification-view.ts';
import {
  type AlertLatency,
  LiveHistory,
  type LiveHistoryOptions,
  type LiveStatus,
  MARK,
  type Mark,
  type Point,
  quantile,
  type Selection,
  type SensorSummary,
} from './live-history.ts';
import { livePage } from './live-page.ts';

export interface LiveViewOptions extends LiveHistoryOptions {
  /** @default 0 (any free port) */
  readonly port?: number;
  /** Shown as the page's heading. */
  readonly title: string;
  /** The detector settings, one line. */
  readonly detection: string;
  /** Polled every second while a browser is watching (never otherwise). */
  readonly status: () => Promise<LiveStatus>;
  /** How often changes go to the browsers. @default 250 */
  readonly flushMs?: number;
  /** @default Date.now */
  readonly nowMs?: () => number;
}

/** The port asked for is taken: one line for the user, not a stack trace. */
export class LivePortInUseError extends Error {
  override readonly name = 'LivePortInUseError';
}

/**
 * The live view of `npm start`: a page on 127.0.0.1 with per-sensor charts and the console's
 * events, fed by Server-Sent Events. It records the same events the console prints into a
 * bounded history (so a reload shows the recent past); it formats and sends nothing while no
 * browser is connected. Each browser charts the sensors its filter selects.
 */
export interface LiveView {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  evaluated(evaluation: Evaluation): void;
  anomaly(decision: AlertDecision): void;
  /** Alerts the function sent: their event time → now is the alert latency. */
  published(alerts: readonly AlertDecision[]): void;
  notification(n: NotificationView): void;
  rejected(r: Rejection): void;
  silence(alert: SilenceAlert): void;
  /** The rules in use changed: the header shows `detection`, the feed `line`. */
  rulesChanged(detection: string, line: string): void;
  failed(text: string): void;
  /** Browsers connected now. */
  watchers(): number;
  close(): Promise<void>;
}

/** Latencies kept for the percentiles: the last this many notifications. */
const LATENCY_SAMPLES = 1000;

interface Client {
  readonly res: ServerResponse;
  readonly selection: Selection;
  charted: Set<string>;
}

export async function startLiveView(options: LiveViewOptions): Promise<LiveView> {
  const nowMs = options.nowMs ?? Date.now;
  const history = new LiveHistory(options.title, options.detection, options);
  const clients = new Set<Client>();
  // Anomalies are told before their reading's evaluation: keep the mark until the point comes.
  const marks = new Map<string, 1 | 2>();
  const latencies: number[] = [];
  let latencyNext = 0;
  let page: string | undefined;
  let timers: NodeJS.Timeout[] = [];

  const send = (res: ServerResponse, event: string, data: unknown) => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const alertLatency = (): AlertLatency | null => {
    if (latencies.length === 0) return null;
    const sorted = [...latencies].sort((a, b) => a - b);
    return { p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99), count: sorted.length };
  };
  const flush = () => {
    const changes = history.takeChanges();
    if (changes === null) return;
    for (const client of clients) {
      const { charted, ...selected } = history.select(client.selection);
      const points: Record<string, readonly Point[]> = {};
      const summaries: SensorSummary[] = [];
      for (const id of charted) {
        const fresh = !client.charted.has(id);
        const p = fresh ? history.points(id) : changes.points.get(id);
        if (p !== undefined && p.length > 0) points[id] = p;
        if (fresh || changes.changed.has(id)) summaries.push(history.summary(id) as SensorSummary);
      }
      const now = new Set(charted);
      const dropped = [...client.charted].filter((id) => !now.has(id));
      client.charted = now;
      send(client.res, 'update', {
        points,
        summaries,
        dropped,
        selected,
        feed: changes.feed,
        status: changes.status,
        detection: changes.detection,
        sensorsNotKept: history.sensorsNotKept,
      });
    }
  };
  const pollStatus = () => {
    options.status().then(
      (status) => history.setStatus({ ...status, alertLatency: alertLatency() }),
      () => {},
    );
  };
  const startWatching = () => {
    history.watch(true);
    pollStatus();
    timers = [
      setInterval(flush, options.flushMs ?? 250),
      setInterval(pollStatus, 1000),
      // A comment line now and then keeps proxies and idle timeouts from closing the stream.
      setInterval(() => {
        for (const client of clients) client.res.write(': keep-alive\n\n');
      }, 15_000),
    ];
  };
  const stopWatching = () => {
    for (const timer of timers) clearInterval(timer);
    timers = [];
    history.watch(false);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    const selection: Selection = {
      filter: (url.searchParams.get('filter') ?? '').slice(0, 200),
      onlyAnomalies: url.searchParams.get('anomalies') === '1',
    };
    if (url.pathname === '/') {
      page ??= livePage();
      res
        .writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
          // Everything is inline; nothing may be fetched from elsewhere.
          'content-security-policy':
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
        })
        .end(page);
      return;
    }
    if (url.pathname === '/snapshot.json') {
      res
        .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify(history.snapshot(selection)));
      return;
    }
    if (url.pathname === '/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      if (clients.size === 0) startWatching();
      else flush();
      const snapshot = history.snapshot(selection);
      const client: Client = { res, selection, charted: new Set(Object.keys(snapshot.sensors)) };
      clients.add(client);
      send(res, 'snapshot', snapshot);
      req.on('close', () => {
        clients.delete(client);
        if (clients.size === 0) stopWatching();
      });
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  let port: number;
  try {
    port = await listenOn(server, options.port ?? 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new LivePortInUseError(
        `--live-port ${options.port}: the port is in use (another npm start?); choose another, 0 for any free one, or --no-live`,
      );
    }
    throw error;
  }

  return {
    url: `http://127.0.0.1:${port}/`,
    evaluated({ reading, verdict }) {
      let mark: Mark = MARK.none;
      if (verdict.anomaly) {
        const { topic, partition, offset } = reading.source;
        const key = `${topic}-${partition}-${offset}`;
        mark = marks.get(key) ?? MARK.notified;
        marks.delete(key);
      }
      history.point(
        reading.sensorId,
        reading.eventTimeMs,
        reading.value,
        verdict.mean,
        verdict.limit,
        mark,
      );
    },
    anomaly(decision) {
      const { anomaly } = decision;
      // Keyed by the record, as `evaluated` sees it (an alert id may carry an epoch suffix).
      const { topic, partition, offset } = anomaly.source;
      marks.set(`${topic}-${partition}-${offset}`, decision.notify ? MARK.notified : MARK.heldBack);
      // An anomaly whose evaluation never comes (a failed batch) must not grow the map.
      if (marks.size > 10_000) marks.clear();
      history.line({
        kind: 'anomaly',
        atMs: nowMs(),
        sensorId: anomaly.sensorId,
        text: `${anomalyLine(anomaly)}${decision.notify ? '' : '  (held back by the cooldown)'}`,
      });
    },
    published(alerts) {
      const at = nowMs();
      for (const alert of alerts) {
        const latencyMs = Math.max(0, at - alert.anomaly.eventTimeMs);
        if (latencies.length < LATENCY_SAMPLES) latencies.push(latencyMs);
        else latencies[latencyNext] = latencyMs;
        latencyNext = (latencyNext + 1) % LATENCY_SAMPLES;
      }
    },
    notification(n) {
      history.line({
        kind: 'notification',
        atMs: nowMs(),
        ...(n.attributes.sensorId === undefined ? {} : { sensorId: n.attributes.sensorId }),
        text: `SNS → ${n.subject} · sms: ${n.sms}`,
      });
    },
    rejected(r) {
      const { topic, partition, offset } = r.source;
      history.line({
        kind: 'rejected',
        atMs: nowMs(),
        text: `REJECTED ${topic}-${partition}@${offset}: ${r.reason} (${r.detail})`,
      });
    },
    silence(alert) {
      history.silence(alert.sensorId, alert.kind === 'silent' ? alert.lastSeenMs : null);
      history.line({
        kind: 'silence',
        atMs: nowMs(),
        sensorId: alert.sensorId,
        text: silenceLine(alert),
      });
    },
    rulesChanged(detection, line) {
      history.setDetection(detection);
      history.line({ kind: 'rules', atMs: nowMs(), text: line });
    },
    failed(text) {
      history.line({ kind: 'failed', atMs: nowMs(), text });
    },
    watchers: () => clients.size,
    close: async () => {
      stopWatching();
      for (const client of clients) client.res.end();
      clients.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
