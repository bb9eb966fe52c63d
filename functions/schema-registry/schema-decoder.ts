import { inflateSync } from 'node:zlib';
import type { DecodedValue, ValueDecoder } from '../core/readings/parse-record.ts';
import type { RawRecord } from '../core/types.ts';
import { type CompiledSchema, compileSchema } from './compile-schema.ts';
import { SchemaNotPreparedError } from './errors.ts';
import { refKey, type SchemaRef, type SchemaSource } from './schema-source.ts';
import { type Framed, unframe } from './wire-format.ts';

/** A schema that decodes, or why records naming it cannot be read (unknown, does not compile). */
type Entry = { readonly schema: CompiledSchema } | { readonly unusable: string };

export interface SchemaDecoderOptions {
  /** Schemas kept; past this many the cache starts again. @default 1000 */
  readonly maxSchemas?: number;
  /** Schemas fetched at once by one prepare. @default 4 */
  readonly fetchConcurrency?: number;
}

/**
 * Decodes schema-registry values in the function. Fetching is asynchronous and judging is
 * not, so a batch is decoded in two steps: `await prepare(records)` fetches the schemas the
 * batch names that are not cached yet (throwing SchemaRegistryUnavailableError when the
 * registry cannot be asked: the batch is retried), then `decode` works synchronously from
 * the cache, for parseRecord. Each schema is fetched once per container.
 */
export class SchemaRegistryDecoder implements ValueDecoder {
  private readonly cache = new Map<string, Entry>();
  /** Fetches under way, by schema: at most one per schema at a time. */
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly maxSchemas: number;
  private readonly fetchConcurrency: number;
  /** Registry requests made, for tests and logs. */
  fetches = 0;

  constructor(
    private readonly source: SchemaSource,
    options: SchemaDecoderOptions = {},
  ) {
    this.maxSchemas = options.maxSchemas ?? 1000;
    this.fetchConcurrency = options.fetchConcurrency ?? 4;
  }

  /** Fetches the schemas of a batch's framed values that are not cached yet. */
  async prepare(records: readonly RawRecord[]): Promise<void> {
    const named = new Map<string, SchemaRef>();
    for (const record of records) {
      if (record.value === null || record.value.length === 0) continue;
      const framed = unframe(record.value);
      if (framed === null || 'broken' in framed || framed.registry !== this.source.registry)
        continue;
      const ref = refOf(framed);
      named.set(refKey(ref), ref);
    }
    // A fetch still running is awaited, not repeated: a batch that failed on one schema leaves
    // its other fetches running, and its retry comes while they are. What it did not get is
    // fetched again below.
    const running = [...named.keys()].flatMap((key) => this.inflight.get(key) ?? []);
    if (running.length > 0) await Promise.allSettled(running);
    const missing = [...named.entries()].filter(([key]) => !this.cache.has(key));
    if (missing.length === 0) return;
    // A batch that names more schemas than the cache holds still decodes: the cache grows
    // for it, and starts again at the next batch.
    if (this.cache.size + missing.length > this.maxSchemas) this.cache.clear();
    const work = async () => {
      for (let next = missing.pop(); next !== undefined; next = missing.pop()) {
        const [key, ref] = next;
        this.fetches += 1;
        const fetching = this.source
          .fetch(ref)
          .then((fetched) => {
            this.cache.set(key, entryOf(ref, fetched));
          })
          .finally(() => this.inflight.delete(key));
        this.inflight.set(key, fetching);
        await fetching;
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.fetchConcurrency, missing.length) }, work),
    );
  }

  decode(bytes: Uint8Array): DecodedValue | null {
    const framed = unframe(bytes);
    if (framed === null) return null;
    if ('broken' in framed) return { ok: false, detail: framed.broken };
    if (framed.registry !== this.source.registry) {
      return {
        ok: false,
        detail: `a ${framed.registry === 'glue' ? 'Glue' : 'Confluent'}-framed value, and the registry is ${this.source.describe}`,
      };
    }
    const ref = refOf(framed);
    const entry = this.cache.get(refKey(ref));
    if (entry === undefined) {
      throw new SchemaNotPreparedError(
        `schema ${refKey(ref)} was not fetched: call prepare(records) first`,
      );
    }
    if ('unusable' in entry) return { ok: false, detail: entry.unusable };
    try {
      const payload =
        framed.registry === 'glue' && framed.zlib ? inflateSync(framed.payload) : framed.payload;
      return { ok: true, value: entry.schema.decode(payload, framed.registry) };
    } catch (error) {
      return {
        ok: false,
        detail: `${entry.schema.type} ${refKey(ref)}: ${(error as Error).message}`,
      };
    }
  }
}

function refOf(framed: Framed): SchemaRef {
  return framed.registry === 'confluent'
    ? { registry: 'confluent', schemaId: framed.schemaId }
    : { registry: 'glue', schemaVersionId: framed.schemaVersionId };
}

function entryOf(ref: SchemaRef, fetched: Awaited<ReturnType<SchemaSource['fetch']>>): Entry {
  if (fetched === null) return { unusable: `schema ${refKey(ref)} is unknown to the registry` };
  try {
    return { schema: compileSchema(fetched.type, fetched.text) };
  } catch (error) {
    return {
      unusable: `${fetched.type} schema ${refKey(ref)} does not compile: ${(error as Error).message}`,
    };
  }
}
