import { type EmbeddedDynamoDb, startDynamoDb } from '../../local/embedded/dynamodb.ts';
import { type MockKafka, startMockKafka } from '../../local/embedded/kafka-mock-cluster.ts';

/**
 * One dynalite and one Kafka mock cluster per vitest worker process, started on first use and
 * ended with the process (dynalite runs in it; kcat exits when its stdin pipe closes). An
 * isolated worker (the vitest default) runs one file, so the file has them to itself; a
 * worker that runs file after file (`isolate: false` in vitest.config.ts) shares them among
 * its files. Either way a file works on tables (`freshConfig`, `uniqueName`), topics and
 * consumer groups (`uniqueName`) of its own, never another file's. Kept on globalThis, so
 * that they outlive this module's evaluation.
 *
 * What a test takes down on purpose (an outage, a broker that goes away) it starts itself:
 * startDynamoDb() / startMockKafka() as before.
 */
const perWorker = globalThis as typeof globalThis & {
  workerDynamoDb?: Promise<EmbeddedDynamoDb>;
  workerKafka?: Promise<MockKafka>;
  workerNames?: number;
};

/** A service that lives as long as the worker: close() is a no-op for its users. */
function shared<T extends { close(): Promise<void> }>(service: T): T {
  // The worker's exit ends both: dynalite runs in this process, and kcat stops when its
  // stdin pipe closes with it (local/embedded/kafka-mock-cluster.ts).
  return { ...service, close: async () => {} };
}

/** The worker's dynalite (its endpoint is `http://127.0.0.1:PORT`). */
export async function workerDynamoDb(): Promise<EmbeddedDynamoDb> {
  perWorker.workerDynamoDb ??= startDynamoDb();
  return shared(await perWorker.workerDynamoDb);
}

/** The worker's Kafka mock cluster (librdkafka via kcat). */
export async function workerKafka(): Promise<MockKafka> {
  perWorker.workerKafka ??= startMockKafka().catch((error: unknown) => {
    perWorker.workerKafka = undefined;
    throw error;
  });
  return shared(await perWorker.workerKafka);
}

/** `prefix-<pid>-<n>`: a table, topic or group name no other file of the run uses. */
export function uniqueName(prefix: string): string {
  perWorker.workerNames = (perWorker.workerNames ?? 0) + 1;
  return `${prefix}-${process.pid}-${perWorker.workerNames}`;
}
