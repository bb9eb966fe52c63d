import { readFileSync } from 'node:fs';
import { EntityNotFoundException, type GlueClient } from '@aws-sdk/client-glue';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { REJECT_REASONS } from '../../functions/core/parse-reading.ts';
import { parseRecord } from '../../functions/core/readings/parse-record.ts';
import type { RawRecord } from '../../functions/core/types.ts';
import { SchemaRegistryUnavailableError } from '../../functions/schema-registry/errors.ts';
import { GlueRegistry } from '../../functions/schema-registry/glue-registry.ts';
import { SchemaRegistryDecoder } from '../../functions/schema-registry/schema-decoder.ts';
import { glueFrame } from '../../functions/schema-registry/wire-format.ts';
import { fixtureRecords } from '../helpers/schema-registry-fixtures.ts';

const FIXTURES = new URL('../fixtures/schema-registry/', import.meta.url);
const AVRO_VERSION = 'b7b4a7f0-0f5c-4c1e-9a39-2f1b9a0c6d11';
const PROTO_VERSION = '00000000-0000-4000-8000-000000000002';
const T0 = Date.parse('2026-11-21T10:00:00Z');

/** A Glue client narrowed to GetSchemaVersion: the one call the decoder makes. */
function fakeGlue(answer: (versionId: string) => unknown): { client: GlueClient; calls: string[] } {
  const calls: string[] = [];
  const client = {
    send: async (command: { input: { SchemaVersionId: string } }) => {
      calls.push(command.input.SchemaVersionId);
      const out = answer(command.input.SchemaVersionId);
      if (out instanceof Error) throw out;
      return out;
    },
  } as unknown as GlueClient;
  return { client, calls };
}

const definitions: Record<string, { DataFormat: string; SchemaDefinition: string }> = {
  [AVRO_VERSION]: {
    DataFormat: 'AVRO',
    SchemaDefinition: readFileSync(new URL('reading.avsc', FIXTURES), 'utf8'),
  },
  [PROTO_VERSION]: {
    DataFormat: 'PROTOBUF',
    SchemaDefinition: readFileSync(new URL('gateway.proto', FIXTURES), 'utf8'),
  },
};
const known = (id: string) =>
  definitions[id] ??
  new EntityNotFoundException({ message: 'Schema version is not found.', $metadata: {} });

describe('the Glue schema registry format (header 3, compression, schema version UUID)', () => {
  it('decodes the Glue Avro topic, uncompressed and zlib-compressed, with one GetSchemaVersion', async () => {
    const { client, calls } = fakeGlue(known);
    const decoder = new SchemaRegistryDecoder(new GlueRegistry(client));
    const records = fixtureRecords('glue-avro-topic.jsonl');
    await decoder.prepare(records);
    await decoder.prepare(records);
    expect(
      records.map((r) => parseRecord(r, { decoder, fields: { sensorId: 'sensor' } })),
    ).toMatchObject([
      { ok: true, readings: [{ sensorId: 'pump_2', value: 20, eventTimeMs: T0 }] },
      { ok: true, readings: [{ sensorId: 'pump_2', value: 21, eventTimeMs: T0 + 1000 }] },
    ]);
    expect(calls).toEqual([AVRO_VERSION]);
  });

  it("finds a Protobuf message by Glue's index: all messages sorted by full name", async () => {
    const { client } = fakeGlue(known);
    const decoder = new SchemaRegistryDecoder(new GlueRegistry(client));
    const root = protobuf.parse(definitions[PROTO_VERSION]?.SchemaDefinition ?? '').root;
    const Gateway = root.lookupType('plant.gateway.v1.GatewayReading');
    const message = Gateway.encode({
      device: 'gw_1',
      time_ms: T0,
      pressure: 3.5,
      temperature: 60,
    }).finish();
    // GatewayReading sorts before Heartbeat: index 0.
    const value = glueFrame(PROTO_VERSION, Buffer.concat([Buffer.from([0]), message]));
    const record: RawRecord = {
      topic: 't',
      partition: 0,
      offset: 0,
      timestampMs: T0,
      key: null,
      value,
    };
    await decoder.prepare([record]);
    expect(
      parseRecord(record, { decoder, fields: { sensorId: 'device', timestamp: 'time_ms' } }),
    ).toMatchObject({
      ok: true,
      readings: [
        { sensorId: 'gw_1/pressure', value: 3.5 },
        { sensorId: 'gw_1/temperature', value: 60 },
      ],
    });
  });

  it('an unknown version is rejected; an access error fails the batch', async () => {
    const unknown = glueFrame('11111111-2222-4333-8444-555555555555', new Uint8Array([1, 2]));
    const record: RawRecord = {
      topic: 't',
      partition: 0,
      offset: 0,
      timestampMs: T0,
      key: null,
      value: unknown,
    };
    const decoder = new SchemaRegistryDecoder(new GlueRegistry(fakeGlue(known).client));
    await decoder.prepare([record]);
    expect(parseRecord(record, { decoder })).toMatchObject({
      ok: false,
      rejection: { reason: REJECT_REASONS.undecodable },
    });

    const denied = Object.assign(new Error('not authorized to perform: glue:GetSchemaVersion'), {
      name: 'AccessDeniedException',
    });
    const failing = new SchemaRegistryDecoder(new GlueRegistry(fakeGlue(() => denied).client));
    await expect(failing.prepare([record])).rejects.toThrow(SchemaRegistryUnavailableError);
    await expect(failing.prepare([record])).rejects.toThrow(/AccessDeniedException/);
  });

  it('a Glue header with an unknown compression byte is rejected', () => {
    const value = glueFrame(AVRO_VERSION, new Uint8Array([1]));
    value[1] = 9;
    const decoder = new SchemaRegistryDecoder(new GlueRegistry(fakeGlue(known).client));
    const record: RawRecord = {
      topic: 't',
      partition: 0,
      offset: 0,
      timestampMs: T0,
      key: null,
      value,
    };
    expect(parseRecord(record, { decoder })).toEqual({
      ok: false,
      rejection: { reason: REJECT_REASONS.undecodable, detail: 'unknown Glue compression byte 9' },
    });
  });
});
