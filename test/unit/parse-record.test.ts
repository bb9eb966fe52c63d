import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseReading, REJECT_REASONS } from '../../functions/core/parse-reading.ts';
import {
  MAX_READINGS_PER_RECORD,
  type ParseRecordOptions,
  parseRecord,
  readingAlertId,
} from '../../functions/core/readings/parse-record.ts';
import { recordsFromEvent } from '../../functions/kafka-event.ts';
import { lawParameters } from '../helpers/fc-params.ts';
import { eventOf, loadHostileCorpus, planRecords } from '../helpers/hostile-corpus.ts';
import { toRawRecord } from '../helpers/kafka-events.ts';

const RECORD_TS = Date.parse('2026-11-21T10:00:00Z');

function parse(
  value: string | Uint8Array,
  options: ParseRecordOptions = {},
  key: string | null = null,
) {
  return parseRecord(toRawRecord({ offset: 7, timestampMs: RECORD_TS, key, value }), options);
}

/** [sensorId, value, eventTimeMs] of each reading, or the rejection's reason. */
function brief(
  value: string | Uint8Array,
  options: ParseRecordOptions = {},
  key: string | null = null,
) {
  const parsed = parse(value, options, key);
  if (!parsed.ok) return parsed.rejection.reason;
  return parsed.readings.map((r) => [r.sensorId, r.value, r.eventTimeMs]);
}

describe('parseRecord: several readings per record', () => {
  it.each([
    [
      'an object with several measurements (an IoT gateway)',
      '{"sensorId":"pump_1","pressure":5.2,"temperature":71}',
      {},
      [
        ['pump_1/pressure', 5.2, RECORD_TS],
        ['pump_1/temperature', 71, RECORD_TS],
      ],
    ],
    [
      'measurements with their own time; strings and booleans are not measurements',
      '{"sensor_id":"pump_1","ts":1795219200000,"pressure":5.2,"unit":"bar","ok":true}',
      {},
      [['pump_1/pressure', 5.2, 1795219200000]],
    ],
    [
      'a JSON array of readings',
      '[{"sensorId":"a","value":1},{"sensorId":"b","value":"2.5","timestamp":1795219200000}]',
      {},
      [
        ['a', 1, RECORD_TS],
        ['b', 2.5, 1795219200000],
      ],
    ],
    [
      'an array of gateway objects, keyed by the record key',
      '[{"pressure":5.2},{"pressure":5.3,"ts":"2026-11-21T09:59:00Z"}]',
      {},
      [
        ['gw/pressure', 5.2, RECORD_TS],
        ['gw/pressure', 5.3, RECORD_TS - 60_000],
      ],
    ],
    [
      'a mapping to other field names, nested',
      '{"meta":{"tag":"FIC-101"},"reading":{"v":3.5,"at":1795219200000}}',
      { fields: { sensorId: 'meta.tag', value: 'reading.v', timestamp: 'reading.at' } },
      [['FIC-101', 3.5, 1795219200000]],
    ],
    [
      'listed measurements only',
      '{"sensorId":"pump_1","pressure":5.2,"temperature":71,"rpm":1500}',
      { fields: { measurements: ['pressure', 'rpm'] } },
      [
        ['pump_1/pressure', 5.2, RECORD_TS],
        ['pump_1/rpm', 1500, RECORD_TS],
      ],
    ],
  ])('%s', (_name, value, options, expected) => {
    expect(brief(value, options, 'gw')).toEqual(expected);
  });

  it('numbers the readings after the first: alert ids <topic>-<partition>-<offset>.<i>', () => {
    const parsed = parse('[{"sensorId":"a","value":1},{"sensorId":"b","pressure":2,"flow":3}]');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.readings.map((r) => r.index)).toEqual([undefined, 1, 2]);
    expect(parsed.readings.map(readingAlertId)).toEqual([
      'sensor-data-0-7',
      'sensor-data-0-7.1',
      'sensor-data-0-7.2',
    ]);
  });

  it.each([
    ['an empty array', '[]', REJECT_REASONS.malformed, 'empty JSON array'],
    ['an array of numbers', '[1,2]', REJECT_REASONS.malformed, 'array element 0 is not an object'],
    [
      'one bad reading rejects the whole record (all or nothing)',
      '[{"sensorId":"a","value":1},{"sensorId":"b","value":"abc"}]',
      REJECT_REASONS.invalidValue,
      'element 1: value is not a finite number',
    ],
    [
      'measurements without a sensor id',
      '{"pressure":5.2,"temperature":71}',
      REJECT_REASONS.missingSensorId,
      'no sensor id',
    ],
    [
      'a measurement out of range',
      '{"sensorId":"p","pressure":5.2,"temperature":1e300}',
      REJECT_REASONS.valueOutOfRange,
      'measurement temperature: |value| outside [1e-60, 1000000000000000]',
    ],
    [
      'an object with no number at all',
      '{"sensorId":"p","unit":"bar"}',
      REJECT_REASONS.invalidValue,
      'value is not a finite number',
    ],
    [
      'a framed value without a registry',
      new Uint8Array([0, 0, 0, 0, 1, 2, 3]),
      REJECT_REASONS.undecodable,
      "value starts with byte 0 (a schema registry's wire format) and no registry is configured",
    ],
  ])('rejects %s', (_name, value, reason, detail) => {
    expect(parse(value)).toEqual({ ok: false, rejection: { reason, detail } });
  });

  it(`bounds a record to ${MAX_READINGS_PER_RECORD} readings`, () => {
    const many = Array.from({ length: MAX_READINGS_PER_RECORD + 1 }, (_, i) => ({
      sensorId: `s${i}`,
      value: i,
    }));
    expect(brief(JSON.stringify(many))).toBe(REJECT_REASONS.malformed);
    expect(brief(JSON.stringify(many.slice(1)))).toHaveLength(MAX_READINGS_PER_RECORD);
  });

  it('reads a decoded value with the same mapping, and rejects one that does not decode', () => {
    const decoder = {
      decode: (bytes: Uint8Array) =>
        bytes[4] === 1
          ? { ok: true as const, value: { tag: 'p1', v: 4.5, at: new Date(RECORD_TS - 1000) } }
          : { ok: false as const, detail: 'Avro: truncated buffer' },
    };
    const fields = { sensorId: 'tag', value: 'v', timestamp: 'at' };
    expect(brief(new Uint8Array([0, 0, 0, 0, 1]), { decoder, fields })).toEqual([
      ['p1', 4.5, RECORD_TS - 1000],
    ]);
    expect(parse(new Uint8Array([0, 0, 0, 0, 2]), { decoder, fields })).toEqual({
      ok: false,
      rejection: { reason: REJECT_REASONS.undecodable, detail: 'Avro: truncated buffer' },
    });
  });
});

