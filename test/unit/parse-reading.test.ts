import { describe, expect, it } from 'vitest';
import {
  MAX_VALUE_BYTES,
  parseReading,
  REJECT_REASONS,
} from '../../functions/core/parse-reading.ts';
import { toRawRecord } from '../helpers/kafka-events.ts';

const RECORD_TS = Date.parse('2026-11-21T10:00:00Z');

function parse(value: string | Uint8Array | null, key: string | null = null) {
  return parseReading(toRawRecord({ offset: 7, timestampMs: RECORD_TS, key, value }));
}

describe('parseReading: accepted readings', () => {
  it.each([
    ['seed CSV', 'sensor_1,150.0', { sensorId: 'sensor_1', value: 150, eventTimeMs: RECORD_TS }],
    [
      'CSV with spaces',
      '  sensor_1 , 59.21  ',
      { sensorId: 'sensor_1', value: 59.21, eventTimeMs: RECORD_TS },
    ],
    [
      'CSV with epoch ms',
      'sensor_2,-3.5,1700000000000',
      { sensorId: 'sensor_2', value: -3.5, eventTimeMs: 1_700_000_000_000 },
    ],
    [
      'CSV with ISO time',
      's,1e2,2026-11-21T09:59:00.250+01:00',
      { sensorId: 's', value: 100, eventTimeMs: Date.parse('2026-11-21T08:59:00.250Z') },
    ],
    [
      'JSON',
      '{"sensorId":"a","value":1.5,"timestamp":1700000000000}',
      { sensorId: 'a', value: 1.5, eventTimeMs: 1_700_000_000_000 },
    ],
    [
      'JSON sensor_id and ts',
      '{"sensor_id":"b","value":2,"ts":"2026-11-21T10:00:00Z"}',
      { sensorId: 'b', value: 2, eventTimeMs: RECORD_TS },
    ],
    [
      'JSON numeric string value',
      '{"sensorId":"c","value":"42.5"}',
      { sensorId: 'c', value: 42.5, eventTimeMs: RECORD_TS },
    ],
    ['zero', 'z,0', { sensorId: 'z', value: 0, eventTimeMs: RECORD_TS }],
    ['unicode id', 'Kessel-Ü1,3', { sensorId: 'Kessel-Ü1', value: 3, eventTimeMs: RECORD_TS }],
    [
      'event time 4 min ahead',
      `s,1,${RECORD_TS + 240_000}`,
      { sensorId: 's', value: 1, eventTimeMs: RECORD_TS + 240_000 },
    ],
  ])('%s', (_name, value, expected) => {
    // Act
    const result = parse(value);
    // Assess
    expect(result).toEqual({
      ok: true,
      reading: { ...expected, source: { topic: 'sensor-data', partition: 0, offset: 7 } },
    });
  });

  it('takes the sensor id from the record key when the JSON has none', () => {
    const result = parse('{"value": 12}', 'boiler-7');
    expect(result.ok && result.reading.sensorId).toBe('boiler-7');
  });

  it('prefers the JSON sensor id over the key', () => {
    const result = parse('{"sensorId":"inside","value": 12}', 'key-id');
    expect(result.ok && result.reading.sensorId).toBe('inside');
  });
});

describe('parseReading: rejected records', () => {
  const R = REJECT_REASONS;
  it.each([
    ['null value', null, R.emptyValue],
    ['empty value', '', R.emptyValue],
    ['blank value', '   \n', R.emptyValue],
    ['over 64 KiB', `s,1,${' '.repeat(MAX_VALUE_BYTES)}`, R.tooLarge],
    ['invalid UTF-8', new Uint8Array([0x73, 0x2c, 0xff, 0xfe]), R.notUtf8],
    ['one CSV field', 'sensor_1', R.malformed],
    ['four CSV fields', 'a,1,2,3', R.malformed],
    ['JSON array', '[1,2]', R.malformed],
    ['broken JSON', '{"sensorId":', R.malformed],
    ['JSON without id or key', '{"value":1}', R.missingSensorId],
    ['empty CSV id', ',5', R.missingSensorId],
    ['numeric JSON id', '{"sensorId":5,"value":1}', R.malformed],
    ['id over 256 bytes', `${'x'.repeat(257)},1`, R.sensorIdTooLong],
    ['multi-byte id over 256 bytes', `${'Ü'.repeat(129)},1`, R.sensorIdTooLong],
    [
      'id with newline (JSON)',
      '{"sensorId":"a\\nANOMALY → fake","value":1}',
      R.sensorIdControlChars,
    ],
    ['id with NUL', '{"sensorId":"a\\u0000b","value":1}', R.sensorIdControlChars],
    ['id with line separator', '{"sensorId":"a\\u2028b","value":1}', R.sensorIdControlChars],
    ['id with a bidi override', '{"sensorId":"a\\u202eb","value":1}', R.sensorIdControlChars],
    ['id with a lone surrogate', '{"sensorId":"a\\ud800","value":1}', R.notUtf8],
    ['NaN', 's,NaN', R.invalidValue],
    ['Infinity', 's,Infinity', R.invalidValue],
    ['abc', 's,abc', R.invalidValue],
    ['hex', 's,0x10', R.invalidValue],
    ['JSON null value', '{"sensorId":"s","value":null}', R.invalidValue],
    ['JSON missing value', '{"sensorId":"s"}', R.invalidValue],
    ['JSON boolean value', '{"sensorId":"s","value":true}', R.invalidValue],
    ['overflow to Infinity', 's,1e400', R.invalidValue],
    ['huge value', 's,1e16', R.valueOutOfRange],
    ['tiny value', 's,1e-70', R.valueOutOfRange],
    ['timestamp text', 's,1,yesterday', R.badTimestamp],
    ['ISO without zone', 's,1,2026-11-21T10:00:00', R.badTimestamp],
    ['negative timestamp', 's,1,-5', R.badTimestamp],
    ['JSON timestamp object', '{"sensorId":"s","value":1,"timestamp":{}}', R.badTimestamp],
    ['event time 6 min ahead', `s,1,${RECORD_TS + 360_000}`, R.futureTimestamp],
  ])('%s → %s', (_name, value, reason) => {
    // Act
    const result = parse(value);
    // Assess
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toBe(reason);
  });

  it('rejects a record whose own timestamp is outside the Date range when the reading has none', () => {
    const record = toRawRecord({ offset: 1, timestampMs: 9e15, value: 's,1' });
    expect(parseReading(record)).toMatchObject({ ok: false, reason: REJECT_REASONS.badTimestamp });
  });

  it('rejects a value whose base64 was malformed', () => {
    const record = {
      ...toRawRecord({ offset: 1, timestampMs: RECORD_TS, value: null }),
      malformedBase64: true,
    };
    expect(parseReading(record)).toMatchObject({
      ok: false,
      reason: REJECT_REASONS.malformedBase64,
    });
  });
});
