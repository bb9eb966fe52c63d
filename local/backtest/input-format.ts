/**
 * Turns the lines of a recorded file into Kafka-like records, the one reader behind
 * `npm run backtest`, `npm run produce` and the evaluator: what the backtest reads is what
 * produce sends. The reader never decides whether a reading is valid: it passes what it
 * cannot interpret through, and the use case rejects it with the same reason code the
 * deployed function would log. Headers, comments and blank lines are never records.
 */
import { parseRecord } from '../../functions/core/readings/parse-record.ts';
import { type ColumnNames, type Layout, layoutOf, MAPPING_FLAGS } from '../input/columns.ts';
import {
  DECIMAL,
  DELIMITER_NAMES,
  type Delimiter,
  detectDelimiter,
  fromDecimalComma,
  isDecimalComma,
  splitFields,
} from '../input/delimited.ts';
import { InputFormatError } from '../input/input-error.ts';
import { TIME_UNITS, TimeReader, type TimeUnit } from '../input/time-reader.ts';

export { InputFormatError, TIME_UNITS, type TimeUnit };

export const INPUT_FORMATS = ['auto', 'csv', 'seed', 'jsonl', 'series', 'wide'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];
export type ResolvedFormat = Exclude<InputFormat, 'auto' | 'seed'>;

export interface InputOptions {
  readonly format: InputFormat;
  /** Unit of numeric timestamps; `auto` tells seconds, ms, µs and ns apart by magnitude. */
  readonly timeUnit: TimeUnit;
  /** Sensor id of a `series` file; also the record key of JSON lines without one. */
  readonly sensorId?: string;
  /** Event time of the first line without a timestamp (the seed's lines have none). */
  readonly startMs: number;
  /** Event time step from one line to the next for lines without a timestamp. */
  readonly intervalMs: number;
  /** Columns named on the command line. @default found by name */
  readonly columns?: ColumnNames;
}

/** One reading of the input as the record the event source mapping would deliver. */
export interface InputRecord {
  readonly lineNumber: number;
  readonly key: string | null;
  readonly value: string;
  readonly timestampMs: number;
  /** The reading's sensor id when the reader knows it (to key the record by). */
  readonly sensorId: string | null;
  /** Whether `timestampMs` is the line's own time, not one made up from --start. */
  readonly timed: boolean;
  /**
   * The line itself when the detector reads it exactly as the reader did (a headerless
   * `sensor_id,value` line): a producer may send it as typed.
   */
  readonly original?: string;
}

/** A line the reader cannot even turn into a record (wrong shape for the file's format). */
export interface InputProblem {
  readonly lineNumber: number;
  readonly problem: string;
  readonly line: string;
}

const encoder = new TextEncoder();

/**
 * Reads a file line by line. The first data line fixes the format when it is `auto`:
 * `{…}` or `[…]` is JSON lines; else the delimiter (tab, `;`, `,`) and whether the line is
 * a header. A header is read by name (columns.ts): sensor and value columns, a series of
 * one sensor, or a wide file of one column per sensor. Without a header, 3 fields are
 * `sensor_id,value,timestamp`, and 2 fields are a series when the first is a time, else the
 * seed's `sensor_id,value`. A JSON line may hold several readings (an array, or an object
 * of several measurements): each becomes a record of its own.
 */
export class LineReader {
  private format: ResolvedFormat | null;
  private started = false;
  private delimiter: Delimiter = ',';
  private layout: Layout | null = null;
  private headerNames: readonly string[] | null = null;
  /** Data lines seen: drives the clock of lines without a timestamp. */
  private dataLines = 0;
  private decimalComma = false;
  private readonly times: TimeReader;

  constructor(private readonly options: InputOptions) {
    this.format =
      options.format === 'auto' ? null : options.format === 'seed' ? 'csv' : options.format;
    this.times = new TimeReader(options.timeUnit);
  }

  /** The format in use, once the first data line has been read. */
  get resolvedFormat(): ResolvedFormat | null {
    return this.format;
  }

  /** The header's columns, for messages about a file that held no valid reading. */
  get columnsSeen(): readonly string[] | null {
    return this.headerNames;
  }

