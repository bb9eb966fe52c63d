import { afterEach, describe, expect, it } from 'vitest';
import { localDetectorConfig } from '../../local/pipeline/local-detector.ts';
import {
  type LocalPipeline,
  type NotificationView,
  startLocalPipeline,
} from '../../local/pipeline/local-pipeline.ts';
import { InProcessTopic, startInProcessPoller } from '../../local/poller/in-process-log.ts';
import { type LambdaKafkaEvent, LOCAL_MSK_CLUSTER_ARN } from '../../local/poller/lambda-event.ts';

const source = {
  kind: 'msk',
  clusterArn: LOCAL_MSK_CLUSTER_ARN,
  bootstrapServers: 'in-process:0',
} as const;

function offsetsByGroup(events: readonly LambdaKafkaEvent[]): Map<string, number[]> {
  const seen = new Map<string, number[]>();
  for (const event of events) {
    for (const [group, records] of Object.entries(event.records)) {
      seen.set(group, [...(seen.get(group) ?? []), ...records.map((r) => r.offset)]);
    }
  }
  return seen;
}

describe('event source mapping emulation without a broker (in-process topic)', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  it('cuts events at the batch size, keeps each partition in order and sends every record once', async () => {
    // Prepare
    const topic = new InProcessTopic('sensors', 4);
    const events: LambdaKafkaEvent[] = [];
    const poller = startInProcessPoller({
      topic,
      source,
      invoke: async (event) => events.push(event),
      batching: { batchSize: 25, batchingWindowMs: 50 },
    });
    stops.push(() => poller.stop());
    // Act
    topic.append(
      Array.from({ length: 230 }, (_, i) => ({
        key: `sensor_${i % 7}`,
        value: `sensor_${i % 7},50.0`,
      })),
    );
    const drained = await poller.drain(5000);
    // Assess
    expect(drained).toBe(true);
    expect(events.every((e) => Object.values(e.records).flat().length <= 25)).toBe(true);
    const seen = offsetsByGroup(events);
    for (const offsets of seen.values()) expect(offsets).toEqual(offsets.map((_, i) => i));
    expect([...seen.values()].flat()).toHaveLength(230);
    expect(poller.lag()).toBe(0);
  });

  it('waits for the batching window before sending a small batch', async () => {
    // Prepare
    const topic = new InProcessTopic('sensors', 1);
    const sentAtMs: number[] = [];
    const poller = startInProcessPoller({
      topic,
      source,
      invoke: async () => sentAtMs.push(Date.now()),
      batching: { batchSize: 100, batchingWindowMs: 400 },
    });
    stops.push(() => poller.stop());
    // Act
    const appendedAtMs = Date.now();
    topic.append([{ key: 'sensor_1', value: 'sensor_1,50.0' }]);
    await poller.drain(5000);
    // Assess
    expect(sentAtMs).toHaveLength(1);
    expect((sentAtMs[0] ?? 0) - appendedAtMs).toBeGreaterThanOrEqual(350);
  });

  it('retries a failed event unchanged, with backoff, before anything behind it', async () => {
    // Prepare
    const topic = new InProcessTopic('sensors', 1);
    const attempts: { atMs: number; event: LambdaKafkaEvent }[] = [];
    const poller = startInProcessPoller({
      topic,
      source,
      invoke: async (event) => {
        attempts.push({ atMs: Date.now(), event: structuredClone(event) });
        if (attempts.length <= 3) throw new Error('injected');
      },
      batching: { batchSize: 5, batchingWindowMs: 0 },
      retry: { initialBackoffMs: 40, maxBackoffMs: 1000 },
    });
    stops.push(() => poller.stop());
    // Act
    topic.append(Array.from({ length: 12 }, (_, i) => ({ key: 'k', value: `sensor_1,${i}` })));
    await poller.drain(5000);
    // Assess
    const [first, second, third, fourth] = attempts;
    expect([second?.event, third?.event, fourth?.event]).toEqual([
      first?.event,
      first?.event,
      first?.event,
    ]);
    // Backoff doubles: 40, 80, 160 ms.
    expect((second?.atMs ?? 0) - (first?.atMs ?? 0)).toBeGreaterThanOrEqual(35);
    expect((fourth?.atMs ?? 0) - (third?.atMs ?? 0)).toBeGreaterThanOrEqual(150);
    const succeeded = attempts.slice(3).map((a) => a.event);
    expect([...offsetsByGroup(succeeded).values()].flat()).toEqual(
      Array.from({ length: 12 }, (_, i) => i),
    );
    expect(poller.stats()).toMatchObject({
      failedInvocations: 3,
      recordsProcessed: 12,
      batches: 3,
    });
  });

  it('runs the whole local pipeline without a broker: handler, dynalite and the SNS endpoint', async () => {
    // Prepare
    const anomalies: string[] = [];
    const notifications: NotificationView[] = [];
    const pipeline: LocalPipeline = await startLocalPipeline({
      config: localDetectorConfig(),
      topic: 'sensor-data',
      groupId: 'unused',
      fromBeginning: true,
      eventSource: 'self-managed',
      batching: { batchSize: 100, batchingWindowMs: 50 },
      inProcess: true,
      observer: { anomaly: (d) => anomalies.push(`${d.anomaly.sensorId}=${d.anomaly.value}`) },
      onNotification: (n) => notifications.push(n),
    });
    stops.push(() => pipeline.stop());
    // Act
    const lines = [
      ...Array.from({ length: 30 }, (_, i) => `sensor_${i % 3},${48 + (i % 5)}.0`),
      'sensor_1,180.0',
    ];
    await pipeline.send(lines.map((value) => ({ key: value.split(',')[0] ?? null, value })));
    const drained = await pipeline.drain(10_000);
    // Assess
    expect(pipeline.mode).toEqual({ kind: 'in-process', reason: 'requested with --in-process' });
    expect(drained).toBe(true);
    expect(anomalies).toEqual(['sensor_1=180']);
    expect(notifications).toEqual([
      expect.objectContaining({
        subject: '[critical] Sensor anomaly on sensor_1: value 180.0',
        attributes: {
          kind: 'alert',
          sensorId: 'sensor_1',
          severity: 'critical',
          detector: 'threshold',
        },
        sms: expect.stringMatching(/^CRITICAL sensor_1 value=180\.0 avg=/),
      }),
    ]);
  });
});
