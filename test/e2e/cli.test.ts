import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { startMockKafka } from '../../local/embedded/kafka-mock-cluster.ts';
import { describeWithKafka } from '../helpers/kafka-available.ts';
import { runCli } from './support/run-cli.ts';

const FLINK_LINE = /^ANOMALY → sensor_\d+: value=-?\d+\.\d+, avg=-?\d+\.\d+$/m;

describe('npm start', { concurrent: true }, () => {
  it('prints its options with --help', async () => {
    // Act
    const result = await runCli('local/cli/start.ts', ['--help']);
    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: npm start -- [options]');
    expect(result.stdout).toContain('--anomaly-rate');
  });

  it('rejects a bad option with exit code 2 and names it', async () => {
    // Act
    const result = await runCli('local/cli/start.ts', ['--rate', 'fast']);
    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--rate');
  });

  it('runs the demo without a broker, printing anomalies, notifications, status and a summary', async () => {
    // Act
    const result = await runCli('local/cli/start.ts', [
      '--in-process',
      '--duration',
      '4',
      '--rate',
      '40',
      '--anomaly-rate',
      '0.1',
      '--seed',
      '42',
      '--status-interval',
      '1',
    ]);
    // Assess
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('mode        in-process');
    expect(result.stdout).toMatch(FLINK_LINE);
    expect(result.stdout).toMatch(
      /^ {2}SNS → \[(warning|critical)\] Sensor anomaly on sensor_\d+/m,
    );
    expect(result.stdout).toMatch(/readings\/s · lag \d+ ·/);
    expect(result.stdout).toMatch(/lag at exit +0$/m);
    const produced = Number(/readings produced +(\d+)/.exec(result.stdout)?.[1]);
    const processed = Number(/records processed +(\d+)/.exec(result.stdout)?.[1]);
    expect(produced).toBeGreaterThan(100);
    expect(processed).toBe(produced);
  });
});

describeWithKafka('npm start and npm run produce with Kafka', { concurrent: true }, () => {
  it('runs the demo on the embedded Kafka (mock cluster) by default', async () => {
    // Act
    const result = await runCli('local/cli/start.ts', [
      '--duration',
      '4',
      '--rate',
      '40',
      '--anomaly-rate',
      '0.1',
      '--seed',
      '7',
      '--status-interval',
      '0',
      '--event-source',
      'self-managed',
    ]);
    // Assess
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /mode {8}kafka: embedded Kafka \(librdkafka mock cluster via kcat\) at 127\.0\.0\.1:\d+/,
    );
    expect(result.stdout).toMatch(FLINK_LINE);
    expect(result.stdout).toMatch(/lag at exit +0$/m);
  });

  it('produces CSV lines from stdin, keyed by sensor', async () => {
    // Prepare
    const cluster = await startMockKafka();
    try {
      // Act
      const result = await runCli(
        'local/cli/produce.ts',
        ['--brokers', cluster.bootstrap, '--topic', 'readings'],
        { stdin: 'sensor_1,57.3\nsensor_2,49.0\n\nsensor_1,150.0\n' },
      );
      // Assess
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain('sent 3 record(s) to readings');
      const kafka = new Kafka({ brokers: [cluster.bootstrap], logLevel: logLevel.NOTHING });
      const consumer = kafka.consumer({
        groupId: 'check',
        sessionTimeout: 3000,
        heartbeatInterval: 300,
        maxWaitTimeInMs: 100,
      });
      await consumer.connect();
      await consumer.subscribe({ topic: 'readings', fromBeginning: true });
      const received: string[] = [];
      await new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            received.push(`${message.key?.toString()} ${message.value?.toString()}`);
            if (received.length === 3) resolve();
          },
        });
      });
      await consumer.disconnect();
      expect(received.sort()).toEqual([
        'sensor_1 sensor_1,150.0',
        'sensor_1 sensor_1,57.3',
        'sensor_2 sensor_2,49.0',
      ]);
    } finally {
      await cluster.close();
    }
  });
});
