// Builds what the package ships (package.json "files"), into dist/:
//   dist/infra/**.js + .d.ts   the construct as ES modules with declarations (tsc)
//   dist/index.cjs             the same as one CommonJS file, for require() (esbuild)
//   dist/lambda/<name>/        the prebuilt Lambda bundles, so that an app needs neither
//                              esbuild nor this repository's lock file
// and stages the package in build/package/: a manifest of its own (no bins, scripts or dev
// dependencies: the repository's `sensor-anomaly` and `cdk` commands are for this checkout, and
// a `cdk` bin in an app's node_modules would shadow the app's own CDK CLI), README, LICENSE and
// dist/. `npm run package` packs that folder. Usage: npm run build
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_OPTIONS, LAMBDA_ENTRIES, packageRoot } from '../infra/constructs/node-function.ts';

const root = packageRoot();
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });

// --noCheck: emit only; `npm test` type-checks the same sources (tsc --noEmit).
execFileSync(
  join(root, 'node_modules', '.bin', 'tsc'),
  ['-p', 'tsconfig.build.json', '--noCheck'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);

const manifest = (await import(join(root, 'package.json'), { with: { type: 'json' } })).default as {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};
const external = [
  ...Object.keys(manifest.dependencies ?? {}),
  ...Object.keys(manifest.peerDependencies ?? {}),
].flatMap((name) => [name, `${name}/*`]);

await build({
  entryPoints: [join(root, 'infra', 'index.ts')],
  outfile: join(dist, 'index.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external,
  // The one ESM-only expression (the package root's lookup in node-function.ts).
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});

for (const [name, entry] of Object.entries(LAMBDA_ENTRIES)) {
  await build({
    ...BUNDLE_OPTIONS,
    mainFields: [...BUNDLE_OPTIONS.mainFields],
    banner: { js: BUNDLE_OPTIONS.banner },
    entryPoints: [join(root, entry)],
    outfile: join(dist, 'lambda', name, 'index.mjs'),
    bundle: true,
    logLevel: 'warning',
  });
}
// The package as published: the repository's manifest less what only the repository uses.
const staged = join(root, 'build', 'package');
rmSync(staged, { recursive: true, force: true });
mkdirSync(staged, { recursive: true });
const full = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<
  string,
  unknown
>;
const PUBLISHED_FIELDS = [
  'name',
  'version',
  'description',
  'license',
  'type',
  'main',
  'types',
  'exports',
  'files',
  'engines',
  'dependencies',
  'peerDependencies',
] as const;
const published = Object.fromEntries(
  PUBLISHED_FIELDS.filter((k) => full[k] !== undefined).map((k) => [k, full[k]]),
);
writeFileSync(join(staged, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);
for (const file of ['README.md', 'LICENSE']) copyFileSync(join(root, file), join(staged, file));
cpSync(dist, join(staged, 'dist'), { recursive: true });
console.log(`built ${dist}, staged the package in ${staged}`);
