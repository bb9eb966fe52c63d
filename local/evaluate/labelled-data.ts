import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { normal, TIME_NAMES, VALUE_NAMES } from '../input/columns.ts';
import { detectDelimiter, fromDecimalComma, splitFields } from '../input/delimited.ts';
import { TimeReader } from '../input/time-reader.ts';

/**
 * A labelled experiment: one or more sensors read at the same rows, and one label per row
 * (1 inside a labelled anomaly). A run of 1s is one event. A SKAB file is one experiment of
 * 8 sensors; a `timestamp,value,label` CSV is one of a single sensor.
 */
export interface Experiment {
  readonly name: string;
  readonly timestampsMs: readonly number[];
  readonly sensors: readonly { readonly name: string; readonly values: readonly number[] }[];
  readonly labels: Uint8Array;
  /** How a generated series was drawn (scale and interval), for the per-scale table. */
  readonly group?: string;
}

export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

/** Label runs as [first row, last row] pairs: the events. */
export function labelRuns(labels: ArrayLike<number>): { start: number; end: number }[] {
  const runs: { start: number; end: number }[] = [];
  for (let i = 0; i < labels.length; i += 1) {
    if (labels[i] !== 1) continue;
    const last = runs.at(-1);
    if (last !== undefined && last.end === i - 1) last.end = i;
    else runs.push({ start: i, end: i });
  }
  return runs;
}

/**
 * A time as the file reader reads it (docs/input-formats.md): epoch numbers by magnitude,
 * dates without a zone as UTC (SKAB's local times; only differences matter here).
 */
function parseTime(times: TimeReader, text: string, where: string): number {
  const ms = times.toEpochMs(text);
  if (ms === null) throw new DatasetError(`${where}: not a time: ${JSON.stringify(text)}`);
  return ms;
}

/**
 * One SKAB file (`;`-separated: datetime, 8 sensor columns, anomaly, changepoint). The
 * `anomaly` column is the label; `changepoint` is not used (the label runs' starts are the
 * change points into each fault).
 */
export function readSkabFile(path: string, name: string): Experiment {
  const lines = readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const header = splitFields(lines[0] ?? '', ';');
  const times = new TimeReader('auto');
  const timeCol = header.indexOf('datetime');
  const labelCol = header.indexOf('anomaly');
  if (timeCol < 0 || labelCol < 0) {
    throw new DatasetError(`${path}: not a SKAB file (needs datetime and anomaly columns)`);
  }
  const sensorCols = header
    .map((h, i) => ({ h, i }))
    .filter(({ h, i }) => i !== timeCol && i !== labelCol && h !== 'changepoint');
  const timestampsMs: number[] = [];
  const values = sensorCols.map(() => [] as number[]);
  const labels: number[] = [];
  for (let r = 1; r < lines.length; r += 1) {
    const f = splitFields(lines[r] as string, ';');
    timestampsMs.push(parseTime(times, f[timeCol] ?? '', `${path}:${r + 1}`));
    sensorCols.forEach(({ i }, k) => {
      (values[k] as number[]).push(Number(f[i]));
    });
    labels.push(Number(f[labelCol]) >= 0.5 ? 1 : 0);
  }
  return {
    name,
    timestampsMs,
    sensors: sensorCols.map(({ h }, k) => ({ name: h, values: values[k] as number[] })),
    labels: Uint8Array.from(labels),
  };
}

/**
 * Every labelled SKAB experiment under `dir` (valve1/, valve2/, other/; the anomaly-free file
 * has no events and is skipped), named `valve1-0` and so on, in a stable order.
 */
export function readSkab(dir: string): Experiment[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new DatasetError(
      `SKAB data not found at ${dir}: pass --skab DIR (the folder holding valve1/, valve2/, other/)`,
    );
  }
  const experiments: Experiment[] = [];
  for (const group of ['valve1', 'valve2', 'other']) {
    const groupDir = join(dir, group);
    if (!existsSync(groupDir)) continue;
    const files = readdirSync(groupDir)
      .filter((f) => f.endsWith('.csv'))
      .sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
    for (const f of files) {
      experiments.push(readSkabFile(join(groupDir, f), `${group}-${basename(f, '.csv')}`));
    }
  }
  if (experiments.length === 0) throw new DatasetError(`${dir}: no SKAB experiment files found`);
  return experiments;
}

/**
 * A `timestamp,value,label` CSV as a one-sensor experiment, read as the backtest reads files:
 * the delimiter (`,` `;` tab) and a decimal comma detected, the time and value columns by
 * their usual names, epoch times by magnitude.
 */
export function readLabelledCsv(path: string, name: string): Experiment {
  const lines = readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const sep = detectDelimiter(lines[0] ?? '');
  const header = splitFields(lines[0] ?? '', sep).map(normal);
  const t = header.findIndex((h) => TIME_NAMES.includes(h));
  const v = header.findIndex((h) => VALUE_NAMES.includes(h));
  const l = header.findIndex((h) => h === 'label' || h === 'anomaly');
  if (t < 0 || v < 0 || l < 0) {
    throw new DatasetError(
      `${path}: needs a header naming a time (timestamp, time, ts, …), a value (value, val, …) and a label column; it has: ${header.join(', ')}`,
    );
  }
  const times = new TimeReader('auto');
  const timestampsMs: number[] = [];
  const values: number[] = [];
  const labels: number[] = [];
  for (let r = 1; r < lines.length; r += 1) {
    const f = splitFields(lines[r] as string, sep);
    timestampsMs.push(parseTime(times, f[t] ?? '', `${path}:${r + 1}`));
    const value = Number(sep === ',' ? f[v] : fromDecimalComma(f[v] ?? ''));
    if (!Number.isFinite(value)) {
      throw new DatasetError(`${path}:${r + 1}: value is not a number: ${JSON.stringify(f[v])}`);
    }
    values.push(value);
    labels.push(Number(f[l]) >= 0.5 ? 1 : 0);
  }
  return {
    name,
    timestampsMs,
    sensors: [{ name: 'value', values }],
    labels: Uint8Array.from(labels),
  };
}

/** A CSV file, or every `.csv` under a directory (recursively), as experiments. */
export function readLabelledCsvs(path: string): Experiment[] {
  if (!existsSync(path)) throw new DatasetError(`--csv: ${path} does not exist`);
  if (!statSync(path).isDirectory()) return [readLabelledCsv(path, basename(path, '.csv'))];
  const out: Experiment[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (entry.endsWith('.csv'))
        out.push(readLabelledCsv(full, relative(path, full).replace(/\.csv$/, '')));
    }
  };
  walk(path);
  if (out.length === 0) throw new DatasetError(`--csv: no .csv files under ${path}`);
  return out;
}
