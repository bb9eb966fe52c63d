import { z } from 'zod';
import type { Evaluation } from './batch/window-close/closing.ts';
import { ConfigError } from './config-error.ts';
import type { AlertingRules } from './core/alerting/policy.ts';
import type { CatalogueKind, DETECTOR_PARAMETERS } from './core/detector-parameters.ts';
import { compileRules, type DetectorRule } from './core/detector-rules.ts';
import { DETECTOR_SETTINGS } from './core/detector-settings.ts';
import type { DetectorSpec } from './core/detectors.ts';
import { DETECTOR_KINDS } from './core/detectors.ts';
import { CoreConfigError } from './core/errors.ts';
import { validateWindowSpec } from './core/windows.ts';
import { settingSchema } from './detector-schema.ts';
import { parseRulesFile, type ReadingFields } from './parse-rules-file.ts';

// Their first home: most callers import the whole configuration from here.
export { DEFAULT_DETECTION } from './config-defaults.ts';
export { ConfigError } from './config-error.ts';
export { detectorSpecSchema, rulesFileSchema } from './detector-schema.ts';
export {
  parseRules,
  parseRulesFile,
  type ReadingFields,
  type RulesFile,
} from './parse-rules-file.ts';

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

const positiveInt = z.coerce.number().int().positive();
const nonNegative = z.coerce.number().finite().nonnegative();

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
