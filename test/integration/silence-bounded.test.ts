import { type DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeSeen,
  encodeSilent,
  OUTBOX_BUDGET_BYTES,
  SEEN_PAGE_BUDGET_BYTES,
  SILENT_PAGE_BUDGET_BYTES,
} from '../../functions/adapters/dynamodb-silence-codec.ts';
import { DynamoDbSilenceStore } from '../../functions/adapters/dynamodb-silence-store.ts';
import { SnsAlertPublisher } from '../../functions/adapters/sns-alert-publisher.ts';
import type { SilentEntry } from '../../functions/core/silence.ts';
import { checkSilence, type SilenceCheckReport } from '../../functions/silence/check-silence.ts';
import { LastSeenRecorder } from '../../functions/silence/last-seen-recorder.ts';
import { allEntries, commitPlan, emptyPagedMap, planPages } from '../../functions/silence/pages.ts';
import { SILENT_SET_KEY } from '../../functions/silence/ports.ts';
import { localDynamoDbClient, localSnsClient } from '../../local/embedded/clients.ts';
import type { PublishedMessage } from '../../local/embedded/sns-endpoint.ts';
import { SdkFaultInjector } from '../helpers/fault-injection.ts';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts';
import { type LocalAws, startLocalAws } from '../helpers/local-aws.ts';

/**
 * The silence items at DynamoDB's limits (docs/silence.md, "Bounded in bytes"): sensor ids of
 * 256 bytes, the longest the parser accepts, tens of thousands of sensors on one partition,
 * and a whole site silent while SNS is down for minutes, on dynalite and the loopback SNS
 * endpoint behind fault proxies.
 */

const T0 = Date.parse('2026-12-01T10:00:00Z');
const LIMIT_S = 60;
const GRANULARITY_MS = 6000;
const PID = 'abcdefghij#plant-a#0';
/** A 256-byte id (UTF-8), distinct per n. */
const longId = (n: number) => `${'s'.repeat(250)}${String(n).padStart(6, '0')}`;

let aws: LocalAws;
let dynamoProxy: FaultProxy;
let snsProxy: FaultProxy;
let faultyDynamo: DynamoDBClient;
let faultySns: SNSClient;
const injector = new SdkFaultInjector();

beforeAll(async () => {
  aws = await startLocalAws();
  [dynamoProxy, snsProxy] = await Promise.all([
    startFaultProxy({ target: aws.dynamo.endpoint, flavor: 'dynamodb' }),
    startFaultProxy({ target: aws.sns.endpoint, flavor: 'sns' }),
  ]);
  faultyDynamo = localDynamoDbClient(dynamoProxy.endpoint, { maxAttempts: 1 });
  faultySns = localSnsClient(snsProxy.endpoint, { maxAttempts: 1 });
  injector.attach(faultyDynamo, 'dynamodb');
  injector.attach(faultySns, 'sns');
});
afterAll(async () => {
  faultyDynamo?.destroy();
  faultySns?.destroy();
  await Promise.all([dynamoProxy?.close(), snsProxy?.close()]);
  await aws?.close();
});

