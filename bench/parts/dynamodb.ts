import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DEFAULT_DETECTION, type DetectorConfig } from '../../functions/config.ts';
import { type DetectorSpec, EWMA_DEFAULTS } from '../../functions/core/detectors.ts';
import { parseReading } from '../../functions/core/parse-reading.ts';
import type { RawRecord } from '../../functions/core/types.ts';
import { bucketStartMs } from '../../functions/core/windows.ts';
import { createHandler, type DetectorHandler } from '../../functions/detector/create-handler.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/telemetry-names.ts';
import { CONTEXT_DEFAULTS } from '../../infra/config.ts';
import { localDynamoDbClient, localSnsClient } from '../../local/embedded/clients.ts';
import { ensureTable } from '../../local/embedded/dynamodb.ts';
import { startSnsEndpoint } from '../../local/embedded/sns-endpoint.ts';
import {
  type CostPerMillion,
  costPerMillionReadings,
  FLINK_ASSUMPTIONS,
  flinkMonthlyUsd,
  LAMBDA_ASSUMPTIONS,
  lambdaBatchSeconds,
  PRICES,
  SECONDS_PER_MONTH,
} from '../lib/cost-model.ts';
import { startDynaliteProcess } from '../lib/dynalite-process.ts';
import { DynamoDbMeter, type MeterTotals, SnsMeter } from '../lib/dynamodb-meter.ts';
import { runNaive } from '../lib/naive-baseline.ts';
import { round } from '../lib/stats.ts';
import {
  type BatchShape,
  BENCH_PARTITIONS,
  BENCH_T0_MS,
  sensorRecords,
  toMskEvent,
} from '../workload.ts';

export interface DynamoDbOptions {
  readonly quick: boolean;
}

export interface NaiveFigures {
  /** Records the baseline actually ran (every reading of a sample of sensors); per-record figures scale to the batch. */
  readonly measuredRecords: number;
  readonly writeRequestsPerRecord: number;
  readonly readRequestsPerRecord: number;
  readonly publishesPerRecord: number;
  readonly wruPerRecord: number;
  readonly rruPerRecord: number;
  readonly anomalies: number;
  /** CPU of this process (AWS SDK and HTTP included) per record. */
  readonly cpuMsPerRecord: number;
}

export interface ShapeResult {
  readonly name: string;
  readonly detector: string;
  readonly records: number;
  readonly sensors: number;
  /** Distinct (sensor, bucket) pairs the batch's readings fall in, counted here from the records. */
  readonly pairs: number;
  readonly bucketWrites: number;
  readonly bucketWritesPerPair: number;
  /** Root writes: one commit per partition, one more when its outbox was delivered. */
  readonly rootWrites: number;
  /** Dictionary pages written (new sensors). */
  readonly dictWrites: number;
  readonly failedConditionalWrites: number;
  readonly stateWrites: number;
  readonly totalWrites: number;
  readonly totalWritesPerPair: number;
  readonly keysRequested: number;
  readonly batchGetCalls: number;
  /** ceil(keys / 100): the fewest BatchGetItem calls that can ask for those keys. */
  readonly batchGetLimit: number;
  readonly wru: number;
  readonly rru: number;
  readonly largestItemBytes: number;
  readonly anomalies: number;
  readonly notificationsSent: number;
  readonly snsCalls: Record<string, number>;
  readonly handlerMs: number;
  /** CPU time of the handler's process for the batch: use case, adapters, AWS SDK, HTTP (dynalite runs elsewhere). */
  readonly handlerCpuMs: number;
  /** That CPU time per DynamoDB request. */
  readonly cpuMsPerRequest: number;
  readonly naive: NaiveFigures;
  /** Naive ÷ ours for the same batch. */
  readonly ratios: {
    readonly writeRequests: number;
    readonly readRequests: number;
    readonly wru: number;
    readonly rru: number;
  };
  readonly meetsLimits: boolean;
}

