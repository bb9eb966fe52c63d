import { createServer, type Server } from 'node:http';
import type { SchemaType } from '../../functions/schema-registry/compile-schema.ts';
import { listenOn } from '../../local/embedded/listen.ts';

export interface RegisteredSchema {
  readonly schemaType: SchemaType;
  readonly schema: string;
}

/**
 * A loopback schema registry that speaks the part of Confluent's REST API a consumer uses:
 * `GET /schemas/ids/{id}` → `{"schema": "...", "schemaType": "..."}` (schemaType left out
 * for Avro, as Confluent does), 404 with error code 40403 for an unknown id, 401 without
 * the right basic auth when one is set, and 503 while `down`. Counts the requests per id.
 */
export class LoopbackSchemaRegistry {
  readonly requests = new Map<number, number>();
  /** Requests answered with a schema or "not found" (not refused, not while down). */
  readonly answered = new Map<number, number>();
  down = false;
  private readonly schemas = new Map<number, RegisteredSchema>();
  private server: Server | null = null;
  private port = 0;

  constructor(private readonly basicAuth?: { username: string; password: string }) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  register(id: number, schema: RegisteredSchema): void {
    this.schemas.set(id, schema);
  }

  async start(): Promise<void> {
    const expected =
      this.basicAuth === undefined
        ? undefined
        : `Basic ${Buffer.from(`${this.basicAuth.username}:${this.basicAuth.password}`).toString('base64')}`;
    this.server = createServer((req, res) => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
        res.end(JSON.stringify(body));
      };
      const match = /^\/schemas\/ids\/(\d+)$/.exec(req.url ?? '');
      if (req.method !== 'GET' || match === null)
        return reply(404, { error_code: 404, message: 'HTTP 404 Not Found' });
      const id = Number(match[1]);
      this.requests.set(id, (this.requests.get(id) ?? 0) + 1);
      if (this.down)
        return reply(503, { error_code: 50003, message: 'Error while forwarding the request' });
      if (expected !== undefined && req.headers.authorization !== expected) {
        return reply(401, { error_code: 401, message: 'Unauthorized' });
      }
      const schema = this.schemas.get(id);
      this.answered.set(id, (this.answered.get(id) ?? 0) + 1);
      if (schema === undefined)
        return reply(404, { error_code: 40403, message: 'Schema not found' });
      reply(200, schema.schemaType === 'AVRO' ? { schema: schema.schema } : schema);
    });
    this.port = await listenOn(this.server);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
