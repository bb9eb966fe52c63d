import { z } from 'zod';
import { compileRules, type DetectorRule } from './core/detector-rules.ts';
import type { DetectorSpec } from './core/detectors.ts';
import {
  ADAPTIVE_DEFAULTS,
  DETECTOR_KINDS,
  EWMA_DEFAULTS,
  ZSCORE_DEFAULTS,
} from './core/detectors.ts';
import { CoreConfigError } from './core/errors.ts';
import { validateWindowSpec } from './core/windows.ts';

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
  threshold: 'THRESHOLD',
  zscoreSigma: 'ZSCORE_SIGMA',
  zscoreMinCount: 'ZSCORE_MIN_COUNT',
  zscoreMinDeviation: 'ZSCORE_MIN_DEVIATION',
  ewmaHalfLifeReadings: 'EWMA_HALF_LIFE_READINGS',
  ewmaSigma: 'EWMA_SIGMA',
  ewmaWarmupReadings: 'EWMA_WARMUP_READINGS',
  ewmaMinRelativeDeviation: 'EWMA_MIN_RELATIVE_DEVIATION',
  ewmaMinDeviation: 'EWMA_MIN_DEVIATION',
  ewmaLevelShiftReadings: 'EWMA_LEVEL_SHIFT_READINGS',
  adaptiveHalfLifeReadings: 'ADAPTIVE_HALF_LIFE_READINGS',
  adaptiveEnvelopeHalfLifeReadings: 'ADAPTIVE_ENVELOPE_HALF_LIFE_READINGS',
  adaptiveExtremeHalfLifeReadings: 'ADAPTIVE_EXTREME_HALF_LIFE_READINGS',
  adaptiveSigma: 'ADAPTIVE_SIGMA',
  adaptiveExtremeMargin: 'ADAPTIVE_EXTREME_MARGIN',
  adaptiveExtremeMaturityReadings: 'ADAPTIVE_EXTREME_MATURITY_READINGS',
  adaptiveScoreThreshold: 'ADAPTIVE_SCORE_THRESHOLD',
  adaptiveWarmupReadings: 'ADAPTIVE_WARMUP_READINGS',
  adaptiveRefractoryReadings: 'ADAPTIVE_REFRACTORY_READINGS',
  adaptiveMinSpreadFraction: 'ADAPTIVE_MIN_SPREAD_FRACTION',
  adaptiveMinDeviation: 'ADAPTIVE_MIN_DEVIATION',
  detectorRules: 'DETECTOR_RULES',
  alertCooldownSeconds: 'ALERT_COOLDOWN_SECONDS',
  retentionMarginSeconds: 'RETENTION_MARGIN_SECONDS',
  writeConcurrency: 'DYNAMODB_WRITE_CONCURRENCY',
} as const;

export interface DetectorConfig {
  readonly tableName: string;
  readonly topicArn: string;
  readonly slideMs: number;
  readonly windowMs: number;
  readonly defaultDetector: DetectorSpec;
  readonly rules: readonly DetectorRule[];
  readonly alertCooldownMs: number;
  /** Buckets live for window + this margin after their last write (processing time). */
  readonly retentionMarginSeconds: number;
  /** Parallel DynamoDB writes per batch. */
  readonly writeConcurrency: number;
  /** The rules file's `silenceSeconds`: for sensors whose rule sets none (docs/silence.md). */
  readonly silenceSeconds?: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const positiveInt = z.coerce.number().int().positive();
const nonNegative = z.coerce.number().finite().nonnegative();

const positiveNumber = z.number().finite().positive();
const positiveCoerced = z.coerce.number().finite().positive();
const wholeCoerced = z.coerce.number().int().min(0);

/** One detector as JSON; omitted parameters take their defaults, unknown keys are errors. */
export const detectorSpecSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('threshold'),
    threshold: z.number().finite().nonnegative().default(50),
  }),
  z.strictObject({
    kind: z.literal('zscore'),
    sigma: z.number().finite().positive().default(ZSCORE_DEFAULTS.sigma),
    minCount: z.number().int().min(1).default(ZSCORE_DEFAULTS.minCount),
    minDeviation: z.number().finite().nonnegative().default(ZSCORE_DEFAULTS.minDeviation),
  }),
  z.strictObject({
    kind: z.literal('ewma'),
    halfLifeReadings: z.number().finite().positive().default(EWMA_DEFAULTS.halfLifeReadings),
    sigma: z.number().finite().positive().default(EWMA_DEFAULTS.sigma),
    warmupReadings: z.number().int().min(1).default(EWMA_DEFAULTS.warmupReadings),
    minRelativeDeviation: z
      .number()
      .finite()
      .nonnegative()
      .default(EWMA_DEFAULTS.minRelativeDeviation),
    minDeviation: z.number().finite().nonnegative().default(EWMA_DEFAULTS.minDeviation),
    levelShiftReadings: z.number().int().min(1).default(EWMA_DEFAULTS.levelShiftReadings),
  }),
  z.strictObject({
    kind: z.literal('adaptive'),
    halfLifeReadings: positiveNumber.default(ADAPTIVE_DEFAULTS.halfLifeReadings),
    envelopeHalfLifeReadings: positiveNumber.default(ADAPTIVE_DEFAULTS.envelopeHalfLifeReadings),
    extremeHalfLifeReadings: positiveNumber.default(ADAPTIVE_DEFAULTS.extremeHalfLifeReadings),
    sigma: positiveNumber.default(ADAPTIVE_DEFAULTS.sigma),
    extremeMargin: positiveNumber.default(ADAPTIVE_DEFAULTS.extremeMargin),
    extremeMaturityReadings: positiveNumber.default(ADAPTIVE_DEFAULTS.extremeMaturityReadings),
    scoreThreshold: z.number().gt(0).lt(1).default(ADAPTIVE_DEFAULTS.scoreThreshold),
    warmupReadings: z.number().int().min(0).default(ADAPTIVE_DEFAULTS.warmupReadings),
    refractoryReadings: z.number().int().min(0).default(ADAPTIVE_DEFAULTS.refractoryReadings),
    minSpreadFraction: z
      .number()
      .finite()
      .nonnegative()
      .default(ADAPTIVE_DEFAULTS.minSpreadFraction),
    minDeviation: z.number().finite().nonnegative().default(ADAPTIVE_DEFAULTS.minDeviation),
  }),
]);

