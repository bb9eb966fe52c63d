/**
 * Turns the lines of a recorded file into Kafka-like records for the use case. The reader
 * never decides whether a reading is valid: it passes what it cannot interpret through, and
 * the use case rejects it with the same reason code the deployed function would log.
 */

export const INPUT_FORMATS = ['auto', 'csv', 'seed', 'jsonl', 'series'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];
export type ResolvedFormat = Exclude<InputFormat, 'auto' | 'seed'>;

export const TIME_UNITS = ['ms', 's'] as const;
export type TimeUnit = (typeof TIME_UNITS)[number];

export interface InputOptions {
  readonly format: InputFormat;
  /** Numeric timestamps are epoch milliseconds, or seconds. */
  readonly timeUnit: TimeUnit;
  /** Sensor id of a `series` file; also the record key of JSON lines without one. */
  readonly sensorId?: string;
  /** Event time of the first line without a timestamp (the seed's lines have none). */
  readonly startMs: number;
  /** Event time step from one line to the next for lines without a timestamp. */
  readonly intervalMs: number;
}

/** One input line as the record the event source mapping would deliver. */
export interface InputRecord {
  readonly lineNumber: number;
  readonly key: string | null;
  readonly value: string;
  readonly timestampMs: number;
}

/** A line the reader cannot even turn into a record (wrong shape for the file's format). */
export interface InputProblem {
  readonly lineNumber: number;
  readonly problem: string;
  readonly line: string;
}

interface Columns {
  readonly sensor: number | null;
  readonly value: number;
  readonly timestamp: number | null;
}

const SENSOR_COLUMNS = ['sensor_id', 'sensorid', 'sensor', 'id'];
const VALUE_COLUMNS = ['value', 'reading'];
const TIME_COLUMNS = ['timestamp', 'ts', 'time', 'event_time', 'eventtime', 'datetime'];
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
// A date-time; the zone is optional here (a zone-less time is read as UTC).
const DATE_TIME =
  /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/;

export class InputFormatError extends Error {
  override readonly name = 'InputFormatError';
}

/**
 * Reads a file line by line. The first data line fixes the format when it is `auto`:
 * `{…}` is JSONL; a header naming a sensor column is CSV, one naming only time and value is a
 * series; without a header, 3 fields are `sensor_id,value,timestamp`, and 2 fields are a
 * series when the first is a time, else the seed's `sensor_id,value`.
 */
export class LineReader {
  private format: ResolvedFormat | null;
  private headerChecked = false;
  private header: Columns | null = null;
  /** With a header, every data line has exactly its number of fields. */
  private headerFields: number | null = null;
  /** Data lines seen: drives the clock of lines without a timestamp. */
  private dataLines = 0;

  constructor(private readonly options: InputOptions) {
    this.format =
      options.format === 'auto' ? null : options.format === 'seed' ? 'csv' : options.format;
  }

  /** The format in use, once the first data line has been read. */
  get resolvedFormat(): ResolvedFormat | null {
    return this.format;
  }

  /** A record for a data line; null for blank lines, `#` comments and the header. */
  read(rawLine: string, lineNumber: number): InputRecord | InputProblem | null {
    const line = rawLine.replace(/^\uFEFF/, '').replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return null;
    if (this.format === null) this.format = detectFormat(trimmed);
    if (this.format !== 'jsonl' && !this.headerChecked) {
      this.headerChecked = true;
      this.header = headerColumns(trimmed, this.format);
      if (this.header !== null) {
        this.headerFields = splitCsv(trimmed).length;
        return null;
      }
    }
    const syntheticMs = this.options.startMs + this.dataLines * this.options.intervalMs;
    this.dataLines += 1;
    if (this.format === 'jsonl') return this.jsonLine(trimmed, lineNumber, syntheticMs);
    const fields = splitCsv(trimmed);
    const columns = this.header ?? headerlessColumns(this.format, fields.length);
    if (columns === null || fields.length !== (this.headerFields ?? fields.length)) {
      const want =
        this.header !== null
          ? "the header's columns"
          : this.format === 'series'
            ? 'timestamp,value'
            : 'sensor_id,value[,timestamp]';
      return { lineNumber, problem: `${fields.length} fields, want ${want}`, line: trimmed };
    }
    const sensorId =
      this.format === 'series' ? this.seriesSensorId() : (fields[columns.sensor ?? 0] ?? '');
    const value = fields[columns.value] ?? '';
    const rawTime = columns.timestamp === null ? '' : (fields[columns.timestamp] ?? '');
    if (rawTime === '') {
      return {
        lineNumber,
        key: null,
        value: JSON.stringify({ sensorId, value }),
        timestampMs: syntheticMs,
      };
    }
    const timeMs = this.toEpochMs(rawTime);
    return {
      lineNumber,
      key: null,
      // An uninterpretable time goes on as text: the use case rejects it (BAD_TIMESTAMP).
      value: JSON.stringify({ sensorId, value, timestamp: timeMs ?? rawTime }),
      timestampMs: timeMs ?? syntheticMs,
    };
  }

