import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DEFAULT_DETECTION, type DetectorConfig } from '../../functions/config.ts';
import { createHandler } from '../../functions/detector/create-handler.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/telemetry-names.ts';
import { localDynamoDbClient, localSnsClient } from '../../local/embedded/clients.ts';
import { ensureTable } from '../../local/embedded/dynamodb.ts';
import { startSnsEndpoint } from '../../local/embedded/sns-endpoint.ts';
import {
  costPerMillionReadings,
  LAMBDA_ASSUMPTIONS,
  lambdaBatchSeconds,
  PRICES,
} from '../lib/cost-model.ts';
import { startDynaliteProcess } from '../lib/dynalite-process.ts';
import { DynamoDbMeter, type MeterTotals } from '../lib/dynamodb-meter.ts';
import { cutLikeEventSourceMapping, DEPLOY_BATCHING } from '../lib/event-source-batching.ts';
import { round } from '../lib/stats.ts';
import { BENCH_T0_MS, sensorRecords, toMskEvent } from '../workload.ts';

export interface WindowCloseOptions {
  readonly quick: boolean;
}

export interface WindowCloseRow {
  readonly stream: string;
  readonly evaluation: 'arrival' | 'window-close';
  readonly readings: number;
  readonly batches: number;
  /** Per reading. */
  readonly wru: number;
  readonly rru: number;
  /** WRU per reading of items other than roots, dictionary, bucket and state pages: open pages (window-close), index pages, the open-partition list. */
  readonly otherItemWru: number;
  /** Bytes of those items written per reading. */
  readonly otherItemBytesPerReading: number;
  readonly largestItemBytes: number;
  readonly cpuMsPerReading: number;
  readonly usdPerMillion: {
    readonly dynamodbWrites: number;
    readonly dynamodbReads: number;
    readonly lambda: number;
    readonly total: number;
  };
}

export interface WindowCloseResult {
  readonly rows: readonly WindowCloseRow[];
  readonly note: string;
}

const WARMUP_SECONDS = 10;
let tables = 0;

/**
 * What window-close evaluation costs beside arrival judging (docs/bench.md, "Window-close
 * evaluation"): the real handler against dynalite in its own process, metered as DynamoDB
 * bills, on the same streams cut as the deploy defaults' event source mapping cuts them, after
 * an unmetered warm-up.
 */
export async function runWindowClose(options: WindowCloseOptions): Promise<WindowCloseResult> {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const dynamo = await startDynaliteProcess();
  const sns = await startSnsEndpoint();
  const dynamodb = localDynamoDbClient(dynamo.endpoint);
  const snsClient = localSnsClient(sns.endpoint);
  const meter = new DynamoDbMeter();
  meter.attach(dynamodb);
  const seconds = options.quick ? 20 : 30;
  try {
    const rows: WindowCloseRow[] = [];
    for (const stream of [
      { name: '500 sensors at 1 Hz', sensors: 500, hz: 1 },
      { name: '50 sensors at 10 Hz', sensors: 50, hz: 10 },
    ]) {
      for (const evaluation of ['arrival', 'window-close'] as const) {
        tables += 1;
        const config: DetectorConfig = {
          ...DEFAULT_DETECTION,
          tableName: `bench-wc-${process.pid}-${tables}`,
          topicArn: 'arn:aws:sns:us-east-1:000000000000:bench',
          ...(evaluation === 'window-close'
            ? { evaluation, allowedLatenessMs: 2000, flinkFormat: 'python' as const }
            : {}),
        };
        await ensureTable(dynamodb, config.tableName);
        rows.push(await measure(stream, evaluation, seconds, config, dynamodb, snsClient, meter));
      }
    }
    return {
      rows,
      note:
        `Streams of ${seconds} s after ${WARMUP_SECONDS} s of unmetered warm-up, one anomaly in 10,000 readings, ` +
        `batches as the deploy defaults cut them (${DEPLOY_BATCHING.batchSize} records or ${DEPLOY_BATCHING.batchingWindowMs / 1000} s). ` +
        'Other items: open pages (the held readings, window-close only), index pages and the open-partition list; window-close also writes the bucket pages arrival writes. ' +
        'Lambda: CPU time of this process stretched to 1,024 MB plus assumed round trips; the scheduled flush is not counted (it writes nothing while partitions are busy).',
    };
  } finally {
    dynamodb.destroy();
    snsClient.destroy();
    await sns.close();
    await dynamo.stop();
  }
}

