import { localDetectorConfig } from '../../local/pipeline/local-detector.ts';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline/local-pipeline.ts';
import { type Fleet, startFleet } from '../lib/load-producer-client.ts';

/**
 * The end-to-end part's rig: the local pipeline as `npm start` runs it, the fleet that feeds
 * it, and the notifications it sent, ready once a first probe came through.
 */

export const say = (line: string) => process.stderr.write(`  e2e: ${line}\n`);

/** The main fleet's sensors: the warm-up, the latency probes and the first ladder use them. */
export const SENSORS = 1000;

export interface Bench {
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

export async function startBench(batching: {
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

export async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return condition();
}
