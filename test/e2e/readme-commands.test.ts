import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { repo } from './support/run-cli.ts';

/**
 * Every command of the README, run as written (through a shell, from the repository root, as
 * a new user pastes it). A command that runs until Ctrl-C gets one, as a user would give it.
 */
const README = readFileSync(`${repo}README.md`, 'utf8');
const COMMANDS = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((block) =>
  (block[1] ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#')),
);

/** Commands not run here, and what checks them instead. */
const CHECKED_ELSEWHERE: Readonly<Record<string, string>> = {
  'npm test': 'this suite is npm test itself',
  'npx cdk synth --no-notices': 'test/infra/cli.test.ts runs this synth through a shell',
  'npx cdk destroy --no-notices':
    'needs a deployed stack and credentials; test/infra/docs.test.ts checks the quoted command',
};

/** What each command must print (stdout), so "it ran" means it did its job. */
const EXPECTED: Readonly<Record<string, RegExp>> = {
  'npm start':
    /live view {3}http:\/\/127\.0\.0\.1:\d+\/[\s\S]*ANOMALY → sensor_\d+: value=[\d.]+, avg=[\d.]+[\s\S]*Summary after/,
  'npm start -- --help':
    /Usage: npm start -- \[options\][\s\S]*--ewma-sigma X +ewma: Band of this many learned standard deviations around the learned mean\. \(default 4\)/,
  'npm start -- --detector robust --sensors 3 --duration 10':
    /detection {3}robust \(score > 0\.5\)[\s\S]*Summary after[\s\S]*records processed/,
  'npm run backtest -- --input examples/readings.csv':
    /backtest of examples\/readings\.csv \(csv\): 756 data lines[\s\S]*flinkLike_1 +threshold/,
  'npm run backtest -- --input examples/readings.csv --rules examples/detector-rules.json --plot judged.html':
    /hugeScale_1 +zscore[\s\S]*wrote judged\.html \(5 sensors\)/,
};

/** Runs a command line in a shell; `interruptOn`: Ctrl-C (SIGINT to its process group) once stdout matches. */
function run(command: string, interruptOn?: RegExp) {
  const env = { ...process.env };
  for (const name of ['KAFKA_BROKERS', 'DYNAMODB_ENDPOINT', 'SNS_ENDPOINT']) delete env[name];
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd: repo, env, detached: true });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (interruptOn !== undefined && !interrupted && interruptOn.test(stdout)) {
        interrupted = true;
        process.kill(-(child.pid as number), 'SIGINT');
      }
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      process.kill(-(child.pid as number), 'SIGKILL');
      reject(new Error(`${command} did not finish in time:\n${stdout}\n${stderr}`));
    }, 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('every command in the README runs as written', { timeout: 120_000 }, () => {
  afterAll(() => {
    if (existsSync(`${repo}judged.html`)) rmSync(`${repo}judged.html`);
  });

  it('knows every command of the README', () => {
    expect(COMMANDS.length).toBeGreaterThan(4);
    const known = [...Object.keys(EXPECTED), ...Object.keys(CHECKED_ELSEWHERE)];
    expect(COMMANDS.filter((c) => !known.includes(c))).toEqual([]);
    expect(known.filter((c) => !COMMANDS.includes(c))).toEqual([]);
  });

  it.each(Object.keys(EXPECTED))('%s', async (command) => {
    // `npm start` alone runs for 45 s: Ctrl-C after an anomaly and a status line, as a user would.
    const interrupted = command === 'npm start';
    const result = await run(command, interrupted ? /ANOMALY[\s\S]*^\[\d\d:\d\d\] /m : undefined);
    // After Ctrl-C, npm itself ends by the signal (a terminal shows exit status 130); what the
    // user sees is the pipeline stopping cleanly with its summary.
    if (interrupted) expect(result.stdout).toContain('Stopping (Ctrl-C again to quit at once)');
    else expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(EXPECTED[command] as RegExp);
    // No warnings or stack traces on the way (npm's own lines excepted).
    expect(result.stderr).not.toMatch(/Warning|\n\s+at /);
  });

  it('the backtest plot is one offline file', () => {
    const html = readFileSync(`${repo}judged.html`, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
  });
});
