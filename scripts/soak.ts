/**
 * Soak test of the local pipeline: Kafka (librdkafka's mock cluster via kcat) → poller (the
 * event source mapping emulation) → the Lambda handler → DynamoDB (dynalite) and SNS (the
 * loopback endpoint), at a steady rate for a long time. Not part of `npm test`.
 *
 *   node --expose-gc --import tsx scripts/soak.ts [--minutes 10] [--rate 200] [--sensors 50]
 *        [--batch-size 100] [--batching-window-ms 500] [--anomaly-rate 0.01] [--invalid-rate 0.01]
 *        [--sample-seconds 10] [--out bench/results/soak]
 *
 * dynalite and the SNS endpoint run in a child process (this file with `--role services`), so
 * the heap measured here is the pipeline's (poller, handler, SDK clients), not the stores'
 * data, which grows by design. Every `--sample-seconds` a status line shows produced, applied,
 * rejected, lag, RSS and heap; at the end the table is scanned and everything reconciled:
 *
 * - counts: produced = applied + rejected, applied = the sum of every bucket's count (each
 *   reading stored exactly once), rejected = the invalid records produced;
 * - notifications: every anomaly decided with `notify` reached the SNS endpoint;
 * - lag: over the steady part of the run (after the first minute, or 20% of a shorter run) the backlog's linear
 *   trend may add at most 2 s of readings (rate × 2) and the last sample may hold at most 5 s;
 * - memory: heap used after a full GC may trend up by at most 1 MiB/min, and its median over
 *   the last third may exceed the first third's by at most 16 MiB (leaks grow without bound;
 *   caches and JIT settle early).
 * Trends are judged only when the steady part lasts 3 minutes or more (a run of 4 minutes).
 *
 * Writes `<out>.json` (every sample) and `<out>.md` (the summary). Exits 0 on pass, 1 on fail.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { round } from '../bench/lib/stats.ts';
import { localDynamoDbClient } from '../local/embedded/clients.ts';
import {
  KCAT_INSTALL_HINT,
  kcatAvailable,
  startMockKafka,
} from '../local/embedded/kafka-mock-cluster.ts';
import { scanTableState } from '../local/inspect/table-state.ts';
import { localDetectorConfig } from '../local/pipeline/local-detector.ts';
import { startLocalPipeline } from '../local/pipeline/local-pipeline.ts';
import { mulberry32 } from '../local/simulator/readings.ts';
import { type Sample, soakChecks } from './soak/checks.ts';
import { markdown } from './soak/report.ts';
import { runServices, startServicesChild } from './soak/services.ts';

const SELF = fileURLToPath(import.meta.url);
const MIB = 1024 * 1024;

const { values: args } = parseArgs({
  options: {
    role: { type: 'string', default: 'soak' },
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '200' },
    sensors: { type: 'string', default: '50' },
    'batch-size': { type: 'string', default: '100' },
    'batching-window-ms': { type: 'string', default: '500' },
    'anomaly-rate': { type: 'string', default: '0.01' },
    'invalid-rate': { type: 'string', default: '0.01' },
    'sample-seconds': { type: 'string', default: '10' },
    out: { type: 'string', default: 'bench/results/soak' },
  },
});

/** Heap used after a full GC (with --expose-gc): what is live, not what waits to be collected. */
function heapUsedBytes(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  return process.memoryUsage().heapUsed;
}

