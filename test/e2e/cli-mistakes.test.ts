import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/run-cli.ts';

/** A loopback port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Stderr as a user reads it: one line, no stack frame, no SDK warning. */
function expectOneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at |NodeVersionSupportWarning|KafkaJS/);
  return lines[0] as string;
}

describe('everyday mistakes get one line, a bounded wait and a non-zero exit', {
  concurrent: true,
}, () => {
  let port: number;
  // Answers HTTP but is neither DynamoDB nor SNS.
  let impostor: Server;
  let impostorUrl: string;
  beforeAll(async () => {
    port = await closedPort();
    impostor = createServer((_, res) => {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<html>not here</html>');
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    impostorUrl = `http://127.0.0.1:${(impostor.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => impostor.close(() => resolve()));
  });

  it.each([
    ['--brokers', 'Kafka', 'docker compose up -d redpanda'],
    ['--dynamodb-endpoint', 'DynamoDB', 'docker compose up -d localstack'],
    ['--sns-endpoint', 'SNS', 'docker compose up -d localstack'],
  ])(
    'npm start %s with nothing there names %s, the address and what to do',
    async (flag, service, todo) => {
      // Prepare
      const address = flag === '--brokers' ? `127.0.0.1:${port}` : `http://127.0.0.1:${port}`;
      const startedMs = Date.now();
      // Act
      const result = await runCli('local/cli/start.ts', [
        flag,
        address,
        '--service-wait-seconds',
        '1',
        '--no-live',
      ]);
      // Assess
      expect(result.code).toBe(1);
      const line = expectOneLine(result.stderr);
      expect(line).toBe(
        `npm start: cannot reach ${service} at ${address} (connection refused after 1 s): ${line.split('): ')[1]}`,
      );
      expect(line).toContain(todo);
      expect(line).toContain(`drop ${flag}`);
      expect(Date.now() - startedMs).toBeLessThan(20_000);
    },
  );

  it.each([
    ['--dynamodb-endpoint', 'DynamoDB'],
    ['--sns-endpoint', 'SNS'],
  ])('npm start %s at something else than %s says so in one line', async (flag, service) => {
    const result = await runCli('local/cli/start.ts', [flag, impostorUrl, '--no-live']);
    expect(result.code).toBe(1);
    const line = expectOneLine(result.stderr);
    expect(line).toMatch(
      new RegExp(
        `^npm start: cannot reach ${service} at ${impostorUrl} \\(HTTP 404[^)]*\\): start it`,
      ),
    );
  });

  it('npm run produce to a broker that is not there', async () => {
    const result = await runCli('local/cli/produce.ts', ['--brokers', `127.0.0.1:${port}`], {
      stdin: 'sensor_1,1\n',
    });
    expect(result.code).toBe(1);
    expect(expectOneLine(result.stderr)).toMatch(
      new RegExp(
        `^npm run produce: cannot reach Kafka at 127\\.0\\.0\\.1:${port} \\(connection refused after 5 s\\): start a broker`,
      ),
    );
  });

  it('npm start --live-port with the port taken: one line, exit 2', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port: busy } = taken.address() as AddressInfo;
    try {
      const result = await runCli('local/cli/start.ts', [
        '--in-process',
        '--live-port',
        String(busy),
      ]);
      expect(result.code).toBe(2);
      expect(expectOneLine(result.stderr)).toBe(
        `npm start: --live-port ${busy}: the port is in use (another npm start?); choose another, 0 for any free one, or --no-live`,
      );
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it.each([
    ['local/cli/start.ts', 'start', ['10'], { npm_config_duration: 'true' }, '--duration'],
    ['local/cli/start.ts', 'start', [], { npm_config_live: '' }, '--no-live'],
    ['local/cli/produce.ts', 'produce', ['t'], { npm_config_topic: 'true' }, '--topic'],
  ])(
    '%s (npm run %s with npm’s -- forgotten): one line says to add it',
    async (script, event, args, npmEnv, flag) => {
      // What npm hands a script for `npm start --duration 10`: the value, and the flag as its own setting.
      const result = await runCli(script, args, {
        env: { npm_lifecycle_event: event, ...npmEnv },
      });
      expect(result.code).toBe(2);
      const run = event === 'start' ? 'npm start' : `npm run ${event}`;
      expect(result.stderr.split('\n')[0]).toBe(
        `npm took ${flag} as its own option: put -- before the command's options (${run} -- ${flag} …)`,
      );
    },
  );

  it.each([
    [
      'local/cli/start.ts',
      ['--windw-seconds', '10'],
      'unknown option --windw-seconds (did you mean --window-seconds?)',
    ],
    [
      'local/cli/start.ts',
      ['--window-seconds', '12'],
      '--window-seconds: must be a whole multiple of --slide-seconds (5) (got 12)',
    ],
    [
      'local/cli/start.ts',
      ['--ewma-sigma', '3'],
      '--ewma-sigma: applies to --detector ewma, not threshold',
    ],
    ['local/cli/produce.ts', ['--key-by-sensr'], 'unknown option --key-by-sensr'],
    ['local/cli/produce.ts', ['--topik', 'x'], 'unknown option --topik (did you mean --topic?)'],
    [
      'local/cli/backtest.ts',
      ['--input', 'x', '--ploot', 'a.svg'],
      'unknown option --ploot (did you mean --plot?)',
    ],
    [
      'local/cli/backtest.ts',
      ['-x', 'a.csv'],
      'unknown option -x (short options: -i (--input), -o (--output))',
    ],
    [
      'local/cli/backtest.ts',
      ['-i', '-', '--rules', '-'],
      '--input - and --rules -: only one of them can read standard input',
    ],
    [
      'local/cli/backtest.ts',
      ['-i', 'x', '-o', '-', '--plot', '-'],
      '--output - and --plot -: only one of them can write standard output',
    ],
    ['local/cli/backtest.ts', ['-i', 'no-such.csv'], '--input: cannot read no-such.csv (ENOENT)'],
    [
      'local/cli/produce.ts',
      ['-b', 'x', '--file', 'no-such.csv'],
      '--file: cannot read no-such.csv (ENOENT)',
    ],
  ])('%s %j: exit 2 and %s', async (script, args, message) => {
    const result = await runCli(script, args);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(message);
  });
});