  /** What the reader decided about the file (delimiter, columns, time unit), one line each. */
  notes(): string[] {
    const notes: string[] = [];
    if (this.format !== null && this.format !== 'jsonl') {
      const shape = [`${DELIMITER_NAMES[this.delimiter]}-separated`];
      if (this.decimalComma) shape.push('decimal comma');
      const layout = this.layout;
      const name = (i: number | null) => (i === null ? '-' : (this.headerNames?.[i] ?? '-'));
      if (layout === null) shape.push('no header');
      else if (layout.kind === 'wide') {
        const names = layout.sensors.map((s) => s.name);
        shape.push(
          `wide: time=${name(layout.time)}, ${names.length} sensor column(s): ${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''}`,
        );
      } else {
        const sensor = layout.kind === 'long' ? name(layout.sensor) : `--sensor-id`;
        shape.push(
          `columns time=${name(layout.time)}, sensor=${sensor}, value=${name(layout.value)}`,
        );
      }
      notes.push(`read as: ${shape.join(', ')}`);
    }
    if (this.times.choice !== null) notes.push(this.times.choice);
    return notes;
  }

  /** The records of a line: none for blank lines, `#` comments and the header. */
  read(rawLine: string, lineNumber: number): readonly InputRecord[] | InputProblem | null {
    const line = rawLine.replace(/^\uFEFF/, '').replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return null;
    const json = trimmed.startsWith('{') || trimmed.startsWith('[');
    if (!this.started) {
      this.started = true;
      if (this.format === null && json) this.format = 'jsonl';
      if (this.format !== 'jsonl' && this.start(trimmed)) return null;
    }
    const syntheticMs = this.options.startMs + this.dataLines * this.options.intervalMs;
    this.dataLines += 1;
    // JSON lines are read as such in any file, as the detector reads any record.
    if (json || this.format === 'jsonl') return this.jsonLine(trimmed, lineNumber, syntheticMs);
    return this.delimitedLine(trimmed, lineNumber, syntheticMs);
  }

  /** Settles delimiter, format and header on the first data line; true when it is a header. */
  private start(line: string): boolean {
    this.delimiter = detectDelimiter(line);
    const fields = splitFields(line, this.delimiter);
    const header = fields.every((f) => f === '' || !this.looksLikeData(f));
    if (!header) {
      if (this.format === 'wide') {
        throw new InputFormatError('a wide file needs a header that names its sensor columns');
      }
      if (this.format === null) {
        this.format =
          fields.length === 2 && this.isTime(fields[0] ?? '') && this.isNumber(fields[1] ?? '')
            ? 'series'
            : 'csv';
      }
      if (this.format === 'series') this.seriesSensorId();
      return false;
    }
    this.headerNames = fields;
    const layout = layoutOf(fields, this.options.columns ?? {}, this.format === 'wide');
    if (this.format === 'csv' && layout.kind !== 'long') {
      throw new InputFormatError(
        `--format csv: the header names no sensor and value columns: ${fields.join(', ')}. Name them with ${MAPPING_FLAGS}`,
      );
    }
    this.layout = layout;
    this.format = layout.kind === 'long' ? 'csv' : layout.kind;
    if (layout.kind === 'series') this.seriesSensorId();
    return true;
  }

  private delimitedLine(line: string, lineNumber: number, syntheticMs: number) {
    const fields = splitFields(line, this.delimiter);
    const layout = this.layout ?? this.headerless(fields.length);
    const headerFields = this.headerNames?.length;
    if (layout === null || (headerFields !== undefined && fields.length !== headerFields)) {
      const want =
        this.layout !== null
          ? "the header's columns"
          : this.format === 'series'
            ? 'timestamp,value'
            : 'sensor_id,value[,timestamp]';
      return { lineNumber, problem: `${fields.length} fields, want ${want}`, line };
    }
    const rawTime = layout.time === null ? '' : (fields[layout.time] ?? '');
    const timeMs = rawTime === '' ? null : this.times.toEpochMs(rawTime);
    const readings: { sensorId: string; value: string }[] =
      layout.kind === 'wide'
        ? layout.sensors
            // An empty cell is no reading (a sensor not sampled at that time).
            .filter((s) => (fields[s.index] ?? '') !== '')
            .map((s) => ({ sensorId: s.name, value: fields[s.index] ?? '' }))
        : [
            {
              sensorId:
                layout.kind === 'series' ? this.seriesSensorId() : (fields[layout.sensor] ?? ''),
              value: fields[layout.value] ?? '',
            },
          ];
    // A seed line (`sensor_1,57.3`) is read by the detector as it stands.
    const original =
      this.layout === null && this.delimiter === ',' && layout.time === null ? line : undefined;
    return readings.map(({ sensorId, value }) => {
      const number = this.number(value);
      const reading =
        rawTime === ''
          ? { sensorId, value: number }
          : // An uninterpretable time goes on as text: the use case rejects it (BAD_TIMESTAMP).
            { sensorId, value: number, timestamp: timeMs ?? rawTime };
      return {
        lineNumber,
        key: null,
        value: JSON.stringify(reading),
        timestampMs: timeMs ?? syntheticMs,
        sensorId: sensorId === '' ? null : sensorId,
        timed: timeMs !== null,
        ...(original === undefined ? {} : { original }),
      };
    });
  }

