import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DetectorConfig } from '../../functions/config.ts';
import type { RawRecord } from '../../functions/core/types.ts';
import { createHandler } from '../../functions/detector/create-handler.ts';
import { localDynamoDbClient, localSnsClient } from '../../local/embedded/clients.ts';
import { captureStdout } from '../helpers/capture-stdout.ts';
import { lawParameters } from '../helpers/fc-params.ts';
import { cutAt, mskEvent, toRawRecord } from '../helpers/kafka-events.ts';
import { CallCrasher, CrashAfterCall, type LocalAws, startLocalAws } from '../helpers/local-aws.ts';
import { runReferenceModel } from '../helpers/reference-model.ts';
import { cutsArb, detectionArb, STREAM_NOW_MS, streamArb } from '../helpers/stream-gen.ts';
import { tableBuckets, withoutSumSq } from '../helpers/table-state.ts';

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws.close();
});

/** Final bucket aggregates as stored in the table, keyed like the reference model's. */
function storedBuckets(config: DetectorConfig) {
  return tableBuckets(aws.dynamodbClient, config.tableName);
}

function rootCause(error: unknown): unknown {
  let current = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  return current;
}

/** alertId → heldBackBefore of every SNS message sent to this config's run (by alert id prefix). */
function sentSince(index: number) {
  const sent = new Map<string, number>();
  for (const m of aws.sns.messages.slice(index)) {
    const body = JSON.parse(JSON.parse(m.message).sqs) as {
      alertId: string;
      heldBackBefore: number;
    };
    sent.set(body.alertId, body.heldBackBefore);
  }
  return sent;
}

describe('detector handler on dynalite: replay equivalence against the reference model', () => {
  it('any cut of the stream into batches gives the reference anomalies, notifications and aggregates', async () => {
    const quiet = captureStdout();
    try {
      await fc.assert(
        fc.asyncProperty(streamArb, cutsArb, detectionArb, async (records, cuts, detection) => {
          // Prepare
          const config = await aws.freshConfig(detection.settings);
          const handler = createHandler({
            config,
            dynamodb: aws.dynamodbClient,
            sns: aws.snsClient,
            clock: () => STREAM_NOW_MS,
          });
          const sentBefore = aws.sns.messages.length;
          // Act
          let anomalies = 0;
          for (const batch of cutAt(records, cuts))
            anomalies += (await handler(mskEvent(batch))).anomalies;
          // Assess
          const expected = runReferenceModel(records, detection.reference);
          expect(anomalies).toBe(expected.anomalies.length);
          expect(sentSince(sentBefore)).toEqual(expected.notifications);
          expect(await storedBuckets(config)).toEqual(withoutSumSq(expected.buckets));
        }),
        lawParameters(40),
      );
    } finally {
      quiet.restore();
    }
  });
});

describe('detector handler on dynalite: a crash after every DynamoDB and SNS call in turn', () => {
  // Three batches of two sensors with spikes, some late readings and a bad record.
  const T0 = Date.parse('2026-11-21T10:00:00Z');
  const records: RawRecord[] = [];
  const offsets = [0, 0];
  for (let i = 0; i < 30; i += 1) {
    const sensor = i % 2;
    const value = i % 7 === 3 ? 190 : 50 + (i % 5);
    const late = i % 9 === 4 ? `,${T0 + i * 700 - 6000}` : '';
    const text = i === 11 ? 'sensor_1,NaN' : `sensor_${sensor},${value}${late}`;
    const offset = offsets[sensor] ?? 0;
    offsets[sensor] = offset + 1;
    records.push(
      toRawRecord({
        partition: sensor,
        offset,
        timestampMs: T0 + i * 700,
        key: `sensor_${sensor}`,
        value: text,
      }),
    );
  }
  const batches = cutAt(records, [0.3, 0.65]);
  const settings = { alertCooldownMs: 3000 };

  async function run(crasher: CallCrasher | null, retryCuts: number[]) {
    const config = await aws.freshConfig(settings);
    const dynamodb = localDynamoDbClient(aws.dynamo.endpoint, { maxAttempts: 1 });
    const sns = localSnsClient(aws.sns.endpoint, { maxAttempts: 1 });
    crasher?.attach(dynamodb);
    crasher?.attach(sns);
    const handler = createHandler({ config, dynamodb, sns, clock: () => T0 + 60_000 });
    const sentBefore = aws.sns.messages.length;
    let remaining = records;
    let pending = batches;
    let failures = 0;
    while (remaining.length > 0) {
      const batch = pending[0] ?? [];
      try {
        await handler(mskEvent(batch));
        remaining = remaining.slice(batch.length);
        pending = pending.slice(1);
      } catch (error) {
        // Adapters translate SDK errors into their own, keeping the original as the cause.
        expect(rootCause(error)).toBeInstanceOf(CrashAfterCall);
        failures += 1;
        // The event source mapping resumes at the first uncommitted record, perhaps re-cut.
        pending = cutAt(remaining, retryCuts);
      }
    }
    dynamodb.destroy();
    sns.destroy();
    return { buckets: await storedBuckets(config), sent: sentSince(sentBefore), failures };
  }

  it('ends with the aggregates of a clean run and every notification sent at least once', async () => {
    const quiet = captureStdout();
    try {
      // Prepare: a clean run, counting the AWS calls it makes
      const counter = new CallCrasher();
      const clean = await run(counter, []);
      expect(clean.sent.size).toBeGreaterThan(1);
      // Act + Assess: crash after call 1, 2, …, N; retry whole, or re-cut into smaller batches
      for (let failAt = 1; failAt <= counter.calls; failAt += 1) {
        for (const retryCuts of [[], [0.2, 0.5]]) {
          const crasher = new CallCrasher();
          crasher.failAt = failAt;
          const outcome = await run(crasher, retryCuts);
          expect(outcome.failures, `crash after call ${failAt}`).toBe(1);
          expect(outcome.buckets, `crash after call ${failAt}`).toEqual(clean.buckets);
          expect(outcome.sent, `crash after call ${failAt}`).toEqual(clean.sent);
        }
      }
      console.info(`crash points tried: ${counter.calls} × 2 retry shapes`);
    } finally {
      quiet.restore();
    }
  });

  it('retries through SNS errors (throttling, internal) without losing or re-counting', async () => {
    // Prepare
    const config = await aws.freshConfig(settings);
    const handler = createHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns: aws.snsClient,
      clock: () => T0 + 60_000,
    });
    const sentBefore = aws.sns.messages.length;
    const quiet = captureStdout();
    // Act: the SNS endpoint refuses the next 2 requests; each failed batch is delivered again
    aws.sns.failNext(1, 'throttle');
    let failures = 0;
    const errors: string[] = [];
    for (const batch of batches) {
      for (;;) {
        try {
          await handler(mskEvent(batch));
          break;
        } catch (error) {
          errors.push(`${(error as Error).name}: ${(error as Error).message}`);
          failures += 1;
          if (failures === 1) aws.sns.failNext(1, 'internal');
        }
      }
    }
    quiet.restore();
    // Assess
    expect(failures, errors.join('\n')).toBe(2);
    const reference = runReferenceModel(records, {
      slideMs: 5000,
      windowMs: 10_000,
      detector: { kind: 'threshold', threshold: 50 },
      alertCooldownMs: settings.alertCooldownMs,
    });
    expect(sentSince(sentBefore)).toEqual(reference.notifications);
    expect(await storedBuckets(config)).toEqual(withoutSumSq(reference.buckets));
  });
});
