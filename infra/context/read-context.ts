import { z } from 'zod';
import { show } from '../props/problems.ts';
import { describeIssue } from '../zod-issues.ts';
import {
  CONTEXT_DEFAULTS,
  CONTEXT_KEY_SPECS,
  CONTEXT_KEYS,
  type ContextKey,
  type KeyKind,
} from './keys.ts';

/** A line about one context key (the key sorts the lines as the keys are listed). */
export interface KeyProblem {
  readonly key: string;
  readonly line: string;
}

export interface ReadContext {
  /** Each key's value in its kind (numbers, booleans, lists), or its default. */
  readonly values: Readonly<Partial<Record<ContextKey, unknown>>>;
  /** Each key as given (strings from the command line), for `(got …)`. */
  readonly given: Readonly<Partial<Record<ContextKey, unknown>>>;
  /** Keys whose value is not of their kind: reported once, here. */
  readonly invalid: ReadonlySet<ContextKey>;
  readonly problems: readonly KeyProblem[];
}

/** Text or JSON values into the key's kind: the one thing the context layer checks. */
const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const KINDS: Readonly<Record<Exclude<KeyKind, 'detection'>, z.ZodType>> = {
  text: z.string().trim().min(1),
  number: z.coerce.number(),
  bool,
  /** A list as a JSON array (cdk.json) or comma-separated text (`-c key=a,b`). */
  list: z
    .union([z.array(z.string()), z.string()])
    .transform((v) =>
      (typeof v === 'string' ? v.split(',') : v).map((s) => s.trim()).filter((s) => s !== ''),
    ),
};

/**
 * Context keys that are not ours (CDK's own, feature flags: they contain ':', '@' or '/') are
 * ignored; an unknown camelCase key is a problem, since it is most likely a typo. An empty
 * value (`-c key=`) means "not set": back to the default, if there is one. A detection key is
 * passed as given: the construct's check coerces text (detection.ts).
 */
export function readContext(context: Readonly<Record<string, unknown>>): ReadContext {
  const problems: KeyProblem[] = [];
  const given: Partial<Record<ContextKey, unknown>> = { ...CONTEXT_DEFAULTS };
  for (const [key, value] of Object.entries(context)) {
    if (!/^[a-z][A-Za-z0-9]*$/.test(key)) continue;
    if (!(CONTEXT_KEYS as string[]).includes(key)) {
      problems.push({
        key,
        line: `${key}: unknown context key${suggest(key)} (got ${show(value)})`,
      });
      continue;
    }
    const known = key as ContextKey;
    given[known] =
      value === '' || value === null || value === undefined
        ? (CONTEXT_DEFAULTS as Partial<Record<ContextKey, unknown>>)[known]
        : value;
  }
  const values: Partial<Record<ContextKey, unknown>> = {};
  const invalid = new Set<ContextKey>();
  for (const key of CONTEXT_KEYS) {
    const value = given[key];
    const kind = CONTEXT_KEY_SPECS[key].kind;
    if (value === undefined || kind === 'detection') {
      values[key] = value;
      continue;
    }
    const result = KINDS[kind].safeParse(value);
    if (result.success) {
      values[key] = result.data;
      continue;
    }
    invalid.add(key);
    const issue = result.error.issues[0];
    problems.push({
      key,
      line: `${key}: ${issue === undefined ? 'is not valid' : describeIssue(key, issue)} (got ${show(value)})`,
    });
    // A bad key's default (if any) stands in for it in the checks across keys.
    const fallback = (CONTEXT_DEFAULTS as Partial<Record<ContextKey, unknown>>)[key];
    values[key] = fallback === undefined ? undefined : KINDS[kind].parse(fallback);
  }
  return { values, given, invalid, problems };
}

function suggest(key: string): string {
  const lower = key.toLowerCase();
  const near = CONTEXT_KEYS.find((k) => {
    const l = k.toLowerCase();
    return l.startsWith(lower) || lower.startsWith(l) || editDistance(l, lower) <= 2;
  });
  return near === undefined ? '' : ` (did you mean ${near}?)`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
