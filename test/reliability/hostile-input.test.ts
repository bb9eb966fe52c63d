import type { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REJECT_REASONS } from '../../functions/core/parse-reading.ts';
import type { AlertDecision } from '../../functions/core/types.ts';
import { createHandler } from '../../functions/detector/create-handler.ts';
import type { BatchObserver, Rejection } from '../../functions/ports.ts';
import { localSnsClient } from '../../local/embedded/clients.ts';
import type { PublishedMessage } from '../../local/embedded/sns-endpoint.ts';
import { captureStdout } from '../helpers/capture-stdout.ts';
import { fastFreshConfig } from '../helpers/fast-table.ts';
import {
  eventOf,
  HOSTILE_T0,
  type HostileCase,
  loadHostileCorpus,
  type PlannedRecord,
  planRecords,
} from '../helpers/hostile-corpus.ts';
import { mskEvent, toRawRecord } from '../helpers/kafka-events.ts';
import { type LocalAws, startLocalAws } from '../helpers/local-aws.ts';
import { tableBuckets } from '../helpers/table-state.ts';

const corpus = loadHostileCorpus();
const TOPIC = 'sensor-data';
/** C0 (but \n), DEL, C1, U+2028/9: nothing a person reads may contain them raw. */
function unsafeCharIn(text: string): string | null {
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    if ((c < 0x20 && c !== 0x0a) || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029) {
      return `U+${c.toString(16).padStart(4, '0')}`;
    }
  }
  return null;
}
/** Unicode Bidi_Control: reorders the text around it (Trojan Source, CVE-2021-42574). */
const BIDI_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const PRINTABLE_ASCII_LINE = /^[\x20-\x7e]*$/;

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws?.close();
});

class Recorder implements BatchObserver {
  readonly rejections: Rejection[] = [];
  readonly anomalies: AlertDecision[] = [];
  rejected(r: Rejection): void {
    this.rejections.push(r);
  }
  anomaly(d: AlertDecision): void {
    this.anomalies.push(d);
  }
  published(): void {}
}

interface RunResult {
  readonly error: unknown;
  /** With `redeliver`: the same event delivered again. */
  readonly redelivery: {
    readonly error: unknown;
    readonly logLines: string[];
    readonly redelivered: number;
  } | null;
  readonly recorder: Recorder;
  readonly logLines: string[];
  readonly messages: PublishedMessage[];
  readonly buckets: Awaited<ReturnType<typeof tableBuckets>>;
  readonly planned: PlannedRecord[];
}

/** One handler invocation on a fresh table with its own SNS client (see the poisoning test). */
async function runCases(
  cases: readonly { c: HostileCase; index: number }[],
  redeliver = false,
): Promise<RunResult> {
  const config = await fastFreshConfig(aws.dynamodbClient);
  const sns = localSnsClient(aws.sns.endpoint, { maxAttempts: 1 });
  const recorder = new Recorder();
  const handler = createHandler({
    config,
    dynamodb: aws.dynamodbClient,
    sns,
    clock: () => HOSTILE_T0 + 1000,
    observer: recorder,
  });
  const planned = planRecords(cases, { topic: TOPIC, partition: 0 });
  const before = aws.sns.messages.length;
  const capture = captureStdout();
  let error: unknown = null;
  let redelivery: RunResult['redelivery'] = null;
  try {
    await handler(eventOf(planned));
  } catch (e) {
    error = e;
  } finally {
    capture.restore();
  }
  if (redeliver) {
    const again = captureStdout();
    let againError: unknown = null;
    let redelivered = 0;
    try {
      redelivered = (await handler(eventOf(planned))).redelivered;
    } catch (e) {
      againError = e;
    } finally {
      again.restore();
    }
    redelivery = { error: againError, logLines: again.lines(), redelivered };
  }
  sns.destroy();
  return {
    error,
    redelivery,
    recorder,
    logLines: capture.lines(),
    messages: aws.sns.messages.slice(before),
    buckets: await tableBuckets(aws.dynamodbClient, config.tableName),
    planned,
  };
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return `${error.name}: ${error.message}${error.cause instanceof Error ? ` (cause ${error.cause.name}: ${error.cause.message})` : ''}`;
}

