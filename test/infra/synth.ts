import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SERVICE_NAME } from '../../functions/telemetry-names.ts';
import { buildDetectorApp, type DetectorApp } from '../../infra/build-app.ts';

const run = promisify(execFile);

/** The context `cdk` reads from cdk.json, so tests start from the same defaults. */
export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'),
).context;

/**
 * aws-cdk-lib's built-in CloudFormation template validation (App `builtinCloudFormationValidation`:
 * "CDK ships with a CloudFormation template validation plugin that is enabled by default") is
 * off in the apps the tests build in-process: it costs about 3 s of CPU per worker to start and
 * 0.8 s per synth, some thirty synths a run. test/infra/cli.test.ts synthesizes the default app
 * through the `cdk` CLI with it on, as users run it, and with its findings made errors.
 */
const BUILTIN_VALIDATION = false;

export interface Synthesized extends DetectorApp {
  readonly template: Template;
  /** cdk-nag AwsSolutions findings that no acknowledgment covers. */
  readonly nagFindings: readonly string[];
  /** The handler bundles esbuild wrote into the cloud assembly. */
  readonly bundles: readonly string[];
}

/**
 * What a worker process keeps between test files (vitest.config.ts runs the synthesizing
 * files without isolation, several to a worker): on globalThis, so that it outlives this
 * module's own evaluation.
 */
const perWorker = globalThis as typeof globalThis & {
  synthesizedByContext?: Map<string, Synthesized>;
  synthOutdir?: string;
};

/**
 * Synthesizes the app as `cdk synth -c key=value ...` would (cdk.json context, then the
 * given context), bundling the handlers with esbuild.
 *
 * Once per context and worker: a synthesized app is only read by the tests (templates,
 * annotations, cdk-nag findings, the bundles run in a child process), and the same context
 * always gives the same app. Every app of a worker writes to one cloud assembly directory:
 * CDK keys its cache of bundled assets by that directory (`AssetStaging`: the cache key
 * includes `outdir`), so the handler bundles (esbuild through npx, about 7 s of CPU for the
 * three) are made once per worker rather than once per app.
 */
export function synthesize(context: Readonly<Record<string, string>> = {}): Synthesized {
  perWorker.synthesizedByContext ??= new Map();
  const key = JSON.stringify(Object.entries(context).sort(([a], [b]) => a.localeCompare(b)));
  const cached = perWorker.synthesizedByContext.get(key);
  if (cached !== undefined) return cached;
  const synthesized = synthesizeNow(context);
  perWorker.synthesizedByContext.set(key, synthesized);
  return synthesized;
}

