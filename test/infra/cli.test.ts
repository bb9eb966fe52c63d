import { exec } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cdkCommand } from '../../infra/examples.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const sh = promisify(exec);

/** Runs a documented command, with `synth` for `deploy`, through a shell as a user would. */
async function cdkSynth(context: Readonly<Record<string, string>>, extra = '') {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-out-'));
  const command = `${cdkCommand('synth', context)} --quiet --output ${outdir}${extra}`;
  const result = await sh(command, {
    cwd: REPO_ROOT,
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
  });
  const template = JSON.parse(
    readFileSync(join(outdir, 'SensorAnomalyDetector.template.json'), 'utf8'),
  ) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  return { ...result, resources: Object.values(template.Resources) };
}

// The `cdk` CLI end to end (cdk.json → tsx → app → esbuild), offline and without an account.
// One run with bundling proves the CLI path; the documented contexts (LocalStack, MSK, ...)
// are synthesized in-process with the same string values (localstack.test.ts, msk.test.ts).
// Generous timeout: each run spawns the CLI, tsx and esbuild, two at once, next to other test
// files on a shared 2-core machine (measured: over 120 s each under a load average of 20).
describe.concurrent('npx cdk synth', { timeout: 300_000 }, () => {
  it('synthesizes the default (self-managed brokers) with no extra context', async () => {
    // aws-cdk-lib's built-in template validation runs here as users get it (the in-process
    // synths leave it off, test/infra/synth.ts), its findings made errors: by default they
    // are only warnings ("Set feature flag ... validateAgainstDefaultRules to true to turn
    // these into errors").
    const { resources, stderr } = await cdkSynth(
      {},
      ' -c @aws-cdk/core:validateAgainstDefaultRules=true',
    );
    expect(stderr).not.toContain('Template validation found issues');
    const mapping = resources.find((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    expect(mapping?.Properties.SelfManagedEventSource).toBeDefined();
    // Item 13: synth keeps working with the placeholder, and says that deploy will not.
    expect(stderr).toContain('bootstrapServers is the placeholder');
    expect(stderr).toContain('`cdk deploy` fails until you set it');
    // Item 14: the CLI finds every feature flag configured.
    expect(stderr).not.toMatch(/feature flags? (is|are) not configured/);
  });

  // One run for every mistake: the app lists every problem at once (config.test.ts), so one
  // spawn of the CLI shows how each reaches the user.
  it('fails with the bad keys and values named, what is wrong, and no stack trace (item 12)', async () => {
    const error = await cdkSynth({
      smsCriticalOnly: 'yes',
      memorySizeMb: '1024MB',
      windowSeconds: '12',
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 1 });
    const stderr = (error as { stderr: string }).stderr;
    expect(stderr).toContain('smsCriticalOnly: must be true or false (got "yes")');
    expect(stderr).toContain('memorySizeMb: must be a number, without a unit (got "1024MB")');
    expect(stderr).toContain(
      'windowSeconds: must be a whole multiple of slideSeconds (5) (got 12)',
    );
    expect(stderr).not.toContain('Invalid input');
    expect(stderr).not.toContain('    at ');
  });
});
