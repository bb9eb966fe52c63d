import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEntry, repo } from './support/run-cli.ts';

/**
 * The local tools as a user meets them: through npm or the `sensor-anomaly` command, from
 * any directory, with `-` for standard input and output, and without leftovers on Ctrl-C.
 */
interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const examples = join(repo, 'examples');
const scratch = mkdtempSync(join(tmpdir(), 'cli-anywhere-'));

/** A command line through a shell, in `cwd`, without the caller's npm script context. */
function sh(command: string, cwd: string, stdin = ''): Promise<Run> {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith('npm_') || name === 'INIT_CWD') delete env[name];
  }
  for (const name of ['KAFKA_BROKERS', 'DYNAMODB_ENDPOINT', 'SNS_ENDPOINT']) delete env[name];
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd, env });
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
      reject(new Error(`${command} did not finish in time:\n${stdout}\n${stderr}`));
    }, 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

/** stderr without npm's own lines (`npm warn …`, the `> script` banner). */
const ownLines = (stderr: string) =>
  stderr.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('npm warn'));

describe('commands that work from anywhere', { timeout: 90_000 }, () => {
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('npm run backtest in examples/ reads examples/readings.csv (paths are the caller’s)', async () => {
    const r = await sh('npm run --silent backtest -- --input readings.csv', examples);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^backtest of readings\.csv \(csv\): 756 data lines/);
  });

  it('npx sensor-anomaly backtest -i … works from a subdirectory, as any installed command', async () => {
    const r = await sh('npx --offline sensor-anomaly backtest -i readings.csv', examples);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^backtest of readings\.csv \(csv\): 756 data lines/);
    const help = await sh('npx --offline sensor-anomaly --help', examples);
    expect(help.stdout).toMatch(/^Usage: sensor-anomaly COMMAND/);
    const wrong = await sh('npx --offline sensor-anomaly backtets', examples);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr.split('\n')[0]).toBe(
      'sensor-anomaly: unknown command "backtets" (one of start, produce, backtest, rules, feedback, evaluate, parity)',
    );
  });

  it('npx cdk runs the CLI the lock pins, never a download', async () => {
    const pinned = JSON.parse(
      readFileSync(join(repo, 'node_modules/aws-cdk/package.json'), 'utf8'),
    ) as { version: string };
    expect(pinned.version).toMatch(/^2\.1148\./);
    // --offline: a download would fail; the project's own `cdk` bin answers instead.
    const r = await sh('npx --offline cdk --version', repo);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(new RegExp(`^${pinned.version.replaceAll('.', '\\.')} `));
  });

  it('every npm script installs what it needs on first use', () => {
    const { scripts } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const main = Object.keys(scripts).filter((name) => !name.startsWith('pre'));
    expect(
      main.filter((name) => scripts[`pre${name}`] !== 'node scripts/ensure-dependencies.mjs'),
    ).toEqual([]);
  });

  it('-o - writes the CSV to standard output and the report to standard error', async () => {
    const r = await sh(`npx --offline sensor-anomaly backtest -i readings.csv -o -`, examples);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^timestamp,sensorId,value,/);
    expect(lines).toHaveLength(753);
    expect(r.stderr).toMatch(/^backtest of readings\.csv/);
    expect(existsSync(join(examples, '-'))).toBe(false);
  });

  it('- reads standard input, for the readings and for a rules file', async () => {
    const readings = readFileSync(join(examples, 'readings.csv'), 'utf8');
    const fromStdin = await sh('npm run --silent backtest -- -i -', examples, readings);
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(fromStdin.stdout).toMatch(/^backtest of stdin \(csv\): 756 data lines/);
    const rules = readFileSync(join(examples, 'detector-rules.json'), 'utf8');
    const withRules = await sh(
      'npm run --silent backtest -- -i readings.csv --rules -',
      examples,
      rules,
    );
    expect(withRules.code, withRules.stderr).toBe(0);
    expect(withRules.stdout).toMatch(/3 per-sensor rule\(s\)/);
    const validate = await sh('npm run --silent rules -- validate -', examples, rules);
    expect(validate.code, validate.stderr).toBe(0);
    expect(validate.stdout).toMatch(/^-: valid: default ewma/);
  });

  it('npm run backtest --input … (npm’s -- forgotten) says to add it, in one line', async () => {
    const r = await sh('npm run backtest --input readings.csv', examples);
    expect(r.code).toBe(2);
    const own = ownLines(r.stderr);
    expect(own[0]).toBe(
      "npm took --input as its own option: put -- before the command's options (npm run backtest -- --input …)",
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('no progress line when standard error is not a terminal', async () => {
    const r = await sh('npm run --silent backtest -- -i readings.csv', examples);
    expect(r.stderr).not.toMatch(/\r|readings\/s|ETA/);
  });

  it('Ctrl-C leaves no output file, partial or whole', async () => {
    const output = join(scratch, 'judged.csv');
    // Standard input stays open: the backtest is mid-run when it is interrupted.
    const child = spawn(
      process.execPath,
      [...cliEntry('local/cli/backtest.ts'), '-i', '-', '-o', output],
      { cwd: repo },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const lines = Array.from(
      { length: 5000 },
      (_, i) => `s${i % 7},${50 + (i % 5)},${1_700_000_000_000 + i * 100}`,
    );
    child.stdin.write(`${lines.join('\n')}\n`);
    // Rows are written as batches are judged: wait for the temporary file to hold some.
    const started = Date.now();
    while (!readdirSync(scratch).some((f) => f.endsWith('.partial'))) {
      if (Date.now() - started > 30_000) throw new Error(`no temporary output:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const exited = new Promise<number | null>((resolve) =>
      child.on('close', (code) => resolve(code)),
    );
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(readdirSync(scratch)).toEqual([]);
    expect(stderr).toContain('interrupted: no output file written');
  });
});