/** Every item of the table with its size as DynamoDB counts it (names + values, UTF-8). */
async function itemSizes(tableName: string): Promise<{ key: string; bytes: number }[]> {
  const sizes: { key: string; bytes: number }[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await aws.dynamodbClient.send(
      new ScanCommand({
        TableName: tableName,
        ...(start === undefined ? {} : { ExclusiveStartKey: start as never }),
      }),
    );
    for (const item of out.Items ?? []) {
      let bytes = 0;
      for (const [name, value] of Object.entries(item)) {
        bytes += Buffer.byteLength(name);
        if (value.S !== undefined) bytes += Buffer.byteLength(value.S);
        else if (value.B !== undefined) bytes += value.B.byteLength;
        else if (value.N !== undefined) bytes += value.N.length;
        else bytes += 1;
      }
      sizes.push({ key: `${item.pk?.S} ${item.sk?.S}`, bytes });
    }
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return sizes;
}

describe('silence items at the limits (dynalite)', () => {
  it('20,000 sensors with 256-byte ids on one partition: every last-seen page within its budget, all read back', async () => {
    // Prepare
    const config = await aws.freshConfig();
    const store = new DynamoDbSilenceStore(aws.dynamodbClient, config.tableName);
    const recorder = new LastSeenRecorder({
      store,
      silenceOf: () => LIMIT_S,
      granularityMs: GRANULARITY_MS,
    });
    const ids = Array.from({ length: 20_000 }, (_, i) => longId(i));
    // Act: the fleet appears in four batches, then half of it reports again later
    for (let part = 0; part < 4; part += 1) {
      const slice = ids.slice(part * 5000, (part + 1) * 5000);
      await recorder.record([{ pid: PID, topic: 'plant-a', sensorIds: slice }], T0 + part * 1000);
    }
    await recorder.record(
      [{ pid: PID, topic: 'plant-a', sensorIds: ids.filter((_, i) => i % 2 === 0) }],
      T0 + 30_000,
    );
    // Assess: a fresh reader (the check) sees every sensor with its latest time
    const map = (await store.seen.load([PID])).get(PID) ?? emptyPagedMap<number>();
    const seen = allEntries(map);
    expect(seen.size).toBe(20_000);
    expect(seen.get(longId(0))).toBe(T0 + 30_000);
    expect(seen.get(longId(1))).toBe(T0);
    expect(seen.get(longId(19_999))).toBe(T0 + 3000);
    // 20,000 × 262 bytes ≈ 5.2 MB, in pages of at most 64 KB: no item near 400 KB.
    const sizes = await itemSizes(config.tableName);
    const pages = sizes.filter((s) => s.key.startsWith(`seen#${PID} page#`));
    expect(pages.length).toBeGreaterThanOrEqual(80);
    for (const s of sizes) expect(s.bytes).toBeLessThanOrEqual(SEEN_PAGE_BUDGET_BYTES);
    // Orphans of splits are not listed by the head; the listed pages hold it all.
    expect(map.pages.size).toBeGreaterThanOrEqual(80);
  }, 120_000);

  it('a silent set of 20,000 entries with 256-byte ids is split into pages within their budget', async () => {
    const config = await aws.freshConfig();
    const store = new DynamoDbSilenceStore(aws.dynamodbClient, config.tableName);
    const silent = new Map<string, SilentEntry>();
    for (let i = 0; i < 20_000; i += 1)
      silent.set(longId(i), { lastSeenMs: T0, silenceSeconds: LIMIT_S, declaredAtMs: T0 + i });
    const plan = planPages(emptyPagedMap<SilentEntry>(), silent, (e) => store.silent.fits(e), T0);
    await commitPlan(store.silent, SILENT_SET_KEY, plan);
    const back = (await store.silent.load([SILENT_SET_KEY])).get(SILENT_SET_KEY);
    expect(allEntries(back ?? emptyPagedMap<SilentEntry>())).toEqual(silent);
    for (const s of await itemSizes(config.tableName))
      expect(s.bytes).toBeLessThanOrEqual(SILENT_PAGE_BUDGET_BYTES);
  }, 120_000);
});

/** The alert ids SNS received (per-sensor messages, not digests), in arrival order. */
function alertIds(messages: readonly PublishedMessage[]): string[] {
  return messages
    .filter((m) => m.messageAttributes.detector?.stringValue === 'silence')
    .filter((m) => m.messageAttributes.kind?.stringValue === 'alert')
    .map((m) => JSON.parse(JSON.parse(m.message).sqs).alertId as string);
}

describe('the outbox under an SNS outage of minutes, a whole site silent', () => {
  const SITE = 300;

  /** A site of SITE sensors heard at T0, then silent; the check's deps on the faulty clients. */
  async function site() {
    const config = await aws.freshConfig();
    const setupStore = new DynamoDbSilenceStore(aws.dynamodbClient, config.tableName);
    const recorder = new LastSeenRecorder({
      store: setupStore,
      silenceOf: () => LIMIT_S,
      granularityMs: GRANULARITY_MS,
    });
    const ids = Array.from({ length: SITE }, (_, i) => longId(i));
    await recorder.record([{ pid: PID, topic: 'plant-a', sensorIds: ids }], T0);
    const store = new DynamoDbSilenceStore(faultyDynamo, config.tableName);
    const publisher = new SnsAlertPublisher({ client: faultySns, topicArn: config.topicArn });
    const check = (nowMs: number) =>
      checkSilence({
        store,
        publisher,
        silenceOf: () => LIMIT_S,
        slackMs: GRANULARITY_MS,
        maxBatchMs: 0,
        nowMs: () => nowMs,
      });
    return { config, ids, store: setupStore, check };
  }

  it('while SNS is down the outbox stays within its budget and decides nothing past it; afterwards every sensor is told once, in order', async () => {
    // Prepare
    const t = await site();
    const before = aws.sns.messages.length;
    const due = T0 + (LIMIT_S * 1000 + GRANULARITY_MS);
    // Act 1: five minutes of checks, one a minute, with SNS unreachable
    await snsProxy.down();
    const outage: (SilenceCheckReport | Error)[] = [];
    const outboxSizes: number[] = [];
    for (let minute = 0; minute < 5; minute += 1) {
      outage.push(await t.check(due + minute * 60_000).catch((e: Error) => e));
      outboxSizes.push((await t.store.loadOutbox()).alerts.length);
    }
    await snsProxy.up();
    // Act 2: SNS is back; checks until everything is told
    const deliveredPerCheck: string[][] = [];
    for (let minute = 5; minute < 30; minute += 1) {
      const sent = aws.sns.messages.length;
      const report = await t.check(due + minute * 60_000);
      deliveredPerCheck.push(alertIds(aws.sns.messages.slice(sent)));
      if (report.deferred === 0 && report.undelivered === 0 && report.alerts === 0) break;
    }
    // Assess: during the outage every check failed, the outbox filled once and did not grow
    expect(outage.every((r) => r instanceof Error)).toBe(true);
    const full = outboxSizes[0] as number;
    expect(full).toBeGreaterThan(0);
    expect(full).toBeLessThan(SITE);
    expect(outboxSizes).toEqual([full, full, full, full, full]);
    const sizes = await itemSizes(t.config.tableName);
    for (const s of sizes) expect(s.bytes).toBeLessThanOrEqual(OUTBOX_BUDGET_BYTES);
    // Afterwards: every sensor told exactly once (no failure after the outage), same ids
    const ids = alertIds(aws.sns.messages.slice(before));
    const episode = Math.floor(T0 / 1000);
    expect(new Set(ids)).toEqual(new Set(t.ids.map((id) => `silent~${id}~${episode}`)));
    expect(ids).toHaveLength(SITE);
    // In order: what the outbox held during the outage is told first, in the first check
    const heldFirst = new Set(deliveredPerCheck[0]);
    expect(heldFirst.size).toBe(full);
    expect(await t.store.loadOutbox()).toMatchObject({ alerts: [] });
  }, 120_000);

  it('with a lost response at each call of the first check after the outage: nothing lost, duplicates only of what was retried', async () => {
    // One scenario per call of the check that follows the outage (DynamoDB and SNS calls).
    // Scenario 0 has no fault: it counts the calls of that check.
    let calls = 0;
    for (let lost = 0; ; lost += 1) {
      const t = await site();
      const before = aws.sns.messages.length;
      const due = T0 + (LIMIT_S * 1000 + GRANULARITY_MS);
      await snsProxy.down();
      for (let minute = 0; minute < 3; minute += 1)
        await t.check(due + minute * 60_000).catch(() => {});
      await snsProxy.up();
      injector.arm(new Map(lost === 0 ? [] : [[lost, 'lost-response']]));
      const failed = await t.check(due + 3 * 60_000).then(
        () => false,
        () => true,
      );
      if (lost === 0) calls = injector.calls;
      injector.arm(new Map());
      for (let minute = 4; minute < 30; minute += 1) {
        const report = await t.check(due + minute * 60_000);
        if (report.deferred === 0 && report.undelivered === 0 && report.alerts === 0) break;
      }
      const ids = alertIds(aws.sns.messages.slice(before));
      const episode = Math.floor(T0 / 1000);
      expect(new Set(ids), `lost response at call ${lost}`).toEqual(
        new Set(t.ids.map((id) => `silent~${id}~${episode}`)),
      );
      // Duplicates only after a failure, and at most one delivery chunk of them.
      expect(ids.length - SITE, `lost response at call ${lost}`).toBeLessThanOrEqual(
        failed ? 100 : 0,
      );
      if (lost >= calls) break;
    }
    expect(calls).toBeGreaterThan(5);
  }, 300_000);
});

describe('upgrading from the one-item layout (dynalite)', () => {
  it('reads an old last-seen record and the old check state: nothing declared is forgotten, nothing undelivered is lost', async () => {
    // Prepare: the earlier layout's items, as a deployed stack left them
    const config = await aws.freshConfig();
    const put = (item: Record<string, unknown>) =>
      aws.dynamodbClient.send(
        new PutItemCommand({ TableName: config.tableName, Item: item as never }),
      );
    await put({
      pk: { S: `seen#${PID}` },
      sk: { S: 'seen' },
      v: { N: '7' },
      d: {
        B: encodeSeen(
          new Map([
            ['old_silent', T0],
            ['old_fine', T0 + 50_000],
          ]),
        ),
      },
    });
    await put({
      pk: { S: 'silence#partitions' },
      sk: { S: 'registry' },
      v: { N: '1' },
      p: { S: JSON.stringify([PID]) },
    });
    const pending = {
      alertId: `silent~old_silent~${T0 / 1000}`,
      kind: 'silent',
      sensorId: 'old_silent',
      lastSeenMs: T0,
      silenceSeconds: LIMIT_S,
      decidedAtMs: T0 + 70_000,
      severity: 'critical',
    };
    await put({
      pk: { S: 'silence#checker#3' },
      sk: { S: 'checker' },
      v: { N: '4' },
      s: {
        S: encodeSilent(
          new Map([
            ['old_silent', { lastSeenMs: T0, silenceSeconds: LIMIT_S, declaredAtMs: T0 + 70_000 }],
          ]),
        ),
      },
      o: { S: JSON.stringify([pending]) },
    });
    const store = new DynamoDbSilenceStore(aws.dynamodbClient, config.tableName);
    const recorder = new LastSeenRecorder({
      store,
      silenceOf: () => LIMIT_S,
      granularityMs: GRANULARITY_MS,
    });
    const sent: string[] = [];
    const check = (nowMs: number) =>
      checkSilence({
        store,
        publisher: {
          publishSilence: async (alerts) => void sent.push(...alerts.map((a) => a.alertId)),
        },
        silenceOf: () => LIMIT_S,
        slackMs: GRANULARITY_MS,
        maxBatchMs: 0,
        nowMs: () => nowMs,
      });
    // Act: the first check after the upgrade; then old_silent reports again, old_fine does not
    const first = await check(T0 + 80_000);
    await recorder.record([{ pid: PID, topic: 'plant-a', sensorIds: ['old_silent'] }], T0 + 90_000);
    const second = await check(T0 + 200_000);
    // Assess: the old outbox delivered once, no second `silent` for old_silent, then its
    // `recovered`; old_fine's old time read and declared in time
    expect(first).toMatchObject({ redelivered: 1, alerts: 0, silentSensors: 1 });
    expect(sent).toEqual([
      pending.alertId,
      `recovered~old_silent~${T0 / 1000}`,
      `silent~old_fine~${(T0 + 50_000) / 1000}`,
    ]);
    expect(second).toMatchObject({ alerts: 2, silentSensors: 1 });
    const seen = allEntries((await store.seen.load([PID])).get(PID) ?? emptyPagedMap<number>());
    expect(seen).toEqual(
      new Map([
        ['old_silent', T0 + 90_000],
        ['old_fine', T0 + 50_000],
      ]),
    );
  });
});
