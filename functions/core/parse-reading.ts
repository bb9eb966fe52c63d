import type { RawRecord, Reading } from './types.ts';

/** Reason codes for rejected records: stable strings, used in logs and as metric dimensions. */
export const REJECT_REASONS = {
  emptyValue: 'EMPTY_VALUE',
  malformedBase64: 'MALFORMED_BASE64',
  tooLarge: 'TOO_LARGE',
  notUtf8: 'NOT_UTF8',
  malformed: 'MALFORMED',
  missingSensorId: 'MISSING_SENSOR_ID',
  sensorIdTooLong: 'SENSOR_ID_TOO_LONG',
  sensorIdControlChars: 'SENSOR_ID_CONTROL_CHARS',
  invalidValue: 'INVALID_VALUE',
  valueOutOfRange: 'VALUE_OUT_OF_RANGE',
  badTimestamp: 'BAD_TIMESTAMP',
  futureTimestamp: 'FUTURE_TIMESTAMP',
  /** A schema-registry value (Avro, Protobuf, JSON Schema) that does not decode with its schema. */
  undecodable: 'UNDECODABLE',
} as const;
export type RejectReason = (typeof REJECT_REASONS)[keyof typeof REJECT_REASONS];

export const MAX_VALUE_BYTES = 64 * 1024;
export const MAX_SENSOR_ID_BYTES = 256;
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;
/**
 * Accepted magnitudes of a value (besides 0). Aggregates keep sums of squares, and
 * DynamoDB numbers must lie between 1e-130 and 9.9e125 in magnitude: bounding |v| to
 * [1e-60, 1e15] keeps every square and sum storable, so no reading can fail a batch.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html
 */
export const MAX_ABS_VALUE = 1e15;
export const MIN_ABS_NONZERO_VALUE = 1e-60;
/** Latest representable Date, in ms; also bounds numeric timestamps. */
const MAX_EPOCH_MS = 8.64e15;

export type Rejected = Extract<ParseResult, { ok: false }>;

export type ParseResult =
  | { readonly ok: true; readonly reading: Reading }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });
// A decimal numeral, as a sensor would print one; rejects '', '0x10', ' ', '1_000', 'Infinity'.
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
// ISO-8601 date-time with a zone offset (Z or ±hh:mm / ±hhmm); a zone-less time is ambiguous.
const ISO_WITH_ZONE =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const QUOTE = 0x22;
/**
 * A UTF-16 code unit takes at most 3 bytes in UTF-8 (a surrogate pair, 2 units, takes 4), so
 * an id of at most this many units cannot exceed MAX_SENSOR_ID_BYTES and need not be measured.
 */
const SURELY_SHORT_SENSOR_ID_UNITS = Math.floor(MAX_SENSOR_ID_BYTES / 3);

function reject(reason: RejectReason, detail: string): Rejected {
  return { ok: false, reason, detail };
}

/**
 * Turns one Kafka record into a reading, or says precisely why it is not one.
 * Never throws: every input maps to a result (semantics.md §1).
 */
export function parseReading(record: RawRecord): ParseResult {
  const text = valueText(record);
  if (typeof text !== 'string') return text;
  // A value that opens like JSON is judged as JSON, so `[1,2]` is "not an object", not a bad CSV.
  const first = text.charCodeAt(0);
  const fields =
    first === OPEN_BRACE || first === OPEN_BRACKET || first === QUOTE
      ? jsonFields(text, record.key)
      : csvFields(text);
  if ('reason' in fields) return fields;
  return readingFromFields(fields, record);
}

/**
 * The value's bytes as checked text (base64, emptiness, size, UTF-8), or why it is none:
 * the first steps of every reading's parse, shared with parseRecord.
 */
export function valueBytes(record: RawRecord): Uint8Array | Rejected {
  if (record.malformedBase64) return reject(REJECT_REASONS.malformedBase64, 'value is not base64');
  const bytes = record.value;
  if (bytes === null || bytes.length === 0) return reject(REJECT_REASONS.emptyValue, 'empty value');
  if (bytes.length > MAX_VALUE_BYTES) {
    return reject(REJECT_REASONS.tooLarge, `${bytes.length} bytes > ${MAX_VALUE_BYTES}`);
  }
  return bytes;
}

