import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/run-cli.ts';

const SAMPLE = 'test/fixtures/parity/seed-sample.csv';
const FLINK_LOG = 'test/fixtures/parity/seed-sample-flink.out';

describe('npm run parity', () => {
  it("agrees with the seed job's captured output on the seed's sample (exit 0)", async () => {
    // Act
    const result = await runCli('local/cli/parity.ts', [
      '--input',
      SAMPLE,
      '--flink-output',
      FLINK_LOG,
    ]);
    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'read 102 readings (0 rejected) and 3 Flink lines (1 other lines skipped)',
    );
    expect(result.stdout).toContain('match 3 exactly, 0 by value · ours only 0 · theirs only 0');
    expect(result.stdout).toContain('parity: the outputs agree');
  });

  it('lists the lines only one side printed and exits 1 when they differ', async () => {
    // Prepare: their log lost one line and printed another with a different value.
    const log = join(tmpdir(), `parity-${process.pid}.log`);
    writeFileSync(
      log,
      '1> ANOMALY → sensor_1: value=150.0, avg=59.21\n2> ANOMALY → sensor_1: value=181.0, avg=112.5\n',
    );
    // Act
    const result = await runCli('local/cli/parity.ts', ['--input', SAMPLE, '--flink-output', log]);
    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('ours only 2 · theirs only 1');
    expect(result.stdout).toMatch(
      /ours only:\n {2}ANOMALY → sensor_1: value=180\.0, avg=112\.5\n {2}ANOMALY → sensor_1: value=45\.0, avg=112\.5/,
    );
    expect(result.stdout).toContain(
      'theirs only:\n  ANOMALY → sensor_1: value=181.0, avg=112.5 (line 2)',
    );
    expect(result.stdout).toContain('parity: the outputs differ');
  });

  it('matches a Java job that prints the same numbers differently by value', async () => {
    const log = join(tmpdir(), `parity-java-${process.pid}.log`);
    writeFileSync(
      log,
      'ANOMALY → sensor_1: value=150.0, avg=59.210000000000001\nANOMALY → sensor_1: value=180.0, avg=112.5\nANOMALY → sensor_1: value=45.0, avg=112.5\n',
    );
    const result = await runCli('local/cli/parity.ts', [
      '--input',
      SAMPLE,
      '--flink-output',
      log,
      '--flink-format',
      'java',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('match 2 exactly, 1 by value');
  });

  it.each([
    [['--flink-output', FLINK_LOG], '--input FILE is required'],
    [['--input', SAMPLE], '--flink-output FILE is required'],
    [
      ['--input', 'missing.csv', '--flink-output', FLINK_LOG],
      '--input: cannot read missing.csv (ENOENT)',
    ],
    [['--imput', SAMPLE], 'unknown option --imput (did you mean --input?)'],
    [
      ['--input', SAMPLE, '--flink-output', FLINK_LOG, '--window-seconds', '7'],
      'whole multiple of --slide-seconds',
    ],
    [['--input', SAMPLE, '--flink-output', FLINK_LOG, '--flink-format', 'scala'], '--flink-format'],
  ])('%j: one line that says what to do, exit 2', async (args, message) => {
    const result = await runCli('local/cli/parity.ts', args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('See: npm run parity -- --help');
    expect(result.stderr).not.toContain('    at ');
  });
});