export interface CostScenario {
  readonly name: string;
  readonly hz: number;
  readonly sensors: number;
  readonly seconds: number;
  readonly batchSize: number;
  readonly batchingWindowMs: number;
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

export interface FleetCost {
  readonly sensors: number;
  readonly hz: number;
  readonly readingsPerSecond: number;
  readonly oursMonthlyUsd: number;
  readonly naiveMonthlyUsd: number;
  readonly flinkKpus: number;
  readonly flinkMonthlyUsd: number;
}

export interface FleetTable {
  readonly rows: readonly FleetCost[];
  /** Per sensor rate: the fleet rate (readings/s) above which Managed Flink costs less. */
  readonly crossoverReadingsPerSecond: Readonly<Record<string, number>>;
  readonly flink: typeof FLINK_ASSUMPTIONS;
}

export interface DynamoDbResult {
  readonly shapes: readonly ShapeResult[];
  readonly costScenarios: readonly CostScenario[];
  readonly fleet: FleetTable;
  readonly prices: typeof PRICES;
  readonly lambdaAssumptions: typeof LAMBDA_ASSUMPTIONS;
  readonly note: string;
}

const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:bench-alerts';
/** Seconds of each cost stream processed before metering starts. */
const WARMUP_SECONDS = 10;
/** "Far below" DynamoDB's 400 KB item limit: a quarter of it. */
export const LARGEST_ITEM_LIMIT_BYTES = 100 * 1024;
/** The event source mapping's defaults as the CDK app deploys them (infra/config.ts). */
export const DEPLOY_BATCHING = {
  batchSize: CONTEXT_DEFAULTS.batchSize,
  batchingWindowMs: CONTEXT_DEFAULTS.batchingWindowSeconds * 1000,
} as const;
let tableCount = 0;

/**
 * DynamoDB requests and request units of the real handler (createHandler, the DynamoDB and
 * SNS adapters) against dynalite, per batch shape, beside a naive per-record design; then
 * the cost of a sustained stream at on-demand prices.
 */
export async function runDynamoDb(options: DynamoDbOptions): Promise<DynamoDbResult> {
  // Quiet telemetry: the bench measures requests, not log volume (Powertools reads this at construction).
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  // dynalite in its own process: this process's CPU is then the handler's alone (SDK included).
  const dynamo = await startDynaliteProcess();
  const sns = await startSnsEndpoint();
  // The SDK's default retries: a keep-alive socket that the local server closes just as it is
  // reused fails with ECONNRESET now and then. The meter counts commands, not attempts, so a
  // retried request is counted once, as DynamoDB bills it (the failed attempt never arrived).
  const dynamodb = localDynamoDbClient(dynamo.endpoint);
  const snsClient = localSnsClient(sns.endpoint);
  const meter = new DynamoDbMeter();
  const snsMeter = new SnsMeter();
  meter.attach(dynamodb);
  snsMeter.attach(snsClient);
  const env = { dynamodb, sns: snsClient, meter, snsMeter };
  try {
    const naiveRecords = options.quick ? 300 : 1000;
    const shapes: ShapeResult[] = [];
    for (const shape of batchShapes()) {
      shapes.push(await measureShape(shape.batch, shape.detector, env, naiveRecords));
    }
    const costScenarios: CostScenario[] = [];
    for (const scenario of costScenarioSpecs(options.quick)) {
      costScenarios.push(await measureScenario(scenario, env, naiveRecords));
    }
    return {
      shapes,
      costScenarios,
      fleet: fleetTable(costScenarios),
      prices: PRICES,
      lambdaAssumptions: LAMBDA_ASSUMPTIONS,
      note:
        'Each shape: the batch before it is processed first (unmetered), so the metered batch finds ' +
        'the table as a running deployment would. The naive baseline runs every reading of a sample of ' +
        `the sensors (about ${naiveRecords.toLocaleString('en-US')} records, primed the same way); its per-record figures scale to the batch. ` +
        'dynalite runs in its own process, so the CPU figures are the handler process alone (AWS SDK included).',
    };
  } finally {
    dynamodb.destroy();
    snsClient.destroy();
    await sns.close();
    await dynamo.stop();
  }
}

interface Env {
  readonly dynamodb: ReturnType<typeof localDynamoDbClient>;
  readonly sns: ReturnType<typeof localSnsClient>;
  readonly meter: DynamoDbMeter;
  readonly snsMeter: SnsMeter;
}

function batchShapes(): { batch: BatchShape; detector?: DetectorSpec }[] {
  return [
    {
      batch: {
        name: 'many sensors, few readings (5,000 × 2, 1 Hz)',
        sensors: 5000,
        readingsPerSensor: 2,
        intervalMs: 1000,
        format: 'csv',
        anomalyEvery: 2000,
      },
    },
    {
      batch: {
        name: '1,000 sensors × 10 readings (1 Hz)',
        sensors: 1000,
        readingsPerSensor: 10,
        intervalMs: 1000,
        format: 'json',
        anomalyEvery: 2000,
      },
    },
    {
      batch: {
        name: 'few sensors, many readings (10 × 1,000, 10 Hz)',
        sensors: 10,
        readingsPerSensor: 1000,
        intervalMs: 100,
        format: 'csv',
        anomalyEvery: 2000,
      },
    },
    {
      batch: {
        name: 'out of order (100 × 100, 1 Hz, shuffled)',
        sensors: 100,
        readingsPerSensor: 100,
        intervalMs: 1000,
        format: 'csv',
        outOfOrder: true,
        anomalyEvery: 2000,
      },
    },
    {
      batch: {
        name: 'anomaly storm (1,000 × 10, 1 in 20 anomalous)',
        sensors: 1000,
        readingsPerSensor: 10,
        intervalMs: 1000,
        format: 'csv',
        anomalyEvery: 20,
      },
    },
    {
      batch: {
        name: '1,000 sensors × 10 readings, ewma detector',
        sensors: 1000,
        readingsPerSensor: 10,
        intervalMs: 1000,
        format: 'csv',
        anomalyEvery: 2000,
      },
      detector: { kind: 'ewma', ...EWMA_DEFAULTS },
    },
  ];
}

async function freshConfig(env: Env, detector?: DetectorSpec): Promise<DetectorConfig> {
  tableCount += 1;
  const config: DetectorConfig = {
    ...DEFAULT_DETECTION,
    ...(detector === undefined ? {} : { defaultDetector: detector }),
    tableName: `bench-${process.pid}-${tableCount}`,
    topicArn: TOPIC_ARN,
  };
  await ensureTable(env.dynamodb, config.tableName);
  return config;
}

function quietHandler(config: DetectorConfig, env: Env, clock: () => number): DetectorHandler {
  const logger = new Logger({ serviceName: SERVICE_NAME, logLevel: 'SILENT' });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME, logger });
  return createHandler({ config, dynamodb: env.dynamodb, sns: env.sns, clock, logger, metrics });
}

