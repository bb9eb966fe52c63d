import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { synthesize } from './synth.ts';

const run = promisify(execFile);
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

// Docker is not available here: these check what can be checked without it (see
// docs/deploy.md, "LocalStack", for what was and was not run).
describe('the LocalStack path', { timeout: 60_000 }, () => {
  it('deploys with exactly the context the script passes, which has no Kafka mapping', () => {
    const script = read('scripts/localstack-deploy.sh');
    const context = Object.fromEntries(
      [...script.matchAll(/-c (\w+)="?([^"\s\\]+)"?/g)].map(([, k, v]) => [
        k,
        v === '$STACK' ? 'SensorAnomalyDetectorLocal' : v,
      ]),
    ) as Record<string, string>;
    expect(context).toMatchObject({ eventSourceMapping: 'false', removalPolicy: 'destroy' });
    const local = synthesize(context);
    local.template.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    local.template.hasOutput('FunctionName', {});
    expect(local.nagFindings).toEqual([]);
    // Without a mapping the placeholder brokers are never used: no warning about them.
    Annotations.fromStack(local.stack).hasNoWarning(
      '*',
      Match.stringLikeRegexp('bootstrapServers is the placeholder'),
    );
  });

  it('runs the poller in Lambda mode with the deployed function name', () => {
    const script = read('scripts/localstack-run.sh');
    expect(script).toContain('FUNCTION_NAME="$FUNCTION"');
    expect(script).toContain('exec npx tsx local/poller/lambda-poller-main.ts');
  });

  it('has scripts bash can parse', async () => {
    for (const script of ['scripts/localstack-deploy.sh', 'scripts/localstack-run.sh']) {
      await expect(run('bash', ['-n', script])).resolves.toBeDefined();
    }
  });

  it('has a compose file for Compose v1 and v2: format 2.4, no top-level name', () => {
    const compose = read('docker-compose.yml');
    expect(compose).not.toMatch(/^name:/m);
    expect(compose).toMatch(/^version: "2\.4"$/m);
    expect(compose).toMatch(/^services:$/m);
    // Conditions in depends_on exist in format 2.1+ (not 3.x), which is why 2.4.
    expect(compose).toContain('condition: service_healthy');
    // LocalStack runs Lambda functions as containers of the host engine.
    expect(compose).toContain('/var/run/docker.sock:/var/run/docker.sock');
  });
});
