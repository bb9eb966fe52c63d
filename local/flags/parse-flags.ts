import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { flagsNpmKept, forgottenDashesMessage } from './npm-dashes.ts';

/** A command-line mistake: the CLIs print it with a pointer to --help and exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** One documented option of a CLI: the help text and docs/configuration.md are made from these. */
export interface OptionDoc {
  /** The flag without its dashes, kebab-case: `window-seconds`. */
  readonly flag: string;
  /** The value's placeholder (`S`, `FILE`); none for a boolean flag. */
  readonly arg?: string;
  readonly meaning: string;
  /** Shown when the schema has no default (or it reads better in words): `random`. */
  readonly defaultText?: string;
  /** A heading the option is listed under in --help. */
  readonly group?: string;
}

/** `windowSeconds` → `--window-seconds`. */
export function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function camelOf(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j] as number;
      row[j] = Math.min(
        above + 1,
        (row[j - 1] as number) + 1,
        diagonal + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

/** The known flag closest to `given`, if it is close enough to be a typo. */
export function closestFlag(given: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = distance(given, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // A prefix (`--window`) or up to a third of the letters wrong.
  if (best !== undefined && (best.startsWith(given) || given.startsWith(best))) return best;
  return bestDistance <= Math.max(2, Math.floor(given.length / 3)) ? best : undefined;
}

/**
 * Parses `--kebab-case` options strictly (unknown options and positionals are errors, with a
 * "did you mean" for a near miss) and returns them keyed in camelCase, ready for a zod
 * schema. `-h`/`--help` is always known.
 */
export function parseFlags(
  argv: readonly string[],
  stringOptions: readonly string[],
  booleanOptions: readonly string[] = [],
  /** One-letter aliases, as kcat's: `{ b: 'brokers', t: 'topic' }`. */
  shortOptions: Readonly<Record<string, string>> = {},
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string | boolean | undefined> {
  const known = [...stringOptions, ...booleanOptions, 'help'];
  const kept = flagsNpmKept(known, env);
  if (kept.length > 0) throw new UsageError(forgottenDashesMessage(kept, env));
  const shortOf = (name: string) =>
    Object.entries(shortOptions).find(([, long]) => long === name)?.[0];
  for (const arg of argv) {
    if (arg === '--') break;
    if (!arg.startsWith('--')) continue;
    const name = arg.slice(2).split('=')[0] ?? '';
    if (known.includes(name)) continue;
    const near = closestFlag(name, known);
    throw new UsageError(
      `unknown option --${name}${near === undefined ? '' : ` (did you mean --${near}?)`}`,
    );
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(
          stringOptions.map((name) => {
            const short = shortOf(name);
            return [name, { type: 'string' as const, ...(short === undefined ? {} : { short }) }];
          }),
        ),
        ...Object.fromEntries(
          booleanOptions.map((name) => {
            const short = shortOf(name);
            return [name, { type: 'boolean' as const, ...(short === undefined ? {} : { short }) }];
          }),
        ),
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    const message = (error as Error).message;
    // node:util says "Option '--x <value>' argument missing"; say it the CLI's way.
    const missing = /Option '(?:-[a-zA-Z], )?(--[a-z-]+)[^']*' argument missing/.exec(message);
    if (missing) throw new UsageError(`${missing[1]}: needs a value`);
    const unknownShort = /Unknown option '(-[^-'])'/.exec(message);
    if (unknownShort) {
      const shorts = Object.entries(shortOptions).map(([s, long]) => `-${s} (--${long})`);
      throw new UsageError(
        `unknown option ${unknownShort[1]}${shorts.length === 0 ? ' (options start with --)' : ` (short options: ${shorts.join(', ')})`}`,
      );
    }
    const positional = /Unexpected argument '([^']*)'/.exec(message);
    if (positional)
      throw new UsageError(
        `unexpected argument ${JSON.stringify(positional[1])} (options start with --)`,
      );
    throw new UsageError(message);
  }
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [camelOf(name), value]));
}

/** Zod issues as `--flag: problem (got "value")` lines, in the user's flag names. */
export function usageProblems(
  issues: readonly z.core.$ZodIssue[],
  given: Readonly<Record<string, unknown>>,
): string {
  return issues
    .map((issue) => {
      const key = String(issue.path[0] ?? '');
      return `${flagOf(key)}: ${issue.message} (got ${JSON.stringify(given[key])})`;
    })
    .join('\n');
}

/** The default as --help and the docs show it. */
export function shownDefault(value: unknown): string | undefined {
  if (value === undefined || value === false) return undefined;
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

/** `--help` lines: the option and its placeholder, the meaning, the default. */
export function helpLines(
  docs: readonly OptionDoc[],
  defaults: Readonly<Record<string, unknown>>,
  shortOptions: Readonly<Record<string, string>> = {},
): string {
  const out: string[] = [];
  let group: string | undefined;
  for (const doc of docs) {
    if (doc.group !== undefined && doc.group !== group) {
      if (out.length > 0) out.push('');
      out.push(doc.group);
      group = doc.group;
    }
    const short = Object.entries(shortOptions).find(([, long]) => long === doc.flag)?.[0];
    const left = `  ${short === undefined ? '' : `-${short}, `}--${doc.flag}${doc.arg === undefined ? '' : ` ${doc.arg}`}`;
    const value = doc.defaultText ?? shownDefault(defaults[camelOf(doc.flag)]);
    const right = value === undefined ? doc.meaning : `${doc.meaning} (default ${value})`;
    out.push(left.length >= 30 ? `${left}\n${' '.repeat(30)}${right}` : left.padEnd(30) + right);
  }
  return out.join('\n');
}
