import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The package as a user gets it: `npm run package` (which builds dist/, stages the package in
// build/package and packs that), the tarball installed into
// apps that `cdk init` generated, each unchanged but for the stack file docs/deploy.md gives.
// Offline: the tarball is unpacked where npm would put it, and the packages it declares
// (dependencies and peer dependencies) are linked from this repository's node_modules, the
// ones already installed. The generated apps' own dev dependencies (jest, their TypeScript)
// are not installed: the TypeScript app is type-checked with this repository's compiler.

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(REPO_ROOT, 'node_modules', '.bin');
const run = promisify(execFile);
const DOC = readFileSync(join(REPO_ROOT, 'docs', 'deploy.md'), 'utf8');
const APP = 'plant-monitoring';
const STACK = 'PlantMonitoringStack';
const ENV = {
  ...process.env,
  CDK_DISABLE_CLI_TELEMETRY: 'true',
  // No update check or notices: the test is offline.
  CDK_DISABLE_VERSION_CHECK: 'true',
};

/** A code block of docs/deploy.md's "Adding the detector to an existing CDK app". */
function documentedBlock(language: 'ts' | 'js'): string {
  const section = DOC.split('\n## Adding the detector to an existing CDK app\n')[1] ?? '';
  const block = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\\n\`\`\``).exec(section)?.[1];
  if (block === undefined) throw new Error(`no ${language} block in the construct section`);
  return `${block}\n`;
}

function filesOf(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (name === 'node_modules' || name === 'cdk.out') continue;
      if (statSync(path).isDirectory()) walk(path);
      else
        files.set(
          relative(dir, path),
          createHash('sha256').update(readFileSync(path)).digest('hex'),
        );
    }
  };
  walk(dir);
  return files;
}

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  files?: string[];
}

/** `cdk init` an app, put the tarball and the packages it declares into its node_modules. */
async function initApp(
  parent: string,
  language: 'typescript' | 'javascript',
  tarball: string,
  manifest: Manifest,
) {
  const dir = join(parent, APP);
  mkdirSync(dir, { recursive: true });
  await run(join(BIN, 'cdk'), ['init', 'app', '--language', language, '--generate-only'], {
    cwd: dir,
    env: ENV,
  });
  const generated = filesOf(dir);
  const modules = join(dir, 'node_modules');
  const installed = join(modules, manifest.name);
  mkdirSync(installed, { recursive: true });
  await run('tar', ['xzf', tarball, '-C', installed, '--strip-components=1']);
  const linked = [
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
    ...(language === 'typescript' ? ['@types/node'] : []),
  ];
  for (const name of linked) {
    mkdirSync(dirname(join(modules, name)), { recursive: true });
    symlinkSync(join(REPO_ROOT, 'node_modules', name), join(modules, name), 'dir');
  }
  return { dir, generated };
}

async function synth(dir: string, app?: string, env: NodeJS.ProcessEnv = ENV): Promise<Template> {
  await run(
    join(BIN, 'cdk'),
    ['synth', '--no-notices', '--quiet', ...(app === undefined ? [] : ['--app', app])],
    { cwd: dir, env },
  );
  return Template.fromJSON(
    JSON.parse(readFileSync(join(dir, 'cdk.out', `${STACK}.template.json`), 'utf8')),
  );
}

