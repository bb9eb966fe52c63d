import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoDbRulesStore,
  type StoredRules,
} from '../../functions/adapters/dynamodb-rules-store.ts';
import type { DetectorConfig } from '../../functions/config.ts';
import { createHandler } from '../../functions/detector/create-handler.ts';
import { LiveRules, RULES_REFRESH_MS, type RulesSnapshot } from '../../functions/live-rules.ts';
import type { Evaluation } from '../../functions/ports.ts';
import { METRIC } from '../../functions/telemetry-names.ts';
import { RulesVersionConflict, RulesWriter } from '../../local/rules/rules-writer.ts';
import { captureStdout } from '../helpers/capture-stdout.ts';
import { mskEvent, toRawRecord } from '../helpers/kafka-events.ts';
import { countCommands, type LocalAws, startLocalAws } from '../helpers/local-aws.ts';

const T0 = Date.parse('2026-11-21T10:00:00Z');
const WHO = { updatedBy: 'ops@test', updatedAt: '2026-11-21T10:00:00.000Z' };
const DEPLOYED = { defaultDetector: { kind: 'threshold', threshold: 50 } as const, rules: [] };
const rule = (match: string, threshold: number, topic?: string) =>
  JSON.stringify({
    rules: [
      {
        match,
        ...(topic === undefined ? {} : { topic }),
        detector: { kind: 'threshold', threshold },
      },
    ],
  });

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

async function freshTable(): Promise<{ config: DetectorConfig; writer: RulesWriter }> {
  const config = await aws.freshConfig();
  return {
    config,
    writer: new RulesWriter({ client: aws.dynamodbClient, tableName: config.tableName }),
  };
}

describe('the rules item on dynalite', () => {
  it('is absent at first, then versioned, conditional on the version read, and deletable', async () => {
    // Prepare
    const { writer } = await freshTable();
    // Act, Assess
    expect(await writer.get()).toBeNull();
    const first = await writer.put(rule('a*', 5), null, WHO);
    expect(first.version).toBe(1);
    const read = (await writer.get({ consistent: true })) as StoredRules;
    expect(read).toEqual(first);
    const second = await writer.put(rule('a*', 6), 1, { ...WHO, updatedBy: 'other@test' });
    expect(second).toMatchObject({ version: 2, updatedBy: 'other@test' });
    // A writer that read version 1 (or nothing) loses: it does not overwrite version 2 unseen.
    await expect(writer.put(rule('a*', 7), 1, WHO)).rejects.toThrow(RulesVersionConflict);
    await expect(writer.put(rule('a*', 7), null, WHO)).rejects.toThrow(RulesVersionConflict);
    await expect(writer.delete(1)).rejects.toThrow(RulesVersionConflict);
    expect((await writer.get({ consistent: true }))?.document).toBe(rule('a*', 6));
    expect(await writer.delete(2)).toBe(3);
    expect(await writer.get({ consistent: true })).toBeNull();
    // The tombstone keeps the counter: the next put is version 4, never a reused 1.
    expect(await writer.readItem({ consistent: true })).toEqual({ stored: null, itemVersion: 3 });
    await expect(writer.put(rule('a*', 8), null, WHO)).rejects.toThrow(RulesVersionConflict);
    expect((await writer.put(rule('a*', 8), 3, WHO)).version).toBe(4);
  });
});

