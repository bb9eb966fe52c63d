import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOn } from './listen.ts';

/** One event EventBridge accepted. */
export interface PutEvent {
  readonly eventId: string;
  readonly source: string;
  readonly detailType: string;
  readonly detail: string;
  readonly eventBusName?: string;
  readonly time?: number;
  readonly resources: readonly string[];
}

export interface EventBridgeEndpoint {
  /** `http://127.0.0.1:PORT`, for the SDK's `endpoint` option. */
  readonly endpoint: string;
  /** Every event accepted, in order. */
  readonly events: PutEvent[];
  /** Every PutEvents request: entries sent and entries failed. */
  readonly requests: { entries: number; failed: number; status: number }[];
  /**
   * The next `count` entries (over all requests) fail inside a 200 answer with this
   * ErrorCode, as a PutEvents partial failure. @default 'InternalFailure'
   */
  failNextEntries(count: number, errorCode?: string): void;
  /** The next `count` requests fail whole: 400 ThrottlingException. */
  throttleNext(count: number): void;
  close(): Promise<void>;
}

const MAX_ENTRIES = 10;

/**
 * A loopback EventBridge that speaks PutEvents in the JSON 1.1 protocol as
 * @aws-sdk/client-eventbridge sends it (`X-Amz-Target: AWSEvents.PutEvents`) and answers
 * like the service: per entry an `EventId`, or `ErrorCode` and `ErrorMessage`, with
 * `FailedEntryCount`. It validates what the service requires of an entry (Source,
 * DetailType, Detail as a JSON object) and the 10-entry limit.
 */
export async function startEventBridgeEndpoint(): Promise<EventBridgeEndpoint> {
  const events: PutEvent[] = [];
  const requests: { entries: number; failed: number; status: number }[] = [];
  const entryFaults: string[] = [];
  let throttles = 0;

  const reply = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(body));
  };
  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target !== 'AWSEvents.PutEvents')
      return reply(res, 400, { __type: 'UnknownOperationException', message: target });
    if (throttles > 0) {
      throttles -= 1;
      requests.push({ entries: 0, failed: 0, status: 400 });
      return reply(res, 400, { __type: 'ThrottlingException', message: 'Rate exceeded' });
    }
    let body: { Entries?: Record<string, unknown>[] };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      return reply(res, 400, { __type: 'SerializationException', message: 'bad JSON' });
    }
    const entries = body.Entries ?? [];
    if (entries.length < 1 || entries.length > MAX_ENTRIES) {
      requests.push({ entries: entries.length, failed: 0, status: 400 });
      return reply(res, 400, {
        __type: 'ValidationException',
        message: `Entries must have 1 to ${MAX_ENTRIES} members`,
      });
    }
    let failed = 0;
    const results = entries.map((e) => {
      const fault = entryFaults.shift();
      if (fault !== undefined) {
        failed += 1;
        return { ErrorCode: fault, ErrorMessage: `injected ${fault}` };
      }
      const detail = typeof e.Detail === 'string' ? e.Detail : '';
      let isObject = false;
      try {
        const parsed = JSON.parse(detail) as unknown;
        isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
      } catch {}
      if (typeof e.Source !== 'string' || typeof e.DetailType !== 'string' || !isObject) {
        failed += 1;
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      }
      const eventId = randomUUID();
      events.push({
        eventId,
        source: e.Source,
        detailType: e.DetailType,
        detail,
        ...(typeof e.EventBusName === 'string' ? { eventBusName: e.EventBusName } : {}),
        ...(typeof e.Time === 'number' ? { time: e.Time } : {}),
        resources: Array.isArray(e.Resources) ? (e.Resources as string[]) : [],
      });
      return { EventId: eventId };
    });
    requests.push({ entries: entries.length, failed, status: 200 });
    reply(res, 200, { FailedEntryCount: failed, Entries: results });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  const port = await listenOn(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    events,
    requests,
    failNextEntries: (count, errorCode = 'InternalFailure') => {
      for (let i = 0; i < count; i += 1) entryFaults.push(errorCode);
    },
    throttleNext: (count) => {
      throttles += count;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
