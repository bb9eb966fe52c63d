/** How `npm run produce` turns input lines into Kafka records, like kafka-console-producer. */
export type LineFormat = 'csv' | 'json';

export interface LineRecord {
  readonly key: string | null;
  readonly value: string;
}

export interface LineResult {
  readonly record: LineRecord | null;
  /** Why a line has no key though keying was asked for (the line is still sent). */
  readonly warning?: string;
}

/**
 * Sends each non-blank line as is (the detector, not the producer, decides what is valid);
 * with `keyBySensor`, the record key is the line's sensor id, so one sensor's readings stay
 * in one partition and in order.
 */
export function lineToRecord(line: string, format: LineFormat, keyBySensor: boolean): LineResult {
  const value = line.replace(/\r$/, '');
  if (value.trim() === '') return { record: null };
  if (!keyBySensor) return { record: { key: null, value } };
  // The detector accepts JSON lines in either case, so a `{` line is read as JSON.
  const json = format === 'json' || value.trimStart().startsWith('{');
  const sensorId = json ? jsonSensorId(value) : csvSensorId(value);
  if (sensorId === null) {
    return {
      record: { key: null, value },
      warning: `no sensor id found for the key: ${value.slice(0, 80)}`,
    };
  }
  return { record: { key: sensorId, value } };
}

function csvSensorId(line: string): string | null {
  const first = line.split(',')[0]?.trim() ?? '';
  return first === '' ? null : first;
}

function jsonSensorId(line: string): string | null {
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null) return null;
    const o = parsed as Record<string, unknown>;
    const id = o.sensorId ?? o.sensor_id;
    return typeof id === 'string' && id !== '' ? id : null;
  } catch {
    return null;
  }
}
