import { z } from 'zod';
import { alertingFields } from './alerting-schema.ts';
import type { Evaluation } from './batch/window-close/closing.ts';
import { type AlertingRules, compileAlerting } from './core/alerting/policy.ts';
import type { CatalogueKind, DETECTOR_PARAMETERS } from './core/detector-parameters.ts';
import { compileRules, type DetectorRule } from './core/detector-rules.ts';
import { DETECTOR_SETTINGS, type DetectorSetting } from './core/detector-settings.ts';
import type { DetectorSpec } from './core/detectors.ts';
import { DETECTOR_KINDS } from './core/detectors.ts';
import { CoreConfigError } from './core/errors.ts';
import type { FieldMapping } from './core/readings/field-mapping.ts';
import { validateWindowSpec } from './core/windows.ts';

/** `adaptiveScoreThreshold`, …: the key of every detector setting (detector-parameters.ts). */
type DetectorSettingKey =
  | {
      [K in CatalogueKind]: K extends 'threshold'
        ? 'threshold'
        : `${K}${Capitalize<keyof (typeof DETECTOR_PARAMETERS)[K] & string>}`;
    }[CatalogueKind]
  | 'robustDirection';

const DETECTOR_ENV = Object.fromEntries(DETECTOR_SETTINGS.map((s) => [s.key, s.env]));

/** Kinds the function's DETECTOR may name: `limits` needs per-sensor values, so rules only. */
export const ENV_DETECTOR_KINDS = DETECTOR_KINDS.filter(
  (k): k is Exclude<(typeof DETECTOR_KINDS)[number], 'limits'> => k !== 'limits',
);

/** A setting's zod schema: `coerce` for text (variables), plain for JSON (rules files). */
export function settingSchema(s: DetectorSetting, coerce: boolean): z.ZodType {
  if (s.type === 'enum') return z.enum(s.values as [string, ...string[]]);
  let n = (coerce ? z.coerce.number() : z.number()).finite();
  if (s.type === 'integer') n = n.int();
  if (s.min !== undefined) n = s.minExclusive ? n.gt(s.min) : n.min(s.min);
  if (s.max !== undefined) n = s.maxExclusive ? n.lt(s.max) : n.max(s.max);
  return n;
}

/**
 * The detector function's settings, read once from environment variables at cold start.
 * The CDK app sets exactly these names; the local pipeline passes a config object.
 */
export const ENV = {
  tableName: 'TABLE_NAME',
  topicArn: 'ALERT_TOPIC_ARN',
  slideSeconds: 'SLIDE_SECONDS',
  windowSeconds: 'WINDOW_SECONDS',
  detector: 'DETECTOR',
  ...(DETECTOR_ENV as { readonly [K in DetectorSettingKey]: string }),
  detectorRules: 'DETECTOR_RULES',
  alertCooldownSeconds: 'ALERT_COOLDOWN_SECONDS',
  freshnessSeconds: 'FRESHNESS_SECONDS',
  episodeEndReadings: 'EPISODE_END_READINGS',
  digestPeriodSeconds: 'DIGEST_PERIOD_SECONDS',
  retentionMarginSeconds: 'RETENTION_MARGIN_SECONDS',
  writeConcurrency: 'DYNAMODB_WRITE_CONCURRENCY',
  evaluation: 'EVALUATION',
  allowedLatenessMs: 'ALLOWED_LATENESS_MS',
  flinkFormat: 'FLINK_FORMAT',
} as const;

