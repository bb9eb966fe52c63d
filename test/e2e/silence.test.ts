import { describe, expect, it } from 'vitest';
import { describeWithKafka } from '../helpers/kafka-available.ts';
import { runCli } from './support/run-cli.ts';

const SILENT = /^SILENT sensor_3: no reading for (\d+) s \(limit 4 s\), last seen \S+$/m;
const RECOVERED = /^RECOVERED sensor_3: reporting again after about \d+ s of silence/m;

/** The output's SILENT / RECOVERED lines, in order, as `KIND sensor`. */
function silenceLines(stdout: string): string[] {
  return [...stdout.matchAll(/^(SILENT|RECOVERED) (\S+):/gm)].map((m) => `${m[1]} ${m[2]}`);
}

function expectOneEpisode(stdout: string): void {
  expect(silenceLines(stdout)).toEqual(['SILENT sensor_3', 'RECOVERED sensor_3']);
  expect(Number(SILENT.exec(stdout)?.[1])).toBeGreaterThanOrEqual(4);
  expect(stdout).toMatch(RECOVERED);
  // SNS received both, with the silence attributes subscribers filter on.
  expect(stdout).toMatch(
    /^ {2}SNS → \[critical\] Sensor silent: sensor_3 {2}\{kind=alert sensorId=sensor_3 severity=critical detector=silence event=silent\}$/m,
  );
  expect(stdout).toMatch(/^ {2}SNS → \[warning\] Sensor reporting again: sensor_3 /m);
  expect(stdout).toMatch(/silent sensors +1 silent, 1 recovered$/m);
}

const STOP_ARGS = [
  '--duration',
  '18',
  '--sensors',
  '3',
  '--rate',
  '15',
  '--anomaly-rate',
  '0',
  '--stop-sensor',
  'sensor_3:3-12',
  '--silence-seconds',
  '4',
  '--status-interval',
  '0',
  '--no-live',
];

// Independent runs of seconds each, waiting on the clock: side by side.
describe('npm start --stop-sensor (docs/silence.md)', { concurrent: true }, () => {
  it('prints SILENT sensor_3 while the simulator holds it back, then RECOVERED once it sends again', async () => {
    // Act
    const result = await runCli('local/cli/start.ts', ['--in-process', ...STOP_ARGS], {
      timeoutMs: 60_000,
    });
    // Assess
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      'silence     SILENT after 4 s without a reading, checked every 1 s',
    );
    expect(result.stdout).toContain('sensor_3 sends nothing from 3 s to 12 s');
    expectOneEpisode(result.stdout);
  });

  it('says nothing about silence when no sensor stops', async () => {
    const result = await runCli(
      'local/cli/start.ts',
      ['--in-process', '--duration', '8', '--sensors', '3', '--silence-seconds', '4', '--no-live'],
      { timeoutMs: 60_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(silenceLines(result.stdout)).toEqual([]);
  });

  it.each([
    ['sensor_3', /--stop-sensor: ID:FROM-TO/],
    ['sensor_3:20-10', /--stop-sensor: the sensor must come back after it stops/],
  ])('rejects --stop-sensor %s in one line', async (value, message) => {
    const result = await runCli('local/cli/start.ts', ['--stop-sensor', value]);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toMatch(message);
  });
});

describeWithKafka('npm start --stop-sensor on the embedded Kafka', { concurrent: true }, () => {
  it('prints the same SILENT / RECOVERED pair', async () => {
    const result = await runCli('local/cli/start.ts', STOP_ARGS, { timeoutMs: 90_000 });
    expect(result.code, result.stderr).toBe(0);
    expectOneEpisode(result.stdout);
  });
});
