import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbSilenceStore } from '../../functions/adapters/dynamodb-silence-store.ts';
import { parseRulesFile } from '../../functions/config.ts';
import type { SilenceAlert } from '../../functions/core/silence.ts';
import { createHandler } from '../../functions/detector/create-handler.ts';
import { createSilenceHandler } from '../../functions/detector/create-silence-handler.ts';
import { allEntries, emptyPagedMap } from '../../functions/silence/pages.ts';
import type { PublishedMessage } from '../../local/embedded/sns-endpoint.ts';
import { captureStdout } from '../helpers/capture-stdout.ts';
import { mskEvent, toRawRecord } from '../helpers/kafka-events.ts';
import { CallCrasher, type LocalAws, startLocalAws } from '../helpers/local-aws.ts';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const RULES = parseRulesFile(
  JSON.stringify({
    rules: [{ match: 'sensor_*', detector: { kind: 'threshold' }, silenceSeconds: 30 }],
  }),
  'test rules',
);

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

/** One reading of each sensor at `atMs`, on partition `partition`, from `offset` on. */
function readings(sensors: readonly string[], atMs: number, offset: number, partition = 0) {
  return sensors.map((id, i) =>
    toRawRecord({
      partition,
      offset: offset + i,
      timestampMs: atMs,
      key: id,
      value: `${id},50.0`,
    }),
  );
}

const silenceMessages = (ms: readonly PublishedMessage[]) =>
  ms.filter((m) => m.messageAttributes.detector?.stringValue === 'silence');

