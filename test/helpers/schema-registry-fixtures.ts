import { readFileSync } from 'node:fs';
import type { RawRecord } from '../../functions/core/types.ts';
import type { LoopbackSchemaRegistry } from './schema-registry-server.ts';

export const SCHEMA_FIXTURES = new URL('../fixtures/schema-registry/', import.meta.url);
const FIXTURES = SCHEMA_FIXTURES;

/** The records of a fixture topic, as the function gets them (one partition, in order). */
export function fixtureRecords(file: string, topic = 'plant'): RawRecord[] {
  return readFileSync(new URL(file, FIXTURES), 'utf8')
    .trim()
    .split('\n')
    .map((line, offset) => {
      const r = JSON.parse(line) as {
        key: string | null;
        valueBase64: string;
        timestampMs: number;
      };
      return {
        topic,
        partition: 0,
        offset,
        timestampMs: r.timestampMs,
        key: r.key === null ? null : new TextEncoder().encode(r.key),
        value: Buffer.from(r.valueBase64, 'base64'),
      };
    });
}

export function registerFixtureSchemas(registry: LoopbackSchemaRegistry): void {
  registry.register(1, {
    schemaType: 'AVRO',
    schema: readFileSync(new URL('reading.avsc', FIXTURES), 'utf8'),
  });
  registry.register(2, {
    schemaType: 'PROTOBUF',
    schema: readFileSync(new URL('gateway.proto', FIXTURES), 'utf8'),
  });
  registry.register(3, { schemaType: 'JSON', schema: '{"type":"object"}' });
}