export interface DetectorConfig {
  readonly tableName: string;
  readonly topicArn: string;
  readonly slideMs: number;
  readonly windowMs: number;
  readonly defaultDetector: DetectorSpec;
  readonly rules: readonly DetectorRule[];
  readonly alertCooldownMs: number;
  /**
   * Anomalies of readings older than this (processing time) are sent in the digest only
   * (docs/alerting.md); 0: never stale. A rule's or the rules file's `freshnessSeconds` wins.
   * @default 300
   */
  readonly freshnessSeconds?: number;
  /** Normal readings in a row that end a sensor's episode. @default 10 */
  readonly episodeEndReadings?: number;
  /**
   * Email digests by time: at most one per this many seconds per stack, sent by the digest
   * function (docs/alerting.md). 0 or absent: a digest per published batch, as before.
   * @default 900 in the function's environment; absent in a config object
   */
  readonly digestPeriodSeconds?: number;
  /** Buckets live for window + this margin after their last write (processing time). */
  readonly retentionMarginSeconds: number;
  /** Parallel DynamoDB writes per batch. */
  readonly writeConcurrency: number;
  /** The rules file's `silenceSeconds`: for sensors whose rule sets none (docs/silence.md). */
  readonly silenceSeconds?: number;
  /** The rules file's field mappings: how records become readings (docs/input-formats.md). */
  readonly readingFields?: ReadingFields;
  /**
   * When the window detectors judge: on arrival (the default), or each window when it closes,
   * as the seed Flink job did (semantics.md §3). @default 'arrival'
   */
  readonly evaluation?: Evaluation;
  /** Window-close evaluation: how long past its end a window waits. @default 2000 */
  readonly allowedLatenessMs?: number;
  /** Window-close evaluation: the seed job's arithmetic and number format. @default 'python' */
  readonly flinkFormat?: 'python' | 'java';
  /** The rules file's alert groups and maintenance windows (docs/alerting-groups.md). */
  readonly alerting?: AlertingRules;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const positiveInt = z.coerce.number().int().positive();
const nonNegative = z.coerce.number().finite().nonnegative();

const limitsSchema = z
  .strictObject({
    high: z.number().finite().optional(),
    low: z.number().finite().optional(),
  })
  .refine((l) => l.high !== undefined || l.low !== undefined, 'give high, low or both')
  .refine((l) => l.high === undefined || l.low === undefined || l.low <= l.high, {
    message: 'low must not be above high',
  });
const directionSchema = z.enum(['both', 'up', 'down']);

/** A detector kind's rules-file schema: its catalogued parameters with defaults, and the guards. */
function kindSchema(kind: Exclude<CatalogueKind, 'limits'>) {
  const shape: Record<string, z.ZodType> = { kind: z.literal(kind) };
  for (const s of DETECTOR_SETTINGS) {
    if (s.kind === kind) shape[s.parameter] = settingSchema(s, false).default(s.default as never);
  }
  return z.strictObject({
    limits: limitsSchema.optional(),
    direction: directionSchema.optional(),
    ...shape,
  });
}

/** One detector as JSON; omitted parameters take their defaults, unknown keys are errors. */
export const detectorSpecSchema = z.discriminatedUnion('kind', [
  kindSchema('threshold'),
  kindSchema('zscore'),
  kindSchema('ewma'),
  kindSchema('adaptive'),
  kindSchema('robust'),
  z
    .strictObject({
      kind: z.literal('limits'),
      high: z.number().finite().optional(),
      low: z.number().finite().optional(),
      direction: directionSchema.optional(),
    })
    .refine((l) => l.high !== undefined || l.low !== undefined, 'give high, low or both')
    .refine((l) => l.high === undefined || l.low === undefined || l.low <= l.high, {
      message: 'low must not be above high',
    }),
]) as unknown as z.ZodType<DetectorSpec>;

/**
 * Rules as JSON: `[{"match": "boiler_*", "detector": {"kind": "zscore", "sigma": 4}}]`; a rule
 * may name the Kafka `topic` it applies to (an exact name or a glob, docs/rules.md).
 */
export const detectorRulesSchema = z.array(
  z
    .strictObject({
      match: z.string().min(1),
      topic: z.string().min(1).optional(),
      detector: detectorSpecSchema,
      /** Absolute limits beside the detector: a reading beyond them alerts whatever it says. */
      limits: limitsSchema.optional(),
      /** A sensor that reported and then stays silent this long raises a `silent` alert (docs/silence.md). */
      silenceSeconds: z.number().int().positive().optional(),
      /** Older readings' anomalies go to the digest only (docs/alerting.md); 0: never stale. */
      freshnessSeconds: z.number().int().nonnegative().optional(),
    })
    .transform(({ limits, ...rule }): DetectorRule => {
      if (limits === undefined) return rule as DetectorRule;
      const d = rule.detector as DetectorSpec;
      const detector = (
        d.kind === 'limits' ? { ...d, ...limits } : { ...d, limits: { ...d.limits, ...limits } }
      ) as DetectorSpec;
      return { ...rule, detector } as DetectorRule;
    }),
);

/**
 * A rules file (docs/detectors.md): either a plain array of rules, or an object with an
 * optional `default` detector for every sensor no rule matches, and the rules.
 */
/** Where a record's sensor id, value and timestamp are (docs/input-formats.md). */
const fieldPath = z
  .string()
  .regex(/^[^.\s]+(?:\.[^.\s]+)*$/, 'a field name, or names joined by dots');
export const fieldMappingSchema = z.strictObject({
  sensorId: fieldPath.optional(),
  value: fieldPath.optional(),
  timestamp: fieldPath.optional(),
  measurements: z.array(fieldPath).min(1).optional(),
});

export const rulesFileSchema = z.union([
  detectorRulesSchema,
  z.strictObject({
    default: detectorSpecSchema.optional(),
    /** For sensors whose rule sets none (docs/silence.md). */
    silenceSeconds: z.number().int().positive().optional(),
    /** For sensors whose rule sets none (docs/alerting.md); 0: never stale. */
    freshnessSeconds: z.number().int().nonnegative().optional(),
    /** How records become readings, for every topic (docs/input-formats.md). */
    readingFields: fieldMappingSchema.optional(),
    /** The same per Kafka topic, before `readingFields`. */
    topicReadingFields: z.record(z.string().min(1), fieldMappingSchema).optional(),
    rules: detectorRulesSchema.default([]),
    ...alertingFields,
  }),
]);

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

/** The variables and their defaults (docs/configuration.md is generated from this schema). */
export const envSchema = z.object({
  [ENV.tableName]: z.string().min(1),
  [ENV.topicArn]: z.string().min(1),
  [ENV.slideSeconds]: positiveInt.default(5),
  [ENV.windowSeconds]: positiveInt.default(10),
  [ENV.detector]: z.enum(ENV_DETECTOR_KINDS).default('threshold'),
  ...Object.fromEntries(
    DETECTOR_SETTINGS.map((s) => [s.env, settingSchema(s, true).default(s.default as never)]),
  ),
  [ENV.detectorRules]: z.string().default('[]'),
  [ENV.alertCooldownSeconds]: nonNegative.default(60),
  [ENV.freshnessSeconds]: z.coerce.number().int().nonnegative().default(300),
  [ENV.episodeEndReadings]: positiveInt.max(1_000_000).default(10),
  [ENV.digestPeriodSeconds]: z.coerce.number().int().min(0).max(86_400).default(900),
  [ENV.retentionMarginSeconds]: nonNegative.default(3600),
  [ENV.writeConcurrency]: positiveInt.max(256).default(16),
  [ENV.evaluation]: z.enum(['arrival', 'window-close']).default('arrival'),
  [ENV.allowedLatenessMs]: z.coerce.number().int().nonnegative().default(2000),
  [ENV.flinkFormat]: z.enum(['python', 'java']).default('python'),
});

/** Parses the environment; the error names every bad variable and what it holds. */
export function configFromEnv(env: Record<string, string | undefined>): DetectorConfig {
  // Empty strings count as unset, as they do for most tools.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      const held = env[name];
      if (held === undefined || held === '') return `${name}: required but not set`;
      return `${name}: ${issue.message} (got ${JSON.stringify(held)})`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data as {
    [ENV.tableName]: string;
    [ENV.topicArn]: string;
    [ENV.slideSeconds]: number;
    [ENV.windowSeconds]: number;
    [ENV.detector]: CatalogueKind;
    [ENV.detectorRules]: string;
    [ENV.alertCooldownSeconds]: number;
    [ENV.freshnessSeconds]: number;
    [ENV.episodeEndReadings]: number;
    [ENV.digestPeriodSeconds]: number;
    [ENV.retentionMarginSeconds]: number;
    [ENV.writeConcurrency]: number;
    [ENV.evaluation]: Evaluation;
    [ENV.allowedLatenessMs]: number;
    [ENV.flinkFormat]: 'python' | 'java';
  } & Record<string, unknown>;
  // The chosen kind's parameters, each from its variable (detector-parameters.ts).
  const fromVariables = (): DetectorSpec => {
    const kind = e[ENV.detector];
    const spec: Record<string, unknown> = { kind };
    for (const s of DETECTOR_SETTINGS) if (s.kind === kind) spec[s.parameter] = e[s.env];
    return spec as unknown as DetectorSpec;
  };
  // A rules file's `default` replaces DETECTOR and its parameter variables: the file is the
  // one place users edit, and the CDK app may set the variables to their defaults anyway.
  const rulesFile = parseRulesFile(e[ENV.detectorRules], ENV.detectorRules);
  const defaultDetector = rulesFile.defaultDetector ?? fromVariables();
  return validateConfig({
    tableName: e[ENV.tableName],
    topicArn: e[ENV.topicArn],
    slideMs: e[ENV.slideSeconds] * 1000,
    windowMs: e[ENV.windowSeconds] * 1000,
    defaultDetector,
    rules: rulesFile.rules,
    alertCooldownMs: e[ENV.alertCooldownSeconds] * 1000,
    freshnessSeconds: rulesFile.freshnessSeconds ?? e[ENV.freshnessSeconds],
    episodeEndReadings: e[ENV.episodeEndReadings],
    digestPeriodSeconds: e[ENV.digestPeriodSeconds],
    retentionMarginSeconds: e[ENV.retentionMarginSeconds],
    writeConcurrency: e[ENV.writeConcurrency],
    ...(e[ENV.evaluation] === 'window-close'
      ? {
          evaluation: 'window-close' as const,
          allowedLatenessMs: e[ENV.allowedLatenessMs],
          flinkFormat: e[ENV.flinkFormat],
        }
      : {}),
    ...(rulesFile.silenceSeconds === undefined ? {} : { silenceSeconds: rulesFile.silenceSeconds }),
    ...(rulesFile.readingFields === undefined ? {} : { readingFields: rulesFile.readingFields }),
    ...(rulesFile.alerting === undefined ? {} : { alerting: rulesFile.alerting }),
  });
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

/** Cross-field checks shared by every way of building a config. */
export function validateConfig(config: DetectorConfig): DetectorConfig {
  try {
    validateWindowSpec({ slideMs: config.slideMs, windowMs: config.windowMs });
    compileRules(config.defaultDetector, config.rules);
  } catch (error) {
    if (error instanceof CoreConfigError) {
      throw new ConfigError(
        `invalid configuration: ${error.message} (${ENV.slideSeconds}/${ENV.windowSeconds}/${ENV.detectorRules})`,
      );
    }
    throw error;
  }
  return config;
}

export const DEFAULT_DETECTION = {
  slideMs: 5000,
  windowMs: 10_000,
  defaultDetector: { kind: 'threshold', threshold: 50 } satisfies DetectorSpec,
  rules: [] as DetectorRule[],
  alertCooldownMs: 60_000,
  retentionMarginSeconds: 3600,
  writeConcurrency: 16,
} as const;
