import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DEFAULT_DETECTION, type DetectorConfig } from '../../functions/config.ts';
import type { DetectorSpec } from '../../functions/core/detectors.ts';
import { parseReading } from '../../functions/core/parse-reading.ts';
import type { RawRecord } from '../../functions/core/types.ts';
import { createHandler, type DetectorHandler } from '../../functions/detector/create-handler.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/telemetry-names.ts';
import type { localDynamoDbClient, localSnsClient } from '../../local/embedded/clients.ts';
import { ensureTable } from '../../local/embedded/dynamodb.ts';
import type { DynamoDbMeter, SnsMeter } from '../lib/dynamodb-meter.ts';
import { runNaive } from '../lib/naive-baseline.ts';
import { round } from '../lib/stats.ts';

/**
 * What the DynamoDB part's measurements share: metered clients of one dynalite and one SNS
 * endpoint, a fresh table per measurement, the real handler with its telemetry silenced, and
 * the naive per-record baseline that every figure is compared with.
 */

const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:bench-alerts';
let tableCount = 0;

/** The metered clients of the part's dynalite and SNS endpoint. */
export interface BenchEnv {
  readonly dynamodb: ReturnType<typeof localDynamoDbClient>;
  readonly sns: ReturnType<typeof localSnsClient>;
  readonly meter: DynamoDbMeter;
  readonly snsMeter: SnsMeter;
}

export async function freshConfig(env: BenchEnv, detector?: DetectorSpec): Promise<DetectorConfig> {
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

export function quietHandler(
  config: DetectorConfig,
  env: BenchEnv,
  clock: () => number,
): DetectorHandler {
  const logger = new Logger({ serviceName: SERVICE_NAME, logLevel: 'SILENT' });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME, logger });
  return createHandler({ config, dynamodb: env.dynamodb, sns: env.sns, clock, logger, metrics });
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

/**
 * The baseline on a sample of whole sensors (every reading of every n-th sensor), its table
 * primed with those sensors' earlier readings like ours: per-record figures, anomalies and
 * publishes included, then hold for the whole batch.
 */
export async function measureNaive(
  records: readonly RawRecord[],
  env: BenchEnv,
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
export function sensorSample(
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

/** The sum of a meter's per-kind counts. */
export function sumKinds(byKind: Record<string, number>): number {
  return Object.values(byKind).reduce((a, b) => a + b, 0);
}
