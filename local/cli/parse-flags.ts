import { parseArgs } from 'node:util';

/** A command-line mistake: the CLIs print it with a pointer to --help and exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Parses `--kebab-case` options strictly (unknown options and positionals are errors) and
 * returns them keyed in camelCase, ready for a zod schema. `-h`/`--help` is always known.
 */
export function parseFlags(
  argv: readonly string[],
  stringOptions: readonly string[],
  booleanOptions: readonly string[] = [],
): Record<string, string | boolean | undefined> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(stringOptions.map((name) => [name, { type: 'string' as const }])),
        ...Object.fromEntries(booleanOptions.map((name) => [name, { type: 'boolean' as const }])),
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => [
      name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()),
      value,
    ]),
  );
}
