import { DEPLOY_BATCHING } from '../lib/event-source-batching.ts';
import { median, round, slope } from '../lib/stats.ts';
import { type Bench, say } from './e2e-bench.ts';

/**
 * The highest rate the pipeline sustains: rates in turn, each judged by whether the producer
 * reached it and the lag (produced, not yet committed) stayed steady.
 */

/** How often the lag is sampled while a rate runs. */
export const LAG_SAMPLE_MS = 250;
/** Lag saw-tooths with batch boundaries; growing faster than this share of the rate is falling behind. */
export const GROWTH_TOLERANCE = 0.02;
/**
 * What a keeping-up pipeline may hold when the fleet stops, in batches: one filling, one in
 * flight, and the poller's read-ahead (it buffers up to two batches): independent of the rate.
 */
export const END_LAG_BATCHES = 3;

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

export function maxSustained(ladder: readonly LadderStep[]): number {
  return Math.max(0, ...ladder.filter((s) => s.sustained).map((s) => s.achievedRate));
}

/** Rates in turn until one is lost, then one bisection between the last held and the first lost. */
export async function climbLadder(
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
        Math.min(
          DEPLOY_BATCHING.batchSize,
          Math.ceil((rate * DEPLOY_BATCHING.batchingWindowMs) / 1000) + 1,
        );
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