describe('the npm package in apps that cdk init made', { timeout: 240_000 }, () => {
  let work: string;
  let manifest: Manifest;
  let packed: string[];
  let tsTemplate: Template;
  let jsTemplate: Template;
  let tsApp: { dir: string; generated: Map<string, string> };
  let jsApp: { dir: string; generated: Map<string, string> };
  const seconds: Record<string, number> = {};
  const timed = async <T>(label: string, step: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await step();
    } finally {
      seconds[label] = Math.round((performance.now() - start) / 100) / 10;
    }
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'package-test-'));
    // The build: dist/ (tsc, the CommonJS file, the Lambda bundles), staged in build/package.
    await timed('build', () =>
      run(join(BIN, 'tsx'), ['scripts/build-package.ts'], { cwd: REPO_ROOT, env: ENV }),
    );
    const staged = join(REPO_ROOT, 'build', 'package');
    const { stdout } = await timed('npm pack', () =>
      run('npm', ['pack', staged, '--json', '--pack-destination', work], {
        cwd: REPO_ROOT,
        env: ENV,
      }),
    );
    const report = JSON.parse(stdout.slice(stdout.indexOf('[')))[0] as {
      filename: string;
      files: { path: string }[];
    };
    packed = report.files.map((f) => f.path);
    const tarball = join(work, report.filename);
    manifest = JSON.parse(readFileSync(join(staged, 'package.json'), 'utf8'));

    // The two apps are independent: made, checked and synthesized side by side.
    [tsApp, jsApp] = await Promise.all([
      timed('init ts', () => initApp(join(work, 'ts'), 'typescript', tarball, manifest)),
      timed('init js', () => initApp(join(work, 'js'), 'javascript', tarball, manifest)),
    ]);
    writeFileSync(join(tsApp.dir, 'lib', `${APP}-stack.ts`), documentedBlock('ts'));
    writeFileSync(join(jsApp.dir, 'lib', `${APP}-stack.js`), documentedBlock('js'));

    // The app's own compiler options, minus the jest types it would install.
    writeFileSync(
      join(work, 'ts', 'tsconfig.check.json'),
      JSON.stringify({
        extends: `./${APP}/tsconfig.json`,
        compilerOptions: { types: ['node'] },
        files: [`./${APP}/bin/${APP}.ts`, `./${APP}/lib/${APP}-stack.ts`],
      }),
    );
    [, tsTemplate, jsTemplate] = await Promise.all([
      timed('tsc ts', () =>
        run(join(BIN, 'tsc'), ['-p', join(work, 'ts', 'tsconfig.check.json')], { env: ENV }),
      ),
      // cdk.json's app is `npx tsc && npx tsx bin/<app>.ts`; the type check runs beside it.
      timed('synth ts', () => synth(tsApp.dir, `${join(BIN, 'tsx')} bin/${APP}.ts`)),
      // The JavaScript app runs exactly as generated: `node bin/<app>.js`. aws-cdk-lib's
      // built-in template validation (about 4 s of CPU) runs in the TypeScript app's synth
      // only: the same construct gives the same template.
      timed('synth js', () => synth(jsApp.dir, undefined, { ...ENV, CDK_VALIDATION: 'false' })),
    ]);
  }, 240_000);

  afterAll(() => {
    console.log(`package test steps (s): ${JSON.stringify(seconds)}`);
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('packs the built construct and Lambda bundles only, no sources, tests or tools', () => {
    expect(packed).toEqual(
      expect.arrayContaining([
        'package.json',
        'dist/index.cjs',
        'dist/infra/index.js',
        'dist/infra/index.d.ts',
        'dist/lambda/detector/index.mjs',
        'dist/lambda/silence-check/index.mjs',
        'dist/lambda/repartition/index.mjs',
      ]),
    );
    // The repository's commands stay in the repository: a `cdk` bin in an app's node_modules
    // would shadow the app's own CDK CLI.
    const published = manifest as unknown as Record<string, unknown>;
    expect(published.bin).toBeUndefined();
    expect(published.scripts).toBeUndefined();
    expect(published.devDependencies).toBeUndefined();
    expect(published.private).toBeUndefined();
    const outside = packed.filter(
      (p) => !p.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(p),
    );
    expect(outside).toEqual([]);
    expect(packed.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
  });

  it('declares every package its JavaScript imports, aws-cdk-lib and constructs as peers', async () => {
    expect(Object.keys(manifest.peerDependencies ?? {}).sort()).toEqual([
      'aws-cdk-lib',
      'constructs',
    ]);
    const declared = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ]);
    const installed = join(tsApp.dir, 'node_modules', manifest.name);
    for (const entry of ['dist/infra/index.js', 'dist/index.cjs']) {
      const result = await build({
        entryPoints: [join(installed, entry)],
        bundle: true,
        write: false,
        platform: 'node',
        packages: 'external',
        metafile: true,
        logLevel: 'silent',
      });
      const imported = Object.values(result.metafile.outputs)
        .flatMap((o) => o.imports)
        .filter((i) => i.external && !i.path.startsWith('node:'))
        .map((i) => (i.path.startsWith('@') ? i.path.split('/').slice(0, 2) : i.path.split('/', 1)))
        .map((parts) => parts.join('/'));
      expect([...new Set(imported)].filter((name) => !declared.has(name))).toEqual([]);
    }
  });

  it('leaves the generated apps as cdk init wrote them, but for the stack file', () => {
    for (const [app, stackFile] of [
      [tsApp, `lib/${APP}-stack.ts`],
      [jsApp, `lib/${APP}-stack.js`],
    ] as const) {
      const now = filesOf(app.dir);
      const changed = [...now].filter(([f, hash]) => app.generated.get(f) !== hash).map(([f]) => f);
      expect(changed).toEqual([stackFile]);
      expect([...now.keys()].sort()).toEqual([...app.generated.keys()].sort());
    }
  });

  it.each([
    ['TypeScript (CommonJS, through tsx)', () => tsTemplate],
    ['JavaScript (require)', () => jsTemplate],
  ])('%s: maps the topic with the given secret and runs the prebuilt detector', (_, template) => {
    const t = template();
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      SelfManagedEventSource: {
        Endpoints: {
          KafkaBootstrapServers: ['b-1.kafka.example.com:9096', 'b-2.kafka.example.com:9096'],
        },
      },
      Topics: ['sensor-readings'],
      SelfManagedKafkaEventSourceConfig: {
        ConsumerGroupId: 'PlantMonitoringStack-anomaly-detector',
      },
      StartingPosition: 'TRIM_HORIZON',
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Environment: {
        Variables: Match.objectLike({ DETECTOR: 'ewma', NODE_OPTIONS: '--enable-source-maps' }),
      },
    });
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      FilterPolicy: { kind: ['digest'] },
    });
    t.resourceCountIs('AWS::SecretsManager::Secret', 0);
  });

  it('an ES-module app imports the same construct, and require() gets the CommonJS build', async () => {
    const dir = join(work, 'esm');
    mkdirSync(dir);
    symlinkSync(join(tsApp.dir, 'node_modules'), join(dir, 'node_modules'), 'dir');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    writeFileSync(
      join(dir, 'app.mjs'),
      `import { createRequire } from 'node:module';
       import { App, Stack } from 'aws-cdk-lib';
       import { SensorAnomalyDetector, SensorAnomalyDetectorError } from 'sensor-anomaly-detector';
       const required = createRequire(import.meta.url)('sensor-anomaly-detector');
       const stack = new Stack(new App(), 'Esm');
       const detector = new SensorAnomalyDetector(stack, 'D');
       console.log(JSON.stringify({
         imported: import.meta.resolve('sensor-anomaly-detector'),
         required: createRequire(import.meta.url).resolve('sensor-anomaly-detector'),
         requiredHasConstruct: typeof required.SensorAnomalyDetector === 'function',
         errorIsClass: typeof SensorAnomalyDetectorError === 'function',
         functionName: typeof detector.function.functionName,
       }));`,
    );
    const { stdout } = await run(process.execPath, ['app.mjs'], { cwd: dir, env: ENV });
    const result = JSON.parse(stdout);
    expect(result.imported).toMatch(/\/dist\/infra\/index\.js$/);
    expect(result.required).toMatch(/\/dist\/index\.cjs$/);
    expect(result).toMatchObject({
      requiredHasConstruct: true,
      errorIsClass: true,
      functionName: 'string',
    });
  });
});
