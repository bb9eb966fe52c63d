import type { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  chunkEntries,
  DIGEST_MAX_ALERTS,
  entryBytes,
  PUBLISH_BATCH_MAX_BYTES,
  PUBLISH_BATCH_MAX_ENTRIES,
  SnsAlertPublisher,
} from '../../functions/adapters/sns-alert-publisher.ts';
import type { AlertDecision, Severity } from '../../functions/core/types.ts';
import { localSnsClient } from '../../local/embedded/clients.ts';
import {
  type PublishedMessage,
  type SnsEndpoint,
  startSnsEndpoint,
} from '../../local/embedded/sns-endpoint.ts';

const TOPIC = 'arn:aws:sns:us-east-1:000000000000:anomalies';

function alert(i: number, severity: Severity = 'warning', sensorId = `sensor_${i}`): AlertDecision {
  return {
    anomaly: {
      alertId: `sensor-readings-0-${1000 + i}`,
      sensorId,
      value: 150 + i,
      mean: 59.21,
      count: 10,
      deviation: 90.79 + i,
      limit: 50,
      detector: 'threshold',
      eventTimeMs: Date.UTC(2026, 0, 1, 12, 0, i),
      severity,
      source: { topic: 'sensor-readings', partition: 0, offset: 1000 + i },
    },
    notify: true,
    heldBackBefore: 0,
  };
}

const kind = (m: PublishedMessage) => m.messageAttributes.kind?.stringValue;
const attribute = (m: PublishedMessage, name: string) => m.messageAttributes[name]?.stringValue;
/** What a subscription with the stack's filter policy receives (exact string matching). */
const emailGets = (ms: readonly PublishedMessage[]) => ms.filter((m) => kind(m) === 'digest');
const criticalSmsGets = (ms: readonly PublishedMessage[]) =>
  ms.filter((m) => kind(m) === 'alert' && attribute(m, 'severity') === 'critical');