function synthesizeNow(context: Readonly<Record<string, string>>): Synthesized {
  perWorker.synthOutdir ??= mkdtempSync(join(tmpdir(), 'cdk-test-assembly-'));
  const app = new App({
    outdir: perWorker.synthOutdir,
    context: { ...CDK_JSON_CONTEXT, ...context },
    builtinCloudFormationValidation: BUILTIN_VALIDATION,
  });
  const built = buildDetectorApp(app);
  const template = Template.fromStack(built.stack);
  const assembly = app.synth();
  // The bundles of this app's functions, from their code's asset hash (the directory also
  // holds other apps' assets): the detector's first, then the other functions' (silence
  // check, digest, ...).
  const detector = detectorFunction(template);
  const bundles = Object.values(template.findResources('AWS::Lambda::Function'))
    .sort((a, b) => Number(b === detector) - Number(a === detector))
    .map((f) => String(f.Properties.Code?.S3Key ?? '').replace(/\.zip$/, ''))
    .filter((hash, i, all) => hash !== '' && all.indexOf(hash) === i)
    .map((hash) => join(assembly.directory, `asset.${hash}`, 'index.mjs'))
    .filter((file) => existsSync(file));
  const report = new AwsSolutionsChecks().validateScope(built.stack);
  const nagFindings = report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`),
  );
  return { ...built, template, nagFindings, bundles };
}

/**
 * An app whose stacks do not bundle their handlers' code, for tests that read templates only:
 * `BUNDLING_STACKS` (aws-cdk-lib/cx-api: "Run bundling for stacks specified in this context
 * key"), empty, bundles none; `cdk` itself sets it to the stacks it was asked for. Each bundling runs esbuild
 * over every handler (seconds of CPU), and an app without an outdir gets a fresh directory,
 * so no cache helps: these tests would bundle at every stack they build.
 */
export function templateOnlyApp(context: Readonly<Record<string, unknown>> = {}): App {
  return new App({
    context: { [BUNDLING_STACKS]: [], ...context },
    builtinCloudFormationValidation: BUILTIN_VALIDATION,
  });
}

/** Every IAM policy statement of a template, with Action normalized to an array. */
export function policyStatements(
  template: Template,
): Array<{ Action: string[]; Resource: unknown }> {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
    (
      policy.Properties.PolicyDocument.Statement as Array<{
        Action: string | string[];
        Resource: unknown;
      }>
    ).map((s) => ({ ...s, Action: ([] as string[]).concat(s.Action) })),
  );
}

/** The logical id of the only resource of a type. */
export function onlyLogicalId(template: Template, type: string): string {
  const ids = Object.keys(template.findResources(type));
  if (ids.length !== 1 || ids[0] === undefined)
    throw new Error(`expected one ${type}, found ${ids.length}`);
  return ids[0];
}

/**
 * Loads the bundled handler in a fresh Node process with the environment the template gives
 * the function (references replaced by placeholders) and invokes it with an empty batch:
 * the cold-start config validation and the ESM bundle both have to work.
 */
export async function invokeBundleWithEmptyBatch(synth: Synthesized): Promise<unknown> {
  const fn = detectorFunction(synth.template);
  const variables = fn?.Properties.Environment.Variables as Record<string, unknown>;
  const env = Object.fromEntries(
    Object.entries(variables).map(([k, v]) => [k, typeof v === 'string' ? v : `placeholder-${k}`]),
  );
  const script = `
    const { handler } = await import(${JSON.stringify(pathToFileURL(synth.bundles[0] ?? '').href)});
    const result = await handler(
      { eventSource: 'SelfManagedKafka', bootstrapServers: 'b:9092', records: {} },
      { awsRequestId: 'test', functionName: 'test', getRemainingTimeInMillis: () => 1000 },
    );
    process.stderr.write(JSON.stringify(result));`;
  const { stderr } = await run(
    process.execPath,
    ['--no-warnings', '--input-type=module', '-e', script],
    {
      env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', ...env },
    },
  );
  return JSON.parse(stderr);
}

/**
 * Starts the bundle as Lambda would, with the template's NODE_OPTIONS but without the
 * table name, so that the cold-start config check throws: returns that error's stack trace.
 */
export async function stackTraceOfBadBundleStart(synth: Synthesized): Promise<string> {
  const fn = detectorFunction(synth.template);
  const variables = fn?.Properties.Environment.Variables as Record<string, unknown>;
  const script = `
    try { await import(${JSON.stringify(pathToFileURL(synth.bundles[0] ?? '').href)}); }
    catch (error) { process.stderr.write(String(error.stack)); }`;
  const { stderr } = await run(
    process.execPath,
    ['--no-warnings', '--input-type=module', '-e', script],
    {
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'eu-west-1',
        NODE_OPTIONS: String(variables.NODE_OPTIONS ?? ''),
      },
    },
  );
  return stderr;
}

/**
 * The app's one function of a service (POWERTOOLS_SERVICE_NAME): the detector's
 * `anomaly-detector`, `silence-check`, `digest`, ... Fails unless there is exactly one.
 */
export function functionOfService(
  template: Template,
  service: string,
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation resource JSON
): { id: string; resource: any } {
  const found = Object.entries(template.findResources('AWS::Lambda::Function')).filter(
    ([, f]) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === service,
  );
  const [first] = found;
  if (found.length !== 1 || first === undefined)
    throw new Error(`expected one function of service ${service}, found ${found.length}`);
  return { id: first[0], resource: first[1] };
}

/** The detector's function (not the silence check's, the digest's or the window flush's). */
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation resource JSON
export function detectorFunction(template: Template): any {
  return functionOfService(template, SERVICE_NAME).resource;
}
