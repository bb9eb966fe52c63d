import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cliBundle } from '../../helpers/cli-bundles.ts';

export const repo = fileURLToPath(new URL('../../..', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Node's arguments to run a CLI entry point: its bundle of this run, or tsx for other scripts. */
export function cliEntry(script: string): string[] {
  const bundle = cliBundle(script);
  return bundle !== undefined && existsSync(bundle) ? [bundle] : ['--import', 'tsx', script];
}

/**
 * Runs a CLI entry point as `npm start` / `npm run produce` do, without inherited Kafka/AWS
 * settings: from its bundle of this run (test/helpers/cli-bundles.ts), or with tsx for a
 * script that has none.
 */
export function runCli(
  script: string,
  args: readonly string[],
  options: { stdin?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
) {
  const env = { ...process.env };
  for (const name of ['KAFKA_BROKERS', 'DYNAMODB_ENDPOINT', 'SNS_ENDPOINT']) delete env[name];
  Object.assign(env, options.env);
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(process.execPath, [...cliEntry(script), ...args], { cwd: repo, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not finish in time:\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 45_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}
