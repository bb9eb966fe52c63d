import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REJECT_REASONS } from '../../functions/core/parse-reading.ts';
import type { FieldMapping } from '../../functions/core/readings/field-mapping.ts';
import { parseRecord, type RecordParse } from '../../functions/core/readings/parse-record.ts';
import type { RawRecord } from '../../functions/core/types.ts';
import { ConfluentRegistry } from '../../functions/schema-registry/confluent-registry.ts';
import {
  SchemaNotPreparedError,
  SchemaRegistryUnavailableError,
} from '../../functions/schema-registry/errors.ts';
import { SchemaRegistryDecoder } from '../../functions/schema-registry/schema-decoder.ts';
import type { SchemaSource } from '../../functions/schema-registry/schema-source.ts';
import { fixtureRecords, registerFixtureSchemas } from '../helpers/schema-registry-fixtures.ts';
import { LoopbackSchemaRegistry } from '../helpers/schema-registry-server.ts';

const AVRO_FIELDS: FieldMapping = { sensorId: 'sensor' };
const PROTO_FIELDS: FieldMapping = { sensorId: 'device', timestamp: 'time_ms' };

function brief(result: RecordParse) {
  if (!result.ok) return result.rejection.reason;
  return result.readings.map((r) => [r.sensorId, r.value, r.eventTimeMs]);
}

const T0 = Date.parse('2026-11-21T10:00:00Z');