describe('parseRecord agrees with parseReading on every single-reading record', () => {
  it('the hostile corpus: the same reading or the same rejection', () => {
    const cases = loadHostileCorpus().map((c, index) => ({ c, index }));
    const records = recordsFromEvent(eventOf(planRecords(cases, { topic: 't', partition: 0 })));
    expect(records.length).toBeGreaterThan(cases.length);
    for (const record of records) {
      const one = parseReading(record);
      const many = parseRecord(record);
      if (one.ok) expect(many).toEqual({ ok: true, readings: [one.reading] });
      else if (record.value?.[0] === 0x5b) {
        // An array is now a list of readings: the same reason, a detail naming the element.
        expect(many).toMatchObject({ ok: false, rejection: { reason: one.reason } });
      } else {
        expect(many).toEqual({ ok: false, rejection: { reason: one.reason, detail: one.detail } });
      }
    }
  });

  it('generated CSV and JSON readings', () => {
    const field = fc.oneof(
      fc.constantFrom(
        '',
        'null',
        'abc',
        '1e400',
        '0x10',
        '"7"',
        '-0',
        '1795219200000',
        '"2026-11-21T10:00:00Z"',
      ),
      fc.double().map(String),
      fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s)),
    );
    const json = fc
      .record({ sensorId: field, value: field, timestamp: field, ts: field }, { requiredKeys: [] })
      .map(
        (o) =>
          `{${Object.entries(o)
            .map(([k, v]) => `"${k}":${v}`)
            .join(',')}}`,
      );
    const csv = fc
      .array(fc.string({ maxLength: 6 }), { minLength: 1, maxLength: 4 })
      .map((f) => f.join(','));
    fc.assert(
      fc.property(fc.oneof(json, csv), fc.option(fc.string({ maxLength: 4 })), (value, key) => {
        const record = toRawRecord({ offset: 1, timestampMs: RECORD_TS, key, value });
        const one = parseReading(record);
        const many = parseRecord(record);
        // A JSON object without a value field but with numbers is the one shape read differently.
        if (!one.ok && many.ok) {
          expect(one.reason).toBe(REJECT_REASONS.invalidValue);
          expect(many.readings.every((r) => r.sensorId.includes('/'))).toBe(true);
          return;
        }
        if (one.ok) expect(many).toEqual({ ok: true, readings: [one.reading] });
        else expect(many).toMatchObject({ ok: false, rejection: { reason: one.reason } });
      }),
      lawParameters(500),
    );
  });
});
