import { ConfigError } from '../config.ts';
import { CoreConfigError } from '../core/errors.ts';
import { checkFieldMapping, type FieldMapping } from '../core/readings/field-mapping.ts';

/** The environment the construct sets for reading records (infra/constructs/schema-registry-access.ts). */
export const READINGS_ENV = {
  /** `confluent` or `glue`; unset: records are text (CSV, JSON) only. */
  registry: 'SCHEMA_REGISTRY',
  /** Confluent: the registry's base URL. */
  url: 'SCHEMA_REGISTRY_URL',
  /** Confluent: a Secrets Manager secret {"username": …, "password": …} for basic auth. */
  secretArn: 'SCHEMA_REGISTRY_SECRET_ARN',
  /** A JSON FieldMapping: where the sensor id, value and timestamp are in a record. */
  fields: 'READING_FIELDS',
} as const;

export type RegistrySettings =
  | { readonly kind: 'confluent'; readonly url: string; readonly secretArn?: string }
  | { readonly kind: 'glue' };

export interface ReadingSettings {
  readonly registry?: RegistrySettings;
  readonly fields: FieldMapping;
}

/** Reads and checks the settings once, at cold start: a bad variable is named in the error. */
export function readingSettingsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): ReadingSettings {
  const get = (name: string) =>
    env[name] === undefined || env[name] === '' ? undefined : env[name];
  let fields: FieldMapping = {};
  const fieldsJson = get(READINGS_ENV.fields);
  if (fieldsJson !== undefined) {
    try {
      fields = checkFieldMapping(JSON.parse(fieldsJson) as FieldMapping);
    } catch (error) {
      const why = error instanceof CoreConfigError ? error.message : 'not JSON';
      throw new ConfigError(`${READINGS_ENV.fields}: ${why} (got ${fieldsJson})`);
    }
  }
  const kind = get(READINGS_ENV.registry);
  if (kind === undefined) return { fields };
  if (kind === 'glue') return { registry: { kind }, fields };
  if (kind !== 'confluent') {
    throw new ConfigError(`${READINGS_ENV.registry}: confluent or glue (got ${kind})`);
  }
  const url = get(READINGS_ENV.url);
  if (url === undefined || !/^https?:\/\//.test(url)) {
    throw new ConfigError(
      `${READINGS_ENV.url}: the registry's http(s) URL (got ${url ?? 'nothing'})`,
    );
  }
  const secretArn = get(READINGS_ENV.secretArn);
  return { registry: { kind, url, ...(secretArn === undefined ? {} : { secretArn }) }, fields };
}