async function measureShape(
  shape: BatchShape,
  detector: DetectorSpec | undefined,
  env: Env,
  naiveRecords: number,
): Promise<ShapeResult> {
  // Twice the readings: the first half primes the table, the second is the metered batch.
  const all = sensorRecords({ ...shape, readingsPerSensor: 2 * shape.readingsPerSensor });
  const half = shape.sensors * shape.readingsPerSensor;
  const prime = all.slice(0, half);
  const batch = all.slice(half);
  const config = await freshConfig(env, detector);
  const lastTs = Math.max(...all.map((r) => r.timestampMs));
  const handler = quietHandler(config, env, () => lastTs + 1000);

  env.meter.enabled = false;
  env.snsMeter.enabled = false;
  await handler(toMskEvent(prime));
  env.meter.reset();
  env.snsMeter.reset();
  env.meter.enabled = true;
  env.snsMeter.enabled = true;
  const event = toMskEvent(batch);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const report = await handler(event);
  const cpu = process.cpuUsage(cpu0);
  const handlerMs = performance.now() - t0;
  const handlerCpuMs = (cpu.user + cpu.system) / 1000;
  const ours = env.meter.totals();
  const snsCalls = { ...env.snsMeter.calls };

  const sample = sensorSample(shape.sensors, shape.readingsPerSensor, naiveRecords);
  const naive = await measureNaive(batch.filter(sample), env, lastTs + 1000, prime.filter(sample));
  const pairs = pairsTouched(batch);
  const w = ours.writesByKind;
  const totalWrites = w.root + w.dict + w.bucket + w.state + w.other;
  const reads = ours.requests.BatchGetItemCommand ?? 0;
  const batchGetLimit = Math.ceil(ours.keysRequested / 100);
  const naiveWrites = naive.writeRequestsPerRecord * batch.length;
  const naiveReads = naive.readRequestsPerRecord * batch.length;
  return {
    name: shape.name,
    detector: (detector ?? DEFAULT_DETECTION.defaultDetector).kind,
    records: batch.length,
    sensors: shape.sensors,
    pairs,
    bucketWrites: w.bucket,
    bucketWritesPerPair: round(w.bucket / pairs, 3),
    rootWrites: w.root,
    dictWrites: w.dict,
    failedConditionalWrites: ours.failedConditionalWrites,
    stateWrites: w.state,
    totalWrites,
    totalWritesPerPair: round(totalWrites / pairs, 3),
    keysRequested: ours.keysRequested,
    batchGetCalls: reads,
    batchGetLimit,
    wru: sumKinds(ours.wruByKind),
    rru: ours.rru,
    largestItemBytes: ours.largestItemBytes,
    anomalies: report.anomalies,
    notificationsSent: report.notificationsSent,
    snsCalls,
    handlerMs: Math.round(handlerMs),
    handlerCpuMs: Math.round(handlerCpuMs),
    cpuMsPerRequest: round(
      handlerCpuMs / Object.values(ours.requests).reduce((a, b) => a + b, 0),
      3,
    ),
    naive,
    ratios: {
      writeRequests: round(naiveWrites / totalWrites, 2),
      readRequests: round(naiveReads / Math.max(1, reads), 1),
      wru: round((naive.wruPerRecord * batch.length) / sumKinds(ours.wruByKind), 2),
      rru: round((naive.rruPerRecord * batch.length) / Math.max(1, ours.rru), 2),
    },
    // Packed: far fewer bucket items than pairs, and every item far below DynamoDB's 400 KB.
    // (A storm committed in pieces reads once per piece; each read is ceil(keys / 100) calls.)
    meetsLimits: w.bucket <= pairs && ours.largestItemBytes <= LARGEST_ITEM_LIMIT_BYTES,
  };
}

