import {
  EntityNotFoundException,
  GetSchemaVersionCommand,
  type GlueClient,
} from '@aws-sdk/client-glue';
import { SCHEMA_TYPES, type SchemaType } from './compile-schema.ts';
import { SchemaRegistryUnavailableError } from './errors.ts';
import type { FetchedSchema, SchemaRef, SchemaSource } from './schema-source.ts';

/**
 * Reads schema versions from the AWS Glue Schema Registry with the function's role
 * (glue:GetSchemaVersion). "SchemaVersionId: The SchemaVersionId of the schema version.
 * This field is required for fetching by schema ID." and the answer's DataFormat is AVRO,
 * JSON or PROTOBUF (https://docs.aws.amazon.com/glue/latest/webapi/API_GetSchemaVersion.html).
 */
export class GlueRegistry implements SchemaSource {
  readonly registry = 'glue';
  readonly describe = 'the AWS Glue Schema Registry';

  constructor(private readonly client: GlueClient) {}

  async fetch(ref: SchemaRef): Promise<FetchedSchema | null> {
    if (ref.registry !== 'glue') throw new Error('the Glue registry reads schema version ids only');
    try {
      const out = await this.client.send(
        new GetSchemaVersionCommand({ SchemaVersionId: ref.schemaVersionId }),
      );
      const type = out.DataFormat;
      if (typeof out.SchemaDefinition !== 'string' || !SCHEMA_TYPES.includes(type as SchemaType)) {
        throw new SchemaRegistryUnavailableError(
          `Glue schema version ${ref.schemaVersionId}: no definition of a known format (${String(type)})`,
        );
      }
      return { type: type as SchemaType, text: out.SchemaDefinition };
    } catch (error) {
      if (error instanceof EntityNotFoundException) return null;
      if (error instanceof SchemaRegistryUnavailableError) throw error;
      throw new SchemaRegistryUnavailableError(
        `Glue GetSchemaVersion ${ref.schemaVersionId}: ${(error as Error).name}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}