describe('monotonic versions: rules deleted and put again', () => {
  it('a warm container that never saw the delete judges with the new rules within the cache period', async () => {
    // Prepare: a warm container on version 1
    const { config, writer } = await freshTable();
    let now = T0;
    const live = new LiveRules({
      store: new DynamoDbRulesStore({ client: aws.dynamodbClient, tableName: config.tableName }),
      deployed: DEPLOYED,
      clock: () => now,
    });
    await writer.put(rule('sensor_*', 5), null, WHO);
    const warm = await live.snapshot();
    expect(warm).toMatchObject({ source: 'table', version: 1 });
    // Act: delete and put again inside one cache period, as the CLI does
    const deleted = await writer.delete(1, WHO);
    const again = await writer.put(rule('sensor_*', 99), deleted, WHO);
    now += RULES_REFRESH_MS;
    const seen = await live.snapshot();
    // Assess
    expect(again.version).toBe(3);
    expect(seen).toMatchObject({ source: 'table', version: 3 });
    expect(seen.resolve('sensor_1', 't')).toEqual({ kind: 'threshold', threshold: 99 });
  });

  it('an item written around the CLI that reuses the version is still read as new (write id)', async () => {
    // Prepare
    const { config, writer } = await freshTable();
    let now = T0;
    const live = new LiveRules({
      store: new DynamoDbRulesStore({ client: aws.dynamodbClient, tableName: config.tableName }),
      deployed: DEPLOYED,
      clock: () => now,
    });
    await writer.put(rule('sensor_*', 5), null, WHO);
    await live.snapshot();
    // Act: the console (or the AWS CLI) overwrites the item keeping version 1
    await aws.dynamodbClient.send(
      new PutItemCommand({
        TableName: config.tableName,
        Item: {
          pk: { S: 'rules' },
          sk: { S: 'rules' },
          document: { S: rule('sensor_*', 42) },
          version: { N: '1' },
        },
      }),
    );
    now += RULES_REFRESH_MS;
    const seen = await live.snapshot();
    // Assess
    expect(seen.version).toBe(1);
    expect(seen.resolve('sensor_1', 't')).toEqual({ kind: 'threshold', threshold: 42 });
  });
});