describe('silent sensors on dynalite and the loopback SNS endpoint', () => {
  it('the detector records last-seen per partition; the check tells SILENT once, then RECOVERED once', async () => {
    // Prepare
    const config = await aws.freshConfig({ rules: RULES.rules });
    let nowMs = T0;
    const detector = createHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns: aws.snsClient,
      clock: () => nowMs,
    });
    const told: SilenceAlert[] = [];
    const check = createSilenceHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns: aws.snsClient,
      // The detector runs each batch to completion before the check (no batch in flight).
      maxBatchMs: 0,
      clock: () => nowMs,
      onAlert: (a) => told.push(a),
    });
    const before = aws.sns.messages.length;
    stdout = captureStdout();
    // Act: three sensors report for 20 s, then sensor_3 stops for a minute.
    let offset = 0;
    for (let s = 0; s <= 20; s += 2) {
      nowMs = T0 + s * 1000;
      await detector(mskEvent(readings(['sensor_1', 'sensor_2', 'sensor_3'], nowMs, offset)));
      offset += 3;
    }
    const reports = [];
    for (let s = 22; s <= 80; s += 2) {
      nowMs = T0 + s * 1000;
      await detector(mskEvent(readings(['sensor_1', 'sensor_2'], nowMs, offset)));
      offset += 2;
      if (s % 10 === 0) reports.push({ s, report: await check() });
    }
    nowMs = T0 + 82_000;
    await detector(mskEvent(readings(['sensor_3'], nowMs, offset)));
    reports.push({ s: 90, report: await check() });
    reports.push({ s: 100, report: await check() });
    const logs = stdout.json();
    stdout.restore();
    // Assess: the partition's last-seen item and the alerts
    const store = new DynamoDbSilenceStore(aws.dynamodbClient, config.tableName);
    const { pids } = await store.loadPartitions();
    expect(pids).toEqual([expect.stringMatching(/^[\w-]{10}#sensor-data#0$/)]);
    const seen = await store.seen.load(pids);
    const sensors = allEntries(seen.get(pids[0] as string) ?? emptyPagedMap<number>());
    expect([...sensors.keys()].sort()).toEqual(['sensor_1', 'sensor_2', 'sensor_3']);
    expect(sensors.get('sensor_3')).toBe(T0 + 82_000);
    expect(told.map((a) => [a.kind, a.sensorId])).toEqual([
      ['silent', 'sensor_3'],
      ['recovered', 'sensor_3'],
    ]);
    // Last heard at 20 s, limit 30 s + 3 s granularity: declared by the check at 60 s.
    expect(reports.find((r) => r.report.alerts === 1)?.s).toBe(60);
    expect(told[0]?.alertId).toBe(`silent~sensor_3~${(T0 + 20_000) / 1000}`);
    expect(told[1]?.alertId).toBe(`recovered~sensor_3~${(T0 + 20_000) / 1000}`);
    const lines = logs.filter((l) => /^(SILENT|RECOVERED) /.test(String(l.message)));
    expect(lines.map((l) => String(l.message).split(':')[0])).toEqual([
      'SILENT sensor_3',
      'RECOVERED sensor_3',
    ]);
    expect(lines[0]).toMatchObject({ type: 'silent', sensorId: 'sensor_3', silenceSeconds: 30 });
    const sent = silenceMessages(aws.sns.messages.slice(before));
    expect(sent.map((m) => [m.messageAttributes.event?.stringValue, m.subject])).toEqual([
      ['silent', '[critical] Sensor silent: sensor_3'],
      ['recovered', '[warning] Sensor reporting again: sensor_3'],
    ]);
    expect(JSON.parse(JSON.parse(sent[0]?.message ?? '{}').sqs)).toMatchObject({
      alertId: told[0]?.alertId,
      type: 'silent',
      sensorId: 'sensor_3',
    });
  });

  it('an unkeyed sensor heard through another partition is not silent', async () => {
    const config = await aws.freshConfig({ rules: RULES.rules });
    let nowMs = T0;
    const detector = createHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns: aws.snsClient,
      clock: () => nowMs,
    });
    const check = createSilenceHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns: aws.snsClient,
      // The detector runs each batch to completion before the check (no batch in flight).
      maxBatchMs: 0,
      clock: () => nowMs,
    });
    // sensor_9 first on partition 0, then only on partition 1.
    await detector(mskEvent(readings(['sensor_9'], nowMs, 0, 0)));
    for (let s = 10; s <= 60; s += 10) {
      nowMs = T0 + s * 1000;
      await detector(mskEvent(readings(['sensor_9'], nowMs, s, 1)));
    }
    const report = await check();
    expect(report).toMatchObject({ partitions: 2, sensors: 1, alerts: 0, silentSensors: 0 });
  });

  it('a failed delivery or a crash after the commit sends the alert again, same alertId, and never more', async () => {
    // Prepare: sensor_1 heard once, then silent.
    const config = await aws.freshConfig({ rules: RULES.rules });
    let nowMs = T0;
    const detector = createHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns: aws.snsClient,
      clock: () => nowMs,
    });
    await detector(mskEvent(readings(['sensor_1'], nowMs, 0)));
    const crasher = new CallCrasher();
    crasher.attach(aws.dynamodbClient);
    const check = createSilenceHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns: aws.snsClient,
      // The detector runs each batch to completion before the check (no batch in flight).
      maxBatchMs: 0,
      clock: () => nowMs,
    });
    const before = aws.sns.messages.length;
    nowMs = T0 + 60_000;
    // Act 1: SNS fails the publish: the check fails, the alert stays in the outbox.
    aws.sns.failNext(1, 'internal');
    await expect(check()).rejects.toThrow(/SNS/);
    // Act 2: the next check sends it from the outbox.
    const redelivery = await check();
    // Act 3: the sensor reports again; the check dies right after committing RECOVERED.
    nowMs = T0 + 70_000;
    await detector(mskEvent(readings(['sensor_1'], nowMs, 1)));
    crasher.calls = 0;
    // registry, last-seen records, silent set, outbox read (small maps are one item each);
    // the 5th: the commit (the outbox)
    crasher.failAt = 5;
    await expect(check()).rejects.toThrow(/crash after call 5/);
    crasher.failAt = null;
    const after = await check();
    const quiet = await check();
    // Assess
    expect(redelivery).toMatchObject({ alerts: 0, redelivered: 1 });
    expect(after).toMatchObject({ alerts: 0, redelivered: 1 });
    expect(quiet).toMatchObject({ alerts: 0, redelivered: 0 });
    const ids = silenceMessages(aws.sns.messages.slice(before)).map(
      (m) => JSON.parse(JSON.parse(m.message).sqs).alertId,
    );
    const episode = (T0 / 1000).toString();
    expect(ids).toEqual([`silent~sensor_1~${episode}`, `recovered~sensor_1~${episode}`]);
  });
});