/**
 * Rules as JSON: `[{"match": "boiler_*", "detector": {"kind": "zscore", "sigma": 4}}]`; a rule
 * may name the Kafka `topic` it applies to (an exact name or a glob, docs/rules.md).
 */
export const detectorRulesSchema = z.array(
  z.strictObject({
    match: z.string().min(1),
    topic: z.string().min(1).optional(),
    detector: detectorSpecSchema,
    /** A sensor that reported and then stays silent this long raises a `silent` alert (docs/silence.md). */
    silenceSeconds: z.number().int().positive().optional(),
  }),
);

/**
 * A rules file (docs/detectors.md): either a plain array of rules, or an object with an
 * optional `default` detector for every sensor no rule matches, and the rules.
 */
export const rulesFileSchema = z.union([
  detectorRulesSchema,
  z.strictObject({
    default: detectorSpecSchema.optional(),
    /** For sensors whose rule sets none (docs/silence.md). */
    silenceSeconds: z.number().int().positive().optional(),
    rules: detectorRulesSchema.default([]),
  }),
]);

export interface RulesFile {
  /** Replaces the configured default detector when present. */
  readonly defaultDetector?: DetectorSpec;
  readonly rules: readonly DetectorRule[];
  /** Silence limit of sensors whose rule sets none (docs/silence.md). @default none */
  readonly silenceSeconds?: number;
}

