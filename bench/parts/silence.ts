import { DynamoDbSilenceStore } from '../../functions/adapters/dynamodb-silence-store.ts';
import { SnsAlertPublisher } from '../../functions/adapters/sns-alert-publisher.ts';
import { seenGranularityMs } from '../../functions/core/silence.ts';
import { checkSilence } from '../../functions/silence/check-silence.ts';
import { LastSeenRecorder } from '../../functions/silence/last-seen-recorder.ts';
import { CONTEXT_DEFAULTS } from '../../infra/config.ts';
import { localDynamoDbClient, localSnsClient } from '../../local/embedded/clients.ts';
import { ensureTable } from '../../local/embedded/dynamodb.ts';
import { startSnsEndpoint } from '../../local/embedded/sns-endpoint.ts';
import { LAMBDA_ASSUMPTIONS, PRICES, SECONDS_PER_MONTH } from '../lib/cost-model.ts';
import { startDynaliteProcess } from '../lib/dynalite-process.ts';
import { DynamoDbMeter, type MeterTotals } from '../lib/dynamodb-meter.ts';
import { median, round } from '../lib/stats.ts';
import { BENCH_T0_MS } from '../workload.ts';

export interface SilenceOptions {
  readonly quick: boolean;
}

export interface SilenceScenario {
  readonly name: string;
  readonly sensors: number;
  readonly partitions: number;
  readonly silenceSeconds: number;
  readonly checkMinutes: number;
  /** Measured: one partition's last-seen record. */
  readonly seenItemBytes: number;
  readonly wruPerSeenWrite: number;
  /** A partition's record is rewritten once per granularity (batches come every few seconds). */
  readonly seenWritesPerPartitionPerMonth: number;
  /** Measured per steady check (nobody silent): requests, keys, RRU, CPU. */
  readonly checkRequests: Record<string, number>;
  readonly checkRru: number;
  readonly checkCpuMs: number;
  readonly checkLambdaSeconds: number;
  readonly checksPerMonth: number;
  /** One silence episode of 1% of the sensors: WRU of its commits and trims. */
  readonly episodeWru: number;
  readonly monthlyUsd: {
    readonly checkInvocations: number;
    readonly checkDuration: number;
    readonly checkReads: number;
    readonly seenWrites: number;
    readonly total: number;
  };
}

export interface SilenceResult {
  readonly scenarios: readonly SilenceScenario[];
  readonly checkMemoryMb: number;
  readonly note: string;
}

/** The check's memory (infra/constructs/silence-check.ts). */
const CHECK_MEMORY_MB = 512;
const PID = (p: number) => `Ab3dE6gH9k#sensor-readings#${p}`;

/**
 * The silent-sensor check's cost (docs/silence.md): the real LastSeenRecorder writes every
 * partition's last-seen record into dynalite, then the real checkSilence runs against it and
 * the loopback SNS endpoint, metered like the detector (bench/lib/dynamodb-meter.ts). The
 * month: a check every `checkMinutes`, each partition's record rewritten once per granularity.
 */
export async function runSilence(options: SilenceOptions): Promise<SilenceResult> {
  const dynamo = await startDynaliteProcess();
  const sns = await startSnsEndpoint();
  const dynamodb = localDynamoDbClient(dynamo.endpoint);
  const snsClient = localSnsClient(sns.endpoint);
  const meter = new DynamoDbMeter();
  meter.attach(dynamodb);
  try {
    const scenarios: SilenceScenario[] = [];
    const specs = [
      { silenceSeconds: 300, partitions: 80 },
      { silenceSeconds: 60, partitions: 80 },
      { silenceSeconds: 300, partitions: 8 },
    ];
    for (const [i, spec] of specs.entries()) {
      const tableName = `bench-silence-${process.pid}-${i}`;
      await ensureTable(dynamodb, tableName);
      scenarios.push(
        await measure({
          ...spec,
          sensors: 10_000,
          checkMinutes: 1,
          tableName,
          checks: options.quick ? 5 : 15,
          dynamodb,
          snsClient,
          meter,
        }),
      );
    }
    return {
      scenarios,
      checkMemoryMb: CHECK_MEMORY_MB,
      note:
        'Lambda duration per check = its CPU time here (the use case, adapter and AWS SDK; dynalite runs in ' +
        `another process) stretched to ${CHECK_MEMORY_MB} MB's CPU share, plus assumed round trips ` +
        `(GetItem ${LAMBDA_ASSUMPTIONS.getRoundTripMs} ms, BatchGetItem ${LAMBDA_ASSUMPTIONS.batchGetRoundTripMs} ms each, 8 in parallel). ` +
        'EventBridge Scheduler: 43,800 invocations a month are inside its free tier (14 million), $0.04 beyond it; not counted.',
    };
  } finally {
    dynamodb.destroy();
    snsClient.destroy();
    await sns.close();
    await dynamo.stop();
  }
}

