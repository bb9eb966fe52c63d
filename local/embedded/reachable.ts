import { connect } from 'node:net';

/**
 * A service the user pointed `npm start` at is not there (or not what was expected). Its
 * message is one line: the service, the address, why, and what to do.
 */
export class ServiceUnavailableError extends Error {
  override readonly name = 'ServiceUnavailableError';
}

export interface ServiceSpec {
  /** `Kafka`, `DynamoDB`, `SNS`. */
  readonly service: string;
  /** As the user gave it: `localhost:9092`, `http://localhost:4566`. */
  readonly address: string;
  /** What to do about it, as a sentence fragment: `start one (docker compose up -d redpanda)`. */
  readonly hint: string;
}

/** `host:port` of a broker address or an endpoint URL (default ports for http/https). */
export function hostPort(address: string): { host: string; port: number } {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(address)) {
    const url = new URL(address);
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port };
  }
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address.trim());
  if (match === null) return { host: address.trim(), port: 9092 };
  return { host: match[1] as string, port: Number(match[2]) };
}

function tryConnect(host: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (problem: string | null) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(timeoutMs, () => done('no answer'));
    socket.once('connect', () => done(null));
    socket.once('error', (error: NodeJS.ErrnoException) => done(describeSocketError(error)));
  });
}

/** A socket error in words a user knows. */
export function describeSocketError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host';
    case 'ETIMEDOUT':
      return 'no answer';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ECONNRESET':
      return 'connection reset';
    default:
      return error.code ?? error.message;
  }
}

/**
 * Waits until one of the addresses accepts a TCP connection, trying again every 250 ms for
 * at most `waitMs` (a broker or LocalStack that is still starting gets that long). Throws a
 * ServiceUnavailableError naming the service, the address and what to do.
 */
export async function waitForService(
  spec: ServiceSpec,
  addresses: readonly string[],
  waitMs: number,
): Promise<void> {
  const deadline = Date.now() + waitMs;
  let problem = 'no address';
  for (;;) {
    for (const address of addresses) {
      const { host, port } = hostPort(address);
      const left = Math.max(100, Math.min(2000, deadline - Date.now()));
      const result = await tryConnect(host, port, left);
      if (result === null) return;
      problem = result;
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw unavailable(spec, `${problem} after ${formatSeconds(waitMs)}`);
}

/** The one-line error: `cannot reach Kafka at localhost:9092 (connection refused after 5 s): …`. */
export function unavailable(spec: ServiceSpec, why: string): ServiceUnavailableError {
  return new ServiceUnavailableError(
    `cannot reach ${spec.service} at ${spec.address} (${oneLine(why)}): ${spec.hint}`,
  );
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

function oneLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 160 ? `${line.slice(0, 157)}…` : line;
}
