import type { z } from 'zod';
import { DEFAULT_DETECTION } from './config-defaults.ts';
import { ConfigError } from './config-error.ts';
import { type AlertingRules, compileAlerting } from './core/alerting/policy.ts';
import { compileRules, type DetectorRule } from './core/detector-rules.ts';
import type { DetectorSpec } from './core/detectors.ts';
import { CoreConfigError } from './core/errors.ts';
import type { FieldMapping } from './core/readings/field-mapping.ts';
import { detectorRulesSchema, rulesFileSchema } from './detector-schema.ts';

/**
 * Reads a rules file's text (DETECTOR_RULES, `--rules`, the stored rules document) into
 * checked rules: schema errors and rules that cannot compile both become one ConfigError
 * naming where the text came from.
 */

export interface RulesFile {
  /** Replaces the configured default detector when present. */
  readonly defaultDetector?: DetectorSpec;
  readonly rules: readonly DetectorRule[];
  /** Silence limit of sensors whose rule sets none (docs/silence.md). @default none */
  readonly silenceSeconds?: number;
  /** Freshness limit of sensors whose rule sets none (docs/alerting.md). @default the function's */
  readonly freshnessSeconds?: number;
  /** Where a record's fields are, for every topic and per topic. @default the function's */
  readonly readingFields?: ReadingFields;
  /** Alert groups and maintenance windows (docs/alerting-groups.md). @default none */
  readonly alerting?: AlertingRules;
}

/**
 * How records become readings: the field mapping of every topic, and of some topics in
 * particular (a topic's mapping wins). Changing it with the rules document changes how the
 * next batch reads its records, as the rules do for judging.
 */
export interface ReadingFields {
  readonly fields?: FieldMapping;
  readonly byTopic?: Readonly<Record<string, FieldMapping>>;
}

/**
 * Parses a JSON array of rules; `source` names where it came from (a variable or a file).
 * For the rules-file format (array or `{default, rules}` object) use parseRulesFile.
 */
export function parseRules(json: string, source: string): DetectorRule[] {
  const parsed = detectorRulesSchema.safeParse(parseJson(json, source));
  if (!parsed.success) throw schemaError(parsed.error, source);
  return parsed.data;
}

/**
 * Parses a rules file's text (docs/detectors.md): a plain array of rules, or
 * `{"default": {...}, "rules": [...]}`. Throws a ConfigError naming `source` and each bad path.
 */
export function parseRulesFile(json: string, source: string): RulesFile {
  const raw = parseJson(json, source);
  const parsed = Array.isArray(raw)
    ? detectorRulesSchema.safeParse(raw)
    : rulesFileSchema.options[1].safeParse(raw);
  if (!parsed.success) throw schemaError(parsed.error, source);
  const file: RulesFile = Array.isArray(parsed.data)
    ? { rules: parsed.data }
    : {
        rules: parsed.data.rules,
        ...(parsed.data.default === undefined ? {} : { defaultDetector: parsed.data.default }),
        ...(parsed.data.silenceSeconds === undefined
          ? {}
          : { silenceSeconds: parsed.data.silenceSeconds }),
        ...(parsed.data.freshnessSeconds === undefined
          ? {}
          : { freshnessSeconds: parsed.data.freshnessSeconds }),
        ...(parsed.data.readingFields === undefined && parsed.data.topicReadingFields === undefined
          ? {}
          : {
              readingFields: {
                ...(parsed.data.readingFields === undefined
                  ? {}
                  : { fields: parsed.data.readingFields as FieldMapping }),
                ...(parsed.data.topicReadingFields === undefined
                  ? {}
                  : { byTopic: parsed.data.topicReadingFields as Record<string, FieldMapping> }),
              },
            }),
        ...alertingOf(parsed.data),
      };
  try {
    compileRules(file.defaultDetector ?? DEFAULT_DETECTION.defaultDetector, file.rules);
    if (file.alerting !== undefined) compileAlerting(file.alerting);
  } catch (error) {
    if (error instanceof CoreConfigError) throw new ConfigError(`${source}: ${error.message}`);
    throw error;
  }
  return file;
}

/** The file's `groups` and `maintenance`, when it has any. */
function alertingOf(data: {
  groups?: AlertingRules['groups'];
  maintenance?: AlertingRules['maintenance'];
}): { alerting?: AlertingRules } {
  if (data.groups === undefined && data.maintenance === undefined) return {};
  return {
    alerting: {
      ...(data.groups === undefined ? {} : { groups: data.groups }),
      ...(data.maintenance === undefined ? {} : { maintenance: data.maintenance }),
    },
  };
}

function parseJson(json: string, source: string): unknown {
  try {
    return JSON.parse(json);
  } catch (error) {
    throw new ConfigError(`${source}: not valid JSON (${(error as Error).message})`);
  }
}

function schemaError(error: z.ZodError, source: string): ConfigError {
  const problems = error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return new ConfigError(`${source}: ${problems.join('; ')}`);
}
