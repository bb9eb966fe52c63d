import { MemoryWindowStore } from '../../functions/adapters/memory-window-store.ts';
import { DEFAULT_DETECTION } from '../../functions/config.ts';
import { ADAPTIVE_DEFAULTS } from '../../functions/core/adaptive.ts';
import type { DetectorSpec } from '../../functions/core/detectors.ts';
import { EWMA_DEFAULTS } from '../../functions/core/ewma.ts';
import { parseRecord } from '../../functions/core/readings/parse-record.ts';
import { ROBUST_DEFAULTS } from '../../functions/core/robust-state.ts';
import { type KafkaEvent, recordsFromEvent } from '../../functions/kafka-event.ts';
import type { BatchReport } from '../../functions/ports.ts';
import { createBatchProcessor } from '../../functions/process-batch.ts';
import { median, round } from '../lib/stats.ts';
import {
  type BatchShape,
  BENCH_T0_MS,
  eventBytes,
  type ReadingFormat,
  sensorRecords,
  toMskEvent,
} from '../workload.ts';

export interface ComputeOptions {
  readonly quick: boolean;
}

export interface ComputeCase {
  readonly name: string;
  readonly format: ReadingFormat;
  readonly records: number;
  readonly sensors: number;
  readonly eventBytes: number;
  readonly repetitions: number;
  /** Medians over the repetitions, ms per batch. */
  readonly floorMs: number;
  readonly floorDecodeMs: number;
  readonly floorParseMs: number;
  readonly handlerMs: number;
  readonly floorRecordsPerSecond: number;
  readonly handlerRecordsPerSecond: number;
  /** Median of the per-repetition handler/floor ratios (each pair measured back to back). */
  readonly ratio: number;
  readonly ratioMin: number;
  readonly ratioMax: number;
  readonly targetRatio: number;
  readonly meetsTarget: boolean;
  readonly report: BatchReport;
}

export interface ComputeResult {
  readonly cases: readonly ComputeCase[];
  readonly note: string;
}

const TARGET_RATIO = 2;
/** Sensors × readings of the timed batch; the batch before it primes the store. */
const SENSORS = 1000;
const READINGS_PER_SENSOR = 10;

/**
 * Handler compute against its floor. The floor is what no implementation can skip: decoding
 * the event's base64 and parsing every record. The handler is the same event through the
 * use case (recordsFromEvent + createBatchProcessor) with the in-memory store holding the
 * previous 10 s of state, as a warm Lambda would find it in DynamoDB. The two run back to
 * back in alternating order, so drift in the machine's speed hits both alike.
 */
export async function runCompute(options: ComputeOptions): Promise<ComputeResult> {
  const warmup = options.quick ? 3 : 8;
  const repetitions = options.quick ? 15 : 61;
  const cases: ComputeCase[] = [];
  for (const format of ['json', 'csv'] as const) {
    cases.push(await measureFormat(format, warmup, repetitions));
  }
  // The learning detectors step every reading through the sensor's learned state as well.
  for (const detector of LEARNING_DETECTORS) {
    cases.push(await measureFormat('json', warmup, repetitions, detector));
  }
  return {
    cases,
    note:
      `${SENSORS.toLocaleString('en-US')} sensors × ${READINGS_PER_SENSOR} readings (1 Hz), 1 in 1,000 readings anomalous; ` +
      `store primed with the previous ${READINGS_PER_SENSOR} s; ${repetitions} interleaved repetitions after ${warmup} warm-up`,
  };
}

const LEARNING_DETECTORS: readonly DetectorSpec[] = [
  { kind: 'ewma', ...EWMA_DEFAULTS },
  { kind: 'adaptive', ...ADAPTIVE_DEFAULTS },
  { kind: 'robust', ...ROBUST_DEFAULTS },
];

