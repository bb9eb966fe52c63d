import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/detector/create-handler.ts';
import { createSilenceHandler } from '../../functions/detector/create-silence-handler.ts';
import type { PublishedMessage } from '../../local/embedded/sns-endpoint.ts';
import { RulesWriter } from '../../local/rules/rules-writer.ts';
import { mskEvent, toRawRecord } from '../helpers/kafka-events.ts';
import { type LocalAws, startLocalAws } from '../helpers/local-aws.ts';

/**
 * Alert groups, maintenance windows and silence by group (docs/alerting-groups.md) through the
 * real handlers, with the rules document stored in dynalite and the alerts published to the
 * loopback SNS endpoint by the real SNS client.
 */
const T0 = Date.parse('2026-12-07T10:00:00Z');
const WHO = { updatedBy: 'ops@test', updatedAt: '2026-12-07T09:00:00Z' };

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws.close();
});

// A reading above 100 is an anomaly on its own (no window needed).
const threshold = { kind: 'limits', high: 100 };

async function setup(document: object) {
  const config = await aws.freshConfig({ rules: [] });
  let nowMs = T0;
  const clock = () => nowMs;
  const deps = { config, dynamodb: aws.dynamodbClient, sns: aws.snsClient, clock };
  await new RulesWriter({ client: aws.dynamodbClient, tableName: config.tableName }).put(
    JSON.stringify(document),
    null,
    WHO,
  );
  const detector = createHandler({ ...deps, liveRules: {} });
  const check = createSilenceHandler({ ...deps, liveRules: {}, maxBatchMs: 0 });
  let offset = 0;
  const before = aws.sns.messages.length;
  return {
    /** One reading of each sensor, at `atMs`, all in one batch of partition 0. */
    send: (ids: readonly string[], value: number, atMs = nowMs) =>
      detector(
        mskEvent(
          ids.map((id) => {
            offset += 1;
            return toRawRecord({
              partition: 0,
              offset,
              timestampMs: atMs,
              key: id,
              value: `${id},${value}`,
            });
          }),
        ),
      ),
    check,
    at: (s: number) => {
      nowMs = T0 + s * 1000;
    },
    sent: (): PublishedMessage[] => aws.sns.messages.slice(before),
  };
}

const line = (n: number, prefix = 'site-a/line-1') =>
  Array.from({ length: n }, (_, i) => `${prefix}/pump-${i}/temp`);
const attr = (m: PublishedMessage, name: string) => m.messageAttributes[name]?.stringValue;