/**
 * The baseline on a sample of whole sensors (every reading of every n-th sensor), its table
 * primed with those sensors' earlier readings like ours: per-record figures, anomalies and
 * publishes included, then hold for the whole batch.
 */
async function measureNaive(
  records: readonly RawRecord[],
  env: Env,
  nowMs: number,
  prime: readonly RawRecord[] = [],
): Promise<NaiveFigures> {
  const config = await freshConfig(env);
  const clients = { dynamodb: env.dynamodb, sns: env.sns };
  env.meter.enabled = false;
  env.snsMeter.enabled = false;
  await runNaive(prime, config, clients, nowMs);
  env.meter.enabled = true;
  env.snsMeter.enabled = true;
  env.meter.reset();
  env.snsMeter.reset();
  const cpu0 = process.cpuUsage();
  const { anomalies } = await runNaive(records, config, clients, nowMs);
  const cpu = process.cpuUsage(cpu0);
  const t = env.meter.totals();
  const n = records.length;
  return {
    measuredRecords: n,
    writeRequestsPerRecord: round(
      ((t.requests.UpdateItemCommand ?? 0) + (t.requests.PutItemCommand ?? 0)) / n,
      3,
    ),
    readRequestsPerRecord: round(
      ((t.requests.GetItemCommand ?? 0) + (t.requests.BatchGetItemCommand ?? 0)) / n,
      3,
    ),
    publishesPerRecord: round(env.snsMeter.messages / n, 4),
    wruPerRecord: round(sumKinds(t.wruByKind) / n, 3),
    rruPerRecord: round(t.rru / n, 3),
    anomalies,
    cpuMsPerRecord: round((cpu.user + cpu.system) / 1000 / n, 3),
  };
}

