import { SensorAnomalyDetectorError } from '../errors.ts';

/**
 * One thing wrong with a prop: where, what, and the value given. The construct prints it with
 * prop names (`kafkaSource.batchSize`), the CDK-context layer with context keys (`batchSize`),
 * so both say the same sentence about the same value.
 */
export interface Problem {
  /** The prop's dotted path, e.g. `kafkaSource.batchSize`, `detection.windowSeconds`. */
  readonly path: string;
  /**
   * A sentence a user can act on. `{{path}}` names another prop the way the reader knows it
   * (a prop path for the construct, a context key for `cdk.json`); `{{path=value}}` says how
   * to set it (`auth: 'iam'`, `-c kafkaAuth=iam`).
   */
  readonly message: string;
  /**
   * `value`: shown as `(got …)`; `asGiven` means the prop's own value, which the context
   * layer shows as typed on the command line. `missing`: shown as `(not set)`.
   * @default - nothing is shown
   */
  readonly got?: { readonly value: unknown; readonly asGiven?: boolean } | 'missing';
  /** The message is a whole line already (it names its own key and value). @default false */
  readonly whole?: boolean;
}

/** How a reader names props: the construct's prop paths, or the CDK context keys. */
export interface ProblemNames {
  /** The name of a prop path. */
  name(path: string): string;
  /** The value the reader typed for a path, when it differs from the prop's (context strings). */
  given?(path: string): { readonly value: unknown } | undefined;
  /** How the reader sets a path to a value. @default `<name>: '<value>'` */
  setting?(path: string, value: string): string;
}

/** A problem of the value at `path`, shown as given. */
export function valueProblem(path: string, message: string, value: unknown): Problem {
  return { path, message, got: { value, asGiven: true } };
}

/** `path`'s problems with its own prefix, for props nested under another. */
export function nested(prefix: string, problems: readonly Problem[]): Problem[] {
  return problems.map((p) => ({
    ...p,
    path: `${prefix}.${p.path}`,
    message: p.message.replace(/\{\{([^}]+)\}\}/g, (_, ref: string) => `{{${prefix}.${ref}}}`),
  }));
}

export function renderProblem(problem: Problem, names: ProblemNames): string {
  if (problem.whole === true) return problem.message;
  const message = problem.message.replace(/\{\{([^}=]+)(?:=([^}]*))?\}\}/g, (_, ref, value) =>
    value === undefined
      ? names.name(ref)
      : (names.setting?.(ref, value) ?? `${names.name(ref)}: '${value}'`),
  );
  const got = problem.got;
  let suffix = '';
  if (got === 'missing') suffix = ' (not set)';
  else if (got !== undefined) {
    const typed = got.asGiven === true ? names.given?.(problem.path) : undefined;
    suffix = ` (got ${show(typed === undefined ? got.value : typed.value)})`;
  }
  return `${names.name(problem.path)}: ${message}${suffix}`;
}

export function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/**
 * Prop paths as they are, except detection settings, which are named bare (`windowSeconds`),
 * and the anomalies topic's name, which is named by its prop (`anomaliesTopic`).
 */
export const PROP_NAMES: ProblemNames = {
  name: (path) =>
    path.replace(/^detection\./, '').replace(/^anomaliesTopic\.topic$/, 'anomaliesTopic'),
};

/** One error for every problem: `<where>: <problem>`, or a list when there are several. */
export function problemsError(
  where: string,
  problems: readonly Problem[],
  names: ProblemNames = PROP_NAMES,
): SensorAnomalyDetectorError {
  const lines = problems.map((p) => renderProblem(p, names));
  return new SensorAnomalyDetectorError(
    `${where}: ${lines.length === 1 ? lines[0] : `\n  - ${lines.join('\n  - ')}`}`,
  );
}
