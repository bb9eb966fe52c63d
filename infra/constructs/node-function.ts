import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Architecture,
  Code,
  type FunctionProps,
  Function as LambdaFunction,
  Runtime,
} from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';

const PACKAGE_NAME = 'sensor-anomaly-detector';

/**
 * The Lambda entry points: source in functions/, prebuilt bundle in dist/lambda/<name>/ (the
 * package build writes it, scripts/build-package.ts).
 */
export const LAMBDA_ENTRIES = {
  detector: 'functions/detector/handler.ts',
  'silence-check': 'functions/detector/silence-handler.ts',
  digest: 'functions/detector/digest-handler.ts',
  'window-flush': 'functions/detector/window-flush-handler.ts',
  repartition: 'functions/repartition/handler.ts',
  'feedback-api': 'functions/feedback/handler.ts',
} as const;
export type LambdaEntry = keyof typeof LAMBDA_ENTRIES;

/**
 * The esbuild options of every bundle, at synth and in the package build alike: ESM for
 * Node.js 22, the SDK version the lockfile pins bundled in (not the runtime's, which changes
 * under us), minified with names kept, and a source map without the sources' text.
 */
export const BUNDLE_OPTIONS = {
  format: 'esm',
  target: 'node22',
  platform: 'node',
  mainFields: ['module', 'main'],
  minify: true,
  keepNames: true,
  sourcemap: true,
  sourcesContent: false,
  // Some CommonJS dependencies call require() for Node built-ins; ESM output needs it.
  banner:
    "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
} as const;

/**
 * The package's root directory, from this file's location: the repository (infra/constructs/),
 * the ESM build (dist/infra/constructs/) or the CommonJS bundle (dist/) alike.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === PACKAGE_NAME)
      return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`${PACKAGE_NAME}: cannot find the package's root`);
    dir = parent;
  }
}

export type NodeFunctionProps = Omit<FunctionProps, 'code' | 'handler' | 'runtime'>;

/**
 * One of the package's Lambda functions, Node.js 22 on ARM64. From a checkout (the sources are
 * there) esbuild bundles the TypeScript at synth, as `cdk watch` wants; from an installed
 * package the prebuilt bundle is used, so an app needs neither esbuild nor this repository's
 * lock file.
 */
export function createNodeFunction(
  scope: Construct,
  id: string,
  entry: LambdaEntry,
  props: NodeFunctionProps,
): LambdaFunction {
  const root = packageRoot();
  const source = join(root, LAMBDA_ENTRIES[entry]);
  const common = { ...props, runtime: Runtime.NODEJS_22_X, architecture: Architecture.ARM_64 };
  if (existsSync(source)) {
    return new NodejsFunction(scope, id, {
      ...common,
      entry: source,
      handler: 'handler',
      projectRoot: root,
      depsLockFilePath: join(root, 'package-lock.json'),
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: BUNDLE_OPTIONS.target,
        mainFields: [...BUNDLE_OPTIONS.mainFields],
        bundleAwsSDK: true,
        minify: BUNDLE_OPTIONS.minify,
        keepNames: BUNDLE_OPTIONS.keepNames,
        sourceMap: BUNDLE_OPTIONS.sourcemap,
        sourcesContent: BUNDLE_OPTIONS.sourcesContent,
        banner: BUNDLE_OPTIONS.banner,
      },
    });
  }
  const bundle = join(root, 'dist', 'lambda', entry);
  if (!existsSync(join(bundle, 'index.mjs')))
    throw new Error(
      `${PACKAGE_NAME}: neither ${LAMBDA_ENTRIES[entry]} nor the prebuilt ${join('dist', 'lambda', entry, 'index.mjs')} is in ${root}: reinstall the package`,
    );
  return new LambdaFunction(scope, id, {
    ...common,
    code: Code.fromAsset(bundle),
    handler: 'index.handler',
  });
}