async function runSoak(): Promise<number> {
  const minutes = Number(args.minutes);
  const rate = Number(args.rate);
  const sensors = Number(args.sensors);
  const sampleSeconds = Number(args['sample-seconds']);
  const anomalyRate = Number(args['anomaly-rate']);
  const invalidRate = Number(args['invalid-rate']);
  const out = resolve(String(args.out));
  if (!kcatAvailable()) {
    console.error(`the soak runs on the embedded Kafka: kcat not found; ${KCAT_INSTALL_HINT}`);
    return 2;
  }
  if ((globalThis as { gc?: () => void }).gc === undefined) {
    console.warn(
      'warning: run with node --expose-gc for heap figures after a full GC (npm run soak does)',
    );
  }

  const startedAtIso = new Date().toISOString();
  console.info(
    `soak: ${minutes} min at ${rate} readings/s over ${sensors} sensors, starting services…`,
  );
  const [kafka, services] = await Promise.all([startMockKafka(), startServicesChild(SELF)]);
  const config = localDetectorConfig({ tableName: 'soak-windows' });
  const rejectedKeys = new Set<string>();
  let notifyDecisions = 0;
  let anomalies = 0;
  let readingsReported = 0;
  let failedInvocations = 0;
  const invokeMs: number[] = [];
  const pipeline = await startLocalPipeline({
    config,
    topic: 'soak-readings',
    groupId: 'soak',
    fromBeginning: true,
    eventSource: 'msk',
    batching: {
      batchSize: Number(args['batch-size']),
      batchingWindowMs: Number(args['batching-window-ms']),
    },
    brokers: [kafka.bootstrap],
    dynamodbEndpoint: services.dynamodb,
    snsEndpoint: services.sns,
    observer: {
      rejected: (r) => rejectedKeys.add(`${r.source.partition}:${r.source.offset}`),
      anomaly: (d) => {
        anomalies += 1;
        if (d.notify) notifyDecisions += 1;
      },
    },
    hooks: {
      invoked: ({ result, durationMs }) => {
        readingsReported += (result as { readings?: number }).readings ?? 0;
        if (invokeMs.length < 200_000) invokeMs.push(durationMs);
      },
      failed: () => {
        failedInvocations += 1;
      },
    },
  });
  console.info(
    `pipeline up (Kafka ${kafka.bootstrap}, DynamoDB ${services.dynamodb}, SNS ${services.sns})`,
  );

  // Producer: steady ticks of 100 ms, catching up to the rate since the start.
  const random = mulberry32(20261121);
  let produced = 0;
  let producedInvalid = 0;
  let producing = true;
  const startMs = Date.now();
  const endMs = startMs + minutes * 60_000;
  const producer = (async () => {
    while (producing && Date.now() < endMs) {
      const due = Math.min(Math.floor(((Date.now() - startMs) / 1000) * rate) - produced, rate * 5);
      if (due > 0) {
        const messages = Array.from({ length: due }, (_, i) => {
          const sensor = `sensor_${((produced + i) % sensors) + 1}`;
          const r = random();
          if (r < invalidRate) {
            producedInvalid += 1;
            return { key: sensor, value: (produced + i) % 2 === 0 ? `${sensor},NaN` : `${sensor}` };
          }
          const value = r < invalidRate + anomalyRate ? 150 + random() * 50 : 45 + random() * 10;
          return { key: sensor, value: `${sensor},${value.toFixed(2)}` };
        });
        await pipeline.send(messages);
        produced += messages.length;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();

  const samples: Sample[] = [];
  const sample = async (): Promise<Sample> => {
    const [lag, svc] = await Promise.all([pipeline.lag(), services.stats()]);
    const s: Sample = {
      elapsedSeconds: round((Date.now() - startMs) / 1000, 1),
      produced,
      applied: readingsReported,
      rejected: rejectedKeys.size,
      lag,
      rssMiB: round(process.memoryUsage().rss / MIB),
      heapUsedMiB: round(heapUsedBytes() / MIB),
      servicesRssMiB: round(svc.rssBytes / MIB),
      failedInvocations,
    };
    samples.push(s);
    console.info(
      `[${String(Math.round(s.elapsedSeconds)).padStart(4)} s] produced ${s.produced}  applied ${s.applied}  rejected ${s.rejected}  ` +
        `lag ${s.lag}  rss ${s.rssMiB} MiB  heap ${s.heapUsedMiB} MiB  services rss ${s.servicesRssMiB} MiB  failed ${s.failedInvocations}`,
    );
    return s;
  };
  while (Date.now() < endMs) {
    await new Promise((r) =>
      setTimeout(r, Math.min(sampleSeconds * 1000, Math.max(0, endMs - Date.now()))),
    );
    await sample();
  }
  producing = false;
  await producer;

  console.info('producer stopped; draining…');
  const drained = await pipeline.drain(120_000);
  const final = await sample();
  const svc = await services.stats();

  // Reconcile against the table itself.
  const ddb = localDynamoDbClient(services.dynamodb);
  let applied = 0;
  let buckets = 0;
  // Roots and the pages they point to (functions/adapters/dynamodb/), sensor by sensor.
  for (const a of (await scanTableState(ddb, config.tableName)).buckets.values()) {
    buckets += 1;
    applied += a.count;
  }
  ddb.destroy();
  const stats = pipeline.stats();
  await pipeline.stop();
  await Promise.all([kafka.close(), services.stop()]);

  // Verdicts.
  const verdicts = soakChecks(samples, final, {
    minutes,
    rate,
    produced,
    producedInvalid,
    applied,
    rejected: rejectedKeys.size,
    notifyDecisions,
    sns: svc,
    drained,
  });
  const { checks, producedValid } = verdicts;
  const sortedMs = [...invokeMs].sort((a, b) => a - b);
  const pass = checks.every((c) => c.judged === false || c.pass);
  const verdict = (c: (typeof checks)[number]) =>
    c.judged === false ? 'not judged (run < 4 min)' : c.pass ? 'pass' : 'FAIL';
  const summary = {
    startedAt: startedAtIso,
    pass,
    settings: {
      minutes,
      rate,
      sensors,
      batchSize: Number(args['batch-size']),
      batchingWindowMs: Number(args['batching-window-ms']),
      anomalyRate,
      invalidRate,
      gcExposed: (globalThis as { gc?: unknown }).gc !== undefined,
    },
    counts: {
      produced,
      producedValid,
      producedInvalid,
      applied,
      rejected: rejectedKeys.size,
      buckets,
      anomalies,
      notifyDecisions,
      snsMessages: svc.messages,
      snsDistinctAlertIds: svc.distinctAlertIds,
    },
    poller: { ...stats, failedInvocations },
    invokeMs: {
      p50: sortedMs[Math.floor(sortedMs.length * 0.5)] ?? 0,
      p99: sortedMs[Math.floor(sortedMs.length * 0.99)] ?? 0,
      max: sortedMs.at(-1) ?? 0,
    },
    lag: verdicts.lag,
    heap: verdicts.heap,
    checks,
    samples,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(`${out}.json`, `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(`${out}.md`, markdown(summary));
  console.info(
    `\n${pass ? 'PASS' : 'FAIL'}: ${checks.filter((c) => c.judged !== false && c.pass).length}/` +
      `${checks.filter((c) => c.judged !== false).length} checks`,
  );
  for (const c of checks) console.info(`  ${verdict(c).padEnd(4)} ${c.name}: ${c.detail}`);
  console.info(`results: ${out}.json, ${out}.md`);
  return pass ? 0 : 1;
}

// Last, so every constant above is initialised before either role starts.
if (args.role === 'services') {
  await runServices();
} else {
  process.exitCode = await runSoak();
}