/** Keeps the records of every n-th sensor, about `records` of them in all (keys are sensor ids). */
function sensorSample(
  sensors: number,
  readingsPerSensor: number,
  records: number,
): (r: RawRecord) => boolean {
  const wanted = Math.max(1, Math.floor(records / readingsPerSensor));
  const every = Math.max(1, Math.ceil(sensors / wanted));
  const ids = new Set<string>();
  for (let s = 0; s < sensors; s += every) ids.add(`sensor_${s}`);
  return (r) => {
    const p = parseReading(r);
    return p.ok && ids.has(p.reading.sensorId);
  };
}

/** Distinct (sensor, bucket) pairs of a batch's valid readings: the least any design must write. */
function pairsTouched(records: readonly RawRecord[]): number {
  const pairs = new Set<string>();
  for (const r of records) {
    const p = parseReading(r);
    if (p.ok)
      pairs.add(
        `${p.reading.sensorId}\u0000${bucketStartMs(p.reading.eventTimeMs, DEFAULT_DETECTION)}`,
      );
  }
  return pairs.size;
}

function sumKinds(byKind: Record<string, number>): number {
  return Object.values(byKind).reduce((a, b) => a + b, 0);
}

interface ScenarioSpec {
  readonly name: string;
  readonly hz: number;
  readonly sensors: number;
  readonly seconds: number;
  readonly batchSize: number;
  readonly batchingWindowMs: number;
  readonly unkeyed?: boolean;
}

function costScenarioSpecs(quick: boolean): ScenarioSpec[] {
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
async function measureScenario(
  spec: ScenarioSpec,
  env: Env,
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

/** Batches as Lambda's event source mapping forms them: up to batchSize records, closed when the window ends. */
export function cutLikeEventSourceMapping(
  records: readonly RawRecord[],
  batchSize: number,
  windowMs: number,
): RawRecord[][] {
  const byTime = [...records].sort((a, b) => a.timestampMs - b.timestampMs);
  const batches: RawRecord[][] = [];
  let current: RawRecord[] = [];
  let openedMs = 0;
  for (const r of byTime) {
    if (
      current.length > 0 &&
      (current.length >= batchSize || r.timestampMs >= openedMs + windowMs)
    ) {
      batches.push(current);
      current = [];
    }
    if (current.length === 0) openedMs = r.timestampMs;
    current.push(r);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Monthly cost of fleets at the deploy defaults' measured cost per reading (this design and
 * the naive one) beside Managed Flink's KPU-hours, and the fleet rate at which Flink gets
 * cheaper.
 */
function fleetTable(scenarios: readonly CostScenario[]): FleetTable {
  const rows: FleetCost[] = [];
  const crossover: Record<string, number> = {};
  for (const hz of [1, 10]) {
    const c = scenarios.find(
      (x) => x.hz === hz && x.name.includes('deploy defaults') && !x.name.includes('unkeyed'),
    );
    if (c === undefined) continue;
    const ours = c.ours.costPerMillion.totalUsd / 1e6;
    const naive = c.naive.costPerMillion.totalUsd / 1e6;
    for (const sensors of [1_000, 10_000, 100_000]) {
      const rate = sensors * hz;
      const flink = flinkMonthlyUsd(rate);
      rows.push({
        sensors,
        hz,
        readingsPerSecond: rate,
        oursMonthlyUsd: round(ours * rate * SECONDS_PER_MONTH, 2),
        naiveMonthlyUsd: round(naive * rate * SECONDS_PER_MONTH, 2),
        flinkKpus: flink.kpus,
        flinkMonthlyUsd: round(flink.usd, 2),
      });
    }
    let rate = 1;
    while (rate < 1e8 && flinkMonthlyUsd(rate).usd >= ours * rate * SECONDS_PER_MONTH)
      rate = Math.ceil(rate * 1.01);
    crossover[`${hz} Hz`] = rate;
  }
  return { rows, crossoverReadingsPerSecond: crossover, flink: FLINK_ASSUMPTIONS };
}