  private jsonLine(line: string, lineNumber: number, syntheticMs: number): InputRecord {
    const key = this.options.sensorId ?? null;
    let object: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        return { lineNumber, key, value: line, timestampMs: syntheticMs };
      }
      object = parsed as Record<string, unknown>;
    } catch {
      return { lineNumber, key, value: line, timestampMs: syntheticMs };
    }
    const raw = object.timestamp ?? object.ts;
    if (raw === undefined || raw === null || raw === '') {
      return { lineNumber, key, value: line, timestampMs: syntheticMs };
    }
    const timeMs =
      typeof raw === 'number' || typeof raw === 'string' ? this.toEpochMs(String(raw)) : null;
    if (timeMs === null) return { lineNumber, key, value: line, timestampMs: syntheticMs };
    const { ts: _ts, ...rest } = object;
    return {
      lineNumber,
      key,
      value: JSON.stringify({ ...rest, timestamp: timeMs }),
      timestampMs: timeMs,
    };
  }

  private seriesSensorId(): string {
    if (this.options.sensorId === undefined) {
      throw new InputFormatError('a timestamp,value series needs --sensor-id');
    }
    return this.options.sensorId;
  }

  /** Epoch ms from a numeral (in the configured unit) or a date-time (UTC when zone-less). */
  private toEpochMs(text: string): number | null {
    const t = text.trim();
    let ms: number;
    if (DECIMAL.test(t)) ms = Number(t) * (this.options.timeUnit === 's' ? 1000 : 1);
    else {
      const match = DATE_TIME.exec(t);
      if (match === null) return null;
      const iso = t.replace(' ', 'T');
      ms = Date.parse(match[1] === undefined ? `${iso}Z` : iso);
    }
    return Number.isFinite(ms) && ms >= 0 && ms <= 8.64e15 ? Math.floor(ms) : null;
  }
}

/** Splits a CSV line (RFC 4180: a quoted field may hold commas, `""` is a quote); fields trimmed. */
export function splitCsv(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (c === ',') {
      fields.push(field.trim());
      field = '';
    } else field += c;
  }
  fields.push(field.trim());
  return fields;
}

function isTime(field: string): boolean {
  return DECIMAL.test(field) || DATE_TIME.test(field);
}

function detectFormat(line: string): ResolvedFormat {
  if (line.startsWith('{')) return 'jsonl';
  const fields = splitCsv(line).map((f) => f.toLowerCase());
  if (fields.some((f) => VALUE_COLUMNS.includes(f))) {
    return fields.some((f) => SENSOR_COLUMNS.includes(f)) ? 'csv' : 'series';
  }
  if (fields.length === 2 && isTime(fields[0] ?? '') && DECIMAL.test(fields[1] ?? ''))
    return 'series';
  return 'csv';
}

/** Column positions from a header line, or null when the line is data. */
function headerColumns(line: string, format: ResolvedFormat): Columns | null {
  const names = splitCsv(line).map((f) => f.toLowerCase());
  const value = names.findIndex((n) => VALUE_COLUMNS.includes(n));
  if (value < 0) return null;
  const sensor = names.findIndex((n) => SENSOR_COLUMNS.includes(n));
  const timestamp = names.findIndex((n) => TIME_COLUMNS.includes(n));
  if (format === 'csv' && sensor < 0) {
    throw new InputFormatError(
      `the CSV header "${line}" names no sensor column (${SENSOR_COLUMNS.join(', ')})`,
    );
  }
  if (format === 'series' && timestamp < 0) {
    throw new InputFormatError(
      `the series header "${line}" names no time column (${TIME_COLUMNS.join(', ')})`,
    );
  }
  return {
    sensor: sensor < 0 ? null : sensor,
    value,
    timestamp: timestamp < 0 ? null : timestamp,
  };
}

/** Positions without a header: `timestamp,value`, or `sensor_id,value` with an optional time. */
function headerlessColumns(format: ResolvedFormat, fields: number): Columns | null {
  if (format === 'series') return fields === 2 ? { sensor: null, value: 1, timestamp: 0 } : null;
  if (fields === 2) return { sensor: 0, value: 1, timestamp: null };
  if (fields === 3) return { sensor: 0, value: 1, timestamp: 2 };
  return null;
}
