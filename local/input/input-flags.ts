import type { ColumnNames } from './columns.ts';

/**
 * The column-mapping flags every CLI that reads recorded files takes (backtest, produce):
 * one definition, one help text, the same meaning everywhere.
 */
export const COLUMN_FLAG_NAMES = ['time-column', 'sensor-column', 'value-column'] as const;

export const COLUMN_FLAGS_HELP = `  --time-column NAME      the column of times (found by itself: time, timestamp, ts, …)
  --sensor-column NAME    the column of sensor ids (tag, tagname, sensor, name, id, …)
  --value-column NAME     the column of values (value, val, reading, pv)`;

/** The columns named by the flags (parseFlags's camel-case keys). */
export function columnsFromFlags(flags: Readonly<Record<string, unknown>>): ColumnNames {
  const pick = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
  const time = pick(flags.timeColumn);
  const sensor = pick(flags.sensorColumn);
  const value = pick(flags.valueColumn);
  return {
    ...(time === undefined ? {} : { time }),
    ...(sensor === undefined ? {} : { sensor }),
    ...(value === undefined ? {} : { value }),
  };
}
