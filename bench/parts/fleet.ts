import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DEFAULT_DETECTION, type DetectorConfig } from '../../functions/config.ts';
import { parseReading } from '../../functions/core/parse-reading.ts';
import type { RawRecord } from '../../functions/core/types.ts';
import { createHandler } from '../../functions/detector/create-handler.ts';
import { recordsFromEvent } from '../../functions/kafka-event.ts';
import { shardOf } from '../../functions/process-batch.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/telemetry-names.ts';
import { localDynamoDbClient, localSnsClient } from '../../local/embedded/clients.ts';
import { ensureTable } from '../../local/embedded/dynamodb.ts';
import { startSnsEndpoint } from '../../local/embedded/sns-endpoint.ts';
import { ALL_IN_PRICES as P } from '../lib/all-in-prices.ts';
import {
  FLINK_ASSUMPTIONS,
  LAMBDA_ASSUMPTIONS,
  lambdaBatchSeconds,
  PRICES,
  SECONDS_PER_MONTH,
} from '../lib/cost-model.ts';
import { startDynaliteProcess } from '../lib/dynalite-process.ts';
import { DynamoDbMeter, SnsMeter } from '../lib/dynamodb-meter.ts';
import { cutLikeEventSourceMapping, DEPLOY_BATCHING } from '../lib/event-source-batching.ts';
import { round } from '../lib/stats.ts';
import { BENCH_T0_MS, BENCH_TOPIC, toMskEvent } from '../workload.ts';

/**
 * The fleet table, measured: for each fleet the real handler runs the records of one poller's
 * share of partitions (PARTITIONS_PER_PAYLOAD, so every payload carries several partitions)
 * against dynalite, cut as the event source mapping cuts them, at the fleet's real item sizes
 * (sensors per partition = fleet ÷ partitions). Partitions share no item (docs/state.md), so
 * the other pollers' partitions cost the same: the per-reading figures hold for the fleet.
 */
const PARTITIONS_PER_PAYLOAD = 4;
const FLEETS = [
  { sensors: 1_000, partitions: 4, hz: 1 },
  { sensors: 10_000, partitions: 16, hz: 1 },
  { sensors: 100_000, partitions: 64, hz: 1 },
  { sensors: 1_000, partitions: 4, hz: 10 },
  { sensors: 10_000, partitions: 16, hz: 10 },
  { sensors: 100_000, partitions: 64, hz: 10 },
] as const;

export interface FleetRowResult {
  readonly sensors: number;
  readonly partitions: number;
  readonly hz: number;
  readonly readingsPerSecond: number;
  readonly measuredReadings: number;
  readonly measuredBatches: number;
  /** Per partition per batch, as measured. */
  readonly readingsPerPartitionPerBatch: number;
  readonly perBatch: {
    readonly partitions: number;
    readonly rootWrites: number;
    readonly pageWrites: number;
    readonly batchGetCalls: number;
    readonly wru: number;
    readonly rru: number;
    readonly failedConditionalWrites: number;
  };
  readonly perReading: {
    readonly wru: number;
    readonly rru: number;
    readonly lambdaGbSeconds: number;
    readonly invocations: number;
    readonly logBytes: number;
    readonly notifications: number;
  };
  readonly largestItemBytes: number;
  readonly customMetrics: number;
  readonly storageGb: number;
  /** Dollars per month, on-demand. */
  readonly monthly: Readonly<Record<string, number>>;
  readonly monthlyOnDemandUsd: number;
  readonly monthlyProvisionedUsd: number;
  readonly perMillionOnDemandUsd: number;
  readonly perMillionProvisionedUsd: number;
  readonly flink5kUsd: number;
  readonly flink10kUsd: number;
  readonly handlerCpuMsPerBatch: number;
}

export interface UnkeyedRow {
  readonly sensors: number;
  readonly hz: number;
  readonly extraInvocationsPerMillion: number;
  readonly extraKafkaBytesPerReading: number;
  readonly extraUsdPerMillion: number;
  readonly perMillionOnDemandUsd: number;
}

export interface FleetResult {
  readonly rows: readonly FleetRowResult[];
  readonly unkeyed: UnkeyedRow;
  readonly note: string;
}

function flinkUsd(rate: number, perKpu: number): number {
  const kpus = Math.max(1, Math.ceil(rate / perKpu)) + FLINK_ASSUMPTIONS.orchestrationKpus;
  return kpus * FLINK_ASSUMPTIONS.kpuHourUsd * 730;
}

