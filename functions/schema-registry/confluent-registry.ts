import { SCHEMA_TYPES, type SchemaType } from './compile-schema.ts';
import { SchemaRegistryUnavailableError } from './errors.ts';
import type { FetchedSchema, SchemaRef, SchemaSource } from './schema-source.ts';

export interface BasicAuth {
  readonly username: string;
  readonly password: string;
}

export interface ConfluentRegistryOptions {
  /** The registry's base URL, e.g. https://psrc-xxxx.eu-west-1.aws.confluent.cloud */
  readonly url: string;
  /**
   * HTTP basic auth (Confluent Cloud: an API key and secret), or a function that reads it
   * (from Secrets Manager) on the first fetch. @default none
   */
  readonly basicAuth?: BasicAuth | (() => Promise<BasicAuth>);
  /** @default 5000 */
  readonly timeoutMs?: number;
}

/**
 * Reads schemas by id from a registry that speaks Confluent's REST API (Confluent Platform,
 * Confluent Cloud, Redpanda, Apicurio's compatibility API): `GET /schemas/ids/{id}` answers
 * `{"schema", "schemaType", "references"}`, with schemaType left out for Avro, and "404 Not
 * Found: Schema not found" for an unknown id
 * (https://docs.confluent.io/platform/current/schema-registry/develop/api.html,
 * https://docs.redpanda.com/api/doc/schema-registry/operation/operation-get_schemas_ids_id).
 * Schemas with references (Protobuf imports) are not resolved: they do not compile.
 */
export class ConfluentRegistry implements SchemaSource {
  readonly registry = 'confluent';
  readonly describe: string;
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private credentials: (() => Promise<BasicAuth>) | null = null;
  private pendingAuth: Promise<void> | null = null;

  constructor(options: ConfluentRegistryOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.describe = `the Confluent registry at ${this.base}`;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.headers = { accept: 'application/vnd.schemaregistry.v1+json, application/json' };
    const auth = options.basicAuth;
    if (typeof auth === 'function') this.credentials = auth;
    else if (auth !== undefined) this.authorize(auth);
  }

  private authorize({ username, password }: BasicAuth): void {
    this.headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }

  async fetch(ref: SchemaRef): Promise<FetchedSchema | null> {
    if (ref.registry !== 'confluent') throw new Error('a Confluent registry reads schema ids only');
    const url = `${this.base}/schemas/ids/${ref.schemaId}`;
    const credentials = this.credentials;
    if (credentials !== null) {
      // One secret read for the fetches of a batch running at once; a failed read is tried again.
      this.pendingAuth ??= credentials().then((auth) => {
        this.authorize(auth);
        this.credentials = null;
      });
      try {
        await this.pendingAuth;
      } catch (error) {
        this.pendingAuth = null;
        throw new SchemaRegistryUnavailableError(
          `schema registry credentials: ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
    let response: Response;
    try {
      response = await fetch(url, {
        headers: this.headers,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new SchemaRegistryUnavailableError(
        `schema registry ${url}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    const text = await response.text().catch(() => '');
    if (response.status === 404) return null;
    if (!response.ok) {
      throw new SchemaRegistryUnavailableError(
        `schema registry ${url}: HTTP ${response.status} ${text.slice(0, 200)}`,
      );
    }
    let body: { schema?: unknown; schemaType?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new SchemaRegistryUnavailableError(`schema registry ${url}: the answer is not JSON`);
    }
    const type = body.schemaType ?? 'AVRO';
    if (typeof body.schema !== 'string' || !SCHEMA_TYPES.includes(type as SchemaType)) {
      // A registry that answers something else is misconfigured, not a bad record.
      throw new SchemaRegistryUnavailableError(
        `schema registry ${url}: no schema of a known type (${String(type)}) in the answer`,
      );
    }
    return { type: type as SchemaType, text: body.schema };
  }
}
