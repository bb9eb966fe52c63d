import { DEPLOY_BATCHING } from '../lib/event-source-batching.ts';
import { percentile } from '../lib/stats.ts';
import { type Bench, SENSORS, say, startBench, waitFor } from './e2e-bench.ts';
import {
  climbLadder,
  END_LAG_BATCHES,
  GROWTH_TOLERANCE,
  LAG_SAMPLE_MS,
  type LadderStep,
  maxSustained,
} from './e2e-ladder.ts';

export interface EndToEndOptions {
  readonly quick: boolean;
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

/** The deploy defaults (infra/config.ts): what the latency target is measured at. */
const BATCHING = DEPLOY_BATCHING;
/** A fleet of fast sensors: at 1,000 readings/s each sends 10 a second. */
const FEW_SENSORS = 100;
const LATENCY_RATE = 500;

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