/** Readings of the sampled partitions: sensor s on partition shardOf(id, partitions). */
function fleetRecords(
  fleet: (typeof FLEETS)[number],
  seconds: number,
): { records: RawRecord[]; sampledSensors: number } {
  const enc = new TextEncoder();
  const ids: string[] = [];
  for (let s = 0; s < fleet.sensors; s += 1) {
    const id = `sensor_${s}`;
    if (shardOf(id, fleet.partitions) < PARTITIONS_PER_PAYLOAD) ids.push(id);
  }
  const offsets = new Array<number>(PARTITIONS_PER_PAYLOAD).fill(0);
  const records: RawRecord[] = [];
  const step = 1000 / fleet.hz;
  for (let i = 0; i < seconds * fleet.hz; i += 1) {
    const tick: RawRecord[] = [];
    ids.forEach((id, k) => {
      // One reading in 10,000 jumps by 500: an anomaly under the default threshold.
      const spike = (i * 31 + k * 17) % 10_000 === 0 ? 500 : 0;
      const value = Math.round((50 + 10 * Math.sin(k + i) + spike) * 100) / 100;
      tick.push({
        topic: BENCH_TOPIC,
        partition: shardOf(id, fleet.partitions),
        offset: 0,
        timestampMs: Math.floor(BENCH_T0_MS + i * step + ((k * 7) % step)),
        key: enc.encode(id),
        value: enc.encode(`${id},${value}`),
      });
    });
    // Produced in time order: offsets follow the record timestamps within a partition.
    tick.sort((a, b) => a.timestampMs - b.timestampMs);
    for (const r of tick) {
      const offset = offsets[r.partition] ?? 0;
      offsets[r.partition] = offset + 1;
      records.push({ ...r, offset });
    }
  }
  return { records, sampledSensors: ids.length };
}

