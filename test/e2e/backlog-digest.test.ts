import { expect, it } from 'vitest';
import { describeWithKafka } from '../helpers/kafka-available.ts';
import { runCli } from './support/run-cli.ts';

/**
 * A first deploy's backlog through the local pipeline on the embedded Kafka (docs/alerting.md):
 * `--backlog 40` sends 40 s of hour-old readings of 3 sensors first, a spike every 25th (4
 * spikes, on sensor_1, sensor_2, sensor_3, sensor_1); the live simulator sends no anomaly.
 * The backlog's anomalies are logged and never reach SNS; the period's digest lists them.
 */
describeWithKafka('npm start --backlog on the embedded Kafka', () => {
  it('logs the backlog’s anomalies, sends none of them, and prints one digest "while catching up"', async () => {
    // Act
    const result = await runCli(
      'local/cli/start.ts',
      [
        '--duration',
        '16',
        '--backlog',
        '40',
        '--sensors',
        '3',
        '--anomaly-rate',
        '0',
        '--digest-seconds',
        '5',
        '--status-interval',
        '0',
        '--no-live',
      ],
      { timeoutMs: 120_000 },
    );
    // Assess
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.match(/^ANOMALY → /gm)).toHaveLength(4);
    expect(result.stdout).not.toMatch(/^ {2}SNS → .*kind=alert/m);
    const digests = result.stdout.match(/^DIGEST → .*$/gm) ?? [];
    expect(digests.filter((d) => d.includes('while catching up'))).toEqual([
      expect.stringContaining('while catching up: 4 anomalies on 3 sensors'),
    ]);
    expect(result.stdout).toMatch(/4 stale \(digest only\)/);
  });
});
