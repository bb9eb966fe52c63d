import { randomUUID } from 'node:crypto';
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { errorXml, SnsQueryError } from '../../local/embedded/sns-query.ts';

/**
 * Faults a proxy can put on the wire between an SDK client and a local service:
 * - `throttle` / `provisioned`: 400 ThrottlingException / ProvisionedThroughputExceededException
 *   (SNS: 400 Throttling), nothing forwarded;
 * - `internal`: 500 InternalServerError (SNS: InternalError), nothing forwarded;
 * - `lost-response`: forwarded and executed, then the connection is dropped before the answer;
 * - `duplicate-request`: forwarded twice (an earlier copy landed, e.g. a retried timeout);
 *   the client gets the second answer;
 * - `reset`: the connection is dropped before anything is forwarded.
 */
export type ProxyFault =
  | 'throttle'
  | 'provisioned'
  | 'internal'
  | 'lost-response'
  | 'duplicate-request'
  | 'reset';

/** A request carrying this header gets the named fault (the header is not forwarded). */
export const FAULT_HEADER = 'x-test-fault';

export interface FaultProxyStats {
  /** Requests received (while up). */
  received: number;
  /** Requests executed by the service behind (a duplicate counts twice). */
  forwarded: number;
  readonly faults: Record<string, number>;
  /** Connection attempts refused while down are not seen; this counts the down periods. */
  downPeriods: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:PORT`, for the SDK's `endpoint` option. */
  readonly endpoint: string;
  readonly stats: FaultProxyStats;
  /**
   * The next `count` requests get `fault`; with `match`, only requests whose operation
   * (DynamoDB's `X-Amz-Target`, e.g. `PutItem`) ends with it, after skipping `skip` of them.
   */
  failNext(
    count: number,
    fault: ProxyFault,
    options?: { readonly match?: string; readonly skip?: number },
  ): void;
  /** Every request gets `fault` until `setMode(null)`. */
  setMode(fault: ProxyFault | null): void;
  /** Holds every request (unanswered, not forwarded) until `release()`. */
  hold(): void;
  /** Forwards the held requests (their clients may be gone: the service still executes them). */
  release(): void;
  /** Requests waiting in `hold()`. */
  heldRequests(): number;
  /** Requests received and not yet answered or dropped. */
  inFlight(): number;
  /** Closes the listening socket and every connection: clients get ECONNREFUSED. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

interface Upstream {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/**
 * An HTTP proxy in front of dynalite or the SNS endpoint that can answer with AWS-shaped
 * errors, lose responses, duplicate requests, hold them, or go down and come back, so the
 * real SDK clients and adapters meet the failures they would meet on AWS.
 */
export async function startFaultProxy(options: {
  readonly target: string;
  /** Decides the error bodies: DynamoDB's JSON protocol or SNS's Query protocol. */
  readonly flavor: 'dynamodb' | 'sns';
}): Promise<FaultProxy> {
  const target = new URL(options.target);
  const agent = new Agent({ keepAlive: true });
  const stats: FaultProxyStats = { received: 0, forwarded: 0, faults: {}, downPeriods: 0 };
  const queued: { fault: ProxyFault; match: string | null; skip: number }[] = [];
  /** The first queued fault that applies to a request of this operation, consumed. */
  const takeQueued = (operation: string): ProxyFault | undefined => {
    const i = queued.findIndex((q) => q.match === null || operation.endsWith(q.match));
    const rule = queued[i];
    if (rule === undefined) return undefined;
    if (rule.skip > 0) {
      rule.skip -= 1;
      return undefined;
    }
    queued.splice(i, 1);
    return rule.fault;
  };
  let mode: ProxyFault | null = null;
  let holding = false;
  const held: (() => void)[] = [];
  const sockets = new Set<Socket>();
  let inFlight = 0;

  const forward = (req: IncomingMessage, body: Buffer): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string | string[] | undefined> = {
        ...req.headers,
        host: target.host,
      };
      delete headers[FAULT_HEADER];
      const upstream = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers,
          agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            stats.forwarded += 1;
            resolve({
              status: res.statusCode ?? 502,
              headers: res.headers,
              body: Buffer.concat(chunks),
            });
          });
          res.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });

  const answer = (res: ServerResponse, upstream: Upstream) => {
    const headers = { ...upstream.headers };
    delete headers['transfer-encoding'];
    headers['content-length'] = String(upstream.body.length);
    res.writeHead(upstream.status, headers);
    res.end(upstream.body);
  };

  const errorResponse = (res: ServerResponse, fault: 'throttle' | 'provisioned' | 'internal') => {
    const requestId = randomUUID();
    if (options.flavor === 'sns') {
      const error =
        fault === 'internal'
          ? new SnsQueryError('InternalError', 'An internal service error has occurred', 500)
          : new SnsQueryError('Throttling', 'Rate exceeded', 400);
      const body = errorXml(error, requestId);
      res.writeHead(error.httpStatus, {
        'content-type': 'text/xml',
        'x-amzn-requestid': requestId,
      });
      res.end(body);
      return;
    }
    const [status, type, message] =
      fault === 'internal'
        ? [500, 'InternalServerError', 'Internal server error']
        : fault === 'provisioned'
          ? [
              400,
              'ProvisionedThroughputExceededException',
              'The level of configured provisioned throughput for the table was exceeded.',
            ]
          : [400, 'ThrottlingException', 'Rate of requests exceeds the allowed throughput.'];
    const body = JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message });
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': requestId,
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    inFlight += 1;
    try {
      await handleRequest(req, res);
    } finally {
      inFlight -= 1;
    }
  };

  const handleRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    stats.received += 1;
    if (holding) await new Promise<void>((resolve) => held.push(resolve));
    const tagged = req.headers[FAULT_HEADER];
    const operation = String(req.headers['x-amz-target'] ?? '');
    const fault =
      (typeof tagged === 'string' ? (tagged as ProxyFault) : undefined) ??
      takeQueued(operation) ??
      mode;
    if (fault !== null) stats.faults[fault] = (stats.faults[fault] ?? 0) + 1;
    try {
      switch (fault) {
        case 'throttle':
        case 'provisioned':
        case 'internal':
          errorResponse(res, fault);
          return;
        case 'reset':
          req.socket.destroy();
          return;
        case 'lost-response':
          await forward(req, body);
          req.socket.destroy();
          return;
        case 'duplicate-request':
          await forward(req, body);
          answer(res, await forward(req, body));
          return;
        default:
          answer(res, await forward(req, body));
      }
    } catch {
      // The service behind is gone (closed in a test's teardown): drop the connection.
      req.socket.destroy();
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const { port } = server.address() as AddressInfo;
  const closeServer = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  let up = true;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats,
    failNext(count, fault, options = {}) {
      for (let i = 0; i < count; i += 1) {
        queued.push({ fault, match: options.match ?? null, skip: options.skip ?? 0 });
      }
    },
    setMode(fault) {
      mode = fault;
    },
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const resume of held.splice(0)) resume();
    },
    heldRequests: () => held.length,
    inFlight: () => inFlight,
    async down() {
      if (!up) return;
      up = false;
      stats.downPeriods += 1;
      await closeServer();
    },
    async up() {
      if (up) return;
      await listen(port);
      up = true;
    },
    async close() {
      holding = false;
      for (const resume of held.splice(0)) resume();
      if (up) await closeServer();
      up = false;
      agent.destroy();
    },
  };
}
