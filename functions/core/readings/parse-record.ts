import {
  type Fields,
  framedWithoutRegistry,
  keyText,
  type ParseResult,
  parseReading,
  REJECT_REASONS,
  type Rejected,
  type RejectReason,
  readingFromFields,
  valueBytes,
} from '../parse-reading.ts';
import type { RawRecord, Reading } from '../types.ts';
import { type FieldMapping, fieldAt } from './field-mapping.ts';

/** Why a record holds no reading: a stable reason code and a short detail. */
export interface RecordRejection {
  readonly reason: RejectReason;
  readonly detail: string;
}

export type RecordParse =
  | { readonly ok: true; readonly readings: readonly Reading[] }
  | { readonly ok: false; readonly rejection: RecordRejection };

/** What a schema decoder makes of a value: its fields, or why they cannot be read. */
export type DecodedValue =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly detail: string };

/**
 * Decodes values framed by a schema registry (synchronously: the schemas were fetched by an
 * earlier `prepare`). Returns null for a value that is not framed, which is then read as text.
 */
export interface ValueDecoder {
  decode(bytes: Uint8Array): DecodedValue | null;
}

export interface ParseRecordOptions {
  readonly fields?: FieldMapping;
  readonly decoder?: ValueDecoder;
}

/**
 * Bounds what one record can cause. A record is judged whole, so its anomalies must fit the
 * partition's outbox at once: 64 alerts of the largest size fill its 96 KB budget
 * (functions/adapters/dynamodb/codecs.ts, MAX_ALERT_BYTES). A gateway with more measurements
 * sends them in several records.
 */
export const MAX_READINGS_PER_RECORD = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const CONFLUENT_MAGIC = 0x00;
const GLUE_HEADER_VERSION = 0x03;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const QUOTE = 0x22;
const DEFAULT_SENSOR_FIELDS = ['sensorId', 'sensor_id'];
const DEFAULT_TIME_FIELDS = ['timestamp', 'ts'];

/**
 * Turns one Kafka record into its readings, or says precisely why it holds none. A record is
 * one CSV or JSON reading (as parseReading), a JSON array of readings, an object with several
 * measurements of one sensor (`{"sensorId":"pump_1","pressure":5.2,"temperature":71}` →
 * `pump_1/pressure`, `pump_1/temperature`), or any of these encoded with a schema registry.
 * All or nothing: one invalid reading rejects its record, so a record is either applied or
 * counted as rejected, never half. Never throws.
 */
export function parseRecord(record: RawRecord, options: ParseRecordOptions = {}): RecordParse {
  const bytes = valueBytes(record);
  if (!(bytes instanceof Uint8Array)) return rejected(bytes);
  const first = bytes[0] as number;
  if (first === CONFLUENT_MAGIC || first === GLUE_HEADER_VERSION) {
    const decoded = options.decoder?.decode(bytes);
    if (decoded === undefined) return rejected(framedWithoutRegistry(bytes) as Rejected);
    if (decoded !== null) {
      if (!decoded.ok) return rejection(REJECT_REASONS.undecodable, decoded.detail);
      return readingsOf(decoded.value, record, options.fields ?? {});
    }
  }
  const mapped = options.fields !== undefined && Object.keys(options.fields).length > 0;
  if (!mapped && first !== OPEN_BRACKET && first !== OPEN_BRACE) {
    // One CSV reading (or malformed text): the single-reading parser is the reference.
    return single(parseReading(record));
  }
  let text: string;
  try {
    text = utf8.decode(bytes).trim();
  } catch {
    return rejection(REJECT_REASONS.notUtf8, 'value is not UTF-8');
  }
  const opens = text.charCodeAt(0);
  if (opens !== OPEN_BRACE && opens !== OPEN_BRACKET && opens !== QUOTE) {
    return single(parseReading(record));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return rejection(REJECT_REASONS.malformed, 'invalid JSON');
  }
  return readingsOf(parsed, record, options.fields ?? {});
}

/**
 * The alert id of a reading: `<topic>-<partition>-<offset>` for a record's first (or only)
 * reading, `<topic>-<partition>-<offset>.<i>` for its i-th one after it; the same on every
 * retry, so subscribers can de-duplicate.
 */
export function readingAlertId(reading: Reading): string {
  const { topic, partition, offset } = reading.source;
  const base = `${topic}-${partition}-${offset}`;
  return reading.index === undefined || reading.index === 0 ? base : `${base}.${reading.index}`;
}

function readingsOf(value: unknown, record: RawRecord, mapping: FieldMapping): RecordParse {
  if (Array.isArray(value)) {
    if (value.length === 0) return rejection(REJECT_REASONS.malformed, 'empty JSON array');
    const readings: Reading[] = [];
    for (const [i, element] of value.entries()) {
      if (!isObject(element)) {
        return rejection(REJECT_REASONS.malformed, `array element ${i} is not an object`);
      }
      const own = readingsOfObject(element, record, mapping, readings.length);
      if (!own.ok) return prefixed(own, `element ${i}`);
      readings.push(...own.readings);
      if (readings.length > MAX_READINGS_PER_RECORD) return tooMany();
    }
    return { ok: true, readings };
  }
  if (!isObject(value)) return rejection(REJECT_REASONS.malformed, 'JSON is not an object');
  return readingsOfObject(value, record, mapping, 0);
}