/** Every expectation on one case's record within a run. */
function assessCase(result: RunResult, c: HostileCase, index: number): void {
  const caseRecord = result.planned.find((p) => p.role === 'case' && p.caseIndex === index);
  const offset = caseRecord?.offset ?? -1;
  const rejection = result.recorder.rejections.find((r) => r.source.offset === offset);
  if (c.expect === 'accepted') {
    expect(
      rejection,
      `${c.name}: rejected as ${rejection?.reason} (${rejection?.detail})`,
    ).toBeUndefined();
  } else {
    expect(rejection?.reason, c.name).toBe(c.expect);
    // Logged once, with a bounded preview of the raw value.
    const lines = result.logLines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.message === 'record rejected' && l.offset === offset);
    expect(lines, c.name).toHaveLength(1);
    expect(Buffer.byteLength(String(lines[0]?.rawValue)), c.name).toBeLessThanOrEqual(200 * 3);
  }
  if (c.expect === 'accepted' && c.spike === true) assessNotification(result, c, offset);
}

/** The anomaly's log line and SNS message carry the id exactly, and safely for every reader. */
function assessNotification(result: RunResult, c: HostileCase, offset: number): void {
  const id = c.sensorId as string;
  const alertId = `${TOPIC}-0-${offset}`;
  const logged = result.logLines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.alertId === alertId && String(l.message).startsWith('ANOMALY → '));
  expect(logged, `${c.name}: anomaly log line`).toHaveLength(1);
  expect(logged[0]?.sensorId, c.name).toBe(id);
  const message = result.messages.find(
    (m) => JSON.parse(JSON.parse(m.message).sqs).alertId === alertId,
  );
  expect(message, `${c.name}: notification`).toBeDefined();
  if (message === undefined) return;
  // Subject: printable ASCII on one line (SNS's rule for email subjects), at most 100 characters.
  expect(message.subject ?? '', c.name).toMatch(PRINTABLE_ASCII_LINE);
  expect((message.subject ?? '').length, c.name).toBeLessThanOrEqual(100);
  const bodies = JSON.parse(message.message) as Record<string, string>;
  // SMS: one short line of printable ASCII.
  const sms = bodies.sms ?? '';
  expect(sms, c.name).toMatch(PRINTABLE_ASCII_LINE);
  expect(sms.length, c.name).toBeLessThanOrEqual(140);
  // Email: the template's lines only, the id JSON-escaped on its line; nothing that could
  // forge a line or reorder what a person reads.
  for (const body of [bodies.email ?? '', bodies.default ?? '']) {
    expect(unsafeCharIn(body), c.name).toBeNull();
    expect(body, c.name).not.toMatch(BIDI_CONTROL);
    const lines = body.split('\n');
    expect(lines, c.name).toHaveLength(10);
    expect(lines[2], c.name).toBe(`Sensor:     ${JSON.stringify(id)}`);
  }
  // Machine subscribers and filter policies get the id exactly.
  for (const json of [bodies['email-json'], bodies.sqs, bodies.lambda, bodies.https]) {
    expect((JSON.parse(json ?? '{}') as { sensorId?: string }).sensorId, c.name).toBe(id);
  }
  expect(message.messageAttributes.sensorId?.stringValue, c.name).toBe(id);
}

/** Good neighbours were applied: one reading each. */
function assessNeighbours(result: RunResult, c: HostileCase | null): void {
  const goods = result.planned.filter((p) => p.role === 'good');
  for (const good of goods) {
    const id = Buffer.from(good.record.value, 'base64').toString('utf8').split(',')[0] ?? '';
    const bucket = `${id}|${Math.floor(HOSTILE_T0 / 5000) * 5000}`;
    expect(result.buckets.get(bucket)?.count, `${c?.name ?? 'batch'}: neighbour ${id}`).toBe(1);
  }
  // Every line written is one JSON object: no id, value or preview split a log line.
  for (const line of result.logLines)
    expect(() => JSON.parse(line), line.slice(0, 120)).not.toThrow();
}

