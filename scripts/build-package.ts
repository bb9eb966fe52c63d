// Builds what the package ships (package.json "files"), into dist/:
//   dist/infra/**.js + .d.ts   the construct as ES modules with declarations (tsc)
//   dist/index.cjs             the same as one CommonJS file, for require() (esbuild)
//   dist/lambda/<name>/        the prebuilt Lambda bundles, so that an app needs neither
//                              esbuild nor this repository's lock file
// `npm pack` runs it (prepack). Usage: npm run build
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
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
console.log(`built ${dist}`);
