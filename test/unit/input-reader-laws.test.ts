import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseReading } from '../../functions/core/parse-reading.ts';
import { type InputRecord, LineReader } from '../../local/backtest/input-format.ts';
import { SENSOR_NAMES, TIME_NAMES, VALUE_NAMES } from '../../local/input/columns.ts';
import { lawParameters, lawRuns } from '../helpers/fc-params.ts';

interface Reading {
  readonly sensorId: string;
  readonly value: number;
  readonly timeMs: number;
}

const T_MIN = Date.parse('2001-09-09T01:46:40Z'); // 1e12 ms: every unit below keeps its magnitude band
const T_MAX = Date.parse('2286-11-20T17:46:39Z'); // just under 1e13 ms

const reading = fc.record({
  // Ids as plants name tags, with delimiters and quotes inside (written quoted).
  sensorId: fc.stringMatching(/^[A-Za-z][A-Za-z0-9._ ,;"-]{0,30}[A-Za-z0-9]$/),
  value: fc.oneof(
    fc.integer({ min: -1_000_000, max: 1_000_000 }),
    // + 0: String(-0) is "0", so -0 is written as 0.
    fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((v) => Math.round(v * 1000) / 1000 + 0),
  ),
  // Whole seconds, so every unit writes them exactly.
  timeMs: fc.integer({ min: T_MIN / 1000, max: T_MAX / 1000 }).map((s) => s * 1000),
});

const layout = fc.record({
  delimiter: fc.constantFrom(',', ';', '\t'),
  decimalComma: fc.boolean(),
  time: fc.constantFrom(...TIME_NAMES),
  sensor: fc.constantFrom(...SENSOR_NAMES),
  value: fc.constantFrom(...VALUE_NAMES),
  unit: fc.constantFrom('s', 'ms', 'us', 'iso', 'iso-space', 'day-first'),
  upper: fc.boolean(),
  crlf: fc.boolean(),
  order: fc.constantFrom([0, 1, 2], [2, 0, 1], [1, 2, 0], [0, 2, 1]),
});

function writeTime(ms: number, unit: string): string {
  const iso = new Date(ms).toISOString();
  if (unit === 's') return String(ms / 1000);
  if (unit === 'ms') return String(ms);
  if (unit === 'us') return `${ms}000`;
  if (unit === 'iso') return iso;
  if (unit === 'iso-space') return iso.replace('T', ' ').replace('.000Z', '');
  const [date = '', time = ''] = iso.split('T');
  const [y, m, d] = date.split('-');
  return `${d}.${m}.${y} ${time.slice(0, 8)}`;
}

function quote(field: string, delimiter: string): string {
  return field.includes(delimiter) || field.includes('"')
    ? `"${field.replaceAll('"', '""')}"`
    : field;
}

describe('the file reader: laws', () => {
  it(`an export written any supported way reads back as its readings, as the detector reads them (${lawRuns(200)} files)`, () => {
    fc.assert(
      fc.property(layout, fc.array(reading, { minLength: 1, maxLength: 20 }), (l, readings) => {
        const decimalComma = l.decimalComma && l.delimiter !== ',';
        const header = [l.time, l.sensor, l.value].map((n) => (l.upper ? n.toUpperCase() : n));
        const row = (cells: string[]) =>
          l.order.map((i) => quote(cells[i] ?? '', l.delimiter)).join(l.delimiter) +
          (l.crlf ? '\r' : '');
        const lines = [
          row(header),
          ...readings.map((r) => {
            const value = decimalComma ? String(r.value).replace('.', ',') : String(r.value);
            return row([writeTime(r.timeMs, l.unit), r.sensorId, value]);
          }),
        ];
        const reader = new LineReader({
          format: 'auto',
          timeUnit: 'auto',
          startMs: 0,
          intervalMs: 0,
        });
        const read: Reading[] = [];
        lines.forEach((line, i) => {
          const records = reader.read(line, i + 1);
          if (records === null) return;
          expect('problem' in records, line).toBe(false);
          for (const record of records as InputRecord[]) {
            const parsed = parseReading({
              topic: 't',
              partition: 0,
              offset: i,
              timestampMs: T_MAX,
              key: null,
              value: new TextEncoder().encode(record.original ?? record.value),
            });
            expect(parsed.ok, record.value).toBe(true);
            if (parsed.ok) {
              read.push({
                sensorId: parsed.reading.sensorId,
                value: parsed.reading.value,
                timeMs: parsed.reading.eventTimeMs,
              });
            }
          }
        });
        expect(read).toEqual(readings.map((r) => ({ ...r, sensorId: r.sensorId.trim() })));
      }),
      lawParameters(200),
    );
  });
});
