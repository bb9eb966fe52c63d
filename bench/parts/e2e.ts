import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CONTEXT_DEFAULTS } from '../../infra/config.ts';
import { localDetectorConfig } from '../../local/pipeline/local-detector.ts';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline/local-pipeline.ts';
import type { ProducerReport, RunCommand } from '../lib/load-producer.ts';
import { median, percentile, round, slope } from '../lib/stats.ts';

export interface EndToEndOptions {
  readonly quick: boolean;
}

export interface LadderStep {
  readonly sensors: number;
  readonly targetRate: number;
  readonly achievedRate: number;
  readonly seconds: number;
  /** Lag (records produced, not yet committed), one sample a second. */
  readonly lagSamples: readonly number[];
  /** Least-squares growth of the lag after the first 2 s, records per second. */
  readonly lagGrowthPerSecond: number;
  readonly maxLag: number;
  /** Lag right after the fleet stopped. */
  readonly endLag: number;
  readonly invocations: number;
  readonly meanBatchRecords: number;
  readonly medianInvokeMs: number;
  readonly failedInvocations: number;
  readonly sustained: boolean;
  /** Why not, when not. */
  readonly verdict: string;
}

export interface LatencyResult {
  readonly batchingWindowMs: number;
  readonly ratePerSecond: number;
  readonly seconds: number;
  readonly probes: number;
  readonly notified: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export type EndToEndResult =
  | { readonly skipped: string }
  | {
      readonly kafka: string;
      readonly batching: { readonly batchSize: number; readonly batchingWindowMs: number };
      /** At the deploy defaults, then (full run only) with no batching window. */
      readonly latency: readonly LatencyResult[];
      /** Rates tried with the main fleet, then (full run only) with fewer, faster sensors. */
      readonly ladder: readonly LadderStep[];
      readonly sensors: number;
      readonly maxSustainedRate: number;
      readonly fewSensors?: number;
      readonly maxSustainedRateFewSensors?: number;
      readonly note: string;
    };

const say = (line: string) => process.stderr.write(`  e2e: ${line}\n`);

/** Deploy defaults (infra/config.ts): what production would run. */
/** The deploy defaults (infra/config.ts): what the latency target is measured at. */
const BATCHING = {
  batchSize: CONTEXT_DEFAULTS.batchSize,
  batchingWindowMs: CONTEXT_DEFAULTS.batchingWindowSeconds * 1000,
} as const;
const SENSORS = 1000;
/** A fleet of fast sensors: at 1,000 readings/s each sends 10 a second. */
const FEW_SENSORS = 100;
const LATENCY_RATE = 500;
const LAG_SAMPLE_MS = 250;
/** Lag saw-tooths with batch boundaries; growing faster than this share of the rate is falling behind. */
const GROWTH_TOLERANCE = 0.02;
/**
 * What a keeping-up pipeline may hold when the fleet stops, in batches: one filling, one in
 * flight, and the poller's read-ahead (it buffers up to two batches): independent of the rate.
 */
const END_LAG_BATCHES = 3;

/**
 * The local pipeline as `npm start` runs it (embedded Kafka via kcat's mock cluster, the
 * poller emulating the event source mapping, the Lambda handler, dynalite and the SNS
 * endpoint in one process), fed by a fleet in another process: produce-to-notification
 * latency at a fixed rate, then a ladder of rates to find the highest one whose lag does
 * not grow.
 */
export async function runEndToEnd(options: EndToEndOptions): Promise<EndToEndResult> {
  const latency: LatencyResult[] = [];
  const ladder: LadderStep[] = [];
  const main = await startBench(BATCHING);
  if ('skipped' in main) return main;
  try {
    latency.push(await measureLatency(main, options.quick ? 10 : 20));
    ladder.push(
      ...(await climbLadder(
        main,
        SENSORS,
        options.quick ? [500, 1000] : [500, 1000, 2000, 4000],
        options.quick,
      )),
    );
  } finally {
    await main.stop();
  }
  if (!options.quick) {
    // The same pipeline without the batching window: what the window adds to the latency.
    const eager = await startBench({ ...BATCHING, batchingWindowMs: 0 });
    if (!('skipped' in eager)) {
      try {
        latency.push(await measureLatency(eager, 20));
      } finally {
        await eager.stop();
      }
    }
    // Fewer sensors, more readings each: a batch then touches fewer (sensor, bucket) pairs, and
    // it is the DynamoDB writes, not the records, that the pipeline pays for.
    const fast = await startBench(BATCHING);
    if (!('skipped' in fast)) {
      try {
        ladder.push(...(await climbLadder(fast, FEW_SENSORS, [1000, 2000, 4000, 8000], false)));
      } finally {
        await fast.stop();
      }
    }
  }
  const few = ladder.filter((s) => s.sensors === FEW_SENSORS);
  return {
    kafka: main.kafka,
    batching: BATCHING,
    latency,
    ladder,
    sensors: SENSORS,
    maxSustainedRate: maxSustained(ladder.filter((s) => s.sensors === SENSORS)),
    ...(few.length === 0
      ? {}
      : { fewSensors: FEW_SENSORS, maxSustainedRateFewSensors: maxSustained(few) }),
    note:
      'Fleet (a kafkajs producer, keyed by sensor, steady values) in its own process; poller, handler, dynalite and ' +
      "SNS endpoint in one Node process, as `npm start` runs them; Kafka is kcat's mock cluster. A rate is sustained " +
      `when the fleet reaches 95% of it, the lag (end offsets − committed, sampled every ${LAG_SAMPLE_MS} ms) grows by ` +
      `less than ${GROWTH_TOLERANCE * 100}% of the rate, and at most ${END_LAG_BATCHES} batches of readings are ` +
      'outstanding when the fleet stops.',
  };
}

function maxSustained(ladder: readonly LadderStep[]): number {
  return Math.max(0, ...ladder.filter((s) => s.sustained).map((s) => s.achievedRate));
}

interface Bench {
  readonly pipeline: LocalPipeline;
  readonly fleet: Fleet;
  readonly kafka: string;
  readonly batchingWindowMs: number;
  /** Sensor id → when its first notification reached the SNS endpoint. */
  readonly notified: Map<string, number>;
  readonly invokeMs: number[];
  stop(): Promise<void>;
}

let benches = 0;

async function startBench(batching: {
  batchSize: number;
  batchingWindowMs: number;
}): Promise<Bench | { skipped: string }> {
  benches += 1;
  const topic = `bench-readings-${process.pid}-${benches}`;
  const notified = new Map<string, number>();
  const invokeMs: number[] = [];
  say(
    `starting the pipeline (batch ≤ ${batching.batchSize}, window ${batching.batchingWindowMs} ms)`,
  );
  const pipeline = await startLocalPipeline({
    config: localDetectorConfig(),
    topic,
    groupId: topic,
    fromBeginning: true,
    eventSource: 'msk',
    batching,
    onNotification: (n) => {
      const id = n.attributes.sensorId;
      if (id !== undefined && !notified.has(id)) notified.set(id, Date.now());
    },
    hooks: { invoked: (info) => invokeMs.push(info.durationMs) },
  });
  if (pipeline.mode.kind === 'in-process') {
    await pipeline.stop();
    return { skipped: `no Kafka for the end-to-end bench (${pipeline.mode.reason})` };
  }
  const bootstrap =
    pipeline.mode.kind === 'embedded' ? pipeline.mode.bootstrap : pipeline.mode.brokers.join(',');
  const fleet = await startFleet(bootstrap, topic);
  const bench: Bench = {
    pipeline,
    fleet,
    kafka:
      pipeline.mode.kind === 'embedded'
        ? "librdkafka's mock cluster (kcat), 1 broker, 4 partitions"
        : 'external brokers',
    batchingWindowMs: batching.batchingWindowMs,
    notified,
    invokeMs,
    stop: async () => {
      await fleet.stop();
      await pipeline.stop();
    },
  };
  try {
    // The first consumer-group join takes seconds on the mock cluster: wait until a probe comes through.
    const warm = await fleet.run({
      ratePerSecond: 100,
      durationMs: 2000,
      sensors: SENSORS,
      probeEveryMs: 500,
    });
    await waitFor(() => warm.probes.some((p) => notified.has(p.sensorId)), 30_000);
    await pipeline.drain(30_000);
  } catch (error) {
    await bench.stop();
    throw error;
  }
  return bench;
}

/** Probe anomalies every 250 ms on top of a steady fleet; latency = notification received − probe sent. */
async function measureLatency(bench: Bench, seconds: number): Promise<LatencyResult> {
  say(`latency: ${LATENCY_RATE} readings/s for ${seconds} s, a probe anomaly every 250 ms`);
  const run = await bench.fleet.run({
    ratePerSecond: LATENCY_RATE,
    durationMs: seconds * 1000,
    sensors: SENSORS,
    probeEveryMs: 250,
  });
  await bench.pipeline.drain(60_000);
  await waitFor(() => run.probes.every((p) => bench.notified.has(p.sensorId)), 5000);
  const latencies = run.probes
    .filter((p) => bench.notified.has(p.sensorId))
    .map((p) => (bench.notified.get(p.sensorId) as number) - p.sentMs);
  return {
    batchingWindowMs: bench.batchingWindowMs,
    ratePerSecond: LATENCY_RATE,
    seconds,
    probes: run.probes.length,
    notified: latencies.length,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
    maxMs: Math.max(...latencies),
  };
}

/** Rates in turn until one is lost, then one bisection between the last held and the first lost. */
async function climbLadder(
  bench: Bench,
  sensors: number,
  rates: readonly number[],
  quick: boolean,
): Promise<LadderStep[]> {
  const seconds = quick ? 8 : 12;
  const ladder: LadderStep[] = [];
  for (const rate of rates) {
    const step = await ladderStep(bench, sensors, rate, seconds);
    ladder.push(step);
    if (!step.sustained) break;
  }
  const held = ladder.filter((s) => s.sustained).map((s) => s.targetRate);
  const lost = ladder.find((s) => !s.sustained)?.targetRate;
  if (!quick && lost !== undefined) {
    const mid = Math.round(((held.at(-1) ?? 0) + lost) / 2 / 100) * 100;
    if (mid > 0 && !held.includes(mid) && mid !== lost) {
      ladder.push(await ladderStep(bench, sensors, mid, seconds));
    }
  }
  return ladder.sort((a, b) => a.targetRate - b.targetRate);
}

async function ladderStep(
  bench: Bench,
  sensors: number,
  rate: number,
  seconds: number,
): Promise<LadderStep> {
  const { pipeline, fleet, invokeMs } = bench;
  await pipeline.drain(180_000);
  say(`ladder: ${sensors} sensors, ${rate} readings/s for ${seconds} s`);
  const before = pipeline.stats();
  const firstInvoke = invokeMs.length;
  const samples: [number, number][] = [];
  const startedMs = Date.now();
  const running = fleet.run({
    ratePerSecond: rate,
    durationMs: seconds * 1000,
    sensors,
    probeEveryMs: 0,
  });
  let finished = false;
  const sampler = (async () => {
    while (!finished) {
      await new Promise((r) => setTimeout(r, LAG_SAMPLE_MS));
      if (!finished) samples.push([(Date.now() - startedMs) / 1000, await pipeline.lag()]);
    }
  })();
  const done = await running;
  finished = true;
  await sampler;
  const endLag = await pipeline.lag();
  const after = pipeline.stats();
  // The first seconds fill the batching window and the pipeline's buffers: judge growth after them.
  const growth = slope(samples.filter(([t]) => t >= 2));
  const achievedRate = Math.round(done.produced / (done.elapsedMs / 1000));
  const invocations = after.batches - before.batches;
  const producerOk = achievedRate >= 0.95 * rate;
  const lagOk =
    growth <= GROWTH_TOLERANCE * rate &&
    endLag <=
      END_LAG_BATCHES *
        Math.min(BATCHING.batchSize, Math.ceil((rate * BATCHING.batchingWindowMs) / 1000) + 1);
  return {
    sensors,
    targetRate: rate,
    achievedRate,
    seconds,
    lagSamples: samples
      .filter((_, i) => i % Math.round(1000 / LAG_SAMPLE_MS) === 0)
      .map(([, lag]) => lag),
    lagGrowthPerSecond: round(growth, 1),
    maxLag: Math.max(0, ...samples.map(([, lag]) => lag)),
    endLag,
    invocations,
    meanBatchRecords:
      invocations === 0
        ? 0
        : Math.round((after.recordsProcessed - before.recordsProcessed) / invocations),
    medianInvokeMs: Math.round(median(invokeMs.slice(firstInvoke))),
    failedInvocations: after.failedInvocations - before.failedInvocations,
    sustained: producerOk && lagOk,
    verdict: !producerOk
      ? `the fleet reached only ${achievedRate}/s`
      : lagOk
        ? 'lag steady'
        : `lag grew ${Math.round(growth)} records/s, ${endLag} outstanding at the end`,
  };
}

interface FleetRun {
  readonly produced: number;
  readonly elapsedMs: number;
  readonly probes: readonly { sensorId: string; sentMs: number }[];
}

interface Fleet {
  run(command: Omit<RunCommand, 'type'>): Promise<FleetRun>;
  stop(): Promise<void>;
}

async function startFleet(bootstrap: string, topic: string): Promise<Fleet> {
  const child: ChildProcess = fork(
    fileURLToPath(new URL('../lib/load-producer.ts', import.meta.url)),
    [bootstrap, topic],
    {
      execArgv: ['--import', 'tsx', '--no-warnings'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const early = (code: number | null) =>
      reject(new Error(`load producer exited (${code}) before it was ready`));
    child.once('error', reject);
    child.once('exit', early);
    child.on('message', (m: ProducerReport) => {
      if (m.type !== 'ready') return;
      child.off('exit', early);
      resolve();
    });
  });
  return {
    run: (command) =>
      new Promise<FleetRun>((resolve, reject) => {
        const probes: { sensorId: string; sentMs: number }[] = [];
        const onExit = (code: number | null) =>
          reject(new Error(`load producer exited (${code}) mid-run`));
        const onMessage = (m: ProducerReport) => {
          if (m.type === 'probe') probes.push({ sensorId: m.sensorId, sentMs: m.sentMs });
          if (m.type === 'done') {
            child.off('message', onMessage);
            child.off('exit', onExit);
            resolve({ produced: m.produced, elapsedMs: m.elapsedMs, probes });
          }
        };
        child.on('message', onMessage);
        child.once('exit', onExit);
        child.send({ type: 'run', ...command } satisfies RunCommand);
      }),
    stop: async () => {
      if (child.exitCode !== null) return;
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return condition();
}
