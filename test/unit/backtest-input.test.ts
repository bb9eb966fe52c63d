import { describe, expect, it } from 'vitest';
import { parseReading } from '../../functions/core/parse-reading.ts';
import {
  InputFormatError,
  type InputOptions,
  LineReader,
} from '../../local/backtest/input-format.ts';
import { linesToRecords } from '../../local/backtest/run-backtest.ts';

const START_MS = Date.parse('2026-11-21T10:00:00Z');
const OPTIONS: InputOptions = {
  format: 'auto',
  timeUnit: 'ms',
  startMs: START_MS,
  intervalMs: 1000,
};

/** What the use case makes of each line: [sensorId, value, eventTimeMs] or the reject reason. */
function readings(lines: readonly string[], options: Partial<InputOptions> = {}) {
  const { records } = linesToRecords(lines, { ...OPTIONS, ...options });
  return records.map((r) => {
    const parsed = parseReading(r);
    return parsed.ok
      ? [parsed.reading.sensorId, parsed.reading.value, parsed.reading.eventTimeMs]
      : parsed.reason;
  });
}

describe('backtest input: formats', () => {
  it.each([
    [
      'the seed lines (no timestamps: one per --interval-ms from --start)',
      ['sensor_1,52.1', 'sensor_1,150.0'],
      {},
      [
        ['sensor_1', 52.1, START_MS],
        ['sensor_1', 150, START_MS + 1000],
      ],
    ],
    [
      'CSV sensor_id,value,timestamp without a header, epoch ms and ISO',
      ['s1,1.5,1000', 's2,2.5,2026-11-21T10:00:00+01:00'],
      {},
      [
        ['s1', 1.5, 1000],
        ['s2', 2.5, START_MS - 3_600_000],
      ],
    ],
    [
      'CSV with a header in any column order, extra columns by name',
      ['timestamp,site,value,sensor_id', '1000,north,7,s1', '2000,south,8,s2'],
      {},
      [
        ['s1', 7, 1000],
        ['s2', 8, 2000],
      ],
    ],
    [
      'CSV with quoted fields and CRLF line ends',
      ['"s,1","3.5","1000"\r'],
      { format: 'csv' },
      [['s,1', 3.5, 1000]],
    ],
    [
      'JSONL, timestamps as ms, ISO or ts',
      [
        '{"sensorId":"a","value":1,"timestamp":5000}',
        '{"sensor_id":"b","value":"2","ts":"2026-11-21T10:00:00Z"}',
      ],
      {},
      [
        ['a', 1, 5000],
        ['b', 2, START_MS],
      ],
    ],
    [
      'JSONL without sensor ids takes --sensor-id (as a record key)',
      ['{"value":1,"timestamp":5000}'],
      { sensorId: 'pump' },
      [['pump', 1, 5000]],
    ],
    [
      'a timestamp,value series in epoch seconds',
      ['timestamp,value', '1795255200,20.5', '1795255201,20.7'],
      { sensorId: 'temp', timeUnit: 's' },
      [
        ['temp', 20.5, 1_795_255_200_000],
        ['temp', 20.7, 1_795_255_201_000],
      ],
    ],
    [
      'a headerless series with zone-less times (read as UTC)',
      ['2026-11-21 10:00:00,1', '2026-11-21T10:00:01,2'],
      { sensorId: 'temp' },
      [
        ['temp', 1, START_MS],
        ['temp', 2, START_MS + 1000],
      ],
    ],
  ] as const)('%s', (_name, lines, options, expected) => {
    expect(readings(lines, options)).toEqual(expected);
  });

  it('skips blank lines, # comments and the header', () => {
    expect(
      readings(['# recorded 2026-11-21', 'sensor_id,value,timestamp', '', 's,1,1000']),
    ).toEqual([['s', 1, 1000]]);
  });
});

describe('backtest input: bad lines are passed on or reported, never fatal', () => {
  it.each([
    ['a value that is not a number', 's1,abc,1000', 'INVALID_VALUE'],
    ['a missing sensor id', ',12.5,1000', 'MISSING_SENSOR_ID'],
    ['a timestamp that does not parse', 's1,1,yesterday', 'BAD_TIMESTAMP'],
  ])('%s → the use case rejects it (%s)', (_name, line, reason) => {
    expect(readings(['s0,1,500', line]).at(-1)).toBe(reason);
  });

  it('a JSONL line that is not JSON → the use case rejects it (MALFORMED)', () => {
    expect(readings(['{"sensorId":"s","value":1}', '{"sensorId": "s", "value": 1'])).toEqual([
      ['s', 1, START_MS],
      'MALFORMED',
    ]);
  });

  it.each([
    ['4 fields in a headerless CSV', ['s,1,2,3'], /4 fields, want sensor_id,value\[,timestamp\]/],
    [
      'fewer fields than the header',
      ['sensor_id,value,timestamp', 's,1'],
      /2 fields, want the header's columns/,
    ],
    ['3 fields in a series', ['1000,1', '1000,1,2'], /3 fields, want timestamp,value/],
  ])('%s → a reader problem with its line number', (_name, lines, message) => {
    const reader = new LineReader({ ...OPTIONS, sensorId: 'x' });
    const results = lines.map((line, i) => reader.read(line, i + 1));
    const last = results.at(-1);
    expect(last).toMatchObject({
      lineNumber: lines.length,
      problem: expect.stringMatching(message),
    });
  });

  it('a series without --sensor-id is a usage error', () => {
    const reader = new LineReader(OPTIONS);
    expect(() => reader.read('1000,1', 1)).toThrow(InputFormatError);
  });

  it('a CSV header without a sensor column names the columns it saw and the flags', () => {
    const reader = new LineReader({ ...OPTIONS, format: 'csv' });
    expect(() => reader.read('time,value', 1)).toThrow(
      /the header names no sensor and value columns: time, value. Name them with --time-column/,
    );
  });
});
