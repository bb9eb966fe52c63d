import { Session } from 'node:inspector/promises';
import { relative } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DEFAULT_DETECTION } from '../functions/config.ts';
import { createHandler } from '../functions/detector/create-handler.ts';
import { localDynamoDbClient, localSnsClient } from '../local/embedded/clients.ts';
import { ensureTable } from '../local/embedded/dynamodb.ts';
import { startSnsEndpoint } from '../local/embedded/sns-endpoint.ts';
import { startDynaliteProcess } from './lib/dynalite-process.ts';
import { sensorRecords, toMskEvent } from './workload.ts';

/**
 * Where the real handler's CPU goes when it talks to DynamoDB: `npx tsx bench/profile-dynamodb.ts`.
 * dynalite runs in another process, so this process's CPU is the handler's alone (use case,
 * adapters, AWS SDK, HTTP). 500 sensors at 1 Hz in 500-record batches (the deploy defaults'
 * batch size): every reading touches its own (sensor, bucket) pair, one PutItem each.
 */
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
const dynalite = await startDynaliteProcess();
const sns = await startSnsEndpoint();
const dynamodb = localDynamoDbClient(dynalite.endpoint);
const tableName = 'bench-profile';
await ensureTable(dynamodb, tableName);
const logger = new Logger({ serviceName: 'bench', logLevel: 'SILENT' });
const handler = createHandler({
  config: { ...DEFAULT_DETECTION, tableName, topicArn: 'arn:aws:sns:us-east-1:000000000000:bench' },
  dynamodb,
  sns: localSnsClient(sns.endpoint),
  logger,
  metrics: new Metrics({ namespace: 'bench', serviceName: 'bench', logger }),
  clock: () => Date.parse('2026-11-21T10:10:00Z'),
});
const records = sensorRecords({
  name: 'profile',
  sensors: 500,
  readingsPerSensor: 40,
  intervalMs: 1000,
  format: 'csv',
});
const events = [];
for (let i = 0; i < records.length; i += 500) events.push(toMskEvent(records.slice(i, i + 500)));
const warm = events.splice(0, 5);
for (const e of warm) await handler(e);

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.start');
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let puts = 0;
for (const e of events) puts += (await handler(e)).bucketsWritten;
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const { profile } = await session.post('Profiler.stop');
session.disconnect();

const cpuMs = (cpu.user + cpu.system) / 1000;
process.stdout.write(
  `${events.length} batches of 500 records, ${puts} bucket PutItems: ${(wallMs / events.length).toFixed(0)} ms wall, ` +
    `${(cpuMs / events.length).toFixed(0)} ms CPU per batch; ${((cpuMs / puts) * 1000).toFixed(0)} µs CPU per PutItem\n`,
);

// Self time by where the code lives: our functions, the AWS SDK (@smithy, @aws-sdk), Node's HTTP.
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const byArea = new Map<string, number>();
let total = 0;
profile.samples?.forEach((id, i) => {
  const url = byId.get(id)?.callFrame.url ?? '';
  const name = byId.get(id)?.callFrame.functionName ?? '';
  const dt = profile.timeDeltas?.[i] ?? 0;
  total += dt;
  const area =
    url.includes('/node_modules/@smithy/') ||
    url.includes('/node_modules/@aws-sdk/') ||
    url.includes('/node_modules/@aws-crypto/')
      ? 'AWS SDK (@smithy, @aws-sdk, @aws-crypto)'
      : url.includes('/functions/')
        ? 'functions/ (use case, adapters, core)'
        : url.startsWith('node:')
          ? 'Node core (http, net, streams, events)'
          : url === ''
            ? `native: ${name}`
            : `other: ${relative(process.cwd(), url.replace('file://', ''))}`;
  byArea.set(area, (byArea.get(area) ?? 0) + dt);
});
for (const [area, us] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
  process.stdout.write(`${((us / total) * 100).toFixed(1).padStart(6)}%  ${area}\n`);
}
dynamodb.destroy();
await sns.close();
await dynalite.stop();
process.exit(0);
