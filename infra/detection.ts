import { resolve } from 'node:path';
import type { z } from 'zod';
import {
  configFromEnv,
  ENV,
  envSchema,
  ConfigError as FunctionConfigError,
  parseRulesFile,
  type rulesFileSchema,
} from '../functions/config.ts';
import { loadRulesFile } from '../functions/rules-file.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../functions/telemetry-names.ts';
import { describeIssue } from './zod-issues.ts';

/**
 * Detection settings as construct props and CDK context keys, derived from the function's own
 * list of variables (functions/config.ts: `ENV`, and `envSchema` for each one's type, bounds
 * and default). A parameter added there is a prop, a context key and a variable here without
 * being restated.
 *
 * This file is the one seam with that list: `parameterNames`, `parameterSchema` and
 * `DETECTION_DEFAULTS` read it; a catalogue of detector parameters that replaces `ENV` and
 * `envSchema` only needs to feed these three.
 */

type Env = typeof ENV;
type EnvShape = typeof envSchema.shape;
/** Variables the construct sets from its own resources, not detection settings. */
type ResourceVariable = 'tableName' | 'topicArn';
/** Variables with a prop of another shape (rules are given as a file or an object). */
type RulesVariable = 'detectorRules';

/** Variables whose context key (and prop) has another name than their `ENV` key. */
const RENAMED = { writeConcurrency: 'dynamodbWriteConcurrency' } as const;
type Renamed = typeof RENAMED;

/** A detection parameter's `ENV` key. */
type ParameterVariable = Exclude<keyof Env, ResourceVariable | RulesVariable>;
/** A detection parameter's prop and context key. */
export type DetectionKey = {
  [K in ParameterVariable]: K extends keyof Renamed ? Renamed[K] : K;
}[ParameterVariable];
type VariableOf<K extends DetectionKey> = {
  [V in ParameterVariable]: (V extends keyof Renamed ? Renamed[V] : V) extends K ? V : never;
}[ParameterVariable];

/**
 * The type of one parameter's value. The function's fixed variables have their schema's type;
 * the detector parameters come from the catalogue (functions/core/detector-parameters.ts),
 * whose variables are built at load time, so their type is the catalogue's: numbers, and the
 * one enum it holds.
 */
type ValueOf<V extends ParameterVariable> = Env[V] extends keyof EnvShape
  ? z.output<EnvShape[Env[V]]>
  : V extends 'robustDirection'
    ? 'both' | 'up' | 'down'
    : number;

/** The rules file format of docs/detectors.md, as an object. */
export type DetectorRulesDocument = z.input<typeof rulesFileSchema>;

/**
 * How the detector judges readings. Every parameter is optional and defaults to the function's
 * default; its type comes from the function's schema, so `detector: 'adaptiv'` does not
 * compile.
 */
export type DetectionSettings = {
  readonly [K in DetectionKey]?: ValueOf<VariableOf<K>>;
} & {
  /**
   * A rules file (docs/detectors.md: rules per sensor pattern and topic, a default detector,
   * silence limits), read at synth; a relative path is resolved from the working directory.
   * @default - no rules: every sensor uses `detector`
   */
  readonly detectorRulesFile?: string;
  /** The same as an object, instead of a file. @default - no rules */
  readonly detectorRules?: DetectorRulesDocument;
};

function parameterNames(): ParameterVariable[] {
  return (Object.keys(ENV) as (keyof Env)[]).filter(
    (k): k is ParameterVariable => k !== 'tableName' && k !== 'topicArn' && k !== 'detectorRules',
  );
}

function keyOf(variable: ParameterVariable): DetectionKey {
  return ((RENAMED as Record<string, string>)[variable] ?? variable) as DetectionKey;
}

/** The schema of one parameter: the function's, which coerces strings (CDK context) too. */
export function parameterSchema(key: DetectionKey): z.ZodType {
  const variable = parameterNames().find((v) => keyOf(v) === key);
  if (variable === undefined) throw new Error(`unknown detection key ${key}`);
  return (envSchema.shape as Readonly<Record<string, z.ZodType>>)[ENV[variable]] as z.ZodType;
}

/** Every detection key, in the function's order. */
export const DETECTION_KEYS: readonly DetectionKey[] = parameterNames().map(keyOf);

/** Each detection key's default: what the function applies to a variable that is not set. */
export const DETECTION_DEFAULTS = Object.fromEntries(
  DETECTION_KEYS.map((key) => [key, parameterSchema(key).parse(undefined)]),
) as { readonly [K in DetectionKey]-?: ValueOf<VariableOf<K>> };