describe('LiveRules: the cache in front of the item', () => {
  it('reads the item once per refresh period, however many batches ask, and then sees a put', async () => {
    // Prepare
    const { config, writer } = await freshTable();
    let now = T0;
    const counts = countCommands(aws.dynamodbClient);
    const live = new LiveRules({
      store: new DynamoDbRulesStore({ client: aws.dynamodbClient, tableName: config.tableName }),
      deployed: DEPLOYED,
      clock: () => now,
    });
    // Act: no document yet, the deployed rules
    const first = await Promise.all([live.snapshot(), live.snapshot(), live.snapshot()]);
    await writer.put(rule('sensor_*', 5), null, WHO);
    now += RULES_REFRESH_MS - 1;
    const stillCached = await live.snapshot();
    now += 1;
    const refreshed = await live.snapshot();
    // Assess
    expect(first.map((s) => s.source)).toEqual(['deployed', 'deployed', 'deployed']);
    expect(stillCached.source).toBe('deployed');
    expect(refreshed).toMatchObject({ source: 'table', version: 1, updatedBy: 'ops@test' });
    expect(refreshed.resolve('sensor_1', 'sensor-data')).toEqual({
      kind: 'threshold',
      threshold: 5,
    });
    // The document has no "default": the deployed default stays.
    expect(refreshed.resolve('valve_1', 'sensor-data')).toEqual(DEPLOYED.defaultDetector);
    expect(counts.get('GetItemCommand')).toBe(2);
    expect(RULES_REFRESH_MS).toBeLessThanOrEqual(60_000);
  });

  it('keeps the last valid rules when the stored document is invalid, reports it each check, and goes back to the deployed ones when it is deleted', async () => {
    // Prepare
    const { config, writer } = await freshTable();
    let now = T0;
    const invalid: { problem: string; version: number; kept: number; first: boolean }[] = [];
    const changes: [number, number][] = [];
    const live = new LiveRules({
      store: new DynamoDbRulesStore({ client: aws.dynamodbClient, tableName: config.tableName }),
      deployed: DEPLOYED,
      clock: () => now,
      events: {
        invalid: (problem, stored, kept, first) =>
          invalid.push({ problem, version: stored.version, kept: kept.version, first }),
        changed: (next: RulesSnapshot, before: RulesSnapshot) =>
          changes.push([before.version, next.version]),
      },
    });
    await writer.put(rule('sensor_*', 5), null, WHO);
    const valid = await live.snapshot();
    // Act: written around the CLI, a misspelt parameter
    await writer.put(
      '{"rules": [{"match": "sensor_*", "detector": {"kind": "threshold", "treshold": 1}}]}',
      1,
      WHO,
    );
    now += RULES_REFRESH_MS;
    const afterBad = await live.snapshot();
    now += RULES_REFRESH_MS;
    const afterBadAgain = await live.snapshot();
    await writer.delete(2);
    now += RULES_REFRESH_MS;
    const afterDelete = await live.snapshot();
    // Assess
    expect(afterBad).toBe(valid);
    expect(afterBadAgain).toBe(valid);
    expect(afterBad.resolve('sensor_1', 't')).toEqual({ kind: 'threshold', threshold: 5 });
    expect(invalid).toEqual([
      expect.objectContaining({ version: 2, kept: 1, first: true }),
      expect.objectContaining({ version: 2, kept: 1, first: false }),
    ]);
    expect(invalid[0]?.problem).toMatch(/rules document version 2: .*treshold/);
    expect(afterDelete.source).toBe('deployed');
    expect(changes).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });

  it('starts from the deployed rules when the first document it sees is invalid', async () => {
    const { config, writer } = await freshTable();
    await writer.put('not json', null, WHO);
    const live = new LiveRules({
      store: new DynamoDbRulesStore({ client: aws.dynamodbClient, tableName: config.tableName }),
      deployed: DEPLOYED,
    });
    const snapshot = await live.snapshot();
    expect(snapshot.source).toBe('deployed');
    expect(snapshot.resolve('sensor_1', 't')).toEqual(DEPLOYED.defaultDetector);
  });

  it('fails a cold read (the batch is retried), but keeps the rules in hand when a later read fails', async () => {
    let now = T0;
    let fail = true;
    const failed: unknown[] = [];
    const stored: StoredRules = {
      document: rule('x', 1),
      version: 1,
      updatedAt: WHO.updatedAt,
      updatedBy: WHO.updatedBy,
      sha256: '-',
      writeId: 'w1',
    };
    const live = new LiveRules({
      store: {
        get: async () => {
          if (fail) throw new Error('ProvisionedThroughputExceededException');
          return stored;
        },
      },
      deployed: DEPLOYED,
      clock: () => now,
      events: { readFailed: (e) => failed.push(e) },
    });
    await expect(live.snapshot()).rejects.toThrow(/Throughput/);
    fail = false;
    expect((await live.snapshot()).version).toBe(1);
    fail = true;
    now += RULES_REFRESH_MS;
    expect((await live.snapshot()).version).toBe(1);
    expect(failed).toHaveLength(1);
  });
});