async function measure(spec: {
  silenceSeconds: number;
  partitions: number;
  sensors: number;
  checkMinutes: number;
  tableName: string;
  checks: number;
  dynamodb: ReturnType<typeof localDynamoDbClient>;
  snsClient: ReturnType<typeof localSnsClient>;
  meter: DynamoDbMeter;
}): Promise<SilenceScenario> {
  const store = new DynamoDbSilenceStore(spec.dynamodb, spec.tableName);
  const limits = [spec.silenceSeconds];
  const granularityMs = seenGranularityMs(limits);
  const silenceOf = () => spec.silenceSeconds;
  const recorder = new LastSeenRecorder({ store, silenceOf, granularityMs });
  const perPartition = Math.ceil(spec.sensors / spec.partitions);
  const heard = (skip = new Set<string>()) =>
    Array.from({ length: spec.partitions }, (_, p) => ({
      pid: PID(p),
      sensorIds: Array.from(
        { length: perPartition },
        (_, s) => `sensor_${p * perPartition + s}`,
      ).filter((id) => !skip.has(id)),
    }));
  let nowMs = BENCH_T0_MS;
  const check = () =>
    checkSilence({
      store,
      publisher: new SnsAlertPublisher({ client: spec.snsClient, topicArn: TOPIC_ARN }),
      silenceOf,
      slackMs: granularityMs,
      nowMs: () => nowMs,
    });
  // Unmetered: the first records, the registry, a first check.
  spec.meter.enabled = false;
  await recorder.record(heard(), nowMs);
  await check();
  spec.meter.enabled = true;

  // One rewrite of every partition's record (a granularity later).
  nowMs += granularityMs;
  spec.meter.reset();
  await recorder.record(heard(), nowMs);
  const writes = spec.meter.totals();
  const seenWrites = writes.requests.PutItemCommand ?? 0;
  const wruPerSeenWrite = sumKinds(writes.wruByKind) / Math.max(1, seenWrites);

  // Steady checks: everybody reporting.
  const cpu: number[] = [];
  const perCheck: MeterTotals[] = [];
  for (let i = 0; i < spec.checks; i += 1) {
    nowMs += 60_000 * spec.checkMinutes;
    await recorder.record(heard(), nowMs);
    spec.meter.reset();
    const cpu0 = process.cpuUsage();
    const report = await check();
    const used = process.cpuUsage(cpu0);
    if (report.alerts !== 0) throw new Error('bench: a steady check raised alerts');
    cpu.push((used.user + used.system) / 1000);
    perCheck.push(spec.meter.totals());
  }
  const last = perCheck.at(-1) as MeterTotals;
  const checkRru = median(perCheck.map((t) => t.rru));
  const checkCpuMs = median(cpu);

  // One episode: 1% of the sensors stop, are declared silent, then come back.
  const quiet = new Set(Array.from({ length: spec.sensors / 100 }, (_, i) => `sensor_${i * 100}`));
  spec.meter.reset();
  for (let s = 0; s <= spec.silenceSeconds + 2 * 60; s += 60) {
    nowMs += 60_000;
    await recorder.record(heard(quiet), nowMs);
    await check();
  }
  nowMs += 60_000;
  await recorder.record(heard(), nowMs);
  await check();
  const episode = spec.meter.totals();
  const seenWru = sumKinds(episode.wruByKind);

  const a = LAMBDA_ASSUMPTIONS;
  const batchGets = last.requests.BatchGetItemCommand ?? 0;
  const roundTripMs =
    (last.requests.GetItemCommand ?? 0) * a.getRoundTripMs +
    Math.ceil(batchGets / 8) * a.batchGetRoundTripMs;
  const cpuShare = Math.min(1, CHECK_MEMORY_MB / a.fullVcpuMemoryMb);
  const checkLambdaSeconds = (checkCpuMs / cpuShare + roundTripMs) / 1000;
  const checksPerMonth = SECONDS_PER_MONTH / (60 * spec.checkMinutes);
  const batchSeconds = CONTEXT_DEFAULTS.batchingWindowSeconds;
  const seenWritesPerPartitionPerMonth =
    SECONDS_PER_MONTH / Math.max(granularityMs / 1000, batchSeconds);
  const gb = CHECK_MEMORY_MB / 1024;
  const usd = {
    checkInvocations: (checksPerMonth / 1e6) * PRICES.lambdaRequestPerMillionUsd,
    checkDuration: checksPerMonth * checkLambdaSeconds * gb * PRICES.lambdaArmGbSecondUsd,
    checkReads: ((checksPerMonth * checkRru) / 1e6) * PRICES.dynamodbReadRequestUnitPerMillionUsd,
    seenWrites:
      ((spec.partitions * seenWritesPerPartitionPerMonth * wruPerSeenWrite) / 1e6) *
      PRICES.dynamodbWriteRequestUnitPerMillionUsd,
  };
  return {
    name: `${spec.sensors.toLocaleString('en-US')} sensors on ${spec.partitions} partitions, silenceSeconds ${spec.silenceSeconds}`,
    sensors: spec.sensors,
    partitions: spec.partitions,
    silenceSeconds: spec.silenceSeconds,
    checkMinutes: spec.checkMinutes,
    seenItemBytes: writes.largestItemBytes,
    wruPerSeenWrite: round(wruPerSeenWrite, 2),
    seenWritesPerPartitionPerMonth: Math.round(seenWritesPerPartitionPerMonth),
    checkRequests: last.requests,
    checkRru,
    checkCpuMs: round(checkCpuMs, 1),
    checkLambdaSeconds: round(checkLambdaSeconds, 3),
    checksPerMonth: Math.round(checksPerMonth),
    episodeWru: seenWru,
    monthlyUsd: {
      checkInvocations: round(usd.checkInvocations, 4),
      checkDuration: round(usd.checkDuration, 4),
      checkReads: round(usd.checkReads, 4),
      seenWrites: round(usd.seenWrites, 4),
      total: round(usd.checkInvocations + usd.checkDuration + usd.checkReads + usd.seenWrites, 4),
    },
  };
}

const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:bench-silence';

function sumKinds(byKind: Record<string, number>): number {
  return Object.values(byKind).reduce((x, y) => x + y, 0);
}