async function measure(
  stream: { name: string; sensors: number; hz: number },
  evaluation: 'arrival' | 'window-close',
  seconds: number,
  config: DetectorConfig,
  dynamodb: ReturnType<typeof localDynamoDbClient>,
  sns: ReturnType<typeof localSnsClient>,
  meter: DynamoDbMeter,
): Promise<WindowCloseRow> {
  const records = sensorRecords({
    name: stream.name,
    sensors: stream.sensors,
    readingsPerSensor: stream.hz * (seconds + WARMUP_SECONDS),
    intervalMs: 1000 / stream.hz,
    format: 'csv',
    anomalyEvery: 10_000,
  });
  const all = cutLikeEventSourceMapping(
    records,
    DEPLOY_BATCHING.batchSize,
    DEPLOY_BATCHING.batchingWindowMs,
  );
  const warmupEndMs = BENCH_T0_MS + WARMUP_SECONDS * 1000;
  const warmup = all.filter((b) => (b[0]?.timestampMs ?? 0) < warmupEndMs);
  const batches = all.slice(warmup.length);
  let clockMs = BENCH_T0_MS;
  const logger = new Logger({ serviceName: SERVICE_NAME, logLevel: 'SILENT' });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME, logger });
  const handler = createHandler({ config, dynamodb, sns, clock: () => clockMs, logger, metrics });
  for (const batch of warmup) {
    clockMs = (batch.at(-1)?.timestampMs ?? clockMs) + 100;
    await handler(toMskEvent(batch));
  }
  meter.reset();
  let cpuMs = 0;
  let lambdaSeconds = 0;
  const a = LAMBDA_ASSUMPTIONS;
  for (const batch of batches) {
    clockMs = (batch.at(-1)?.timestampMs ?? clockMs) + 100;
    const before = meter.totals();
    const cpu0 = process.cpuUsage();
    await handler(toMskEvent(batch));
    const cpu = process.cpuUsage(cpu0);
    const after = meter.totals();
    const batchCpuMs = (cpu.user + cpu.system) / 1000;
    cpuMs += batchCpuMs;
    const puts = writes(after) - writes(before);
    const gets =
      (after.requests.BatchGetItemCommand ?? 0) - (before.requests.BatchGetItemCommand ?? 0);
    lambdaSeconds += lambdaBatchSeconds(
      batchCpuMs,
      gets * a.batchGetRoundTripMs +
        Math.ceil(puts / a.writeConcurrency) * a.putRoundTripMs +
        a.putRoundTripMs,
    );
  }
  const t = meter.totals();
  const n = batches.reduce((s, b) => s + b.length, 0);
  const wru = Object.values(t.wruByKind).reduce((s, x) => s + x, 0);
  // Open pages are `page#…#o…` items: the meter files them under 'other' (with the list item).
  const openWru = t.wruByKind.other;
  const cost = costPerMillionReadings({
    wru: wru / n,
    rru: t.rru / n,
    gbSeconds: (lambdaSeconds * a.memoryMb) / 1024 / n,
    invocations: batches.length / n,
  });
  return {
    stream: stream.name,
    evaluation,
    readings: n,
    batches: batches.length,
    wru: round(wru / n, 4),
    rru: round(t.rru / n, 4),
    otherItemWru: round(openWru / n, 4),
    otherItemBytesPerReading: round(t.bytesWrittenByKind.other / n, 1),
    largestItemBytes: t.largestItemBytes,
    cpuMsPerReading: round(cpuMs / n, 4),
    usdPerMillion: {
      dynamodbWrites: round(cost.dynamodbWritesUsd, 4),
      dynamodbReads: round(cost.dynamodbReadsUsd, 4),
      lambda: round(cost.lambdaUsd, 4),
      total: round(cost.totalUsd, 4),
    },
  };
}

function writes(t: MeterTotals): number {
  return (t.requests.PutItemCommand ?? 0) + (t.requests.UpdateItemCommand ?? 0);
}

export { PRICES };
