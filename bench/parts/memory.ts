import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import type { RawRecord } from '../../functions/core/types.ts';
import { localDynamoDbClient } from '../../local/embedded/clients.ts';
import { ensureTable, startDynamoDb } from '../../local/embedded/dynamodb.ts';
import { startSnsEndpoint } from '../../local/embedded/sns-endpoint.ts';
import { round } from '../lib/stats.ts';
import { BENCH_PARTITIONS, BENCH_T0_MS, BENCH_TOPIC, eventBytes, toMskEvent } from '../workload.ts';

export interface MemoryOptions {
  readonly quick: boolean;
}

export interface MemoryResult {
  readonly eventBytes: number;
  readonly records: number;
  readonly readings: number;
  readonly bucketsWritten: number;
  readonly handlerMs: number;
  readonly rssAfterInitMb: number;
  readonly rssAfterParseMb: number;
  readonly rssAfterHandlerMb: number;
  readonly maxRssMb: number;
  readonly vmHwmMb: number | null;
  readonly heapLimitMb: number;
  readonly lambdaMemoryMb: number;
  readonly note: string;
}

/** Lambda's payload limit for a synchronous invocation: 6 MB (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). */
const TARGET_EVENT_BYTES = 6_000_000;
/** The most records a Kafka event source mapping puts in one batch. */
const RECORDS = 10_000;
const SENSORS = 1000;
const LAMBDA_MEMORY_MB = 1024;

const execFileAsync = promisify(execFile);

/**
 * Peak RSS of the handler on an event at Lambda's payload limit: 10,000 records (the
 * mapping's largest batch) of gateway-style JSON readings padded with metadata to ~6 MB.
 * The handler runs bundled (esbuild, as the CDK app deploys it) in a fresh process against
 * dynalite and the SNS endpoint hosted here, so their memory is not counted.
 */
export async function runMemory(_options: MemoryOptions): Promise<MemoryResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-memory-'));
  const dynamo = await startDynamoDb();
  const sns = await startSnsEndpoint();
  const client = localDynamoDbClient(dynamo.endpoint);
  try {
    const tableName = 'bench-memory';
    await ensureTable(client, tableName);
    const records = paddedRecords(TARGET_EVENT_BYTES);
    const event = toMskEvent(records);
    const eventFile = join(dir, 'event.json');
    writeFileSync(eventFile, JSON.stringify(event));

    const childFile = join(dir, 'memory-child.mjs');
    const here = dirname(fileURLToPath(import.meta.url));
    await build({
      entryPoints: [join(here, '..', 'lib', 'memory-child.ts')],
      outfile: childFile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'error',
      // CommonJS dependencies inside an ES module bundle still call require().
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
    });
    const nowMs = Math.max(...records.map((r) => r.timestampMs)) + 1000;
    const { stdout } = await execFileAsync(
      process.execPath,
      [
        childFile,
        eventFile,
        dynamo.endpoint,
        sns.endpoint,
        tableName,
        'arn:aws:sns:us-east-1:000000000000:bench',
        String(nowMs),
      ],
      { maxBuffer: 1 << 20 },
    );
    const measured = JSON.parse(stdout.trim().split('\n').at(-1) as string) as Omit<
      MemoryResult,
      'lambdaMemoryMb' | 'note'
    >;
    return {
      ...measured,
      rssAfterInitMb: round(measured.rssAfterInitMb, 1),
      rssAfterParseMb: round(measured.rssAfterParseMb, 1),
      rssAfterHandlerMb: round(measured.rssAfterHandlerMb, 1),
      maxRssMb: round(measured.maxRssMb, 1),
      vmHwmMb: measured.vmHwmMb === null ? null : round(measured.vmHwmMb, 1),
      heapLimitMb: Math.round(measured.heapLimitMb),
      eventBytes: eventBytes(event),
      lambdaMemoryMb: LAMBDA_MEMORY_MB,
      note:
        `${RECORDS.toLocaleString('en-US')} records from ${SENSORS.toLocaleString('en-US')} sensors, JSON readings with ` +
        'metadata; handler bundled with esbuild and run by plain node in a fresh process; peak = getrusage maxRSS.',
    };
  } finally {
    client.destroy();
    await sns.close();
    await dynamo.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 10,000 JSON readings whose metadata pads the Lambda event to about `targetBytes`. */
function paddedRecords(targetBytes: number): RawRecord[] {
  const enc = new TextEncoder();
  const make = (padding: number): RawRecord[] => {
    const next = new Array<number>(BENCH_PARTITIONS).fill(0);
    return Array.from({ length: RECORDS }, (_, i) => {
      const s = i % SENSORS;
      const step = Math.floor(i / SENSORS);
      const partition = s % BENCH_PARTITIONS;
      const offset = next[partition] ?? 0;
      next[partition] = offset + 1;
      const sensorId = `sensor_${s}`;
      const timestamp = BENCH_T0_MS + step * 1000 + (s % 997);
      const reading = {
        sensorId,
        value: round(50 + 10 * Math.sin(i), 2),
        timestamp,
        unit: 'degC',
        site: `plant-${s % 17}/line-${s % 5}`,
        firmware: '4.2.17-rc3',
        meta: 'x'.repeat(padding),
      };
      return {
        topic: BENCH_TOPIC,
        partition,
        offset,
        timestampMs: BENCH_T0_MS + step * 1000 + 1000,
        key: enc.encode(sensorId),
        value: enc.encode(JSON.stringify(reading)),
      };
    });
  };
  // Base64 grows the value by 4/3: size the padding from an unpadded event.
  const bare = eventBytes(toMskEvent(make(0)));
  const padding = Math.max(0, Math.floor(((targetBytes - bare) / RECORDS) * 0.75));
  return make(padding);
}
