/**
 * What the live view costs the pipeline per judged reading: with no browser connected (the
 * bounded history only) and with one watching (the changes collected for the stream too).
 *
 *   npx tsx scripts/live-view-cost.ts
 *
 * Compare with the handler's own cost per record (docs/bench.md: about 2.2 µs on 10,000-record
 * batches on a 2-core machine).
 */
import { MemoryWindowStore } from '../functions/adapters/memory-window-store.ts';
import { DEFAULT_DETECTION } from '../functions/config.ts';
import type { RawRecord } from '../functions/core/types.ts';
import type { BatchObserver, Evaluation } from '../functions/ports.ts';
import { createBatchProcessor } from '../functions/process-batch.ts';
import { type LiveView, startLiveView } from '../local/live/live-server.ts';

const READINGS = 2_000_000;
const SENSORS = 100;

const evaluations: Evaluation[] = Array.from({ length: SENSORS * 10 }, (_, i) => ({
  reading: {
    sensorId: `sensor_${i % SENSORS}`,
    value: 50 + (i % 7),
    eventTimeMs: 1_800_000_000_000 + i * 100,
    source: { topic: 't', partition: i % 4, offset: i },
  },
  detector: { kind: 'threshold', threshold: 50 },
  window: { count: 10, sum: 500, sumSq: 25_100 },
  verdict: { anomaly: false, mean: 50, limit: 50, deviation: i % 7, score: 0.1 },
})) as unknown as Evaluation[];

async function measure(watching: boolean): Promise<number> {
  const live = await startLiveView({
    title: 'cost',
    detection: '-',
    status: async () => {
      throw new Error('not polled here');
    },
  });
  let stream: Response | undefined;
  if (watching) {
    stream = await fetch(`${live.url}events`);
    while (live.watchers() === 0) await new Promise((r) => setTimeout(r, 10));
  }
  for (let i = 0; i < 200_000; i += 1)
    live.evaluated(evaluations[i % evaluations.length] as Evaluation);
  const startNs = process.hrtime.bigint();
  for (let i = 0; i < READINGS; i += 1) {
    live.evaluated(evaluations[i % evaluations.length] as Evaluation);
    // The stream's flush runs on a timer; give it its turns as the pipeline's batches would.
    if (watching && i % 10_000 === 0) await new Promise((r) => setImmediate(r));
  }
  const ns = Number(process.hrtime.bigint() - startNs) / READINGS;
  await stream?.body?.cancel();
  await live.close();
  return ns;
}

/**
 * The use case itself (in-memory store, no SNS), 10,000-record batches of 1,000 sensors, with
 * and without the live view's observer: µs per record, best of several rounds.
 */
async function useCaseMicrosPerRecord(live: LiveView | null): Promise<number> {
  const encoder = new TextEncoder();
  const baseMs = 1_800_000_000_000;
  const observer: BatchObserver = {
    rejected() {},
    anomaly: (d) => live?.anomaly(d),
    published() {},
    ...(live === null ? {} : { evaluated: (e: Evaluation) => live.evaluated(e) }),
  };
  const process = createBatchProcessor(
    { ...DEFAULT_DETECTION, rules: [] },
    {
      store: new MemoryWindowStore(),
      publisher: { publish: async () => {} },
      observer,
      nowMs: () => baseMs,
    },
  );
  let offset = 0;
  const batch = (): RawRecord[] =>
    Array.from({ length: 10_000 }, (_, i) => {
      const o = offset++;
      return {
        topic: 't',
        partition: i % 4,
        offset: o,
        timestampMs: baseMs + o * 10,
        key: null,
        value: encoder.encode(`sensor_${i % 1000},${50 + (o % 11)},${baseMs + o * 10}`),
      };
    });
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 12; round += 1) {
    const records = batch();
    const startNs = process_hr();
    await process(records);
    best = Math.min(best, (process_hr() - startNs) / 1000 / records.length);
  }
  return best;
}

function process_hr(): number {
  return Number(process.hrtime.bigint());
}

const idle = await measure(false);
const watched = await measure(true);
const liveIdle = await startLiveView({
  title: 'cost',
  detection: '-',
  status: async () => {
    throw new Error('-');
  },
});
// Alternated, best of three each: the machine's other load hits both alike.
let bare = Number.POSITIVE_INFINITY;
let withLive = Number.POSITIVE_INFINITY;
for (let i = 0; i < 3; i += 1) {
  bare = Math.min(bare, await useCaseMicrosPerRecord(null));
  withLive = Math.min(withLive, await useCaseMicrosPerRecord(liveIdle));
}
await liveIdle.close();
process.stdout.write(
  `live view cost per judged reading (${SENSORS} sensors, ${READINGS} readings):\n` +
    `  no browser connected   ${idle.toFixed(0)} ns\n` +
    `  one browser watching   ${watched.toFixed(0)} ns\n` +
    `the use case per record (10,000-record batches, 1,000 sensors, in-memory store, best of 12):\n` +
    `  without the live view  ${bare.toFixed(2)} µs\n` +
    `  with it, no browser    ${withLive.toFixed(2)} µs\n`,
);