  /** Positions without a header: `timestamp,value`, or `sensor_id,value` with an optional time. */
  private headerless(fields: number): Layout | null {
    if (this.format === 'series')
      return fields === 2 ? { kind: 'series', value: 1, time: 0 } : null;
    if (fields === 2) return { kind: 'long', sensor: 0, value: 1, time: null };
    if (fields === 3) return { kind: 'long', sensor: 0, value: 1, time: 2 };
    return null;
  }

  private jsonLine(line: string, lineNumber: number, syntheticMs: number): InputRecord[] {
    const key = this.options.sensorId ?? null;
    const asIs = (): InputRecord[] => [
      { lineNumber, key, value: line, timestampMs: syntheticMs, sensorId: key, timed: false },
    ];
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return asIs();
    }
    const objects = Array.isArray(parsed) ? parsed : [parsed];
    if (!objects.every((o) => typeof o === 'object' && o !== null && !Array.isArray(o))) {
      return asIs();
    }
    let ownTime: number | null = null;
    const timed = (objects as Record<string, unknown>[]).map((object) => {
      const raw = object.timestamp ?? object.ts;
      if (raw === undefined || raw === null || raw === '') return object;
      const ms =
        typeof raw === 'number' || typeof raw === 'string'
          ? this.times.toEpochMs(String(raw))
          : null;
      if (ms === null) return object;
      ownTime ??= ms;
      const { ts: _ts, ...rest } = object;
      return { ...rest, timestamp: ms };
    });
    const timestampMs = ownTime ?? syntheticMs;
    const text = JSON.stringify(Array.isArray(parsed) ? timed : timed[0]);
    // Several readings in one line become one record each, as the detector reads them.
    const several = parseRecord({
      topic: '',
      partition: 0,
      offset: 0,
      timestampMs,
      key: key === null ? null : encoder.encode(key),
      value: encoder.encode(text),
    });
    if (several.ok && (several.readings.length > 1 || Array.isArray(parsed))) {
      const own = ownTime !== null;
      return several.readings.map((r) => ({
        lineNumber,
        key: null,
        // Without a time of its own a reading takes the record's, as the detector does.
        value: JSON.stringify(
          own
            ? { sensorId: r.sensorId, value: r.value, timestamp: r.eventTimeMs }
            : { sensorId: r.sensorId, value: r.value },
        ),
        timestampMs: r.eventTimeMs,
        sensorId: r.sensorId,
        timed: own,
      }));
    }
    const object = timed[0] as Record<string, unknown>;
    const id = object.sensorId ?? object.sensor_id ?? key;
    return [
      {
        lineNumber,
        key,
        value: text,
        timestampMs,
        sensorId: typeof id === 'string' && id !== '' ? id : null,
        timed: ownTime !== null,
      },
    ];
  }

  private seriesSensorId(): string {
    if (this.options.sensorId === undefined) {
      const seen = this.headerNames === null ? '' : ` (columns: ${this.headerNames.join(', ')})`;
      throw new InputFormatError(
        `one sensor's series${seen}: give its id with --sensor-id ID, or name its sensor column with --sensor-column`,
      );
    }
    return this.options.sensorId;
  }

  /** A value as the detector reads numbers; a decimal comma read as a point in `;` and tab files. */
  private number(field: string): string {
    if (this.delimiter === ',' || !isDecimalComma(field)) return field;
    this.decimalComma = true;
    return fromDecimalComma(field);
  }

  private isNumber(field: string): boolean {
    return DECIMAL.test(field) || (this.delimiter !== ',' && isDecimalComma(field));
  }

  private isTime(field: string): boolean {
    return DECIMAL.test(field) || new TimeReader('ms').toEpochMs(field) !== null;
  }

  private looksLikeData(field: string): boolean {
    return this.isNumber(field) || this.isTime(field);
  }
}

/** Splits a comma-separated line (kept for callers of the former reader). */
export function splitCsv(line: string): string[] {
  return splitFields(line, ',');
}
