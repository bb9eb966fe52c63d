import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { anomalyLine } from '../../functions/core/alert-text.ts';
import type { AlertDecision } from '../../functions/core/types.ts';
import type { Evaluation, Rejection } from '../../functions/ports.ts';
import { listenOn } from '../embedded/listen.ts';
import type { NotificationView } from '../pipeline/local-pipeline.ts';
import {
  LiveHistory,
  type LiveHistoryOptions,
  type LiveStatus,
  MARK,
  type Mark,
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
}

/**
 * The live view of `npm start`: a page on 127.0.0.1 with per-sensor charts and the console's
 * events, fed by Server-Sent Events. It records the same events the console prints into a
 * bounded history (so a reload shows the recent past); it formats and sends nothing while no
 * browser is connected.
 */
export interface LiveView {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  evaluated(evaluation: Evaluation): void;
  anomaly(decision: AlertDecision): void;
  notification(n: NotificationView): void;
  rejected(r: Rejection): void;
  failed(text: string): void;
  /** Browsers connected now. */
  watchers(): number;
  close(): Promise<void>;
}

export async function startLiveView(options: LiveViewOptions): Promise<LiveView> {
  const history = new LiveHistory(options.title, options.detection, options);
  const clients = new Set<ServerResponse>();
  // Anomalies are told before their reading's evaluation: keep the mark until the point comes.
  const marks = new Map<string, 1 | 2>();
  let page: string | undefined;
  let timers: NodeJS.Timeout[] = [];

  const send = (res: ServerResponse, event: string, data: unknown) => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const flush = () => {
    const update = history.takeUpdate();
    if (update === null) return;
    for (const res of clients) send(res, 'update', update);
  };
  const pollStatus = () => {
    options.status().then(
      (status) => history.setStatus(status),
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
        for (const res of clients) res.write(': keep-alive\n\n');
      }, 15_000),
    ];
  };
  const stopWatching = () => {
    for (const timer of timers) clearInterval(timer);
    timers = [];
    history.watch(false);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (path === '/') {
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
    if (path === '/snapshot.json') {
      res
        .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify(history.snapshot()));
      return;
    }
    if (path === '/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      if (clients.size === 0) startWatching();
      else flush();
      clients.add(res);
      send(res, 'snapshot', history.snapshot());
      req.on('close', () => {
        clients.delete(res);
        if (clients.size === 0) stopWatching();
      });
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  const port = await listenOn(server, options.port ?? 0);

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
        atMs: Date.now(),
        sensorId: anomaly.sensorId,
        text: `${anomalyLine(anomaly)}${decision.notify ? '' : '  (held back by the cooldown)'}`,
      });
    },
    notification(n) {
      history.line({
        kind: 'notification',
        atMs: Date.now(),
        ...(n.attributes.sensorId === undefined ? {} : { sensorId: n.attributes.sensorId }),
        text: `SNS → ${n.subject} · sms: ${n.sms}`,
      });
    },
    rejected(r) {
      const { topic, partition, offset } = r.source;
      history.line({
        kind: 'rejected',
        atMs: Date.now(),
        text: `REJECTED ${topic}-${partition}@${offset}: ${r.reason} (${r.detail})`,
      });
    },
    failed(text) {
      history.line({ kind: 'failed', atMs: Date.now(), text });
    },
    watchers: () => clients.size,
    close: async () => {
      stopWatching();
      for (const res of clients) res.end();
      clients.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