// The real SNSClient against the project's loopback SNS (Query protocol, PublishBatch).
describe('SnsAlertPublisher: per-sensor alerts plus one email digest per batch (item 5)', () => {
  let sns: SnsEndpoint;
  let client: SNSClient;
  let publisher: SnsAlertPublisher;

  beforeAll(async () => {
    sns = await startSnsEndpoint();
    client = localSnsClient(sns.endpoint, { maxAttempts: 1 });
    publisher = new SnsAlertPublisher({ client, topicArn: TOPIC });
  });
  afterAll(async () => {
    client.destroy();
    await sns.close();
  });
  beforeEach(() => {
    sns.messages.length = 0;
    sns.requests.length = 0;
  });

  it('sends 11 alerting sensors as 11 alerts and 1 digest: email gets one message', async () => {
    // Prepare: a plant-wide event, 11 sensors in one batch, 3 of them critical.
    const alerts = Array.from({ length: 11 }, (_, i) => alert(i, i < 3 ? 'critical' : 'warning'));
    // Act
    await publisher.publish(alerts);
    // Assess
    expect(sns.messages.filter((m) => kind(m) === 'alert')).toHaveLength(11);
    const digests = emailGets(sns.messages);
    expect(digests).toHaveLength(1);
    expect(criticalSmsGets(sns.messages)).toHaveLength(3);
    // 12 entries: two PublishBatch calls of at most 10.
    expect(sns.requests.map((r) => r.action)).toEqual(['PublishBatch', 'PublishBatch']);
    const digest = digests[0] as PublishedMessage;
    expect(digest.subject).toBe(
      '[critical] 11 sensor anomalies on 11 sensors: sensor_0, sensor_1, sensor_2, ...',
    );
    expect(attribute(digest, 'severity')).toBe('critical');
    expect(digest.messageAttributes.count).toEqual({ dataType: 'Number', stringValue: '11' });
    const bodies = JSON.parse(digest.message) as Record<string, string>;
    expect(bodies.email).toContain('11 anomalies in one batch (3 critical, 8 warning)');
    for (let i = 0; i < 11; i++) expect(bodies.email).toContain(`sensor-readings-0-${1000 + i}`);
    // Most severe first.
    expect(bodies.email?.indexOf('sensor_2:')).toBeLessThan(
      bodies.email?.indexOf('sensor_3:') ?? 0,
    );
    const json = JSON.parse(bodies['email-json'] ?? '{}');
    expect(json).toMatchObject({ kind: 'digest', count: 11, critical: 3 });
    expect(json.alerts).toHaveLength(11);
    // Per-sensor alerts keep their filterable attributes.
    const first = sns.messages.find((m) => attribute(m, 'sensorId') === 'sensor_0');
    expect(first?.messageAttributes).toMatchObject({
      kind: { dataType: 'String', stringValue: 'alert' },
      severity: { stringValue: 'critical' },
      detector: { stringValue: 'threshold' },
    });
  });

  it("digests a single alert with that alert's subject", async () => {
    await publisher.publish([alert(7, 'critical')]);
    expect(sns.messages.map(kind)).toEqual(['alert', 'digest']);
    const [single, digest] = sns.messages;
    expect(digest?.subject).toBe(single?.subject);
    expect(JSON.parse(digest?.message ?? '{}').email).toContain('1 anomaly in one batch');
  });

  it('sends nothing for no alerts', async () => {
    await publisher.publish([]);
    expect(sns.requests).toEqual([]);
  });

  it(`lists at most ${DIGEST_MAX_ALERTS} alerts in a digest and counts the rest`, async () => {
    const alerts = Array.from({ length: 120 }, (_, i) => alert(i));
    await publisher.publish(alerts);
    const digests = emailGets(sns.messages);
    expect(digests).toHaveLength(1);
    const bodies = JSON.parse(digests[0]?.message ?? '{}') as Record<string, string>;
    expect(bodies.email).toContain('... and 70 more');
    expect(JSON.parse(bodies['email-json'] ?? '{}')).toMatchObject({ count: 120, notListed: 70 });
    expect(Buffer.byteLength(digests[0]?.message ?? '')).toBeLessThan(128 * 1024);
    expect(sns.messages.filter((m) => kind(m) === 'alert')).toHaveLength(120);
    expect(sns.requests).toHaveLength(Math.ceil(121 / PUBLISH_BATCH_MAX_ENTRIES));
  });

  it('splits batches by size as well: each PublishBatch stays within 256 KB', async () => {
    // Prepare: long sensor ids make each entry about 40 KB.
    const alerts = Array.from({ length: 12 }, (_, i) =>
      alert(i, 'warning', `${'s'.repeat(5000)}${i}`),
    );
    // Act
    await publisher.publish(alerts);
    // Assess: every alert arrived, in more requests than the 10-entry limit alone needs.
    expect(sns.messages.filter((m) => kind(m) === 'alert')).toHaveLength(12);
    expect(emailGets(sns.messages)).toHaveLength(1);
    expect(Buffer.byteLength(emailGets(sns.messages)[0]?.message ?? '')).toBeLessThan(256 * 1024);
    expect(sns.requests.length).toBeGreaterThan(2);
    expect(sns.requests.every((r) => r.status === 200)).toBe(true);
  });

  it('sends no digest when told not to (the local pipeline)', async () => {
    const local = new SnsAlertPublisher({ client, topicArn: TOPIC, digest: false });
    await local.publish([alert(1), alert(2)]);
    expect(sns.messages.map(kind)).toEqual(['alert', 'alert']);
  });
});

describe('chunkEntries', () => {
  const entry = (id: string, bytes: number) => ({ Id: id, Message: 'x'.repeat(bytes) });

  it('keeps order and never exceeds 10 entries or 256 KB per group', () => {
    const sizes = [100, 200_000, 70_000, 10, 262_144, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 1];
    const entries = sizes.map((b, i) => entry(`e${i}`, b));
    const groups = chunkEntries(entries);
    expect(groups.flat().map((e) => e.Id)).toEqual(entries.map((e) => e.Id));
    for (const group of groups) {
      expect(group.length).toBeLessThanOrEqual(PUBLISH_BATCH_MAX_ENTRIES);
      const total = group.reduce((sum, e) => sum + entryBytes(e), 0);
      // A single oversized entry travels alone (SNS then rejects it with its own error).
      if (group.length > 1) expect(total).toBeLessThanOrEqual(PUBLISH_BATCH_MAX_BYTES);
    }
    expect(groups.map((g) => g.length)).toEqual([2, 2, 1, 10, 2]);
  });

  it('counts message attributes', () => {
    expect(
      entryBytes({
        Id: 'a',
        Message: 'abc',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'alert' } },
      }),
    ).toBe(3 + 4 + 6 + 5);
  });
});