export async function runFleet(options: { quick: boolean }): Promise<FleetResult> {
  delete process.env.POWERTOOLS_METRICS_DISABLED;
  const dynamo = await startDynaliteProcess();
  const sns = await startSnsEndpoint();
  const dynamodb = localDynamoDbClient(dynamo.endpoint);
  const snsClient = localSnsClient(sns.endpoint);
  const meter = new DynamoDbMeter();
  const snsMeter = new SnsMeter();
  meter.attach(dynamodb);
  snsMeter.attach(snsClient);
  const rows: FleetRowResult[] = [];
  let table = 0;
  try {
    for (const fleet of FLEETS) {
      const rate = fleet.sensors * fleet.hz;
      const sampleRate = (rate * PARTITIONS_PER_PAYLOAD) / fleet.partitions;
      const budget = options.quick ? 20_000 : 60_000;
      const meteredSeconds = Math.max(6, Math.ceil(budget / sampleRate));
      const warmSeconds = 6;
      const { records } = fleetRecords(fleet, warmSeconds + meteredSeconds);
      const batches = cutLikeEventSourceMapping(
        records,
        DEPLOY_BATCHING.batchSize,
        DEPLOY_BATCHING.batchingWindowMs,
      );
      table += 1;
      const config: DetectorConfig = {
        ...DEFAULT_DETECTION,
        tableName: `fleet-${process.pid}-${table}`,
        topicArn: 'arn:aws:sns:us-east-1:000000000000:bench-alerts',
      };
      await ensureTable(dynamodb, config.tableName);
      let clockMs = BENCH_T0_MS;
      const logger = new Logger({ serviceName: SERVICE_NAME, logLevel: 'INFO' });
      const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
      const handler = createHandler({
        config,
        dynamodb,
        sns: snsClient,
        clock: () => clockMs,
        logger,
        metrics,
      });
      // What the function writes to CloudWatch Logs: its stdout and stderr (JSON lines, EMF).
      let logBytes = 0;
      const metricNames = new Set<string>();
      const write = process.stdout.write.bind(process.stdout);
      const writeErr = process.stderr.write.bind(process.stderr);
      const count = ((chunk: string | Uint8Array) => {
        const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        logBytes += Buffer.byteLength(text);
        for (const m of text.matchAll(/"Name":"(\w+)"/g)) metricNames.add(m[1] as string);
        return true;
      }) as typeof process.stdout.write;
      process.stdout.write = count;
      process.stderr.write = count;
      const warmEndMs = BENCH_T0_MS + warmSeconds * 1000;
      let n = 0;
      let metered = 0;
      let cpuMs = 0;
      let lambdaSeconds = 0;
      let partitionBatches = 0;
      let notifications = 0;
      try {
        for (const batch of batches) {
          clockMs = (batch.at(-1)?.timestampMs ?? clockMs) + 100;
          const event = toMskEvent(batch);
          if ((batch[0]?.timestampMs ?? 0) < warmEndMs) {
            await handler(event);
            meter.reset();
            snsMeter.reset();
            logBytes = 0;
            continue;
          }
          const before = meter.totals();
          const cpu0 = process.cpuUsage();
          await handler(event);
          const cpu = process.cpuUsage(cpu0);
          const after = meter.totals();
          const batchCpu = (cpu.user + cpu.system) / 1000;
          cpuMs += batchCpu;
          const roots = after.writesByKind.root - before.writesByKind.root;
          const pages =
            after.writesByKind.bucket +
            after.writesByKind.dict +
            after.writesByKind.state -
            before.writesByKind.bucket -
            before.writesByKind.dict -
            before.writesByKind.state;
          const parts = new Set(batch.map((r) => r.partition)).size;
          partitionBatches += parts;
          const gets =
            (after.requests.BatchGetItemCommand ?? 0) - (before.requests.BatchGetItemCommand ?? 0);
          // Per partition in turn: its pages (writeConcurrency at a time), then its root(s).
          const a = LAMBDA_ASSUMPTIONS;
          const roundTripMs =
            gets * a.batchGetRoundTripMs +
            (Math.ceil(pages / parts / a.writeConcurrency) * parts + roots) * a.putRoundTripMs;
          lambdaSeconds += lambdaBatchSeconds(batchCpu, roundTripMs);
          n += batch.length;
          metered += 1;
        }
      } finally {
        process.stdout.write = write;
        process.stderr.write = writeErr;
      }
      notifications = snsMeter.messages;
      const t = meter.totals();
      const sum = (r: Record<string, number>) => Object.values(r).reduce((x, y) => x + y, 0);
      const wru = sum(t.wruByKind);
      const pagesWritten = t.writesByKind.bucket + t.writesByKind.dict + t.writesByKind.state;
      const perReading = {
        wru: wru / n,
        rru: t.rru / n,
        lambdaGbSeconds: (lambdaSeconds * LAMBDA_ASSUMPTIONS.memoryMb) / 1024 / n,
        invocations: metered / n,
        logBytes: logBytes / n + (P.lambdaPlatformLogBytesPerInvocation * metered) / n,
        notifications: notifications / n,
      };
      // Storage: each page generation lives until its TTL plus the deletion lag.
      const bucketLife =
        DEFAULT_DETECTION.windowMs / 1000 +
        DEFAULT_DETECTION.retentionMarginSeconds +
        P.ttlDeletionLagSeconds;
      const longLife = 25 * 3600 + P.ttlDeletionLagSeconds;
      const b = t.bytesWrittenByKind;
      const bytesPerReading = (b.bucket * bucketLife + (b.dict + b.state) * longLife) / n;
      const storageGb = (bytesPerReading * rate) / 1e9 + (fleet.partitions * 4096) / 1e9;
      const month = rate * SECONDS_PER_MONTH;
      const monthly = {
        dynamodbWrites:
          (perReading.wru * month * PRICES.dynamodbWriteRequestUnitPerMillionUsd) / 1e6,
        dynamodbReads: (perReading.rru * month * PRICES.dynamodbReadRequestUnitPerMillionUsd) / 1e6,
        lambda:
          perReading.lambdaGbSeconds * month * PRICES.lambdaArmGbSecondUsd +
          (perReading.invocations * month * PRICES.lambdaRequestPerMillionUsd) / 1e6,
        logs: (perReading.logBytes * month * P.logsIngestionGbUsd) / 1e9,
        metrics: metricNames.size * P.customMetricMonthUsd,
        alarmsAndDashboard: P.alarms * P.alarmMonthUsd + P.dashboards * P.dashboardMonthUsd,
        kms: P.kmsKeyMonthUsd + perReading.notifications * month * P.kmsRequestUsd,
        sns: perReading.notifications * month * P.snsPublishUsd,
        storageAndPitr: storageGb * (P.dynamodbStorageGbMonthUsd + P.dynamodbPitrGbMonthUsd),
      };
      const onDemand = Object.values(monthly).reduce((x, y) => x + y, 0);
      const wcu = (perReading.wru * rate) / P.autoScalingTargetUtilization;
      const rcu = Math.max(1, (perReading.rru * rate) / P.autoScalingTargetUtilization);
      const provisionedDb = (wcu * P.wcuHourUsd + rcu * P.rcuHourUsd) * 730;
      const provisioned = onDemand - monthly.dynamodbWrites - monthly.dynamodbReads + provisionedDb;
      rows.push({
        sensors: fleet.sensors,
        partitions: fleet.partitions,
        hz: fleet.hz,
        readingsPerSecond: rate,
        measuredReadings: n,
        measuredBatches: metered,
        readingsPerPartitionPerBatch: Math.round(n / partitionBatches),
        perBatch: {
          partitions: round(partitionBatches / metered, 2),
          rootWrites: round(t.writesByKind.root / metered, 2),
          pageWrites: round(pagesWritten / metered, 2),
          batchGetCalls: round((t.requests.BatchGetItemCommand ?? 0) / metered, 2),
          wru: round(wru / metered, 1),
          rru: round(t.rru / metered, 1),
          failedConditionalWrites: t.failedConditionalWrites,
        },
        perReading: {
          wru: round(perReading.wru, 5),
          rru: round(perReading.rru, 5),
          lambdaGbSeconds: round(perReading.lambdaGbSeconds, 9),
          invocations: round(perReading.invocations, 7),
          logBytes: round(perReading.logBytes, 2),
          notifications: round(perReading.notifications, 6),
        },
        largestItemBytes: t.largestItemBytes,
        customMetrics: metricNames.size,
        storageGb: round(storageGb, 2),
        monthly: Object.fromEntries(Object.entries(monthly).map(([k, v]) => [k, round(v, 2)])),
        monthlyOnDemandUsd: round(onDemand, 2),
        monthlyProvisionedUsd: round(provisioned, 2),
        perMillionOnDemandUsd: round((onDemand / month) * 1e6, 5),
        perMillionProvisionedUsd: round((provisioned / month) * 1e6, 5),
        flink5kUsd: round(flinkUsd(rate, 5000), 2),
        flink10kUsd: round(flinkUsd(rate, 10_000), 2),
        handlerCpuMsPerBatch: round(cpuMs / metered, 1),
      });
      process.stderr.write(
        `fleet ${fleet.sensors}×${fleet.hz} Hz: $${round((onDemand / month) * 1e6, 4)}/M\n`,
      );
    }
    return { rows, unkeyed: unkeyedRow(rows), note: NOTE };
  } finally {
    dynamodb.destroy();
    snsClient.destroy();
    await sns.close();
    await dynamo.stop();
  }
}

