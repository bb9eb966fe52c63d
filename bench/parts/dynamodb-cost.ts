import { DEFAULT_DETECTION } from '../../functions/config.ts';
import {
  type CostPerMillion,
  costPerMillionReadings,
  LAMBDA_ASSUMPTIONS,
  lambdaBatchSeconds,
} from '../lib/cost-model.ts';
import type { MeterTotals } from '../lib/dynamodb-meter.ts';
import { cutLikeEventSourceMapping, DEPLOY_BATCHING } from '../lib/event-source-batching.ts';
import { round } from '../lib/stats.ts';
import { BENCH_PARTITIONS, BENCH_T0_MS, sensorRecords, toMskEvent } from '../workload.ts';
import {
  type BenchEnv,
  freshConfig,
  measureNaive,
  quietHandler,
  sensorSample,
  sumKinds,
} from './dynamodb-bench-env.ts';

/**
 * The cost of a sustained stream: readings cut into batches as the event source mapping cuts
 * them, at the deploy defaults and the earlier ones, through the real handler, priced per
 * million readings at on-demand prices beside the naive design's.
 */

/** Seconds of each cost stream processed before metering starts. */
const WARMUP_SECONDS = 10;
/** A sustained stream: its rate, its fleet, its length and how the mapping batches it. */
interface StreamSettings {
  readonly name: string;
  readonly hz: number;
  readonly sensors: number;
  readonly seconds: number;
  readonly batchSize: number;
  readonly batchingWindowMs: number;
}

export interface CostScenario extends StreamSettings {
  readonly readings: number;
  readonly batches: number;
  readonly readingsPerSensorPerBatch: number;
  readonly ours: {
    readonly wruPerReading: number;
    readonly rruPerReading: number;
    readonly bucketWritesPerReading: number;
    readonly writesPerReading: number;
    readonly cpuMsPerBatch: number;
    readonly lambdaSecondsPerBatch: number;
    readonly costPerMillion: CostPerMillion;
  };
  readonly naive: {
    readonly wruPerReading: number;
    readonly rruPerReading: number;
    readonly lambdaSecondsPerBatch: number;
    readonly costPerMillion: CostPerMillion;
  };
  /** Naive cost ÷ ours. */
  readonly costRatio: number;
}

interface ScenarioSpec extends StreamSettings {
  readonly unkeyed?: boolean;
}

export function costScenarioSpecs(quick: boolean): ScenarioSpec[] {
  const seconds = quick ? 12 : 30;
  const d = DEPLOY_BATCHING;
  const defaults = `batch ≤ ${d.batchSize.toLocaleString('en-US')} / ${d.batchingWindowMs / 1000} s window (deploy defaults)`;
  return [
    { name: `1 Hz sensors, ${defaults}`, hz: 1, sensors: 500, seconds, ...d },
    { name: `10 Hz sensors, ${defaults}`, hz: 10, sensors: 50, seconds, ...d },
    {
      name: `1 Hz sensors, ${defaults}, 5,000 sensors`,
      hz: 1,
      sensors: 5000,
      seconds: quick ? 8 : 20,
      ...d,
    },
    {
      name: '1 Hz sensors, batch ≤ 500 / 1 s window (the earlier defaults)',
      hz: 1,
      sensors: 500,
      seconds,
      batchSize: 500,
      batchingWindowMs: 1000,
    },
    {
      name: '10 Hz sensors, batch ≤ 500 / 1 s window (the earlier defaults)',
      hz: 10,
      sensors: 50,
      seconds,
      batchSize: 500,
      batchingWindowMs: 1000,
    },
  ];
}

/**
 * A sustained stream cut into batches as the event source mapping cuts it (a batch closes
 * at batchSize records or when its window has passed since its first record), every batch
 * through the real handler against dynalite.
 */
