import { createRequire } from 'node:module';
import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { createTableInput } from '../../functions/adapters/dynamodb-table.ts';
import { listenOn } from './listen.ts';

// dynalite is CommonJS without typings; this is the little of its API we use.
type DynaliteServer = import('node:http').Server;
type Dynalite = (options: Record<string, unknown>) => DynaliteServer;
const dynalite = createRequire(import.meta.url)('dynalite') as Dynalite;

export interface EmbeddedDynamoDb {
  /** `http://127.0.0.1:PORT`, for the SDK's `endpoint` option. */
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * dynalite in memory on loopback. Its tables are ACTIVE at once (dynalite otherwise keeps
 * them CREATING for 500 ms). It has no TTL API and never expires items: the use case
 * already treats expired items as absent, as it must on DynamoDB too.
 */
export async function startDynamoDb(options: { port?: number } = {}): Promise<EmbeddedDynamoDb> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // Node closes an idle keep-alive socket after 5 s; a client that reuses it at that moment
  // gets ECONNRESET. The clients here keep their sockets between batches that can be seconds
  // apart on a loaded machine, so the server keeps them longer than any such pause.
  server.keepAliveTimeout = 120_000;
  const port = await listenOn(server, options.port ?? 0);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error?: Error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets of SDK clients would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}

/** Creates the detector's table (same layout as the CDK stack) unless it exists; waits for ACTIVE. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists(
    { client, maxWaitTime: 30, minDelay: 1, maxDelay: 2 },
    { TableName: tableName },
  );
}
