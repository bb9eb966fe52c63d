import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DetectorConfig } from '../../functions/config.ts';
import { createDigestHandler } from '../../functions/detector/create-digest-handler.ts';
import { createHandler } from '../../functions/detector/create-handler.ts';
import type { PublishedMessage } from '../../local/embedded/sns-endpoint.ts';
import { captureStdout } from '../helpers/capture-stdout.ts';
import { mskEvent, toRawRecord } from '../helpers/kafka-events.ts';
import { type LocalAws, startLocalAws } from '../helpers/local-aws.ts';

/**
 * Alerting on the real parts (docs/alerting.md): the detector handler and the digest
 * function on dynalite and the loopback SNS endpoint, with the real SDK clients.
 */
let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws.close();
});

const NOW = Date.parse('2026-12-06T12:00:00Z');
const PERIOD_S = 900;

function readings(sensorValues: Array<[string, number, number]>, partition = 0, first = 0) {
  // [sensor, value, event time]
  return sensorValues.map(([sensor, value, t], i) =>
    toRawRecord({
      partition,
      offset: first + i,
      timestampMs: t,
      key: sensor,
      value: `${sensor},${value}`,
    }),
  );
}

const kind = (m: PublishedMessage) => m.messageAttributes.kind?.stringValue;
const alertsOf = (ms: PublishedMessage[]) => ms.filter((m) => kind(m) === 'alert');
const digestsOf = (ms: PublishedMessage[]) => ms.filter((m) => kind(m) === 'digest');

async function detector(config: DetectorConfig, clock: () => number) {
  return createHandler({
    config,
    dynamodb: aws.dynamodbClient,
    sns: aws.snsClient,
    clock,
    // As the Lambda entry: email would get a digest per batch without digests by time.
    emailDigest: true,
  });
}

function digester(config: DetectorConfig, clock: () => number) {
  return createDigestHandler({
    config,
    dynamodb: aws.dynamodbClient,
    sns: aws.snsClient,
    clock,
    maxBatchMs: 60_000,
  });
}

describe('a backlog never pages (freshness limit)', () => {
  it('judges and counts a day-old backlog, sends no alert, and lists it in the period digest once', async () => {
    // Prepare: a retained backlog of 3 sensors, a day old, with a spike every 10 readings
    const config = await aws.freshConfig({ digestPeriodSeconds: PERIOD_S, freshnessSeconds: 300 });
    let now = NOW;
    const handler = await detector(config, () => now);
    const t0 = NOW - 86_400_000;
    const backlog: Array<[string, number, number]> = [];
    for (let i = 0; i < 60; i += 1)
      backlog.push([`boiler_${i % 3}`, i % 10 === 9 ? 200 : 50 + (i % 4), t0 + i * 1000]);
    const sentBefore = aws.sns.messages.length;
    const quiet = captureStdout();
    // Act: the first deploy reads the backlog from TRIM_HORIZON
    const report = await handler(mskEvent(readings(backlog)));
    // Assess: judged and counted as before, nothing sent on its own, no per-batch digest
    expect(report.anomalies).toBeGreaterThanOrEqual(5);
    expect(report.notificationsStale).toBe(report.anomalies);
    expect(report.notificationsSent).toBe(0);
    expect(aws.sns.messages.slice(sentBefore)).toEqual([]);
    const logged = quiet.json().filter((l) => String(l.message).startsWith('ANOMALY'));
    expect(logged).toHaveLength(report.anomalies);
    expect(logged.every((l) => l.stale === true && l.notified === false)).toBe(true);
    // Act: the digest function, before and after the period has closed (plus its grace)
    const digest = digester(config, () => now);
    await digest();
    expect(digestsOf(aws.sns.messages.slice(sentBefore))).toEqual([]);
    now = NOW + PERIOD_S * 1000 + 2 * 60_000;
    await digest();
    await digest(); // the same period is not sent twice
    quiet.restore();
    // Assess: one email digest, "while catching up: N anomalies on M sensors"
    const digests = digestsOf(aws.sns.messages.slice(sentBefore));
    expect(digests).toHaveLength(1);
    const body = JSON.parse(digests[0]?.message ?? '{}') as Record<string, string>;
    const sensors = new Set(backlog.filter(([, v]) => v === 200).map(([s]) => s)).size;
    expect(body.email).toContain(
      `While catching up: ${report.anomalies} anomalies on ${sensors} sensors.`,
    );
    const json = JSON.parse(body['email-json'] ?? '{}');
    expect(json).toMatchObject({ kind: 'digest', stale: report.anomalies, notified: 0 });
    expect(alertsOf(aws.sns.messages.slice(sentBefore))).toEqual([]);
  });

  it('pages the live readings that follow the backlog (the cooldown never saw the backlog)', async () => {
    // Prepare
    const config = await aws.freshConfig({ freshnessSeconds: 300 });
    const handler = await detector(config, () => NOW);
    const old = NOW - 3_600_000;
    const records = readings([
      ['pump', 50, old],
      ['pump', 51, old + 1000],
      ['pump', 200, old + 2000], // stale
      ['pump', 50, NOW - 3000],
      ['pump', 51, NOW - 2000],
      ['pump', 200, NOW - 1000], // live
    ]);
    const sentBefore = aws.sns.messages.length;
    const quiet = captureStdout();
    // Act
    const report = await handler(mskEvent(records));
    quiet.restore();
    // Assess
    expect(report).toMatchObject({ anomalies: 2, notificationsStale: 1, notificationsSent: 1 });
    const sent = alertsOf(aws.sns.messages.slice(sentBefore));
    expect(sent.map((m) => JSON.parse(JSON.parse(m.message).sqs).alertId)).toEqual([
      'sensor-data-0-5',
    ]);
  });
});

