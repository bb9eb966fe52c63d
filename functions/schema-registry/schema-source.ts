import type { SchemaType } from './compile-schema.ts';

/** Which schema a value names: a Confluent schema id or a Glue schema version id. */
export type SchemaRef =
  | { readonly registry: 'confluent'; readonly schemaId: number }
  | { readonly registry: 'glue'; readonly schemaVersionId: string };

export interface FetchedSchema {
  readonly type: SchemaType;
  readonly text: string;
}

/**
 * A schema registry, as the decoder needs it (the port; adapters: Confluent REST, Glue).
 * Resolves null when the registry answers that it has no such schema (ids are never
 * reused, so such records can never decode); throws SchemaRegistryUnavailableError when
 * the registry cannot be asked.
 */
export interface SchemaSource {
  readonly registry: SchemaRef['registry'];
  /** For messages: where the schemas come from (never credentials). */
  readonly describe: string;
  fetch(ref: SchemaRef): Promise<FetchedSchema | null>;
}

export function refKey(ref: SchemaRef): string {
  return ref.registry === 'confluent' ? `id ${ref.schemaId}` : `version ${ref.schemaVersionId}`;
}
