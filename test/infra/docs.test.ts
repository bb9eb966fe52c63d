import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONTEXT_DEFAULTS, CONTEXT_KEYS, PROVISIONED_DEFAULTS } from '../../infra/config.ts';
import { cdkCommand, DEPLOY_EXAMPLES } from '../../infra/examples.ts';

// The README's deploy section (from its heading to the next second-level heading) and the
// configuration reference, which holds the context keys and the example deploy commands.
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const DOC = [
  README.slice(README.indexOf('\n## Deploying to AWS')).split(/\n## (?!Deploying)/)[0] ?? '',
  readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8'),
].join('\n');

/** The cells of the table row of a context key: `| \`key\` | default | meaning |`. */
function cells(key: string): string[] | undefined {
  const line = DOC.split('\n').find((l) => new RegExp(`^\\|\\s*\`${key}\`\\s*\\|`).test(l));
  return line
    ?.split(/(?<!\\)\|/)
    .slice(1, -1)
    .map((cell) => cell.trim());
}

function shown(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : `\`${value.join(',')}\``;
  return `\`${String(value)}\``;
}

describe('docs: deploying and the context keys', () => {
  it.each(Object.entries(DEPLOY_EXAMPLES))(
    'quotes the tested deploy command of %s',
    (_, example) => {
      expect(DOC).toContain(`\`\`\`sh\n${cdkCommand('deploy', example.context)}\n\`\`\``);
    },
  );

  it('shows the default synth and the teardown commands', () => {
    expect(DOC).toContain(`\`\`\`sh\n${cdkCommand('synth')}\n\`\`\``);
    expect(DOC).toContain(`\`\`\`sh\n${cdkCommand('destroy')}\n\`\`\``);
  });

  it.each(CONTEXT_KEYS)('documents context key %s with its default', (key) => {
    const row = cells(key);
    expect(row, `no table row for ${key}`).toBeDefined();
    const defaults: Record<string, unknown> = CONTEXT_DEFAULTS;
    const provisioned: Record<string, unknown> = PROVISIONED_DEFAULTS;
    if (key in defaults) expect(row?.[1]).toBe(shown(defaults[key]));
    else if (key in provisioned)
      expect(row?.[1]).toBe(`${shown(provisioned[key])} in provisioned mode`);
  });

  it('has no table row for a key the app does not know', () => {
    const documented = DOC.split('\n')
      .map((line) => /^\|\s*`([a-z][A-Za-z]+)`\s*\|/.exec(line)?.[1])
      .filter((key) => key !== undefined);
    expect(documented.sort()).toEqual([...CONTEXT_KEYS].sort());
  });
});