/** First bytes of the Confluent (magic byte 0) and AWS Glue (header version 3) wire formats. */
const FRAMING_BYTES = [0x00, 0x03];

/**
 * A value in a schema registry's wire format reaching a parser with no registry to decode
 * it: no text reading starts with these control bytes, so it is named for what it is.
 */
export function framedWithoutRegistry(bytes: Uint8Array): Rejected | null {
  const first = bytes[0] as number;
  if (!FRAMING_BYTES.includes(first)) return null;
  return reject(
    REJECT_REASONS.undecodable,
    `value starts with byte ${first} (a schema registry's wire format) and no registry is configured`,
  );
}

/** The value as trimmed UTF-8 text, or why it is none. */
export function valueText(record: RawRecord): string | Rejected {
  const bytes = valueBytes(record);
  if (!(bytes instanceof Uint8Array)) return bytes;
  const framed = framedWithoutRegistry(bytes);
  if (framed !== null) return framed;
  let text: string;
  try {
    text = utf8.decode(bytes).trim();
  } catch {
    return reject(REJECT_REASONS.notUtf8, 'value is not UTF-8');
  }
  if (text.length === 0) return reject(REJECT_REASONS.emptyValue, 'blank value');
  return text;
}

/** The record key as UTF-8 text; undefined without a key; a rejection when it is not UTF-8. */
export function keyText(key: Uint8Array | null): string | undefined | Rejected {
  if (key === null || key.length === 0) return undefined;
  try {
    return utf8.decode(key);
  } catch {
    return reject(REJECT_REASONS.notUtf8, 'record key is not UTF-8');
  }
}

/** The three fields of one reading before validation, as found in a record. */
export interface Fields {
  readonly sensorId: unknown;
  readonly value: unknown;
  readonly timestamp: unknown;
}

function csvFields(text: string): Fields | Extract<ParseResult, { ok: false }> {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.length < 2 || parts.length > 3) {
    return {
      ok: false,
      reason: REJECT_REASONS.malformed,
      detail: `${parts.length} CSV fields, want 2 or 3`,
    };
  }
  return { sensorId: parts[0], value: parts[1], timestamp: parts[2] };
}

function jsonFields(
  text: string,
  key: Uint8Array | null,
): Fields | Extract<ParseResult, { ok: false }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: REJECT_REASONS.malformed, detail: 'invalid JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, reason: REJECT_REASONS.malformed, detail: 'JSON is not an object' };
  }
  const object = parsed as Record<string, unknown>;
  let sensorId = object.sensorId ?? object.sensor_id;
  if (sensorId === undefined) {
    const fromKey = keyText(key);
    if (typeof fromKey === 'object') return fromKey;
    sensorId = fromKey;
  }
  return { sensorId, value: object.value, timestamp: object.timestamp ?? object.ts };
}

/**
 * Validates one reading's fields (sensor id, value, timestamp) as found in a record: the one
 * set of rules for every shape of record (CSV, JSON, several readings, schema-registry values).
 */
