import { CoreConfigError } from '../errors.ts';

/**
 * Where a record's fields are: the same mapping for JSON values and for values decoded
 * with a schema (Avro, Protobuf, JSON Schema). A path is a field name, or names joined by
 * dots for nested fields (`payload.temperature`).
 */
export interface FieldMapping {
  /** @default `sensorId`, else `sensor_id`, else the record key */
  readonly sensorId?: string;
  /** @default `value`; without one, the record's measurements (below) */
  readonly value?: string;
  /** @default `timestamp`, else `ts`, else the Kafka record's timestamp */
  readonly timestamp?: string;
  /**
   * Fields read as measurements of the record's sensor when it has no value field, each a
   * reading of `<sensorId>/<field>`. @default every other field that holds a number
   */
  readonly measurements?: readonly string[];
}

export const DEFAULT_FIELD_MAPPING: FieldMapping = {};

const PATH = /^[^.\s]+(?:\.[^.\s]+)*$/;

/** Checks a mapping once, at cold start or when a CLI starts: a bad path throws. */
export function checkFieldMapping(mapping: FieldMapping): FieldMapping {
  const paths = [
    mapping.sensorId,
    mapping.value,
    mapping.timestamp,
    ...(mapping.measurements ?? []),
  ];
  for (const path of paths) {
    if (path !== undefined && !PATH.test(path)) {
      throw new CoreConfigError(`field path ${JSON.stringify(path)}: want name or name.name`);
    }
  }
  if (mapping.measurements !== undefined && mapping.measurements.length === 0) {
    throw new CoreConfigError('measurements: list at least one field, or leave it out');
  }
  return mapping;
}

/** The field at a dotted path of an object, or undefined. */
export function fieldAt(object: Readonly<Record<string, unknown>>, path: string): unknown {
  if (!path.includes('.')) return object[path];
  let at: unknown = object;
  for (const name of path.split('.')) {
    if (typeof at !== 'object' || at === null || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[name];
  }
  return at;
}