function readingsOfObject(
  object: Readonly<Record<string, unknown>>,
  record: RawRecord,
  mapping: FieldMapping,
  firstIndex: number,
): RecordParse {
  let sensorId =
    mapping.sensorId === undefined
      ? firstDefined(object, DEFAULT_SENSOR_FIELDS)
      : fieldAt(object, mapping.sensorId);
  if (sensorId === undefined) {
    const fromKey = keyText(record.key);
    if (typeof fromKey === 'object') return rejected(fromKey);
    sensorId = fromKey;
  }
  const timestamp = toTimestamp(
    mapping.timestamp === undefined
      ? firstDefined(object, DEFAULT_TIME_FIELDS)
      : fieldAt(object, mapping.timestamp),
  );
  const valuePath = mapping.value ?? 'value';
  const value = fieldAt(object, valuePath);
  if (value !== undefined || mapping.measurements === undefined) {
    const names = value === undefined ? measurementNames(object, mapping) : [];
    if (names.length === 0) {
      return withIndex(
        readingFromFields({ sensorId, value: toPlain(value), timestamp }, record),
        firstIndex,
      );
    }
    return measurements(object, names, sensorId, timestamp, record, firstIndex);
  }
  return measurements(object, mapping.measurements, sensorId, timestamp, record, firstIndex);
}

/** With no value field, the fields holding numbers besides the sensor id and time fields. */
function measurementNames(object: Readonly<Record<string, unknown>>, mapping: FieldMapping) {
  const skip = new Set([
    ...(mapping.sensorId === undefined ? DEFAULT_SENSOR_FIELDS : [mapping.sensorId]),
    ...(mapping.timestamp === undefined ? DEFAULT_TIME_FIELDS : [mapping.timestamp]),
  ]);
  return Object.keys(object).filter((name) => !skip.has(name) && isNumber(toPlain(object[name])));
}

function measurements(
  object: Readonly<Record<string, unknown>>,
  names: readonly string[],
  sensorId: unknown,
  timestamp: unknown,
  record: RawRecord,
  firstIndex: number,
): RecordParse {
  if (typeof sensorId !== 'string' || sensorId.trim() === '') {
    // The single-reading rules say why (missing, blank or not a string).
    return single(readingFromFields({ sensorId, value: undefined, timestamp }, record));
  }
  if (firstIndex + names.length > MAX_READINGS_PER_RECORD) return tooMany();
  const readings: Reading[] = [];
  for (const name of names) {
    const fields: Fields = {
      sensorId: `${sensorId}/${name}`,
      value: toPlain(fieldAt(object, name)),
      timestamp,
    };
    const one = withIndex(readingFromFields(fields, record), firstIndex + readings.length);
    if (!one.ok) return prefixed(one, `measurement ${name}`);
    readings.push(...one.readings);
  }
  return { ok: true, readings };
}

/** Numbers from decoders come as bigint (Avro long), Long-like or Date; the rules take numbers. */
function toPlain(raw: unknown): unknown {
  if (typeof raw === 'bigint') return Number(raw);
  if (raw instanceof Date) return raw.getTime();
  return raw;
}

/** A timestamp as the rules take it; a Protobuf Timestamp ({seconds, nanos}) becomes ms. */
function toTimestamp(raw: unknown): unknown {
  const plain = toPlain(raw);
  if (isObject(plain) && 'seconds' in plain) {
    const seconds = Number(toPlain(plain.seconds));
    const nanos = Number(toPlain(plain.nanos ?? 0));
    return seconds * 1000 + Math.floor(nanos / 1e6);
  }
  return plain;
}

function firstDefined(object: Readonly<Record<string, unknown>>, names: readonly string[]) {
  for (const name of names) {
    // As `a ?? b`: null falls through too, like parseReading.
    if (object[name] !== undefined && object[name] !== null) return object[name];
  }
  return undefined;
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNumber(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value);
}

function withIndex(result: ParseResult, index: number): RecordParse {
  if (!result.ok) return rejected(result);
  if (index === 0) return { ok: true, readings: [result.reading] };
  return { ok: true, readings: [{ ...result.reading, index }] };
}

function single(result: ParseResult): RecordParse {
  return withIndex(result, 0);
}

function rejected(result: Rejected): RecordParse {
  return { ok: false, rejection: { reason: result.reason, detail: result.detail } };
}

function rejection(reason: RejectReason, detail: string): RecordParse {
  return { ok: false, rejection: { reason, detail } };
}

function prefixed(result: RecordParse, where: string): RecordParse {
  if (result.ok) return result;
  return rejection(result.rejection.reason, `${where}: ${result.rejection.detail}`);
}

function tooMany(): RecordParse {
  return rejection(
    REJECT_REASONS.malformed,
    `over ${MAX_READINGS_PER_RECORD} readings in one record`,
  );
}
