import { z } from 'zod';
import { type DetectorRule, compileRules } from './core/detector-rules.ts';
import type { DetectorSpec } from './core/detectors.ts';
import { ZSCORE_DEFAULTS } from './core/detectors.ts';
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
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const positiveInt = z.coerce.number().int().positive();
const nonNegative = z.coerce.number().finite().nonnegative();

const detectorSpecSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('threshold'), threshold: z.number().finite().nonnegative().default(50) }),
  z.strictObject({
    kind: z.literal('zscore'),
    sigma: z.number().finite().positive().default(ZSCORE_DEFAULTS.sigma),
    minCount: z.number().int().min(1).default(ZSCORE_DEFAULTS.minCount),
    minDeviation: z.number().finite().nonnegative().default(ZSCORE_DEFAULTS.minDeviation),
  }),
]);

/** Rules as JSON: `[{"match": "boiler_*", "detector": {"kind": "zscore", "sigma": 4}}]`. */
export const detectorRulesSchema = z.array(z.strictObject({ match: z.string().min(1), detector: detectorSpecSchema }));

const envSchema = z.object({
  [ENV.tableName]: z.string().min(1),
  [ENV.topicArn]: z.string().min(1),
  [ENV.slideSeconds]: positiveInt.default(5),
  [ENV.windowSeconds]: positiveInt.default(10),
  [ENV.detector]: z.enum(['threshold', 'zscore']).default('threshold'),
  [ENV.threshold]: nonNegative.default(50),
  [ENV.zscoreSigma]: z.coerce.number().finite().positive().default(ZSCORE_DEFAULTS.sigma),
  [ENV.zscoreMinCount]: positiveInt.default(ZSCORE_DEFAULTS.minCount),
  [ENV.zscoreMinDeviation]: nonNegative.default(ZSCORE_DEFAULTS.minDeviation),
  [ENV.detectorRules]: z.string().default('[]'),
  [ENV.alertCooldownSeconds]: nonNegative.default(60),
  [ENV.retentionMarginSeconds]: nonNegative.default(3600),
  [ENV.writeConcurrency]: positiveInt.max(256).default(16),
});

/** Parses the environment; the error names every bad variable and what it holds. */
export function configFromEnv(env: Record<string, string | undefined>): DetectorConfig {
  // Empty strings count as unset, as they do for most tools.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
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
  const defaultDetector: DetectorSpec =
    e[ENV.detector] === 'zscore'
      ? {
          kind: 'zscore',
          sigma: e[ENV.zscoreSigma],
          minCount: e[ENV.zscoreMinCount],
          minDeviation: e[ENV.zscoreMinDeviation],
        }
      : { kind: 'threshold', threshold: e[ENV.threshold] };
  return validateConfig({
    tableName: e[ENV.tableName],
    topicArn: e[ENV.topicArn],
    slideMs: e[ENV.slideSeconds] * 1000,
    windowMs: e[ENV.windowSeconds] * 1000,
    defaultDetector,
    rules: parseRules(e[ENV.detectorRules], ENV.detectorRules),
    alertCooldownMs: e[ENV.alertCooldownSeconds] * 1000,
    retentionMarginSeconds: e[ENV.retentionMarginSeconds],
    writeConcurrency: e[ENV.writeConcurrency],
  });
}

/** Parses rules JSON text; `source` names where it came from (a variable or a file). */
export function parseRules(json: string, source: string): DetectorRule[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new ConfigError(`${source}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = detectorRulesSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`${source}: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** Cross-field checks shared by every way of building a config. */
export function validateConfig(config: DetectorConfig): DetectorConfig {
  try {
    validateWindowSpec({ slideMs: config.slideMs, windowMs: config.windowMs });
    compileRules(config.defaultDetector, config.rules);
  } catch (error) {
    if (error instanceof CoreConfigError) {
      throw new ConfigError(`invalid configuration: ${error.message} (${ENV.slideSeconds}/${ENV.windowSeconds}/${ENV.detectorRules})`);
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