const NOTE =
  `Each row runs the records of ${PARTITIONS_PER_PAYLOAD} partitions (one poller's share: every payload carries ` +
  'several partitions) through the real handler on dynalite, cut like the event source mapping ' +
  '(≤ 10,000 records, 3 s window), after 6 s of warm-up (the root then holds 1–6 bucket refs, as in steady state, where 3–6), at the fleet’s real sensors per partition. ' +
  'Partitions share no item, so the per-reading figures hold for the whole fleet. Logs: the function’s ' +
  'stdout as measured (JSON lines and EMF metrics) plus Lambda’s platform lines. Storage: every page ' +
  'generation until its TTL plus two days of deletion lag, doubled by PITR pricing.';

/**
 * The repartition step for an unkeyed producer of 10,000 one-hertz sensors: one more Lambda
 * invocation per source batch (cut the same way), its compute taken as the measured decode
 * and parse time of its records plus one produce round trip, and the keyed topic's bytes.
 */
function unkeyedRow(rows: readonly FleetRowResult[]): UnkeyedRow {
  const keyed = rows.find((r) => r.sensors === 10_000 && r.hz === 1) as FleetRowResult;
  const { records } = fleetRecords({ sensors: 10_000, partitions: 16, hz: 1 }, 6);
  const event = toMskEvent(records);
  const cpu0 = process.cpuUsage();
  for (const r of recordsFromEvent(event)) parseReading(r);
  const cpu = process.cpuUsage(cpu0);
  const parseMsPerRecord = (cpu.user + cpu.system) / 1000 / records.length;
  const perBatch = DEPLOY_BATCHING.batchSize;
  const invocationsPerReading = keyed.perReading.invocations;
  const records1 = records[0] as RawRecord;
  const recordBytes =
    (records1.value?.length ?? 0) + (records1.key?.length ?? 0) + P.repartitionHeaderBytes;
  const lambdaSeconds = lambdaBatchSeconds(
    parseMsPerRecord * Math.min(perBatch, 1 / invocationsPerReading),
    P.repartitionProduceRoundTripMs,
  );
  const extraPerReading =
    invocationsPerReading *
      (lambdaSeconds * (LAMBDA_ASSUMPTIONS.memoryMb / 1024)) *
      PRICES.lambdaArmGbSecondUsd +
    (invocationsPerReading * PRICES.lambdaRequestPerMillionUsd) / 1e6 +
    (recordBytes * (P.kafkaInGbUsd + P.kafkaOutGbUsd)) / 1e9;
  return {
    sensors: 10_000,
    hz: 1,
    extraInvocationsPerMillion: round(invocationsPerReading * 1e6, 1),
    extraKafkaBytesPerReading: recordBytes,
    extraUsdPerMillion: round(extraPerReading * 1e6, 5),
    perMillionOnDemandUsd: round(keyed.perMillionOnDemandUsd + extraPerReading * 1e6, 5),
  };
}