describe(`hostile input corpus (${corpus.length} records, test/fixtures/hostile/records.json)`, () => {
  it('covers every rejection reason of semantics.md', () => {
    const reasons = new Set(corpus.map((c) => c.expect));
    for (const reason of Object.values(REJECT_REASONS)) expect(reasons, reason).toContain(reason);
  });

  it.each(corpus.map((c, index) => [c.name, c, index] as const))(
    '%s: handled without throwing, as expected, neighbours processed',
    async (_name, c, index) => {
      // Act
      const result = await runCases([{ c, index }]);
      // Assess
      expect(result.error === null ? null : describeError(result.error), c.name).toBeNull();
      assessCase(result, c, index);
      assessNeighbours(result, c);
    },
  );

  it('all of them in one batch among good readings: the batch succeeds and a redelivery logs nothing again', async () => {
    // Act
    const cases = corpus.map((c, index) => ({ c, index }));
    const result = await runCases(cases, true);
    // Assess
    expect(result.error === null ? null : describeError(result.error)).toBeNull();
    expect(result.redelivery?.error ?? null).toBeNull();
    expect(result.redelivery?.redelivered).toBe(result.planned.length);
    const relogged = (result.redelivery?.logLines ?? []).filter((l) =>
      /"message":"(record rejected|ANOMALY)/.test(l),
    );
    expect(relogged).toEqual([]);
    for (const { c, index } of cases) assessCase(result, c, index);
    assessNeighbours(result, null);
    const expectedRejected = corpus.filter((c) => c.expect !== 'accepted').length;
    const caseRejections = result.recorder.rejections.filter((r) =>
      result.planned.some((p) => p.offset === r.source.offset && p.role === 'case'),
    );
    expect(caseRejections).toHaveLength(expectedRejected);
    console.info(
      `[hostile] ${corpus.length} hostile records (${expectedRejected} to reject over ${new Set(corpus.map((c) => c.expect)).size - 1} reasons, ` +
        `${corpus.length - expectedRejected} to accept and escape) + ${result.planned.length - corpus.length} neighbours in one batch`,
    );
  });

  it('a sensor id with a lone surrogate cannot poison the next notification sent on the same SNS client', async () => {
    // Prepare: one SNS client for two invocations, as in a warm Lambda container
    const config = await fastFreshConfig(aws.dynamodbClient);
    const sns: SNSClient = localSnsClient(aws.sns.endpoint, { maxAttempts: 1 });
    const handler = createHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns,
      clock: () => HOSTILE_T0 + 1000,
    });
    const spikeOf = (partition: number, idJson: string) =>
      mskEvent([
        toRawRecord({
          partition,
          offset: 0,
          timestampMs: HOSTILE_T0,
          value: `{"sensorId":${idJson},"value":0}`,
        }),
        toRawRecord({
          partition,
          offset: 1,
          timestampMs: HOSTILE_T0,
          value: `{"sensorId":${idJson},"value":1000}`,
        }),
      ]);
    const before = aws.sns.messages.length;
    const capture = captureStdout();
    // Act: a hostile id on partition 0 (its batch may fail), then an honest sensor on partition 1
    let hostileError: unknown = null;
    try {
      await handler(spikeOf(0, '"x\\ud800"'));
    } catch (error) {
      hostileError = error;
    }
    let victimError: unknown = null;
    try {
      await handler(spikeOf(1, '"victim"'));
    } catch (error) {
      victimError = error;
    } finally {
      capture.restore();
      sns.destroy();
    }
    // Assess: the hostile batch does not fail, and the victim's alert is the one delivered
    expect(hostileError === null ? null : describeError(hostileError)).toBeNull();
    expect(victimError === null ? null : describeError(victimError)).toBeNull();
    const delivered = aws.sns.messages.slice(before).map((m) => ({
      attribute: m.messageAttributes.sensorId?.stringValue,
      alertId: JSON.parse(JSON.parse(m.message).sqs).alertId,
    }));
    expect(delivered).toEqual([{ attribute: 'victim', alertId: `${TOPIC}-1-1` }]);
  });
});
