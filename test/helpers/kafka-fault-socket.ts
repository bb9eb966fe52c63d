import { connect, type Socket } from 'node:net';
import type { ISocketFactory } from 'kafkajs';

/**
 * Broker failures on the wire between a kafkajs producer and the broker, as a kafkajs
 * `socketFactory` (a TCP proxy would be bypassed: the broker's metadata names its own
 * address). Faults apply to Produce requests (API key 0), one per request, in order:
 * - `reset`: the connection drops before the request is written: nothing is stored;
 * - `lost-response`: the request reaches the broker and is stored (acks=all answers after
 *   the append), then the connection drops before the answer: the producer sees a failure.
 * - `broker-down`: as `reset`, and every new connection fails for `downMs` (the broker is
 *   down, then back); `refuseConnections` does the same by hand.
 */
export type KafkaFault = 'reset' | 'lost-response' | 'broker-down';

export interface KafkaFaultSocket {
  readonly socketFactory: ISocketFactory;
  failNextProduce(...faults: KafkaFault[]): void;
  refuseConnections(refuse: boolean): void;
  readonly stats: { produceRequests: number; faults: Record<KafkaFault | 'refused', number> };
}

export interface KafkaFaultSocketOptions {
  /** How long `broker-down` refuses connections. @default 1000 */
  readonly downMs?: number;
}

const PRODUCE_API_KEY = 0;

export function kafkaFaultSocket(options: KafkaFaultSocketOptions = {}): KafkaFaultSocket {
  const queued: KafkaFault[] = [];
  let refuse = false;
  const stats = {
    produceRequests: 0,
    faults: { reset: 0, 'lost-response': 0, 'broker-down': 0, refused: 0 } as Record<
      KafkaFault | 'refused',
      number
    >,
  };
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket: Socket = connect({ host, port });
    if (refuse) {
      stats.faults.refused += 1;
      setImmediate(() =>
        socket.destroy(new Error('injected fault: broker refused the connection')),
      );
      return socket;
    }
    socket.once('connect', onConnect);
    let dropNextData = false;
    const write = socket.write.bind(socket) as (chunk: unknown, ...rest: unknown[]) => boolean;
    socket.write = ((chunk: unknown, ...rest: unknown[]) => {
      const buffer = Buffer.isBuffer(chunk) ? chunk : null;
      if (buffer !== null && buffer.length >= 6 && buffer.readInt16BE(4) === PRODUCE_API_KEY) {
        stats.produceRequests += 1;
        const fault = queued.shift();
        if (fault === 'reset') {
          stats.faults.reset += 1;
          socket.destroy(new Error('injected fault: connection reset before the produce request'));
          return false;
        }
        if (fault === 'broker-down') {
          stats.faults['broker-down'] += 1;
          refuse = true;
          setTimeout(() => {
            refuse = false;
          }, options.downMs ?? 1000);
          socket.destroy(new Error('injected fault: the broker went down'));
          return false;
        }
        if (fault === 'lost-response') {
          stats.faults['lost-response'] += 1;
          dropNextData = true;
        }
      }
      return write(chunk, ...rest);
    }) as Socket['write'];
    const emit = socket.emit.bind(socket) as (
      event: string | symbol,
      ...args: unknown[]
    ) => boolean;
    socket.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (event === 'data' && dropNextData) {
        dropNextData = false;
        socket.destroy(new Error('injected fault: connection lost before the produce response'));
        return true;
      }
      return emit(event, ...args);
    }) as Socket['emit'];
    return socket;
  };
  return {
    socketFactory,
    failNextProduce: (...faults) => queued.push(...faults),
    refuseConnections: (value) => {
      refuse = value;
    },
    stats,
  };
}