export function readingFromFields(fields: Fields, record: RawRecord): ParseResult {
  const { sensorId } = fields;
  if (sensorId === undefined || sensorId === null || sensorId === '') {
    return reject(REJECT_REASONS.missingSensorId, 'no sensor id');
  }
  if (typeof sensorId !== 'string')
    return reject(REJECT_REASONS.malformed, 'sensor id is not a string');
  if (sensorId.trim() === '') return reject(REJECT_REASONS.missingSensorId, 'blank sensor id');
  if (
    sensorId.length > SURELY_SHORT_SENSOR_ID_UNITS &&
    Buffer.byteLength(sensorId, 'utf8') > MAX_SENSOR_ID_BYTES
  ) {
    return reject(REJECT_REASONS.sensorIdTooLong, `sensor id over ${MAX_SENSOR_ID_BYTES} bytes`);
  }
  // JSON can carry a lone surrogate ("\ud800") in valid UTF-8 bytes; such an id has no UTF-8
  // form, so the SNS publish of its alert would throw on every retry of the batch.
  if (!isWellFormedUtf16(sensorId)) {
    return reject(REJECT_REASONS.notUtf8, 'sensor id has a lone surrogate');
  }
  if (hasControlChars(sensorId)) {
    return reject(REJECT_REASONS.sensorIdControlChars, 'sensor id has control characters');
  }

  const value = toNumber(fields.value);
  if (value === undefined)
    return reject(REJECT_REASONS.invalidValue, 'value is not a finite number');
  const magnitude = Math.abs(value);
  if (magnitude > MAX_ABS_VALUE || (magnitude !== 0 && magnitude < MIN_ABS_NONZERO_VALUE)) {
    return reject(
      REJECT_REASONS.valueOutOfRange,
      `|value| outside [${MIN_ABS_NONZERO_VALUE}, ${MAX_ABS_VALUE}]`,
    );
  }

  // Kafka gives -1 (any negative value here) when a record has no timestamp type
  // (https://kafka.apache.org/documentation/#messageformat, "timestamp"): no event time, and
  // nothing to bound a reading's own timestamp with.
  const recordHasTime = record.timestampMs >= 0;
  let eventTimeMs = record.timestampMs;
  if (fields.timestamp !== undefined && fields.timestamp !== null && fields.timestamp !== '') {
    const parsed = toEpochMs(fields.timestamp);
    if (parsed === undefined)
      return reject(REJECT_REASONS.badTimestamp, 'timestamp does not parse');
    eventTimeMs = parsed;
  } else if (!recordHasTime) {
    return reject(
      REJECT_REASONS.badTimestamp,
      'no event time: no timestamp in the reading or the record',
    );
  }
  // The record timestamp comes from the producer unchecked; outside Date's range the alert's
  // time could not be formatted, and the batch would fail on every retry.
  if (!Number.isFinite(eventTimeMs) || Math.abs(eventTimeMs) > MAX_EPOCH_MS) {
    return reject(REJECT_REASONS.badTimestamp, 'event time outside the representable range');
  }
  if (recordHasTime && eventTimeMs - record.timestampMs > MAX_FUTURE_SKEW_MS) {
    return reject(REJECT_REASONS.futureTimestamp, 'event time over 5 min ahead of the record');
  }
  return {
    ok: true,
    reading: {
      sensorId,
      value,
      eventTimeMs,
      source: { topic: record.topic, partition: record.partition, offset: record.offset },
    },
  };
}

/**
 * C0, DEL, C1, the Unicode line/paragraph separators and the bidi controls: the first can
 * forge log lines, email headers or SMS text downstream, the bidi ones make an email show a
 * value reversed. A loop over code units, as the equivalent regular expression is the
 * slowest step of a CSV reading's validation (bench/profile.ts).
 */
function hasControlChars(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029) return true;
    if (c === 0x061c || c === 0x200e || c === 0x200f) return true;
    if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) return true;
  }
  return false;
}

/** True unless the string holds a lone (unpaired) surrogate. */
function isWellFormedUtf16(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c > 0xdbff) return false;
    const low = text.charCodeAt(i + 1);
    if (!(low >= 0xdc00 && low <= 0xdfff)) return false;
    i += 1;
  }
  return true;
}

/** A JSON number, or a string holding a decimal numeral (gateways often quote numbers). */
function toNumber(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw === 'string') {
    const text = raw.trim();
    if (!DECIMAL.test(text)) return undefined;
    const value = Number(text);
    return Number.isFinite(value) ? value : undefined;
  }
  return undefined;
}

/** Epoch milliseconds from a number (ms) or an ISO-8601 string with a zone offset. */
function toEpochMs(raw: unknown): number | undefined {
  let ms: number | undefined;
  if (typeof raw === 'number') ms = raw;
  else if (typeof raw === 'string') {
    const text = raw.trim();
    if (DECIMAL.test(text)) ms = Number(text);
    else if (ISO_WITH_ZONE.test(text)) ms = Date.parse(text);
  }
  if (ms === undefined || !Number.isFinite(ms) || ms < 0 || ms > MAX_EPOCH_MS) return undefined;
  return Math.floor(ms);
}
