import type { GlueClient } from '@aws-sdk/client-glue';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/config.ts';
import { parseRecord } from '../../functions/core/readings/parse-record.ts';
import type { RawRecord } from '../../functions/core/types.ts';
import { readingSettingsFromEnv } from '../../functions/schema-registry/registry-config.ts';
import { decoderFromSettings } from '../../functions/schema-registry/registry-decoder.ts';
import { fixtureRecords, registerFixtureSchemas } from '../helpers/schema-registry-fixtures.ts';
import { LoopbackSchemaRegistry } from '../helpers/schema-registry-server.ts';

describe('reading settings from the environment the construct sets', () => {
  it.each([
    [{}, { fields: {} }],
    [
      {
        SCHEMA_REGISTRY: 'confluent',
        SCHEMA_REGISTRY_URL: 'https://sr.example.com',
        READING_FIELDS: '{"sensorId":"device"}',
      },
      {
        registry: { kind: 'confluent', url: 'https://sr.example.com' },
        fields: { sensorId: 'device' },
      },
    ],
    [{ SCHEMA_REGISTRY: 'glue' }, { registry: { kind: 'glue' }, fields: {} }],
  ])('%j', (env, expected) => {
    expect(readingSettingsFromEnv(env)).toEqual(expected);
  });

  it.each([
    [{ SCHEMA_REGISTRY: 'apicurio' }, 'SCHEMA_REGISTRY: confluent or glue (got apicurio)'],
    [
      { SCHEMA_REGISTRY: 'confluent' },
      "SCHEMA_REGISTRY_URL: the registry's http(s) URL (got nothing)",
    ],
    [
      { READING_FIELDS: '{"value":"a..b"}' },
      'READING_FIELDS: field path "a..b": want name or name.name (got {"value":"a..b"})',
    ],
    [{ READING_FIELDS: 'device' }, 'READING_FIELDS: not JSON (got device)'],
  ])('rejects %j', (env, message) => {
    expect(() => readingSettingsFromEnv(env)).toThrow(new ConfigError(message));
  });

  it('reads basic auth from the secret on the first fetch, once', async () => {
    const registry = new LoopbackSchemaRegistry({ username: 'api-key', password: 'api-secret' });
    registerFixtureSchemas(registry);
    await registry.start();
    try {
      let reads = 0;
      const decoder = decoderFromSettings(
        readingSettingsFromEnv({
          SCHEMA_REGISTRY: 'confluent',
          SCHEMA_REGISTRY_URL: registry.url,
          SCHEMA_REGISTRY_SECRET_ARN: 'arn:secret',
        }),
        {
          readSecret: async () => {
            reads += 1;
            return '{"username":"api-key","password":"api-secret"}';
          },
          glue: () => ({}) as GlueClient,
        },
      );
      const records = [
        ...fixtureRecords('avro-topic.jsonl'),
        ...fixtureRecords('protobuf-topic.jsonl'),
      ];
      await decoder?.prepare(records);
      expect(reads).toBe(1);
      expect(
        parseRecord(records[0] as RawRecord, { decoder, fields: { sensorId: 'sensor' } }).ok,
      ).toBe(true);
    } finally {
      await registry.stop();
    }
  });
});
