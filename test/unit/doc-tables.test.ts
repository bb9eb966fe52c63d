import { describe, expect, it } from 'vitest';
import { ENV } from '../../functions/config.ts';
import { CONTEXT_KEYS } from '../../infra/config.ts';
import { CONTEXT_KEY_DOCS, ENV_DOCS } from '../../scripts/doc-descriptions.ts';
import {
  GENERATED_FILES,
  READ_ME,
  REGENERATE,
  readDoc,
  regenerate,
} from '../../scripts/doc-tables.ts';

describe('generated documentation tables', () => {
  it.each(GENERATED_FILES)('%s matches the code (else run the generator)', (file) => {
    const text = readDoc(file);
    expect(text, `${file} is out of date: run ${REGENERATE}`).toBe(regenerate(text));
  });

  it('describes every environment variable and context key, and nothing else', () => {
    expect(Object.keys(ENV_DOCS).sort()).toEqual(Object.values(ENV).sort());
    expect(Object.keys(CONTEXT_KEY_DOCS).sort()).toEqual([...CONTEXT_KEYS].sort());
  });

  it('a table whose source changed is rewritten, not kept', () => {
    const stale = readDoc('docs/configuration.md').replace('| `--duration S`', '| `--lasting S`');
    expect(regenerate(stale)).toBe(readDoc('docs/configuration.md'));
  });

  it('the README links the configuration reference', () => {
    expect(READ_ME()).toContain('(docs/configuration.md)');
  });
});
