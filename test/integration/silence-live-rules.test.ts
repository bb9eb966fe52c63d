import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbSilenceStore } from '../../functions/adapters/dynamodb-silence-store.ts';
import type { SilenceAlert } from '../../functions/core/silence.ts';
import { createHandler } from '../../functions/detector/create-handler.ts';
import { createSilenceHandler } from '../../functions/detector/create-silence-handler.ts';
import { allEntries } from '../../functions/silence/pages.ts';
import type { PublishedMessage } from '../../local/embedded/sns-endpoint.ts';
import { RulesWriter } from '../../local/rules/rules-writer.ts';
import { mskEvent, toRawRecord } from '../helpers/kafka-events.ts';
import { type LocalAws, startLocalAws } from '../helpers/local-aws.ts';

/**
 * Silent sensors follow the rules document stored in the table (docs/silence.md, docs/rules.md):
 * the detector records, and the check decides, under the live rules, on dynalite and the
 * loopback SNS endpoint. The deployed rules set no silenceSeconds at all.
 */
const T0 = Date.parse('2026-12-01T10:00:00Z');
const WHO = { updatedBy: 'ops@test', updatedAt: '2026-12-01T09:00:00Z' };
const REFRESH_MS = 5_000;

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws.close();
});

const doc = (rules: readonly object[]) => JSON.stringify({ rules });
const threshold = { kind: 'threshold' };

function reading(id: string, topic: string, atMs: number, offset: number) {
  return toRawRecord({
    topic,
    partition: 0,
    offset,
    timestampMs: atMs,
    key: id,
    value: `${id},50.0`,
  });
}

const silenceMessages = (ms: readonly PublishedMessage[]) =>
  ms.filter((m) => m.messageAttributes.detector?.stringValue === 'silence');

async function setup() {
  const config = await aws.freshConfig({ rules: [] });
  let nowMs = T0;
  const clock = () => nowMs;
  const deps = { config, dynamodb: aws.dynamodbClient, sns: aws.snsClient, clock };
  const told: SilenceAlert[] = [];
  const detector = createHandler({ ...deps, liveRules: { refreshMs: REFRESH_MS } });
  const check = createSilenceHandler({
    ...deps,
    liveRules: { refreshMs: REFRESH_MS },
    // The detector runs each batch to completion before the check (no batch in flight).
    maxBatchMs: 0,
    onAlert: (a) => told.push(a),
  });
  const offsets = new Map<string, number>();
  /** One reading of each [sensor, topic] at the current time. */
  const send = (pairs: readonly (readonly [string, string])[]) => {
    const records = pairs.map(([id, topic]) => {
      const offset = offsets.get(topic) ?? 0;
      offsets.set(topic, offset + 1);
      return reading(id, topic, nowMs, offset);
    });
    return detector(mskEvent(records));
  };
  return {
    config,
    told,
    check,
    send,
    writer: new RulesWriter({ client: aws.dynamodbClient, tableName: config.tableName }),
    store: new DynamoDbSilenceStore(aws.dynamodbClient, config.tableName),
    at: (s: number) => {
      nowMs = T0 + s * 1000;
    },
  };
}

