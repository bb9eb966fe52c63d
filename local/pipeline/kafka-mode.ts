import { Kafka, logLevel, type Producer } from 'kafkajs';
import { kcatAvailable, startMockKafka } from '../embedded/kafka-mock-cluster.ts';
import { describeSocketError } from '../embedded/reachable.ts';
import { type EventSourceInfo, LOCAL_MSK_CLUSTER_ARN } from '../poller/lambda-event.ts';

/** Where the readings' topic lives: given brokers, the embedded mock cluster, or in-process. */
export type KafkaMode =
  | { readonly kind: 'external'; readonly brokers: readonly string[] }
  | { readonly kind: 'embedded'; readonly bootstrap: string }
  | { readonly kind: 'in-process'; readonly reason: string };

/**
 * Given brokers win; then --in-process; then the embedded Kafka (librdkafka's mock cluster via
 * kcat), and an in-process topic when kcat is missing or the mock cluster does not start.
 * `onClose` gets the embedded cluster's shutdown.
 */
export async function chooseKafka(
  opts: { readonly brokers?: readonly string[]; readonly inProcess?: boolean },
  say: (line: string) => void,
  onClose: (close: () => Promise<void>) => void,
): Promise<KafkaMode> {
  if (opts.brokers !== undefined && opts.brokers.length > 0)
    return { kind: 'external', brokers: opts.brokers };
  if (opts.inProcess) return { kind: 'in-process', reason: 'requested with --in-process' };
  if (!kcatAvailable()) {
    return { kind: 'in-process', reason: 'kcat not found and no KAFKA_BROKERS given' };
  }
  say('starting the embedded Kafka (librdkafka mock cluster via kcat)…');
  try {
    const mock = await startMockKafka();
    onClose(() => mock.close());
    return { kind: 'embedded', bootstrap: mock.bootstrap };
  } catch (error) {
    return {
      kind: 'in-process',
      reason: `the embedded Kafka did not start: ${(error as Error).message}`,
    };
  }
}

/** The event source mapping's description of the cluster, as the Lambda event carries it. */
export function eventSource(
  kind: 'msk' | 'self-managed',
  bootstrapServers: string,
): EventSourceInfo {
  return kind === 'msk'
    ? { kind: 'msk', clusterArn: LOCAL_MSK_CLUSTER_ARN, bootstrapServers }
    : { kind: 'self-managed', bootstrapServers };
}

/** The producer `send` uses (the simulator's records). */
export async function connectProducer(brokers: readonly string[]): Promise<Producer> {
  const kafka = new Kafka({
    clientId: 'sensor-simulator',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
  });
  // The mock cluster supports neither idempotent nor transactional producers.
  const producer = kafka.producer({ allowAutoTopicCreation: true, idempotent: false });
  await producer.connect();
  return producer;
}

export function toHeaders(
  headers: Readonly<Record<string, string | Uint8Array>>,
): Record<string, Buffer> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]));
}

export /** A kafkajs failure, innermost cause first (ECONNREFUSED, SASL, …), in a few words. */
function kafkaProblem(error: unknown): string {
  let e = error as
    | (Error & { cause?: unknown; originalError?: unknown; code?: string })
    | undefined;
  let message = (e as Error | undefined)?.message ?? String(error);
  while (e !== undefined) {
    if (typeof e.code === 'string' && e.code.startsWith('E'))
      return describeSocketError(e as NodeJS.ErrnoException);
    message = e.message;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return message;
}
