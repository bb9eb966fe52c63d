import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/detector/create-handler.ts';
import { RulesWriter } from '../../local/rules/rules-writer.ts';
import { captureStdout } from '../helpers/capture-stdout.ts';
import { mskEvent, toRawRecord } from '../helpers/kafka-events.ts';
import { type LocalAws, startLocalAws } from '../helpers/local-aws.ts';

const T0 = Date.parse('2026-11-21T10:00:00Z');
const WHO = { updatedBy: 'ops@test', updatedAt: '2026-11-21T10:00:00.000Z' };

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws.close();
});

describe('field mappings in the rules stored in the table', () => {
  it('change how the deployed function reads the next batch, without a redeploy', async () => {
    // Prepare: a function with the live rules, and records of a historian gateway's shape
    const config = await aws.freshConfig();
    const handler = createHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns: aws.snsClient,
      clock: () => T0,
      liveRules: { refreshMs: 0 },
    });
    const record = (offset: number) =>
      toRawRecord({
        topic: 'plant',
        offset,
        timestampMs: T0 + offset,
        key: null,
        value: '{"Tag":"p1","Val":3}',
      });
    const quiet = captureStdout();
    try {
      // Act: before the mapping is stored, after it
      const before = await handler(mskEvent([record(0)]));
      await new RulesWriter({ client: aws.dynamodbClient, tableName: config.tableName }).put(
        JSON.stringify({ topicReadingFields: { plant: { sensorId: 'Tag', value: 'Val' } } }),
        null,
        WHO,
      );
      const after = await handler(mskEvent([record(1)]));
      // Assess
      expect(before.readings).toBe(0);
      expect(before.rejectedByReason).not.toEqual({});
      expect(after.readings).toBe(1);
      expect(after.rejectedByReason).toEqual({});
    } finally {
      quiet.restore();
    }
  });
});