describe('silent sensors under the rules stored in the table', () => {
  it('a stored topic rule with silenceSeconds makes its sensor SILENT, not the same ids on another topic', async () => {
    // Prepare: no limit deployed; the stored document watches sensor_* on plant-a only.
    const t = await setup();
    await t.writer.put(
      doc([{ match: 'sensor_*', topic: 'plant-a', detector: threshold, silenceSeconds: 30 }]),
      null,
      WHO,
    );
    const before = aws.sns.messages.length;
    // Act: sensor_1 on plant-a and sensor_2 on plant-b report for 20 s, then both stop.
    for (let s = 0; s <= 20; s += 2) {
      t.at(s);
      await t.send([
        ['sensor_1', 'plant-a'],
        ['sensor_2', 'plant-b'],
      ]);
    }
    t.at(40);
    const early = await t.check();
    t.at(60);
    const due = await t.check();
    t.at(120);
    const later = await t.check();
    // Assess: only plant-a's partition has a last-seen record, with sensor_1 only.
    const { pids } = await t.store.loadPartitions();
    expect(pids).toEqual([expect.stringMatching(/#plant-a#0$/)]);
    expect([...(await seenOf(t.store, pids[0] as string)).entries.keys()]).toEqual(['sensor_1']);
    expect(early.alerts).toBe(0);
    expect(due).toMatchObject({ alerts: 1, silentSensors: 1 });
    expect(later).toMatchObject({ alerts: 0, silentSensors: 1 });
    expect(t.told.map((a) => [a.kind, a.sensorId, a.silenceSeconds])).toEqual([
      ['silent', 'sensor_1', 30],
    ]);
    const sent = silenceMessages(aws.sns.messages.slice(before));
    expect(sent.map((m) => m.subject)).toEqual(['[critical] Sensor silent: sensor_1']);
  });

  it('a limit removed from the stored document: no further alert, the declared silence is dropped, nothing more is recorded', async () => {
    // Prepare: both sensors watched (30 s) by the stored document; sensor_1 stops at 20 s.
    const t = await setup();
    const watched = doc([{ match: 'sensor_*', detector: threshold, silenceSeconds: 30 }]);
    await t.writer.put(watched, null, WHO);
    for (let s = 0; s <= 60; s += 2) {
      t.at(s);
      await t.send(
        s <= 20
          ? [
              ['sensor_1', 't'],
              ['sensor_2', 't'],
            ]
          : [['sensor_2', 't']],
      );
    }
    const declared = await t.check();
    // Act: the limit is removed; sensor_2 keeps reporting for a while, then stops too.
    await t.writer.put(doc([{ match: 'sensor_*', detector: threshold }]), 1, WHO);
    t.at(70); // past the cache period: the next batch and check read version 2
    await t.send([['sensor_2', 't']]);
    const pid = (await t.store.loadPartitions()).pids[0] as string;
    const afterChange = await seenOf(t.store, pid);
    for (let s = 72; s <= 100; s += 2) {
      t.at(s);
      await t.send([['sensor_2', 't']]);
    }
    const later = await seenOf(t.store, pid);
    t.at(300);
    const afterRemoval = await t.check();
    // sensor_1 reports again: no RECOVERED, it is not watched any more.
    await t.send([['sensor_1', 't']]);
    t.at(310);
    const back = await t.check();
    // Assess
    expect(declared).toMatchObject({ alerts: 1, silentSensors: 1 });
    expect(afterRemoval).toMatchObject({ alerts: 0, silentSensors: 0 });
    expect(back).toMatchObject({ alerts: 0, silentSensors: 0 });
    expect(t.told.map((a) => [a.kind, a.sensorId])).toEqual([['silent', 'sensor_1']]);
    // With no limit the recorder forgets a sensor it hears (sensor_2, at once), so a limit put
    // back never finds a stale time; then it writes nothing more.
    expect([...afterChange.entries.keys()]).toEqual(['sensor_1']);
    expect(later.versions).toEqual(afterChange.versions);
  });

  it('an invalid stored document keeps the last valid limits for the check', async () => {
    const t = await setup();
    await t.writer.put(
      doc([{ match: 'sensor_*', detector: threshold, silenceSeconds: 30 }]),
      null,
      WHO,
    );
    t.at(0);
    await t.send([['sensor_1', 't']]);
    expect((await t.check()).alerts).toBe(0);
    // A document the CLI would refuse, written behind its back: silenceSeconds must be > 0.
    await t.writer.put(
      doc([{ match: 'sensor_*', detector: threshold, silenceSeconds: -1 }]),
      1,
      WHO,
    );
    t.at(60);
    const report = await t.check();
    expect(report.alerts).toBe(1);
    expect(t.told.map((a) => [a.kind, a.sensorId, a.silenceSeconds])).toEqual([
      ['silent', 'sensor_1', 30],
    ]);
  });
});

/** A partition's last-seen record: its entries, and its pages' versions (changed by writes). */
async function seenOf(store: DynamoDbSilenceStore, pid: string) {
  const map = (await store.seen.load([pid])).get(pid);
  if (map === undefined) return { entries: new Map<string, number>(), versions: '' };
  const versions = [...map.pages].map(([bits, p]) => `${bits}:${p.version}`).join(',');
  return { entries: allEntries(map), versions: `${map.version}/${versions}` };
}