describe('the handler with live rules', () => {
  const reading = (sensorId: string, value: number, offset: number, topic = 'pumps') =>
    toRawRecord({
      topic,
      offset,
      timestampMs: T0 + offset * 1000,
      key: sensorId,
      value: `${sensorId},${value}`,
    });

  function handlerOn(
    config: DetectorConfig,
    dynamodb: DynamoDBClient,
    clock: () => number,
    evaluations: Evaluation[],
  ) {
    return createHandler({
      config,
      dynamodb,
      sns: aws.snsClient,
      clock,
      liveRules: {},
      observer: {
        rejected: () => {},
        anomaly: () => {},
        published: () => {},
        evaluated: (e) => evaluations.push(e),
      },
    });
  }

  it('judges by topic with the stored rules, and on an invalid document logs one error, counts the metric and keeps judging', async () => {
    // Prepare
    const { config, writer } = await freshTable();
    let now = T0 + 60_000;
    const evaluations: Evaluation[] = [];
    const handler = handlerOn(config, aws.dynamodbClient, () => now, evaluations);
    await writer.put(rule('sensor_*', 5, 'pumps'), null, WHO);
    stdout = captureStdout();
    // Act
    await handler(mskEvent([reading('sensor_1', 20, 1), reading('sensor_1', 20, 2, 'boilers')]));
    await writer.put('{"rules": [{"match": 5}]}', 1, WHO);
    now += RULES_REFRESH_MS;
    await handler(mskEvent([reading('sensor_1', 20, 3)]));
    now += RULES_REFRESH_MS;
    await handler(mskEvent([reading('sensor_1', 20, 4)]));
    const logs = stdout.json();
    stdout.restore();
    // Assess: pumps by the rule, boilers by the deployed default; then the last valid rules
    const inOffsetOrder = [...evaluations].sort(
      (a, b) => a.reading.source.offset - b.reading.source.offset,
    );
    expect(inOffsetOrder.map((e) => [e.reading.source.topic, e.detector])).toEqual([
      ['pumps', { kind: 'threshold', threshold: 5 }],
      ['boilers', { kind: 'threshold', threshold: 50 }],
      ['pumps', { kind: 'threshold', threshold: 5 }],
      ['pumps', { kind: 'threshold', threshold: 5 }],
    ]);
    const errors = logs.filter((l) => l.level === 'ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      message: 'rules document invalid: keeping the rules in use',
      invalidVersion: 2,
      kept: { source: 'table', version: 1 },
    });
    expect(String(errors[0]?.problem)).toMatch(/rules\.0\.match/);
    const counted = logs.filter((l) => typeof l[METRIC.rulesDocumentInvalid] === 'number');
    expect(counted.map((l) => l[METRIC.rulesDocumentInvalid])).toEqual([1, 1]);
    expect(logs.some((l) => l.message === 'rules changed' && l.version === 1)).toBe(true);
  });

  it('keeps a learning sensor’s state when only the parameters change, and relearns when the kind changes', async () => {
    // Prepare
    const { config, writer } = await freshTable();
    let now = T0 + 60_000;
    const evaluations: Evaluation[] = [];
    const handler = handlerOn(config, aws.dynamodbClient, () => now, evaluations);
    const ewma = (sigma: number) =>
      JSON.stringify({ default: { kind: 'ewma', sigma, warmupReadings: 3 } });
    await writer.put(ewma(4), null, WHO);
    const values = [10, 10.5, 9.5, 10, 10.2, 9.8];
    // Act: six readings learned by ewma σ=4
    await handler(mskEvent(values.map((v, i) => reading('sensor_1', v, i + 1))));
    // the parameter changes (σ 4 → 1): the learned level and spread carry on
    await writer.put(ewma(1), 1, WHO);
    now += RULES_REFRESH_MS;
    await handler(mskEvent([reading('sensor_1', 10, 7)]));
    // the kind changes (ewma → adaptive): nothing learned by ewma applies
    await writer.put(JSON.stringify({ default: { kind: 'adaptive' } }), 2, WHO);
    now += RULES_REFRESH_MS;
    await handler(mskEvent([reading('sensor_1', 10, 8)]));
    // back to ewma σ=1: what adaptive learned is not ewma's either
    await writer.put(ewma(1), 3, WHO);
    now += RULES_REFRESH_MS;
    await handler(mskEvent([reading('sensor_1', 10, 9)]));
    // Assess: `count` is the readings learned before this one
    const counts = evaluations.map((e) => [e.detector.kind, e.verdict.count]);
    expect(counts).toEqual([
      ['ewma', 0],
      ['ewma', 1],
      ['ewma', 2],
      ['ewma', 3],
      ['ewma', 4],
      ['ewma', 5],
      ['ewma', 6],
      ['adaptive', 0],
      ['ewma', 0],
    ]);
    expect(evaluations[6]?.detector).toMatchObject({ kind: 'ewma', sigma: 1 });
  });
});
