import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * The committed lock must be one `npm ci` accepts on a clean clone: an npm that drops the
 * optional platform packages of a dependency (e.g. @biomejs/cli-android-arm64 of
 * @biomejs/biome) writes a lock its own `npm ci` rejects ("Missing: … from lock file").
 */
interface LockEntry {
  readonly optionalDependencies?: Record<string, string>;
  readonly dependencies?: Record<string, string>;
  readonly inBundle?: boolean;
}
const root = new URL('../../', import.meta.url);
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, LockEntry>;
};
const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as Record<
  string,
  Record<string, string> | undefined
>;

/** Where Node would find `name` from the package at `path`: its own node_modules, then up. */
function resolves(path: string, name: string): boolean {
  let dir = path;
  for (;;) {
    if (lock.packages[`${dir === '' ? '' : `${dir}/`}node_modules/${name}`] !== undefined)
      return true;
    if (dir === '') return false;
    const up = dir.lastIndexOf('/node_modules/');
    dir = up < 0 ? '' : dir.slice(0, up);
  }
}

describe('package-lock.json', () => {
  it('holds every optional dependency of every package (what npm ci checks)', () => {
    const missing = Object.entries(lock.packages)
      .filter(([, entry]) => entry.inBundle !== true)
      .flatMap(([path, entry]) =>
        Object.keys(entry.optionalDependencies ?? {})
          .filter((name) => !resolves(path, name))
          .map((name) => `${path || '(root)'} → ${name}`),
      );
    expect(missing, 'regenerate the lock with a full `npm install`').toEqual([]);
  });

  it('holds every dependency package.json declares', () => {
    const declared = [
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.devDependencies ?? {}),
    ];
    expect(declared.filter((name) => !resolves('', name))).toEqual([]);
  });

  it('is installed with npm ci by CI and by the first npm start / npm test', () => {
    for (const file of ['.ci/run', 'scripts/ensure-dependencies.mjs']) {
      const text = readFileSync(new URL(file, root), 'utf8');
      expect(text, file).toMatch(/\bnpm\b.*\bci\b|\['ci',/);
      expect(text, file).not.toMatch(/npm install|\['install'/);
    }
  });
});
