import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTION } from '../../functions/config.ts';
import { parseReading } from '../../functions/core/parse-reading.ts';
import {
  InputFormatError,
  type InputOptions,
  type InputRecord,
  LineReader,
} from '../../local/backtest/input-format.ts';
import { type BacktestRow, runBacktest } from '../../local/backtest/run-backtest.ts';
import type { ColumnNames } from '../../local/input/columns.ts';
import { nothingRead } from '../../local/input/nothing-read.ts';
import { openInput } from '../../local/input/open-input.ts';
import type { TimeUnit } from '../../local/input/time-reader.ts';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/input/${name}`, import.meta.url));
const T0 = Date.parse('2026-11-21T10:00:00Z');
const INPUT: InputOptions = { format: 'auto', timeUnit: 'auto', startMs: 0, intervalMs: 1000 };

async function backtest(name: string, input: Partial<InputOptions> = {}) {
  const opened = await openInput(fixture(name));
  const rows: BacktestRow[] = [];
  const summary = await runBacktest(
    opened.lines,
    {
      detection: { ...DEFAULT_DETECTION, rules: [] },
      input: { ...INPUT, ...input },
      batchSize: 500,
    },
    (row) => rows.push(row),
  );
  return { summary, rows, empty: opened.empty };
}

const sensors = (summary: Awaited<ReturnType<typeof backtest>>['summary']) =>
  Object.fromEntries([...summary.sensors.values()].map((s) => [s.sensorId, s.readings]));

describe('historian and spreadsheet exports, read by column name', () => {
  it('a historian export (Time,TagName,Val): zone-less times read as UTC, said so', async () => {
    const { summary, rows } = await backtest('historian-export.csv');
    expect(sensors(summary)).toEqual({ 'FIC-101.PV': 300, 'TIC-205.PV': 300 });
    expect(summary.rejected).toBe(0);
    expect(summary.notes).toEqual([
      'read as: comma-separated, columns time=Time, sensor=TagName, value=Val',
      'timestamps: dates without a zone, read as UTC (2026-11-21 10:00:00.000 = 2026-11-21T10:00:00.000Z)',
    ]);
    expect(summary.span).toEqual({ firstMs: T0, lastMs: T0 + 299_000 });
    expect(rows[0]).toMatchObject({ sensorId: 'FIC-101.PV', value: 52, eventTimeMs: T0 });
  });

  it('a PI-style export (Tag,Timestamp,Value): one sensor per tag, not all merged', async () => {
    const { summary } = await backtest('pi-export.csv');
    expect(sensors(summary)).toEqual({ SINUSOID: 300, CDT158: 300 });
    expect(summary.notes[0]).toBe(
      'read as: comma-separated, columns time=Timestamp, sensor=Tag, value=Value',
    );
  });

  it('a wide file: one sensor per column, empty cells are no readings', async () => {
    const { summary } = await backtest('wide.csv');
    expect(summary.format).toBe('wide');
    expect(sensors(summary)).toEqual({ Pump1_Pressure: 300, Pump2_Pressure: 300, Fan_Speed: 270 });
    expect(summary.rejected).toBe(0);
  });

  it('a European export: unknown names fail loudly; mapped, `;` and decimal commas are read', async () => {
    await expect(backtest('european.csv')).rejects.toThrow(
      new InputFormatError(
        'unrecognised header: no time or value column among: Zeit, Messstelle, Wert. Name them with --time-column, --sensor-column, --value-column (values are found under value/val/reading/pv, times under time/timestamp/ts)',
      ),
    );
    const columns: ColumnNames = { time: 'Zeit', sensor: 'Messstelle', value: 'Wert' };
    const { summary, rows } = await backtest('european.csv', { columns });
    expect(sensors(summary)).toEqual({ Kessel_1: 300 });
    expect(rows[0]).toMatchObject({ value: 85.5, eventTimeMs: T0 });
    expect(rows[1]).toMatchObject({ eventTimeMs: T0 + 1000 });
    expect(summary.notes[0]).toBe(
      'read as: semicolon-separated, decimal comma, columns time=Zeit, sensor=Messstelle, value=Wert',
    );
  });

  it('a gzip file with epoch seconds under `ts`: read directly, the unit told by magnitude', async () => {
    const { summary, rows } = await backtest('epoch-seconds.csv.gz');
    expect(sensors(summary)).toEqual({ press_3: 300 });
    expect(rows[0]?.eventTimeMs).toBe(T0);
    expect(summary.notes[1]).toBe(
      'timestamps: epoch seconds by magnitude (1795255200 = 2026-11-21T10:00:00.000Z; override with --time-unit)',
    );
  });

  it('a column flag that names no column says which columns there are', async () => {
    await expect(backtest('pi-export.csv', { columns: { value: 'Val' } })).rejects.toThrow(
      '--value-column Val: no such column; the header has: Tag, Timestamp, Value',
    );
  });

  it('an empty input, a header alone, and no valid reading each get one line that says what to do', async () => {
    const empty = await backtest('empty.csv');
    expect(nothingRead(empty.summary, empty.empty)).toBe('the input is empty: no readings to read');

    const headerOnly = await runBacktest(['# exported 2026-11-21', 'Time,TagName,Val'], {
      detection: { ...DEFAULT_DETECTION, rules: [] },
      input: INPUT,
      batchSize: 10,
    });
    expect(nothingRead(headerOnly, false)).toBe(
      'no data lines, only blank lines, comments or a header (a header: Time, TagName, Val)',
    );

    // Values read from the tag column: every line rejected.
    const wrong = await backtest('historian-export.csv', {
      columns: { value: 'TagName', sensor: 'Val' },
    });
    expect(nothingRead(wrong.summary, false)).toBe(
      'no valid reading: all 600 rejected (INVALID_VALUE: value is not a finite number); columns seen: Time, TagName, Val; map them with --time-column, --sensor-column, --value-column',
    );
  });
});

describe('epoch timestamps told apart by magnitude', () => {
  it.each([
    ['s', '1795255200', 'epoch seconds by magnitude'],
    ['ms', '1795255200000', 'epoch milliseconds by magnitude'],
    ['us', '1795255200000000', 'epoch microseconds by magnitude'],
    ['ns', '1795255200000000000', 'epoch nanoseconds by magnitude'],
  ])('%s', (_unit, ts, choice) => {
    const reader = new LineReader(INPUT);
    reader.read('ts\tsensor\tvalue', 1);
    const read = reader.read(`${ts}\tp\t1,5`, 2) as InputRecord[];
    expect(read[0]?.timestampMs).toBe(T0);
    expect(JSON.parse(read[0]?.value ?? '')).toEqual({
      sensorId: 'p',
      value: '1.5',
      timestamp: T0,
    });
    expect(reader.notes()[1]).toMatch(choice);
    expect(reader.notes()[0]).toBe(
      'read as: tab-separated, decimal comma, columns time=ts, sensor=sensor, value=value',
    );
  });

  it('--time-unit overrides the magnitude', () => {
    const reader = new LineReader({ ...INPUT, timeUnit: 'ms' satisfies TimeUnit });
    const read = reader.read('p,1,1795255200', 1) as InputRecord[];
    expect(read[0]?.timestampMs).toBe(1_795_255_200);
    expect(reader.notes()[1]).toBe('timestamps: epoch milliseconds (--time-unit)');
  });
});

describe('several readings per JSON line, as the detector will read them', () => {
  it('a gateway object and an array become one record per reading', async () => {
    const { summary, rows } = await runBacktestRows([
      '{"sensorId":"pump_1","ts":1795255200,"pressure":5.2,"temperature":71}',
      '[{"sensorId":"a","value":1,"timestamp":1795255201},{"sensorId":"b","value":2}]',
    ]);
    expect(rows.map((r) => [r.sensorId, r.value, r.eventTimeMs, r.lineNumber])).toEqual([
      ['pump_1/pressure', 5.2, T0, 1],
      ['pump_1/temperature', 71, T0, 1],
      ['a', 1, T0 + 1000, 2],
      ['b', 2, T0 + 1000, 2],
    ]);
    expect(summary.rejected).toBe(0);
  });
});

async function runBacktestRows(lines: string[]) {
  const rows: BacktestRow[] = [];
  const summary = await runBacktest(
    lines,
    { detection: { ...DEFAULT_DETECTION, rules: [] }, input: INPUT, batchSize: 10 },
    (row) => rows.push(row),
  );
  return { summary, rows };
}

describe('what produce sends is what the backtest read', () => {
  it.each([
    ['historian-export.csv', {}],
    ['pi-export.csv', {}],
    ['wide.csv', {}],
    ['european.csv', { columns: { time: 'Zeit', sensor: 'Messstelle', value: 'Wert' } }],
    ['epoch-seconds.csv.gz', {}],
  ])('%s: every record the live detector reads, with the same reading', async (name, input) => {
    const { rows } = await backtest(name, input);
    const reader = new LineReader({ ...INPUT, ...input, startMs: 0, intervalMs: 0 });
    const opened = await openInput(fixture(name));
    const liveMs = Date.parse('2026-12-06T12:00:00Z');
    const live: [string, number, number][] = [];
    let lineNumber = 0;
    for await (const line of opened.lines) {
      lineNumber += 1;
      const read = reader.read(line, lineNumber);
      if (read === null) continue;
      expect('problem' in read).toBe(false);
      for (const r of read as InputRecord[]) {
        const parsed = parseReading({
          topic: 't',
          partition: 0,
          offset: live.length,
          timestampMs: liveMs,
          key: null,
          value: new TextEncoder().encode(r.original ?? r.value),
        });
        expect(parsed.ok, r.value).toBe(true);
        if (parsed.ok)
          live.push([parsed.reading.sensorId, parsed.reading.value, parsed.reading.eventTimeMs]);
      }
    }
    expect(live).toEqual(rows.map((r) => [r.sensorId, r.value, r.eventTimeMs]));
  });

  it('a seed line goes as typed; header and comment lines are never sent', () => {
    const reader = new LineReader({ ...INPUT, startMs: 0, intervalMs: 0 });
    expect(reader.read('# a comment', 1)).toBeNull();
    expect(reader.read('sensor_1,57.3', 2)).toMatchObject([
      { original: 'sensor_1,57.3', sensorId: 'sensor_1' },
    ]);
    const withHeader = new LineReader({ ...INPUT, startMs: 0, intervalMs: 0 });
    expect(withHeader.read('sensor_id,value', 1)).toBeNull();
    expect(withHeader.read('sensor_1,57.3', 2)).toMatchObject([
      { value: '{"sensorId":"sensor_1","value":"57.3"}', sensorId: 'sensor_1' },
    ]);
  });
});

describe('the evaluator reads labelled files as the backtest reads files', () => {
  it('a `;` file with a decimal comma, epoch seconds under `ts` and a `Val` column', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { readLabelledCsv } = await import('../../local/evaluate/labelled-data.ts');
    const path = join(mkdtempSync(join(tmpdir(), 'labelled-')), 'pump.csv');
    writeFileSync(path, 'ts;Val;label\n1795255200;5,2;0\n1795255201;"9,75";1\n');
    expect(readLabelledCsv(path, 'pump')).toEqual({
      name: 'pump',
      timestampsMs: [T0, T0 + 1000],
      sensors: [{ name: 'value', values: [5.2, 9.75] }],
      labels: Uint8Array.from([0, 1]),
    });
  });
});