/** Lambda's limit on the total size of a function's environment variables. */
const ENVIRONMENT_LIMIT_BYTES = 4096;

export interface DetectionOptions {
  /** Where a relative `detectorRulesFile` is resolved from. @default process.cwd() */
  readonly cwd?: string;
  /** The stack name, for the longest names CloudFormation may give the table and topic. */
  readonly stackName?: string;
}

/**
 * The function's environment for detection settings, and each problem with them as one line
 * naming the key and the bad value (the same lines the CDK-context layer prints).
 */
export function detectionEnvironment(
  settings: DetectionSettings = {},
  options: DetectionOptions = {},
): { environment: Record<string, string>; problems: string[] } {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  const given = settings as Record<string, unknown>;
  for (const variable of parameterNames()) {
    const key = keyOf(variable);
    const schema = parameterSchema(key);
    const result = schema.safeParse(given[key]);
    if (result.success) {
      values[variable] = result.data;
      continue;
    }
    const first = result.error.issues[0];
    problems.push(
      `${key}: ${first === undefined ? 'is not valid' : describeIssue(key, first)} (got ${JSON.stringify(given[key])})`,
    );
    values[variable] = schema.parse(undefined);
  }
  const slide = Number(values.slideSeconds);
  const window = Number(values.windowSeconds);
  if (!problems.some((p) => /^(windowSeconds|slideSeconds):/.test(p)) && window % slide !== 0) {
    problems.push(
      `windowSeconds: must be a whole multiple of slideSeconds (${slide}) (got ${window})`,
    );
  }
  const rules = rulesJson(settings, options.cwd ?? process.cwd(), problems);
  // The robust detector's parameters (16 variables) are set only when it is the default
  // detector: Lambda allows 4 KB of variables in all, and a function that does not use them
  // falls back to the same defaults. A rule that picks robust carries its own parameters.
  const robustDefault = values.detector === 'robust';
  const environment: Record<string, string> = Object.fromEntries(
    parameterNames()
      .filter((v) => robustDefault || !String(v).startsWith('robust'))
      .map((v) => [ENV[v], String(values[v])]),
  );
  environment[ENV.detectorRules] = rules ?? '[]';
  if (problems.length > 0) return { environment, problems };

  // The function validates the same variables at cold start; checking here turns a broken
  // deploy into a synth error. The table name and topic ARN stand in for the names
  // CloudFormation generates from the stack name, at their longest.
  const stackNameLength = (options.stackName ?? 'x'.repeat(128)).length;
  const probe = {
    ...environment,
    [ENV.tableName]: 'x'.repeat(stackNameLength + 40),
    [ENV.topicArn]: `arn:aws-us-gov:sns:xx-xxxx-1:000000000000:${'x'.repeat(stackNameLength + 50)}`,
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  };
  try {
    configFromEnv(probe);
  } catch (error) {
    if (!(error instanceof FunctionConfigError)) throw error;
    problems.push(`detection settings rejected by the function: ${error.message}`);
  }
  const size = Object.entries(probe).reduce(
    (sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v),
    0,
  );
  if (size > ENVIRONMENT_LIMIT_BYTES) {
    problems.push(
      `detectorRulesFile: the rules make the function environment about ${size} bytes; Lambda allows ${ENVIRONMENT_LIMIT_BYTES} in total`,
    );
  }
  return { environment, problems };
}

function rulesJson(settings: DetectionSettings, cwd: string, problems: string[]) {
  const { detectorRulesFile: file, detectorRules: document } = settings;
  if (file !== undefined && document !== undefined) {
    problems.push('detectorRules: give detectorRules or detectorRulesFile, not both');
    return undefined;
  }
  try {
    // The function's own loader: the same formats and checks as the backtest and the local
    // pipeline, and minified JSON, since the whole environment must fit in 4 KB.
    if (file !== undefined) return loadRulesFile(resolve(cwd, file)).json;
    if (document !== undefined) {
      const json = JSON.stringify(document);
      parseRulesFile(json, 'detectorRules');
      return json;
    }
    return '[]';
  } catch (error) {
    if (!(error instanceof FunctionConfigError)) throw error;
    problems.push(
      file === undefined
        ? error.message
        : `detectorRulesFile: ${error.message.replaceAll(resolve(cwd, file), file)}`,
    );
    return undefined;
  }
}
