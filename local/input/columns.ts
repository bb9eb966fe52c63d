import { InputFormatError } from './input-error.ts';

/** Column names found by themselves, compared lower-case with spaces and dashes as `_`. */
export const TIME_NAMES = [
  'time',
  'timestamp',
  'ts',
  'datetime',
  'date_time',
  'event_time',
  'eventtime',
  'time_stamp',
  'date',
];
export const SENSOR_NAMES = [
  'sensor_id',
  'sensorid',
  'sensor',
  'tag',
  'tagname',
  'tag_name',
  'tag_id',
  'name',
  'id',
  'point',
  'signal',
];
export const VALUE_NAMES = ['value', 'val', 'reading', 'pv'];

/** Columns named on the command line (--time-column, --sensor-column, --value-column). */
export interface ColumnNames {
  readonly time?: string;
  readonly sensor?: string;
  readonly value?: string;
}

/** Where the readings are in a file with a header. */
export type Layout =
  | {
      readonly kind: 'long';
      readonly sensor: number;
      readonly value: number;
      readonly time: number | null;
    }
  /** One sensor's values: its id comes from --sensor-id. */
  | { readonly kind: 'series'; readonly value: number; readonly time: number | null }
  /** One column per sensor, named after it. */
  | {
      readonly kind: 'wide';
      readonly time: number | null;
      readonly sensors: readonly { readonly index: number; readonly name: string }[];
    };

export const MAPPING_FLAGS = '--time-column, --sensor-column, --value-column';

/** A column name as compared with the names above: lower-case, spaces and dashes as `_`. */
export const normal = (name: string): string =>
  name
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

/**
 * The layout a header describes. A sensor and a value column: one reading per line; a value
 * column only: one sensor's series; a time column and no value column (or `wide`): one
 * sensor per other column. Throws, naming the columns seen and the flags to use, when the
 * header fits none of these.
 */
export function layoutOf(names: readonly string[], given: ColumnNames, wide: boolean): Layout {
  const seen = names.join(', ');
  const find = (flag: string, name: string | undefined, synonyms: readonly string[]) => {
    if (name !== undefined) {
      const index = names.findIndex((n) => normal(n) === normal(name));
      if (index < 0) {
        throw new InputFormatError(`${flag} ${name}: no such column; the header has: ${seen}`);
      }
      return index;
    }
    const index = names.findIndex((n) => synonyms.includes(normal(n)));
    return index < 0 ? null : index;
  };
  const time = find('--time-column', given.time, TIME_NAMES);
  const sensor = wide ? null : find('--sensor-column', given.sensor, SENSOR_NAMES);
  const value = wide ? null : find('--value-column', given.value, VALUE_NAMES);
  if (value !== null && sensor !== null) return { kind: 'long', sensor, value, time };
  if (value !== null) return { kind: 'series', value, time };
  if (sensor === null && (time !== null || wide)) {
    const sensors = names
      .map((name, index) => ({ index, name }))
      .filter(({ index, name }) => index !== time && name !== '');
    if (sensors.length > 0) return { kind: 'wide', time, sensors };
  }
  throw new InputFormatError(
    `unrecognised header: no ${sensor === null ? 'time or value' : 'value'} column among: ${seen}. ` +
      `Name them with ${MAPPING_FLAGS} (values are found under ${VALUE_NAMES.join('/')}, times under ${TIME_NAMES.slice(0, 3).join('/')})`,
  );
}