describe('alert groups on dynalite and SNS', () => {
  it('a line whose 40 sensors alert at once sends one group alert, and nothing more in its period', async () => {
    // Prepare: groups by site/line, more than 5 sensors within 5 minutes.
    const t = await setup({
      default: threshold,
      rules: [],
      groups: [{ match: 'site-*', depth: 2, threshold: 5, periodSeconds: 300 }],
    });
    // Act: 40 sensors of line 1 anomalous in one batch, 2 of line 2; then 10 more of line 1
    // a minute later (another batch, same period).
    const first = await t.send([...line(40), ...line(2, 'site-a/line-2')], 500);
    t.at(60);
    const later = await t.send(line(10, 'site-a/line-1/b'), 500, T0 + 60_000);
    // Assess: one group message for line 1, line 2's two sensors one by one.
    const sent = t.sent();
    const groups = sent.filter((m) => attr(m, 'detector') === 'group');
    expect(groups).toHaveLength(1);
    const [group] = groups as [PublishedMessage];
    expect(attr(group, 'group')).toBe('site-a/line-1');
    expect(attr(group, 'kind')).toBe('alert');
    expect(group.subject).toBe('[critical] 40 sensors alerting in site-a/line-1');
    const body = JSON.parse(JSON.parse(group.message).sqs);
    expect(body).toMatchObject({
      type: 'group',
      group: 'site-a/line-1',
      sensors: 40,
      inPeriod: 40,
    });
    expect(body.listed).toHaveLength(5);
    expect(
      sent.filter((m) => attr(m, 'detector') === 'limits').map((m) => attr(m, 'sensorId')),
    ).toEqual(line(2, 'site-a/line-2'));
    expect(first).toMatchObject({
      anomalies: 42,
      notificationsSent: 3,
      notificationsGrouped: 40,
      groupAlerts: 1,
    });
    // The next batch of the period: folded into the group, nothing sent.
    expect(later).toMatchObject({ anomalies: 10, notificationsSent: 0, notificationsGrouped: 10 });
  });

  it('a maintenance window mutes its sensors and counts them; outside it they alert', async () => {
    // Prepare: line 1 under maintenance from 10:00 to 11:00 UTC.
    const t = await setup({
      default: threshold,
      rules: [],
      groups: [{ match: 'site-*', depth: 2, threshold: 50 }],
      maintenance: [
        {
          name: 'overhaul',
          group: 'site-a/line-1',
          start: '2026-12-07T10:00:00Z',
          end: '2026-12-07T11:00:00Z',
        },
      ],
    });
    // Act: anomalies of line 1 and line 2 inside the window, then line 1 after it.
    const inside = await t.send([...line(3), ...line(1, 'site-a/line-2')], 500);
    t.at(3600);
    const after = await t.send(line(1), 500, T0 + 3600_000);
    // Assess
    expect(inside).toMatchObject({
      readings: 4,
      anomalies: 1,
      notificationsSent: 1,
      notificationsMuted: 3,
    });
    expect(after).toMatchObject({ anomalies: 1, notificationsSent: 1, notificationsMuted: 0 });
    expect(t.sent().map((m) => attr(m, 'sensorId'))).toEqual([
      'site-a/line-2/pump-0/temp',
      'site-a/line-1/pump-0/temp',
    ]);
  });

  it('a site gone quiet whole sends one group silent alert, not one per sensor', async () => {
    // Prepare: every sensor watched at 30 s, grouped by site.
    const t = await setup({
      default: threshold,
      silenceSeconds: 30,
      rules: [],
      groups: [{ match: '*', depth: 1, threshold: 100 }],
    });
    const siteA = line(6, 'site-a/line-1');
    const siteB = line(2, 'site-b/line-1');
    // Act: both sites report for 20 s; site A stops, one sensor of site B stops.
    for (let s = 0; s <= 20; s += 5) {
      t.at(s);
      await t.send([...siteA, ...siteB], 1, T0 + s * 1000);
    }
    for (let s = 25; s <= 90; s += 5) {
      t.at(s);
      await t.send([siteB[0] as string], 1, T0 + s * 1000);
    }
    const report = await t.check();
    // Assess: site A's six sensors → one group alert; site B's silent sensor alone.
    const silence = t.sent().filter((m) => attr(m, 'detector') === 'silence');
    expect(silence.map((m) => m.subject)).toEqual([
      `[critical] Sensor silent: ${siteB[1]}`,
      '[critical] Group silent: site-a (all 6 sensors)',
    ]);
    expect(attr(silence[1] as PublishedMessage, 'group')).toBe('site-a');
    expect(report).toMatchObject({ alerts: 8, silentSensors: 7, inhibited: 6 });
  });

  it('a sensor silent inside its maintenance window is not notified, nor its recovery', async () => {
    // Prepare: pump-0 under maintenance from 10:00:30 to 10:05:00 UTC, watched at 30 s.
    const t = await setup({
      default: threshold,
      silenceSeconds: 30,
      rules: [],
      maintenance: [
        {
          match: 'site-a/line-1/pump-0/temp',
          start: '2026-12-07T10:00:30Z',
          end: '2026-12-07T10:05:00Z',
        },
      ],
    });
    const [pump0, pump1] = line(2) as [string, string];
    // Act: both report for 20 s, both stop; a check inside the window; both report again
    // after it, and a check.
    for (let s = 0; s <= 20; s += 5) {
      t.at(s);
      await t.send([pump0, pump1], 1, T0 + s * 1000);
    }
    t.at(90);
    const silent = await t.check();
    t.at(400);
    await t.send([pump0, pump1], 1, T0 + 400_000);
    const recovered = await t.check();
    // Assess: pump-1 notified twice; pump-0 decided (log and sinks) but never sent.
    const sent = t.sent().filter((m) => attr(m, 'detector') === 'silence');
    expect(sent.map((m) => m.subject)).toEqual([
      `[critical] Sensor silent: ${pump1}`,
      `[warning] Sensor reporting again: ${pump1}`,
    ]);
    expect(silent).toMatchObject({ alerts: 2, muted: 1, inhibited: 0 });
    expect(recovered).toMatchObject({ alerts: 2, muted: 1 });
  });
});
