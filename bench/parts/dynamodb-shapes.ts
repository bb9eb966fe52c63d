import { DEFAULT_DETECTION } from '../../functions/config.ts';
import { type DetectorSpec, EWMA_DEFAULTS } from '../../functions/core/detectors.ts';
import { parseReading } from '../../functions/core/parse-reading.ts';
import type { RawRecord } from '../../functions/core/types.ts';
import { bucketStartMs } from '../../functions/core/windows.ts';
import { round } from '../lib/stats.ts';
import { type BatchShape, sensorRecords, toMskEvent } from '../workload.ts';
import {
  type BenchEnv,
  freshConfig,
  measureNaive,
  type NaiveFigures,
  quietHandler,
  sensorSample,
  sumKinds,
} from './dynamodb-bench-env.ts';

/**
 * One batch of each shape (many sensors or many readings, out of order, a storm, another
 * detector) through the real handler, metered: the requests, units and item sizes a batch
 * costs against the fewest any design must write, and the naive baseline's for the same batch.
 */

/** "Far below" DynamoDB's 400 KB item limit: a quarter of it. */
export const LARGEST_ITEM_LIMIT_BYTES = 100 * 1024;

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

/** The batch shapes measured, in the report's order. */
export function batchShapes(): { batch: BatchShape; detector?: DetectorSpec }[] {
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

export async function measureShape(
  shape: BatchShape,
  detector: DetectorSpec | undefined,
  env: BenchEnv,
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