describe('escalation through the cooldown', () => {
  it('notifies a critical reading inside the cooldown of a warning; the held-back count stays exact', async () => {
    // Prepare: threshold 50, cooldown 60 s, 20 steady readings (the window), then warnings
    // (exceedance about 1.35) inside the cooldown, a critical one (6.4), a reading the
    // critical one drags into the band's edge, and a second critical one (5.9: not twice 6.4)
    const config = await aws.freshConfig({ alertCooldownMs: 60_000, freshnessSeconds: 300 });
    const handler = await detector(config, () => NOW);
    const t = NOW - 60_000;
    const values = [...Array(20).fill(50), 125, 50, 50, 128, 50, 50, 130, 50, 50, 400, 50, 50, 420];
    const records = readings(values.map((v, i) => ['valve', v, t + i * 500]));
    const sentBefore = aws.sns.messages.length;
    const quiet = captureStdout();
    // Act
    const report = await handler(mskEvent(records));
    quiet.restore();
    // Assess
    expect(report).toMatchObject({
      anomalies: 6,
      notificationsSent: 2,
      notificationsEscalated: 1,
      notificationsHeldBack: 4,
    });
    const sent = alertsOf(aws.sns.messages.slice(sentBefore)).map((m) =>
      JSON.parse(JSON.parse(m.message).sqs),
    );
    // The two warnings held back before the escalation ride on it; the two after it are
    // held back (the state's count): 2 + 2 = the report's 4.
    expect(sent.map((a) => [a.alertId, a.severity, a.heldBackBefore])).toEqual([
      ['sensor-data-0-20', 'warning', 0],
      ['sensor-data-0-29', 'critical', 2],
    ]);
  });
});

describe('episodes', () => {
  it('gives every alert of a run its episode id and notifies the end of a critical episode once', async () => {
    // Prepare: 20 steady readings, a critical spike, a second anomaly, then 12 normal
    // readings (EPISODE_END_READINGS is 10)
    const config = await aws.freshConfig({ freshnessSeconds: 300, episodeEndReadings: 10 });
    const handler = await detector(config, () => NOW);
    const t = NOW - 60_000;
    const values = [...Array(20).fill(50), 300, 200];
    for (let i = 0; i < 12; i += 1) values.push(50 + (i % 3));
    const records = readings(values.map((v, i) => ['mixer', v, t + i * 500]));
    const sentBefore = aws.sns.messages.length;
    const quiet = captureStdout();
    // Act: in two batches, the end falling in the second; then the second delivered again
    await handler(mskEvent(records.slice(0, 26)));
    const second = await handler(mskEvent(records.slice(26)));
    await handler(mskEvent(records.slice(26)));
    const logs = quiet.json();
    quiet.restore();
    // Assess: both anomalies carry the first one's id as their episode
    const anomalies = logs.filter((l) => String(l.message).startsWith('ANOMALY'));
    expect(anomalies.map((l) => l.episodeId)).toEqual(['sensor-data-0-20', 'sensor-data-0-20']);
    expect(second.episodesEnded).toBe(1);
    const ends = logs.filter((l) => String(l.message).startsWith('RESOLVED'));
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({
      event: 'resolved',
      episodeId: 'sensor-data-0-20',
      anomalies: 2,
      peak: 'critical',
      endId: 'sensor-data-0-31', // the 10th normal reading in a row
    });
    const resolved = aws.sns.messages
      .slice(sentBefore)
      .filter((m) => m.messageAttributes.event?.stringValue === 'resolved');
    expect(resolved).toHaveLength(1);
    expect(resolved[0]?.messageAttributes.kind?.stringValue).toBe('alert');
  });
});
