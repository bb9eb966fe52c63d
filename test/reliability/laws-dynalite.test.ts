import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertPublishError } from '../../functions/adapters/sns-alert-publisher.ts';
import {
  StoreConflictError,
  StoreUnavailableError,
} from '../../functions/adapters/store-errors.ts';
import type { DetectorConfig } from '../../functions/config.ts';
import type { RawRecord } from '../../functions/core/types.ts';
import { createHandler, type DetectorHandler } from '../../functions/detector/create-handler.ts';
import { localDynamoDbClient, localSnsClient } from '../../local/embedded/clients.ts';
import { captureStdout } from '../helpers/capture-stdout.ts';
import {
  deliveryBatches,
  deliveryStepsArb,
  partitionRecords,
  SWEEP_SETTINGS,
  sweepStream,
  unkeyedStreamArb,
} from '../helpers/delivery-gen.ts';
import { fastFreshConfig } from '../helpers/fast-table.ts';
import { CALL_FAULTS, type CallFault, SdkFaultInjector } from '../helpers/fault-injection.ts';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts';
import { lawParameters, lawRuns } from '../helpers/fc-params.ts';
import { cutAt, mskEvent } from '../helpers/kafka-events.ts';
import { type LocalAws, startLocalAws } from '../helpers/local-aws.ts';
import { PipelineProbe, referenceSummary } from '../helpers/pipeline-probe.ts';
import { runReferenceModel } from '../helpers/reference-model.ts';
import { repartition, repartitionRunArb, withoutCopies } from '../helpers/repartition-sim.ts';
import { detectionArb, STREAM_NOW_MS, streamArb } from '../helpers/stream-gen.ts';
import {
  sentAsReference,
  tableBuckets,
  tableCooldowns,
  unionAggregates,
  withoutSumSq,
} from '../helpers/table-state.ts';

let aws: LocalAws;
let dynamoProxy: FaultProxy;
let snsProxy: FaultProxy;
/** Clients through the fault proxies, one attempt per call: the batch retry is the test's. */
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

function handlerFor(
  config: DetectorConfig,
  dynamodb: DynamoDBClient,
  sns: SNSClient,
  probe?: PipelineProbe,
): DetectorHandler {
  return createHandler({
    config,
    dynamodb,
    sns,
    clock: () => STREAM_NOW_MS,
    ...(probe === undefined ? {} : { observer: probe }),
  });
}

function isInfrastructureError(error: unknown): boolean {
  return (
    error instanceof StoreUnavailableError ||
    error instanceof StoreConflictError ||
    error instanceof AlertPublishError
  );
}

describe('law on dynalite: replay equivalence through the real handler and SDK', () => {
  const runs = lawRuns(200);
  it(`any delivery (cuts, partition mixes, redelivered ranges) gives the reference anomalies, notifications, aggregates (${runs} cases)`, async () => {
    const quiet = captureStdout();
    let batchesRun = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          streamArb,
          deliveryStepsArb,
          detectionArb,
          async (records, steps, detection) => {
            // Prepare
            const config = await fastFreshConfig(aws.dynamodbClient, detection.settings);
            const handler = handlerFor(config, aws.dynamodbClient, aws.snsClient);
            const sentBefore = aws.sns.messages.length;
            // Act
            let anomalies = 0;
            for (const batch of deliveryBatches(records, steps)) {
              anomalies += (await handler(mskEvent(batch))).anomalies;
              batchesRun += 1;
            }
            // Assess
            const expected = runReferenceModel(records, detection.reference);
            expect(anomalies).toBe(expected.anomalies.length);
            expect(sentAsReference(aws.sns.messages.slice(sentBefore))).toEqual({
              notifications: expected.notifications,
              resolved: expected.resolved,
            });
            expect(await tableBuckets(aws.dynamodbClient, config.tableName)).toEqual(
              withoutSumSq(expected.buckets),
            );
          },
        ),
        lawParameters(runs),
      );
    } finally {
      quiet.restore();
    }
    console.info(`[law replay/dynalite] ${runs} cases, ${batchesRun} handler invocations`);
  });
});

interface SweepOutcome {
  readonly buckets: Awaited<ReturnType<typeof tableBuckets>>;
  readonly cooldowns: Awaited<ReturnType<typeof tableCooldowns>>;
  readonly sent: ReturnType<typeof sentAsReference>;
  readonly failures: number;
  readonly conflicts: number;
  /** DynamoDB and SNS calls made by the run (the zombie's not included). */
  readonly calls: number;
  readonly zombieFailures: number;
}

/**
 * Runs the batches through the handler on the faulty clients, retrying each failed batch
 * (whole, split in two, or merged with the next) until it succeeds.
 */