/** The variables and their defaults (docs/configuration.md is generated from this schema). */
export const envSchema = z.object({
  [ENV.tableName]: z.string().min(1),
  [ENV.topicArn]: z.string().min(1),
  [ENV.slideSeconds]: positiveInt.default(5),
  [ENV.windowSeconds]: positiveInt.default(10),
  [ENV.detector]: z.enum(DETECTOR_KINDS).default('threshold'),
  [ENV.threshold]: nonNegative.default(50),
  [ENV.zscoreSigma]: z.coerce.number().finite().positive().default(ZSCORE_DEFAULTS.sigma),
  [ENV.zscoreMinCount]: positiveInt.default(ZSCORE_DEFAULTS.minCount),
  [ENV.zscoreMinDeviation]: nonNegative.default(ZSCORE_DEFAULTS.minDeviation),
  [ENV.ewmaHalfLifeReadings]: z.coerce
    .number()
    .finite()
    .positive()
    .default(EWMA_DEFAULTS.halfLifeReadings),
  [ENV.ewmaSigma]: z.coerce.number().finite().positive().default(EWMA_DEFAULTS.sigma),
  [ENV.ewmaWarmupReadings]: positiveInt.default(EWMA_DEFAULTS.warmupReadings),
  [ENV.ewmaMinRelativeDeviation]: nonNegative.default(EWMA_DEFAULTS.minRelativeDeviation),
  [ENV.ewmaMinDeviation]: nonNegative.default(EWMA_DEFAULTS.minDeviation),
  [ENV.ewmaLevelShiftReadings]: positiveInt.default(EWMA_DEFAULTS.levelShiftReadings),
  [ENV.adaptiveHalfLifeReadings]: positiveCoerced.default(ADAPTIVE_DEFAULTS.halfLifeReadings),
  [ENV.adaptiveEnvelopeHalfLifeReadings]: positiveCoerced.default(
    ADAPTIVE_DEFAULTS.envelopeHalfLifeReadings,
  ),
  [ENV.adaptiveExtremeHalfLifeReadings]: positiveCoerced.default(
    ADAPTIVE_DEFAULTS.extremeHalfLifeReadings,
  ),
  [ENV.adaptiveSigma]: positiveCoerced.default(ADAPTIVE_DEFAULTS.sigma),
  [ENV.adaptiveExtremeMargin]: positiveCoerced.default(ADAPTIVE_DEFAULTS.extremeMargin),
  [ENV.adaptiveExtremeMaturityReadings]: positiveCoerced.default(
    ADAPTIVE_DEFAULTS.extremeMaturityReadings,
  ),
  [ENV.adaptiveScoreThreshold]: z.coerce
    .number()
    .gt(0)
    .lt(1)
    .default(ADAPTIVE_DEFAULTS.scoreThreshold),
  [ENV.adaptiveWarmupReadings]: wholeCoerced.default(ADAPTIVE_DEFAULTS.warmupReadings),
  [ENV.adaptiveRefractoryReadings]: wholeCoerced.default(ADAPTIVE_DEFAULTS.refractoryReadings),
  [ENV.adaptiveMinSpreadFraction]: nonNegative.default(ADAPTIVE_DEFAULTS.minSpreadFraction),
  [ENV.adaptiveMinDeviation]: nonNegative.default(ADAPTIVE_DEFAULTS.minDeviation),
  [ENV.detectorRules]: z.string().default('[]'),
  [ENV.alertCooldownSeconds]: nonNegative.default(60),
  [ENV.retentionMarginSeconds]: nonNegative.default(3600),
  [ENV.writeConcurrency]: positiveInt.max(256).default(16),
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
  const e = parsed.data;
  const fromVariables = (): DetectorSpec => {
    switch (e[ENV.detector]) {
      case 'zscore':
        return {
          kind: 'zscore',
          sigma: e[ENV.zscoreSigma],
          minCount: e[ENV.zscoreMinCount],
          minDeviation: e[ENV.zscoreMinDeviation],
        };
      case 'ewma':
        return {
          kind: 'ewma',
          halfLifeReadings: e[ENV.ewmaHalfLifeReadings],
          sigma: e[ENV.ewmaSigma],
          warmupReadings: e[ENV.ewmaWarmupReadings],
          minRelativeDeviation: e[ENV.ewmaMinRelativeDeviation],
          minDeviation: e[ENV.ewmaMinDeviation],
          levelShiftReadings: e[ENV.ewmaLevelShiftReadings],
        };
      case 'adaptive':
        return {
          kind: 'adaptive',
          halfLifeReadings: e[ENV.adaptiveHalfLifeReadings],
          envelopeHalfLifeReadings: e[ENV.adaptiveEnvelopeHalfLifeReadings],
          extremeHalfLifeReadings: e[ENV.adaptiveExtremeHalfLifeReadings],
          sigma: e[ENV.adaptiveSigma],
          extremeMargin: e[ENV.adaptiveExtremeMargin],
          extremeMaturityReadings: e[ENV.adaptiveExtremeMaturityReadings],
          scoreThreshold: e[ENV.adaptiveScoreThreshold],
          warmupReadings: e[ENV.adaptiveWarmupReadings],
          refractoryReadings: e[ENV.adaptiveRefractoryReadings],
          minSpreadFraction: e[ENV.adaptiveMinSpreadFraction],
          minDeviation: e[ENV.adaptiveMinDeviation],
        };
      default:
        return { kind: 'threshold', threshold: e[ENV.threshold] };
    }
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
    retentionMarginSeconds: e[ENV.retentionMarginSeconds],
    writeConcurrency: e[ENV.writeConcurrency],
    ...(rulesFile.silenceSeconds === undefined ? {} : { silenceSeconds: rulesFile.silenceSeconds }),
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
      };
  try {
    compileRules(file.defaultDetector ?? DEFAULT_DETECTION.defaultDetector, file.rules);
  } catch (error) {
    if (error instanceof CoreConfigError) throw new ConfigError(`${source}: ${error.message}`);
    throw error;
  }
  return file;
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
