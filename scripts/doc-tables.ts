/**
 * Writes the reference tables of docs/configuration.md from the schemas the code validates
 * with, so the docs cannot drift from the code:
 *
 *   npx tsx scripts/doc-tables.ts           rewrite the generated blocks
 *   npx tsx scripts/doc-tables.ts --check   exit 1 if a block is out of date
 *
 * A generated block sits between `<!-- generated: NAME … -->` and `<!-- end generated: NAME -->`;
 * everything around it is hand-written. test/unit/doc-tables.test.ts runs the check.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENV, envSchema } from '../functions/config.ts';
import { DETECTOR_SETTINGS, describeBounds } from '../functions/core/detector-settings.ts';
import { CONTEXT_DEFAULTS, CONTEXT_KEYS, PROVISIONED_DEFAULTS } from '../infra/config.ts';
import { cdkCommand, DEPLOY_EXAMPLES } from '../infra/examples.ts';
import { BACKTEST_HELP } from '../local/flags/backtest-options.ts';
import { type OptionDoc, shownDefault } from '../local/flags/parse-flags.ts';
import { PRODUCE_OPTION_DOCS } from '../local/flags/produce-options.ts';
import { START_DEFAULTS, START_OPTION_DOCS } from '../local/flags/start-options.ts';
import { CONTEXT_KEY_DOCS, ENV_DOCS, type SettingDoc } from './doc-descriptions.ts';

export const REGENERATE = 'npx tsx scripts/doc-tables.ts';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A markdown table, columns padded so the source reads as a table too. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const cell = (text: string) => text.replace(/\|/g, '\\|');
const code = (text: string) => `\`${cell(text)}\``;

function optionRows(
  docs: readonly OptionDoc[],
  defaults: Readonly<Record<string, unknown>>,
): string[][] {
  return docs.map((d) => {
    const key = d.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const value = d.defaultText ?? shownDefault(defaults[key]);
    return [
      code(`--${d.flag}${d.arg === undefined ? '' : ` ${d.arg}`}`),
      value === undefined ? '' : cell(value),
      cell(d.meaning),
    ];
  });
}

/** A context key's default as the docs show it (test/infra/docs.test.ts reads the same). */
export function shownContextDefault(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : `\`${value.join(',')}\``;
  return `\`${String(value)}\``;
}

function describe(docs: Readonly<Record<string, SettingDoc>>, name: string, what: string) {
  const doc = docs[name];
  if (doc === undefined) {
    throw new Error(`${what} ${name} has no description: add it to scripts/doc-descriptions.ts`);
  }
  return doc;
}

function envTable(): string {
  const names = Object.values(ENV);
  for (const name of Object.keys(ENV_DOCS)) {
    if (!(names as string[]).includes(name))
      throw new Error(`ENV_DOCS describes ${name}, which functions/config.ts does not read`);
  }
  // Parsing only the required variables yields every default.
  const defaults = envSchema.parse({ [ENV.tableName]: '-', [ENV.topicArn]: '-' }) as Record<
    string,
    unknown
  >;
  const required = new Set([ENV.tableName, ENV.topicArn] as string[]);
  return table(
    ['variable', 'default', 'meaning'],
    names.map((name) => {
      const doc = describe(ENV_DOCS, name, 'environment variable');
      const value = required.has(name) ? '(required)' : code(String(defaults[name]));
      return [code(name), doc.defaultText ?? value, cell(doc.meaning)];
    }),
  );
}

function contextTable(): string {
  for (const key of Object.keys(CONTEXT_KEY_DOCS)) {
    if (!(CONTEXT_KEYS as string[]).includes(key))
      throw new Error(`CONTEXT_KEY_DOCS describes ${key}, which infra/config.ts does not know`);
  }
  const defaults: Record<string, unknown> = CONTEXT_DEFAULTS;
  const provisioned: Record<string, unknown> = PROVISIONED_DEFAULTS;
  return table(
    ['Key', 'Default', 'Meaning'],
    CONTEXT_KEYS.map((key) => {
      const doc = describe(CONTEXT_KEY_DOCS, key, 'context key');
      const value =
        key in defaults
          ? shownContextDefault(defaults[key])
          : key in provisioned
            ? `${shownContextDefault(provisioned[key])} in provisioned mode`
            : (doc.defaultText ?? '(none)');
      return [code(key), value, doc.meaning];
    }),
  );
}

function deployExamples(): string {
  return Object.values(DEPLOY_EXAMPLES)
    .map(
      (example) =>
        `**${example.title}**\n\n\`\`\`sh\n${cdkCommand('deploy', example.context)}\n\`\`\``,
    )
    .join('\n\n');
}

/** Every detector parameter on every surface, from the one list (detector-parameters.ts). */
function detectorParameters(kind: string): string {
  return table(
    ['parameter', 'default', 'allowed', 'unit', 'meaning', 'variable', 'flag', 'context key'],
    DETECTOR_SETTINGS.filter((s) => s.kind === kind).map((s) => [
      code(s.parameter),
      code(String(s.default)),
      describeBounds(s),
      s.unit,
      cell(s.meaning),
      code(s.env),
      code(s.flag),
      code(s.key),
    ]),
  );
}

/** The generated blocks, by name. */
export const BLOCKS: Readonly<Record<string, () => string>> = {
  'start-options': () =>
    table(['option', 'default', 'meaning'], optionRows(START_OPTION_DOCS, START_DEFAULTS)),
  'produce-options': () =>
    table(['option', 'default', 'meaning'], optionRows(PRODUCE_OPTION_DOCS, {})),
  'backtest-help': () => `\`\`\`\n${BACKTEST_HELP.trimEnd()}\n\`\`\``,
  environment: envTable,
  'context-keys': contextTable,
  'deploy-examples': deployExamples,
  'robust-parameters': () => detectorParameters('robust'),
  'adaptive-parameters': () => detectorParameters('adaptive'),
};

/** Files holding generated blocks. */
export const GENERATED_FILES = ['docs/configuration.md', 'docs/detectors.md'] as const;

const BLOCK = /(<!-- generated: ([a-z-]+)[^>]*-->\n)([\s\S]*?)(<!-- end generated: \2 -->)/g;

/** The file's text with every generated block written afresh. */
export function regenerate(text: string): string {
  return text.replace(BLOCK, (_, open: string, name: string, _body: string, close: string) => {
    const render = BLOCKS[name];
    if (render === undefined) throw new Error(`unknown generated block ${name}`);
    return `${open}${render()}\n${close}`;
  });
}

export const READ_ME = () => readDoc('README.md');

export function readDoc(file: string): string {
  return readFileSync(join(ROOT, file), 'utf8');
}

function main(argv: readonly string[]): number {
  const check = argv.includes('--check');
  let stale = 0;
  for (const file of GENERATED_FILES) {
    const text = readDoc(file);
    const fresh = regenerate(text);
    if (fresh === text) continue;
    stale += 1;
    if (check) process.stderr.write(`${file} is out of date: run ${REGENERATE}\n`);
    else {
      writeFileSync(join(ROOT, file), fresh);
      process.stdout.write(`wrote ${file}\n`);
    }
  }
  return check && stale > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main(process.argv.slice(2));
}