async function runBatches(
  batches: readonly RawRecord[][],
  plan: ReadonlyMap<number, CallFault>,
  shape: 'whole' | 'split' | 'merge',
  settings: Partial<DetectorConfig> = SWEEP_SETTINGS,
): Promise<SweepOutcome> {
  const config = await fastFreshConfig(aws.dynamodbClient, settings);
  const handler = handlerFor(config, faultyDynamo, faultySns);
  // The zombie: the same function on clean clients, run on the batch in flight.
  const zombie = handlerFor(config, aws.dynamodbClient, aws.snsClient);
  let current: RawRecord[] = [];
  injector.arm(plan, async () => {
    await zombie(mskEvent(current));
  });
  const sentBefore = aws.sns.messages.length;
  const queue = batches.map((b) => [...b]);
  let failures = 0;
  let conflicts = 0;
  while (queue.length > 0) {
    // Stuck: a batch that keeps failing (a few faults fail a few attempts, never dozens).
    if (failures > 50) throw new Error(`no progress: ${failures} failed attempts`);
    current = queue.shift() as RawRecord[];
    try {
      await handler(mskEvent(current));
    } catch (error) {
      if (!isInfrastructureError(error)) throw error;
      failures += 1;
      if (error instanceof StoreConflictError) conflicts += 1;
      if (shape === 'split') queue.unshift(...cutAt(current, [0.5]));
      else if (shape === 'merge' && queue.length > 0)
        queue.unshift([...current, ...(queue.shift() as RawRecord[])]);
      else queue.unshift(current);
    }
  }
  const { calls, zombieFailures } = injector;
  // A zombie races the invocation's parallel writes and may lose: it then fails as any
  // invocation would, and only infrastructure errors are acceptable.
  for (const error of injector.zombieErrors) expect(isInfrastructureError(error)).toBe(true);
  injector.arm(new Map());
  return {
    calls,
    zombieFailures,
    buckets: await tableBuckets(aws.dynamodbClient, config.tableName),
    cooldowns: await tableCooldowns(aws.dynamodbClient, config.tableName),
    sent: sentAsReference(aws.sns.messages.slice(sentBefore)),
    failures,
    conflicts,
  };
}

describe('law on dynalite: a fault at every DynamoDB and SNS call in turn', () => {
  it('lost response, throttling (ThrottlingException, ProvisionedThroughputExceeded, SNS Throttling/5xx), duplicate request, zombie: converges', async () => {
    const quiet = captureStdout();
    const shapes = ['whole', 'split', 'merge'] as const;
    const tally = {
      runs: 0,
      failures: 0,
      conflicts: 0,
      byKind: {} as Record<string, number>,
      commands: {} as Record<string, number>,
    };
    let calls = 0;
    try {
      // Prepare: a clean run, counting its calls
      const { records, batches } = sweepStream(30);
      const clean = await runBatches(batches, new Map(), 'whole');
      calls = clean.calls;
      expect(clean.failures).toBe(0);
      expect(clean.sent.notifications.size).toBeGreaterThan(2);
      const reference = runReferenceModel(records, {
        ...SWEEP_SETTINGS,
        detector: SWEEP_SETTINGS.defaultDetector,
      });
      expect(clean.buckets).toEqual(withoutSumSq(reference.buckets));
      expect(clean.sent).toEqual({
        notifications: reference.notifications,
        resolved: reference.resolved,
      });
      // Act + Assess: each call × each fault kind, the retry shape rotating
      for (let call = 1; call <= calls; call += 1) {
        for (const [k, kind] of CALL_FAULTS.entries()) {
          const shape = shapes[(call + k) % shapes.length] ?? 'whole';
          const label = `${kind} at call ${call}, retried ${shape}`;
          const outcome = await runBatches(batches, new Map([[call, kind]]), shape);
          expect(outcome.buckets, label).toEqual(clean.buckets);
          expect(outcome.cooldowns, label).toEqual(clean.cooldowns);
          expect(outcome.sent, label).toEqual(clean.sent);
          tally.runs += 1;
          tally.failures += outcome.failures;
          tally.conflicts += outcome.conflicts;
          tally.byKind[kind] = (tally.byKind[kind] ?? 0) + outcome.failures;
        }
      }
    } finally {
      quiet.restore();
    }
    console.info(
      `[sweep/dynalite] ${calls} calls × ${CALL_FAULTS.length} fault kinds = ${tally.runs} runs; ${tally.failures} failed batches ` +
        `${JSON.stringify(tally.byKind)}, ${tally.conflicts} of them ConditionalCheckFailed; all converged to the clean run`,
    );
    // 152 runs of the handler through the proxies: over a minute on a loaded 2-core machine.
  }, 240_000);

  it('rides out throttling inside the SDK when retries are on (maxAttempts 3)', async () => {
    // Prepare: clients with the SDK's standard retries, through the proxies
    const dynamodb = localDynamoDbClient(dynamoProxy.endpoint, { maxAttempts: 3 });
    const sns = localSnsClient(snsProxy.endpoint, { maxAttempts: 3 });
    const config = await fastFreshConfig(aws.dynamodbClient, SWEEP_SETTINGS);
    const handler = handlerFor(config, dynamodb, sns);
    const { records, batches } = sweepStream(30);
    const sentBefore = aws.sns.messages.length;
    const quiet = captureStdout();
    // Act: the next request to each service is throttled
    dynamoProxy.failNext(1, 'provisioned');
    snsProxy.failNext(1, 'throttle');
    try {
      for (const batch of batches) await handler(mskEvent(batch));
    } finally {
      quiet.restore();
      dynamodb.destroy();
      sns.destroy();
    }
    // Assess: no batch failed, and the outcome is the reference's
    const reference = runReferenceModel(records, {
      ...SWEEP_SETTINGS,
      detector: SWEEP_SETTINGS.defaultDetector,
    });
    expect(await tableBuckets(aws.dynamodbClient, config.tableName)).toEqual(
      withoutSumSq(reference.buckets),
    );
    expect(sentAsReference(aws.sns.messages.slice(sentBefore))).toEqual({
      notifications: reference.notifications,
      resolved: reference.resolved,
    });
  });
});

