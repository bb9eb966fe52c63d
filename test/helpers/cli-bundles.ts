import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

/**
 * The command-line tools as the test suite spawns them: each entry point of `local/cli`
 * bundled once per run by esbuild (our TypeScript and its packages in one file), so a
 * spawn costs Node's start rather than tsx transforming a hundred modules again (about a
 * second of CPU each, a hundred spawns a run). What a user types (`npm run …`, `npx
 * sensor-anomaly …`, tsx) is still spawned as written by readme-commands and cli-anywhere.
 */
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CLI_BUNDLE_DIR = join(REPO, 'node_modules/.cache/sensor-anomaly-test-cli');

/**
 * Each module keeps its own `import.meta.url`: code that finds files next to itself (the
 * evaluator's repository root, createRequire) behaves as it does under tsx.
 */
const ownImportMetaUrl: Plugin = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      const url = JSON.stringify(pathToFileURL(args.path).href);
      return { contents: source.replaceAll('import.meta.url', url), loader: 'ts' };
    });
  },
};

/** The bundle of a CLI entry point (`local/cli/start.ts`), or undefined for other scripts. */
export function cliBundle(script: string): string | undefined {
  const match = /^local\/cli\/([\w-]+)\.ts$/.exec(script);
  return match === null ? undefined : join(CLI_BUNDLE_DIR, `${match[1]}.mjs`);
}

export async function buildCliBundles(): Promise<void> {
  const dir = join(REPO, 'local/cli');
  await build({
    entryPoints: readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(dir, f)),
    outdir: CLI_BUNDLE_DIR,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Packages bundled in too: one file to load rather than hundreds to resolve, about a
    // quarter less CPU per spawn (0.62 s → 0.46 s for `start` with a bad flag). CommonJS
    // packages in an ES module bundle need a require() for Node's built-ins.
    banner: {
      js: "import { createRequire as __cliBundleRequire } from 'node:module'; const require = __cliBundleRequire(import.meta.url);",
    },
    logLevel: 'warning',
    plugins: [ownImportMetaUrl],
  });
}

/** vitest's globalSetup: the bundles are rebuilt at every run, so they are never stale. */
export default async function setup(): Promise<void> {
  await buildCliBundles();
}
