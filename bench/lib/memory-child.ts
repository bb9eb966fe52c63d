import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DEFAULT_DETECTION } from '../../functions/config.ts';
import { createHandler } from '../../functions/detector/create-handler.ts';
import type { KafkaEvent } from '../../functions/kafka-event.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/telemetry-names.ts';
import { localDynamoDbClient, localSnsClient } from '../../local/embedded/clients.ts';

/**
 * The handler alone in a fresh process, bundled like the Lambda function (esbuild, one
 * file): reads a Lambda event from a file as the runtime hands it over (JSON text), parses
 * it, handles it, and prints its peak resident set size. Started by bench/parts/memory.ts.
 * Usage: memory-child.mjs <event-file> <dynamodb-endpoint> <sns-endpoint> <table> <topic-arn> <now-ms>
 */
const [eventFile, dynamodbEndpoint, snsEndpoint, tableName, topicArn, nowMs] =
  process.argv.slice(2);
if (nowMs === undefined)
  throw new Error('usage: memory-child <event-file> <dynamodb> <sns> <table> <topic-arn> <now-ms>');

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
const logger = new Logger({ serviceName: SERVICE_NAME, logLevel: 'SILENT' });
const handler = createHandler({
  config: { ...DEFAULT_DETECTION, tableName: tableName as string, topicArn: topicArn as string },
  dynamodb: localDynamoDbClient(dynamodbEndpoint as string),
  sns: localSnsClient(snsEndpoint as string),
  clock: () => Number(nowMs),
  logger,
  metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME, logger }),
});

const rssMb = () => process.memoryUsage().rss / 2 ** 20;
const afterInitMb = rssMb();
const text = readFileSync(eventFile as string, 'utf8');
const event = JSON.parse(text) as KafkaEvent;
const afterParseMb = rssMb();
const t0 = performance.now();
const report = await handler(event);
const handlerMs = performance.now() - t0;

/** VmHWM: the kernel's high-water mark of this process's resident set. */
function vmHwmMb(): number | null {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return match?.[1] === undefined ? null : Number(match[1]) / 1024;
  } catch {
    return null;
  }
}

process.stdout.write(
  `${JSON.stringify({
    eventBytes: Buffer.byteLength(text),
    records: report.records,
    readings: report.readings,
    bucketsWritten: report.bucketsWritten,
    handlerMs: Math.round(handlerMs),
    rssAfterInitMb: afterInitMb,
    rssAfterParseMb: afterParseMb,
    rssAfterHandlerMb: rssMb(),
    // resourceUsage().maxRSS is in kilobytes.
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    vmHwmMb: vmHwmMb(),
    heapLimitMb: getHeapStatistics().heap_size_limit / 2 ** 20,
  })}\n`,
);
process.exit(0);