describe('law on dynalite: random faults at random calls', () => {
  const runs = lawRuns(150);
  it(`1–3 faults of any kind anywhere in a random stream, any detector, converge to the reference (${runs} cases)`, async () => {
    const quiet = captureStdout();
    let injected = 0;
    let failures = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          streamArb,
          deliveryStepsArb,
          fc.array(
            fc.record({
              at: fc.noBias(fc.integer({ min: 0, max: 1_000_000 })),
              kind: fc.constantFrom(...CALL_FAULTS),
            }),
            {
              minLength: 1,
              maxLength: 3,
            },
          ),
          fc.constantFrom('whole' as const, 'split' as const, 'merge' as const),
          detectionArb,
          async (records, steps, plan, shape, detection) => {
            // Prepare: about two calls per record, so faults land across the whole run
            const faults = new Map(
              plan.map(({ at, kind }) => [1 + (at % (2 * records.length + 4)), kind]),
            );
            const batches = deliveryBatches(records, steps);
            // Act
            const outcome = await runBatches(batches, faults, shape, detection.settings);
            // Assess
            const reference = runReferenceModel(records, detection.reference);
            expect(outcome.buckets).toEqual(withoutSumSq(reference.buckets));
            expect(outcome.sent).toEqual({
              notifications: reference.notifications,
              resolved: reference.resolved,
            });
            injected += faults.size;
            failures += outcome.failures;
          },
        ),
        lawParameters(runs),
      );
    } finally {
      quiet.restore();
    }
    console.info(
      `[law faults/dynalite] ${runs} cases, ${injected} faults planned, ${failures} failed batches, all converged`,
    );
  });
});

const SWEEP_REFERENCE = {
  slideMs: SWEEP_SETTINGS.slideMs,
  windowMs: SWEEP_SETTINGS.windowMs,
  detector: SWEEP_SETTINGS.defaultDetector,
  alertCooldownMs: SWEEP_SETTINGS.alertCooldownMs,
} as const;

describe('law on dynalite: unkeyed input through the repartition step, partitions in parallel', () => {
  const runs = lawRuns(100);
  it(`the keyed topic's partitions in parallel handlers (Promise.all), random call delays, copies in headers dropped: the reference results, exact counts (${runs} cases)`, async () => {
    const quiet = captureStdout();
    let copies = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          unkeyedStreamArb,
          repartitionRunArb,
          fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
          fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 20 }),
          async (source, run, cuts, delays) => {
            // Prepare: the keyed topic, and one function instance per partition on one table
            const keyed = repartition(source, run);
            const once = withoutCopies(keyed);
            copies += keyed.length - once.length;
            const config = await fastFreshConfig(aws.dynamodbClient, SWEEP_SETTINGS);
            const probe = new PipelineProbe();
            injector.arm(new Map());
            injector.delayMs = (call) => delays[call % delays.length] ?? 0;
            const sentBefore = aws.sns.messages.length;
            const consumer = async (partition: number) => {
              const handler = handlerFor(config, faultyDynamo, faultySns, probe);
              for (const batch of cutAt(partitionRecords(keyed, partition), cuts))
                await handler(mskEvent(batch));
            };
            // Act
            try {
              await Promise.all(
                Array.from({ length: run.partitions }, (_, partition) => consumer(partition)),
              );
            } finally {
              injector.delayMs = null;
            }
            // Assess: every source reading counted once; the verdicts of the keyed stream
            expect(await tableBuckets(aws.dynamodbClient, config.tableName)).toEqual(
              unionAggregates(source, SWEEP_SETTINGS.slideMs),
            );
            const expected = runReferenceModel(once, SWEEP_REFERENCE);
            expect(probe.anomalySummary()).toEqual(referenceSummary(expected));
            expect(sentAsReference(aws.sns.messages.slice(sentBefore))).toEqual({
              notifications: expected.notifications,
              resolved: expected.resolved,
            });
          },
        ),
        lawParameters(runs),
      );
    } finally {
      quiet.restore();
    }
    console.info(`[law repartition/dynalite] ${runs} cases, ${copies} re-produced copies dropped`);
  });
});
