import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRulesCli } from '../../local/rules/rules-cli.ts';
import { cliEntry, repo } from './support/run-cli.ts';

/** Resolves with the first match of `pattern` in the output so far or to come. */
function waitFor(
  output: () => string,
  pattern: RegExp,
  timeoutMs: number,
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      const m = output().match(pattern);
      if (m !== null) return resolve(m);
      if (Date.now() - started > timeoutMs)
        return reject(new Error(`no ${pattern} in time:\n${output()}`));
      setTimeout(check, 100);
    };
    check();
  });
}

describe('a running npm start picks up a rules change without a restart', {
  concurrent: true,
}, () => {
  it('starts flagging a sensor once `npm run rules -- put` lowers its threshold', {
    timeout: 90_000,
  }, async () => {
    // Prepare: nothing flags under a threshold of 1000 (the simulator's readings are about 50)
    const dir = mkdtempSync(join(tmpdir(), 'rules-start-'));
    const rulesFile = join(dir, 'lower.json');
    writeFileSync(
      rulesFile,
      JSON.stringify({
        rules: [
          {
            topic: 'sensor-data',
            match: 'sensor_2',
            detector: { kind: 'threshold', threshold: 0.01 },
          },
        ],
      }),
    );
    const env = { ...process.env };
    for (const name of ['KAFKA_BROKERS', 'DYNAMODB_ENDPOINT', 'SNS_ENDPOINT']) delete env[name];
    const child = spawn(
      process.execPath,
      [
        ...cliEntry('local/cli/start.ts'),
        '--in-process',
        '--duration',
        '14',
        '--sensors',
        '3',
        '--rate',
        '15',
        '--anomaly-rate',
        '0',
        '--seed',
        '3',
        '--threshold',
        '1000',
        '--rules-refresh-seconds',
        '1',
        '--status-interval',
        '0',
        '--no-live',
      ],
      { cwd: repo, env },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      // Act: the banner says how; put the file while it runs
      const banner = await waitFor(
        () => stdout,
        /rules {7}change them while it runs \(read every 1 s\): npm run rules -- put FILE --endpoint (http:\/\/127\.0\.0\.1:\d+)/,
        45_000,
      );
      await waitFor(() => stdout, /simulator/, 10_000);
      // Some readings judged by the rules npm start began with, first.
      await new Promise((r) => setTimeout(r, 2000));
      const before = stdout;
      let putOut = '';
      const code = await runRulesCli(['put', rulesFile, '--endpoint', banner[1] as string], {
        out: (t) => {
          putOut += t;
        },
        err: (t) => {
          putOut += t;
        },
        env: {},
      });
      expect(code, putOut).toBe(0);
      await waitFor(
        () => stdout,
        /^RULES → version 1 by .*: default threshold 1000, 1 rule \(1 by topic\)$/m,
        10_000,
      );
      await waitFor(() => stdout, /^ANOMALY → sensor_2: /m, 10_000);
      const exitCode = await exited;
      // Assess
      expect(exitCode, stderr).toBe(0);
      expect(before).not.toMatch(/^ANOMALY/m);
      const after = stdout.slice(stdout.indexOf('RULES → version 1'));
      const flagged = new Set([...after.matchAll(/^ANOMALY → (\w+):/gm)].map((m) => m[1]));
      expect(flagged).toEqual(new Set(['sensor_2']));
      expect(stdout).toMatch(/anomalies +\d+ .*sensor_2: \d+/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a `put` that sets a topic rule’s silenceSeconds is followed by the running silence check', {
    timeout: 90_000,
  }, async () => {
    // Prepare: --stop-sensor watches every sensor at 10 s; the stored document will watch
    // sensor_3 on the simulator's topic at 2 s, and no other sensor.
    const dir = mkdtempSync(join(tmpdir(), 'rules-silence-'));
    const rulesFile = join(dir, 'silence.json');
    writeFileSync(
      rulesFile,
      JSON.stringify({
        default: { kind: 'threshold', threshold: 1000 },
        rules: [
          {
            topic: 'sensor-data',
            match: 'sensor_3',
            detector: { kind: 'threshold', threshold: 1000 },
            silenceSeconds: 2,
          },
        ],
      }),
    );
    const env = { ...process.env };
    for (const name of ['KAFKA_BROKERS', 'DYNAMODB_ENDPOINT', 'SNS_ENDPOINT']) delete env[name];
    const child = spawn(
      process.execPath,
      [
        ...cliEntry('local/cli/start.ts'),
        '--in-process',
        '--duration',
        '40',
        '--sensors',
        '3',
        '--rate',
        '15',
        '--anomaly-rate',
        '0',
        '--seed',
        '3',
        '--threshold',
        '1000',
        '--stop-sensor',
        'sensor_3:4-60',
        '--rules-refresh-seconds',
        '1',
        '--status-interval',
        '0',
        '--no-live',
      ],
      { cwd: repo, env },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    try {
      // Act
      const banner = await waitFor(
        () => stdout,
        /rules {7}change them while it runs \(read every 1 s\): npm run rules -- put FILE --endpoint (http:\/\/127\.0\.0\.1:\d+)/,
        45_000,
      );
      await waitFor(() => stdout, /simulator/, 10_000);
      let putOut = '';
      const code = await runRulesCli(['put', rulesFile, '--endpoint', banner[1] as string], {
        out: (t) => {
          putOut += t;
        },
        err: (t) => {
          putOut += t;
        },
        env: {},
      });
      expect(code, putOut).toBe(0);
      await waitFor(() => stdout, /^RULES → version 1 by /m, 10_000);
      // Assess: the stored limit (2 s), not the start-time one (10 s), and only for sensor_3.
      await waitFor(() => stdout, /^SILENT sensor_3: no reading for \d+ s \(limit 2 s\)/m, 30_000);
      expect(stdout.match(/^RULES → /gm), stderr).toHaveLength(1);
      expect(stdout).not.toMatch(/^SILENT sensor_[12]/m);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