describe('schema-registry values decoded in the function (loopback Confluent registry)', () => {
  const registry = new LoopbackSchemaRegistry({ username: 'key', password: 'secret' });
  const source = () =>
    new ConfluentRegistry({
      url: registry.url,
      basicAuth: { username: 'key', password: 'secret' },
    });

  beforeAll(async () => {
    registerFixtureSchemas(registry);
    await registry.start();
  });
  afterAll(() => registry.stop());
  afterEach(() => {
    registry.down = false;
    registry.requests.clear();
    registry.answered.clear();
  });

  it('reads the Avro topic: readings, a truncated record and an unknown schema id rejected', async () => {
    const decoder = new SchemaRegistryDecoder(source());
    const records = fixtureRecords('avro-topic.jsonl');
    await decoder.prepare(records);
    const parsed = records.map((r) => parseRecord(r, { decoder, fields: AVRO_FIELDS }));
    expect(parsed.slice(0, 12).map(brief)).toEqual(
      Array.from({ length: 12 }, (_, i) => [
        ['pump_1', i === 8 ? 150 : 50 + (i % 3) - 1, T0 + i * 1000],
      ]),
    );
    expect(parsed[12]).toMatchObject({
      ok: false,
      rejection: { reason: REJECT_REASONS.undecodable },
    });
    expect(parsed[13]).toEqual({
      ok: false,
      rejection: {
        reason: REJECT_REASONS.undecodable,
        detail: 'schema id 99 is unknown to the registry',
      },
    });
    expect(Object.fromEntries(registry.requests)).toEqual({ 1: 1, 99: 1 });
  });

  it('reads the Protobuf topic: a gateway message is several readings, message index [1]', async () => {
    const decoder = new SchemaRegistryDecoder(source());
    const records = fixtureRecords('protobuf-topic.jsonl');
    await decoder.prepare(records);
    const parsed = records.map((r) => parseRecord(r, { decoder, fields: PROTO_FIELDS }));
    expect(brief(parsed[0] as RecordParse)).toEqual([
      ['gw_7/pressure', 5.2, T0],
      ['gw_7/temperature', 71, T0],
    ]);
    expect(parsed.slice(0, 6).every((p) => p.ok && p.readings.length === 2)).toBe(true);
    // The heartbeat (index [0]) decodes but holds no measurement.
    expect(parsed[6]).toMatchObject({
      ok: false,
      rejection: { reason: REJECT_REASONS.invalidValue },
    });
  });

  it('reads JSON Schema values', async () => {
    const decoder = new SchemaRegistryDecoder(source());
    const { confluentFrame } = await import('../../functions/schema-registry/wire-format.ts');
    const value = confluentFrame(3, new TextEncoder().encode('{"sensorId":"t1","value":4.5}'));
    const record: RawRecord = {
      topic: 't',
      partition: 0,
      offset: 0,
      timestampMs: T0,
      key: null,
      value,
    };
    await decoder.prepare([record]);
    expect(brief(parseRecord(record, { decoder }))).toEqual([['t1', 4.5, T0]]);
  });

  it('fetches each schema once per container, over many batches', async () => {
    const decoder = new SchemaRegistryDecoder(source());
    const records = [
      ...fixtureRecords('avro-topic.jsonl'),
      ...fixtureRecords('protobuf-topic.jsonl'),
    ];
    for (let i = 0; i < 5; i += 1) await decoder.prepare(records);
    expect(Object.fromEntries(registry.requests)).toEqual({ 1: 1, 2: 1, 99: 1 });
    expect(decoder.fetches).toBe(3);
  });

  it('a retry while a failed batch’s other fetches still run waits for them: each schema asked once', async () => {
    // Prepare: schema 99's first request is refused at once, schema 1's answer takes 300 ms
    const real = source();
    let refused = false;
    const flaky: SchemaSource = {
      registry: real.registry,
      describe: real.describe,
      fetch: async (ref) => {
        if (ref.registry === 'confluent' && ref.schemaId === 99 && !refused) {
          refused = true;
          throw new SchemaRegistryUnavailableError('refused');
        }
        const answer = await real.fetch(ref);
        if (ref.registry === 'confluent' && ref.schemaId === 1)
          await new Promise((resolve) => setTimeout(resolve, 300));
        return answer;
      },
    };
    const decoder = new SchemaRegistryDecoder(flaky);
    const records = fixtureRecords('avro-topic.jsonl'); // ids 1 and 99
    // Act: the batch fails on 99 while 1 is on its way; the retry comes at once
    await expect(decoder.prepare(records)).rejects.toBeInstanceOf(SchemaRegistryUnavailableError);
    await decoder.prepare(records);
    // Assess: the retry waited for schema 1's fetch rather than asking again
    expect(Object.fromEntries(registry.requests)).toEqual({ 1: 1, 99: 1 });
    expect(parseRecord(records[0] as RawRecord, { decoder, fields: AVRO_FIELDS }).ok).toBe(true);
  });

  it('at its bound, the cache starts again and every schema of the batch still decodes', async () => {
    const decoder = new SchemaRegistryDecoder(source(), { maxSchemas: 2 });
    const avro = fixtureRecords('avro-topic.jsonl');
    const proto = fixtureRecords('protobuf-topic.jsonl');
    await decoder.prepare(avro); // ids 1 and 99: full
    await decoder.prepare(proto); // id 2: over the bound, starts again
    expect(parseRecord(proto[0] as RawRecord, { decoder, fields: PROTO_FIELDS }).ok).toBe(true);
    expect(() => parseRecord(avro[0] as RawRecord, { decoder })).toThrow(SchemaNotPreparedError);
    await decoder.prepare(avro);
    expect(parseRecord(avro[0] as RawRecord, { decoder, fields: AVRO_FIELDS }).ok).toBe(true);
    expect(registry.requests.get(1)).toBe(2);
  });

  it('a registry that cannot answer fails the batch (retryable); nothing is judged without its schema', async () => {
    const decoder = new SchemaRegistryDecoder(source());
    const records = fixtureRecords('avro-topic.jsonl');
    registry.down = true;
    await expect(decoder.prepare(records)).rejects.toBeInstanceOf(SchemaRegistryUnavailableError);
    expect(() => parseRecord(records[0] as RawRecord, { decoder })).toThrow(SchemaNotPreparedError);
    registry.down = false;
    await decoder.prepare(records);
    expect(parseRecord(records[0] as RawRecord, { decoder, fields: AVRO_FIELDS }).ok).toBe(true);
  });

  it('wrong credentials and an unreachable registry fail the batch, naming the registry', async () => {
    const wrong = new SchemaRegistryDecoder(
      new ConfluentRegistry({
        url: registry.url,
        basicAuth: { username: 'key', password: 'nope' },
      }),
    );
    const records = fixtureRecords('avro-topic.jsonl');
    await expect(wrong.prepare(records)).rejects.toThrow(/HTTP 401/);
    const nowhere = new SchemaRegistryDecoder(
      new ConfluentRegistry({ url: 'http://127.0.0.1:1', timeoutMs: 500 }),
    );
    await expect(nowhere.prepare(records)).rejects.toThrow(SchemaRegistryUnavailableError);
  });

  it('a Glue-framed value reaching a Confluent decoder is rejected, not a batch failure', async () => {
    const decoder = new SchemaRegistryDecoder(source());
    const records = fixtureRecords('glue-avro-topic.jsonl');
    await decoder.prepare(records);
    expect(parseRecord(records[0] as RawRecord, { decoder })).toMatchObject({
      ok: false,
      rejection: { reason: REJECT_REASONS.undecodable },
    });
  });
});