export async function measureScenario(
  spec: ScenarioSpec,
  env: BenchEnv,
  naiveRecords: number,
): Promise<CostScenario> {
  const records = sensorRecords({
    name: spec.name,
    sensors: spec.sensors,
    readingsPerSensor: spec.hz * (spec.seconds + WARMUP_SECONDS),
    intervalMs: 1000 / spec.hz,
    format: 'csv',
    anomalyEvery: 10_000,
    ...(spec.unkeyed ? { unkeyed: true } : {}),
  });
  // Unkeyed, each partition's batches go to their own invocation, so a sensor's home shards
  // are written by several: that is what an unkeyed producer costs.
  const all = spec.unkeyed
    ? Array.from({ length: BENCH_PARTITIONS }, (_, p) =>
        cutLikeEventSourceMapping(
          records.filter((r) => r.partition === p),
          spec.batchSize,
          spec.batchingWindowMs,
        ),
      )
        .flat()
        .sort((a, b) => (a[0]?.timestampMs ?? 0) - (b[0]?.timestampMs ?? 0))
    : cutLikeEventSourceMapping(records, spec.batchSize, spec.batchingWindowMs);
  // A deployment's steady state: the first seconds (new sensors' home claims, cold reads of
  // an empty table) are processed but not metered; claims recur twice a day per sensor.
  const warmupEndMs = BENCH_T0_MS + WARMUP_SECONDS * 1000;
  const warmup = all.filter((b) => (b[0]?.timestampMs ?? 0) < warmupEndMs);
  const batches = all.slice(warmup.length);
  const config = await freshConfig(env);
  let clockMs = BENCH_T0_MS;
  const handler = quietHandler(config, env, () => clockMs);
  const a = LAMBDA_ASSUMPTIONS;
  for (const batch of warmup) {
    clockMs = (batch.at(-1)?.timestampMs ?? clockMs) + 100;
    await handler(toMskEvent(batch));
  }
  env.meter.reset();
  let wru = 0;
  let rru = 0;
  let bucketWrites = 0;
  let writes = 0;
  let cpuMs = 0;
  let lambdaSeconds = 0;
  for (const batch of batches) {
    clockMs = (batch.at(-1)?.timestampMs ?? clockMs) + 100;
    const event = toMskEvent(batch);
    const before = env.meter.totals();
    // dynalite runs in another process: this process's CPU is the handler's, AWS SDK included.
    const cpu0 = process.cpuUsage();
    await handler(event);
    const cpu = process.cpuUsage(cpu0);
    const after = env.meter.totals();
    const d = delta(before, after);
    wru += d.wru;
    rru += d.rru;
    bucketWrites += d.bucketWrites;
    writes += d.writes;
    const batchCpuMs = (cpu.user + cpu.system) / 1000;
    cpuMs += batchCpuMs;
    // Per partition, one after another: its page puts (writeConcurrency at a time), then its
    // root write(s); the roots of the payload are read in one BatchGetItem.
    const roundTripMs =
      d.batchGets * a.batchGetRoundTripMs +
      (Math.ceil((d.bucketWrites + d.stateWrites + d.dictWrites) / a.writeConcurrency) +
        d.rootWrites) *
        a.putRoundTripMs;
    lambdaSeconds += lambdaBatchSeconds(batchCpuMs, roundTripMs);
  }
  const n = batches.reduce((sum, b) => sum + b.length, 0);
  const naive = await measureNaive(
    records.filter(sensorSample(spec.sensors, spec.hz * spec.seconds, naiveRecords)),
    env,
    clockMs,
  );
  // The naive design waits for every request of a partition in turn; partitions run in parallel.
  const k = DEFAULT_DETECTION.windowMs / DEFAULT_DETECTION.slideMs;
  const perRecordMs =
    a.updateRoundTripMs +
    (k - 1) * a.getRoundTripMs +
    naive.publishesPerRecord * a.publishRoundTripMs;
  const recordsPerBatch = n / batches.length;
  const naiveLambdaSecondsPerBatch = lambdaBatchSeconds(
    naive.cpuMsPerRecord * recordsPerBatch,
    (recordsPerBatch / BENCH_PARTITIONS) * perRecordMs,
  );
  const gb = a.memoryMb / 1024;
  const oursCost = costPerMillionReadings({
    wru: wru / n,
    rru: rru / n,
    gbSeconds: (lambdaSeconds * gb) / n,
    invocations: batches.length / n,
  });
  const naiveCost = costPerMillionReadings({
    wru: naive.wruPerRecord,
    rru: naive.rruPerRecord,
    gbSeconds: (naiveLambdaSecondsPerBatch * gb * batches.length) / n,
    invocations: batches.length / n,
  });
  return {
    name: spec.name,
    hz: spec.hz,
    sensors: spec.sensors,
    seconds: spec.seconds,
    batchSize: spec.batchSize,
    batchingWindowMs: spec.batchingWindowMs,
    readings: n,
    batches: batches.length,
    readingsPerSensorPerBatch: round(n / batches.length / spec.sensors, 2),
    ours: {
      wruPerReading: round(wru / n, 3),
      rruPerReading: round(rru / n, 3),
      bucketWritesPerReading: round(bucketWrites / n, 3),
      writesPerReading: round(writes / n, 3),
      cpuMsPerBatch: round(cpuMs / batches.length, 2),
      lambdaSecondsPerBatch: round(lambdaSeconds / batches.length, 3),
      costPerMillion: oursCost,
    },
    naive: {
      wruPerReading: naive.wruPerRecord,
      rruPerReading: naive.rruPerRecord,
      lambdaSecondsPerBatch: round(naiveLambdaSecondsPerBatch, 3),
      costPerMillion: naiveCost,
    },
    costRatio: round(naiveCost.totalUsd / oursCost.totalUsd, 2),
  };
}

function delta(before: MeterTotals, after: MeterTotals) {
  const kinds = (t: MeterTotals) => t.writesByKind;
  return {
    wru: sumKinds(after.wruByKind) - sumKinds(before.wruByKind),
    rru: after.rru - before.rru,
    batchGets:
      (after.requests.BatchGetItemCommand ?? 0) - (before.requests.BatchGetItemCommand ?? 0),
    bucketWrites: kinds(after).bucket - kinds(before).bucket,
    stateWrites: kinds(after).state - kinds(before).state,
    rootWrites: kinds(after).root - kinds(before).root,
    dictWrites: kinds(after).dict - kinds(before).dict,
    writes: sumKinds(kinds(after)) - sumKinds(kinds(before)),
  };
}
