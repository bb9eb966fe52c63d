import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/detector/create-handler.ts';
import { captureStdout } from '../helpers/capture-stdout.ts';
import { mskEvent, selfManagedEvent, toRawRecord } from '../helpers/kafka-events.ts';
import { type LocalAws, startLocalAws } from '../helpers/local-aws.ts';
import { runReferenceModel } from '../helpers/reference-model.ts';

const T0 = Date.parse('2026-11-21T10:00:00Z');
// The seed's sensor_1: steady readings, then 150.0, 180.0, and a drop to 45.0.
const SEED = [52.1, 48.3, 55.0, 61.2, 57.4, 150.0, 60.3, 180.0, 49.5, 45.0];

let aws: LocalAws;
let stdout: ReturnType<typeof captureStdout> | null = null;

beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws.close();
});
afterEach(() => {
  stdout?.restore();
  stdout = null;
});

function seedRecords(partition = 0) {
  return SEED.map((v, i) =>
    toRawRecord({
      partition,
      offset: 100 + i,
      timestampMs: T0 + i * 1500,
      key: 'sensor_1',
      value: `sensor_1,${v.toFixed(1)}`,
    }),
  );
}

describe('detector handler on dynalite and the SNS endpoint: the seed scenario', () => {
  it('logs the Flink job’s ANOMALY lines and notifies through SNS with per-protocol text', async () => {
    // Prepare
    const config = await aws.freshConfig({ alertCooldownMs: 0 });
    const handler = createHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns: aws.snsClient,
      clock: () => T0 + 60_000,
    });
    const sentBefore = aws.sns.messages.length;
    stdout = captureStdout();
    // Act
    const report = await handler(mskEvent(seedRecords()));
    // Assess: the log
    const logs = stdout.json();
    stdout.restore();
    const anomalyLogs = logs.filter((l) => String(l.message).startsWith('ANOMALY'));
    expect(anomalyLogs.map((l) => l.message)).toEqual([
      'ANOMALY → sensor_1: value=150.0, avg=70.67',
      'ANOMALY → sensor_1: value=180.0, avg=111.93', // window 5–15 s: 57.4, 150, 60.3, 180
    ]);
    expect(anomalyLogs[0]).toMatchObject({
      level: 'WARN',
      sensorId: 'sensor_1',
      value: 150,
      count: 6,
      threshold: 50,
      detector: 'threshold',
      severity: 'warning',
      alertId: 'sensor-data-0-105',
      eventTime: new Date(T0 + 5 * 1500).toISOString(),
    });
    expect(report).toMatchObject({ records: 10, readings: 10, anomalies: 2, notificationsSent: 2 });
    // Assess: SNS got both, one per protocol
    const sent = aws.sns.messages.slice(sentBefore);
    expect(sent).toHaveLength(2);
    const [first] = sent;
    expect(first?.messageStructure).toBe('json');
    expect(first?.subject).toBe('[warning] Sensor anomaly on sensor_1: value 150.0');
    expect(first?.messageAttributes).toMatchObject({
      sensorId: { dataType: 'String', stringValue: 'sensor_1' },
      severity: { dataType: 'String', stringValue: 'warning' },
      detector: { dataType: 'String', stringValue: 'threshold' },
    });
    const bodies = JSON.parse(first?.message ?? '{}') as Record<string, string>;
    expect(bodies.sms?.length).toBeLessThanOrEqual(140);
    expect(bodies.email).toContain('ANOMALY → sensor_1: value=150.0, avg=70.67');
    expect(JSON.parse(bodies.sqs ?? '{}')).toMatchObject({
      alertId: 'sensor-data-0-105',
      sensorId: 'sensor_1',
    });
    // Assess: EMF metrics for the batch
    const emf = logs.filter((l) => '_aws' in l);
    const totals = Object.assign({}, ...emf);
    expect(totals).toMatchObject({
      RecordsReceived: 10,
      Anomalies: 2,
      NotificationsSent: 2,
      RecordsRejected: 0,
    });
  });

  it('accepts the self-managed Kafka event shape and holds back alerts inside the cooldown', async () => {
    // Prepare
    const config = await aws.freshConfig();
    const handler = createHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns: aws.snsClient,
      clock: () => T0 + 60_000,
    });
    const sentBefore = aws.sns.messages.length;
    stdout = captureStdout();
    // Act
    const report = await handler(selfManagedEvent(seedRecords(3)));
    stdout.restore();
    // Assess: the 180.0 came 3 s after the 150.0, inside the 60 s cooldown
    expect(report).toMatchObject({ anomalies: 2, notificationsSent: 1, notificationsHeldBack: 1 });
    expect(aws.sns.messages.slice(sentBefore)).toHaveLength(1);
  });

  it('says in the next notification how many anomalies the cooldown held back', async () => {
    // Prepare
    const config = await aws.freshConfig({ alertCooldownMs: 10_000 });
    const handler = createHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns: aws.snsClient,
      clock: () => T0 + 60_000,
    });
    const sentBefore = aws.sns.messages.length;
    // Readings every second; spikes at 0 s (baseline), 2 s, 4 s, 6 s, then one at 13 s.
    const values = [50, 50, 200, 50, 200, 50, 200, 50, 50, 50, 50, 50, 50, 250];
    const records = values.map((v, i) =>
      toRawRecord({ offset: i, timestampMs: T0 + i * 1000, value: `s9,${v}` }),
    );
    stdout = captureStdout();
    // Act: two batches, so the cooldown state crosses a DynamoDB round trip
    await handler(mskEvent(records.slice(0, 5)));
    await handler(mskEvent(records.slice(5)));
    stdout.restore();
    // Assess: held back were the spikes at 4 s and 6 s and the drop back to 50 at 7 s
    const sent = aws.sns.messages
      .slice(sentBefore)
      .map((m) => JSON.parse(JSON.parse(m.message).sqs));
    expect(sent.map((m) => [m.alertId, m.heldBackBefore])).toEqual([
      ['sensor-data-0-2', 0],
      ['sensor-data-0-13', 3],
    ]);
    const reference = runReferenceModel(records, {
      ...config,
      detector: { kind: 'threshold', threshold: 50 },
    });
    expect(Object.fromEntries(sent.map((m) => [m.alertId, m.heldBackBefore]))).toEqual(
      Object.fromEntries(reference.notifications),
    );
  });
});