/** The timed batch, its event, and a store primed with the batch before it. */
export async function computeFixture(
  format: ReadingFormat,
  detector: DetectorSpec = DEFAULT_DETECTION.defaultDetector,
) {
  const shape: BatchShape = {
    name: `compute-${format}`,
    sensors: SENSORS,
    readingsPerSensor: 2 * READINGS_PER_SENSOR,
    intervalMs: 1000,
    format,
    anomalyEvery: 1000,
  };
  const all = sensorRecords(shape);
  const cut = SENSORS * READINGS_PER_SENSOR;
  const timed = all.slice(all.length - cut);
  const event: KafkaEvent = toMskEvent(timed);
  const nowMs = BENCH_T0_MS + 2 * READINGS_PER_SENSOR * 1000 + 500;
  const primed = new MemoryWindowStore();
  await processor(primed, nowMs, detector)(all.slice(0, all.length - cut));
  return { timed, event, nowMs, primed };
}

async function measureFormat(
  format: ReadingFormat,
  warmup: number,
  repetitions: number,
  detector: DetectorSpec = DEFAULT_DETECTION.defaultDetector,
): Promise<ComputeCase> {
  const { timed, event, nowMs, primed } = await computeFixture(format, detector);
  let lastReport: BatchReport | undefined;
  const floor = () => {
    const t0 = performance.now();
    const records = recordsFromEvent(event);
    const t1 = performance.now();
    // Kept, not dropped: anything downstream needs every reading at once, and a result that
    // dies young would make the floor's garbage collection unrealistically cheap.
    // The handler's own reader (several readings per record, registries): no handler can skip it.
    const readings = records.map((r) => parseRecord(r));
    const t2 = performance.now();
    if (!readings.some((p) => p.ok)) throw new Error('the floor parsed nothing');
    return { total: t2 - t0, decode: t1 - t0, parse: t2 - t1 };
  };
  const handler = async () => {
    // The store copy is made outside the timed section: it stands for DynamoDB's state.
    const store = cloneStore(primed);
    const run = processor(store, nowMs, detector);
    const t0 = performance.now();
    lastReport = await run(recordsFromEvent(event));
    return performance.now() - t0;
  };

  for (let i = 0; i < warmup; i += 1) {
    floor();
    await handler();
  }
  const floors: number[] = [];
  const decodes: number[] = [];
  const parses: number[] = [];
  const handlers: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < repetitions; i += 1) {
    let f: ReturnType<typeof floor>;
    let h: number;
    if (i % 2 === 0) {
      f = floor();
      h = await handler();
    } else {
      h = await handler();
      f = floor();
    }
    floors.push(f.total);
    decodes.push(f.decode);
    parses.push(f.parse);
    handlers.push(h);
    ratios.push(h / f.total);
  }
  const floorMs = median(floors);
  const handlerMs = median(handlers);
  const ratio = median(ratios);
  return {
    name: `${SENSORS.toLocaleString('en-US')} sensors × ${READINGS_PER_SENSOR} readings, ${format.toUpperCase()}, ${detector.kind} detector`,
    format,
    records: timed.length,
    sensors: SENSORS,
    eventBytes: eventBytes(event),
    repetitions,
    floorMs: round(floorMs, 2),
    floorDecodeMs: round(median(decodes), 2),
    floorParseMs: round(median(parses), 2),
    handlerMs: round(handlerMs, 2),
    floorRecordsPerSecond: Math.round((timed.length / floorMs) * 1000),
    handlerRecordsPerSecond: Math.round((timed.length / handlerMs) * 1000),
    ratio: round(ratio, 2),
    ratioMin: round(Math.min(...ratios), 2),
    ratioMax: round(Math.max(...ratios), 2),
    targetRatio: TARGET_RATIO,
    meetsTarget: ratio <= TARGET_RATIO,
    report: lastReport as BatchReport,
  };
}

export function processor(
  store: MemoryWindowStore,
  nowMs: number,
  detector: DetectorSpec = DEFAULT_DETECTION.defaultDetector,
) {
  return createBatchProcessor(
    { ...DEFAULT_DETECTION, defaultDetector: detector },
    {
      store,
      publisher: { publish: async () => {} },
      nowMs: () => nowMs,
    },
  );
}

/** A store holding the same items; the items themselves are never mutated, so sharing them is safe. */
export function cloneStore(from: MemoryWindowStore): MemoryWindowStore {
  const to = new MemoryWindowStore();
  for (const [k, v] of from.roots) to.roots.set(k, v);
  for (const [k, v] of from.pages) to.pages.set(k, v);
  return to;
}
